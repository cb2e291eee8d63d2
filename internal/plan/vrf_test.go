package plan

import "testing"

func TestValidRouteTarget(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"64999:100", true},
		{"1:4294967295", true},
		{"4200000000:65535", true},
		{"4200000000:65536", false},
		{"1.10:5", true},
		{"192.0.2.1:65535", true},
		{"192.0.2.1:65536", false},
		{"2001:db8::1:5", false},
		{"0:5", false},
		{"*:5", false},
		{"64999", false},
		{":5", false},
		{"5:", false},
		{"a:b", false},
		{"1:-1", false},
		{"70000.1:5", false},
		{"4294967296:1", false},
	} {
		err := ValidRouteTarget(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidRouteTarget(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err2 := ValidRouteDistinguisher(tc.in); (err2 == nil) != (err == nil) {
			t.Errorf("ValidRouteDistinguisher(%q) = %v, ValidRouteTarget %v", tc.in, err2, err)
		}
	}
}
