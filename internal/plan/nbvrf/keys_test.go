package nbvrf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"['64512:1']", []string{"64512:1"}, ""},
		{`["64512:1", '64512:2']`, []string{"64512:1", "64512:2"}, ""},
		{"('1:1',)", []string{"1:1"}, ""},
		{" [ '1:1' , '2:2' , ] ", []string{"1:1", "2:2"}, ""},
		{"[]", nil, ""},
		{"64512:1", nil, "not a list"},
		{"'64512:1'", nil, "not a list"},
		{"[64512:1]", nil, "not a quoted string"},
		{"['1:1' '2:2']", nil, "expected a comma"},
		{"['1:1", nil, "not a list"},
		{"['1:1]", nil, "unterminated"},
		{`['1:1\x']`, nil, "escapes"},
		{"['']", nil, "empty"},
		{"[['1:1']]", nil, "not a quoted string"},
		{"['1:1',,]", nil, "not a quoted string"},
	} {
		got, err := ParseList(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseList(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTenant(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{KeyType: "l3", KeyVNI: "100"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		ids  map[string]string
		want Tenant
		err  string
	}{
		{"minimal", base(), Tenant{VNI: 100}, ""},
		{"all lists", base(KeyRT, "['64512:1']", KeyIT, "['64512:2', '64512:1']", KeyET, "['192.0.2.1:3']", KeyRD, "['64512:100', '64512:101']"),
			Tenant{VNI: 100, RD: "64512:100", ImportRT: []string{"64512:1", "64512:2"}, ExportRT: []string{"64512:1", "192.0.2.1:3"}}, ""},
		{"largest vni", base(KeyVNI, "16777215"), Tenant{VNI: 16777215}, ""},
		{"vni 0", base(KeyVNI, "0"), Tenant{}, "VNI 1..16777215"},
		{"vni too large", base(KeyVNI, "16777216"), Tenant{}, "VNI 1..16777215"},
		{"vni not a number", base(KeyVNI, "ten"), Tenant{}, KeyVNI},
		{"vni missing", map[string]string{KeyType: "l3"}, Tenant{}, KeyVNI},
		{"type l2", base(KeyType, "l2"), Tenant{}, "only l3"},
		{"type missing", map[string]string{KeyVNI: "5"}, Tenant{}, "only l3"},
		{"rt not a list", base(KeyRT, "64512:1"), Tenant{}, KeyRT},
		{"rt malformed target", base(KeyRT, "['64512']"), Tenant{}, KeyRT},
		{"rd wildcard", base(KeyRD, "['*:5']"), Tenant{}, KeyRD},
		{"et bad", base(KeyET, "['x:y']"), Tenant{}, KeyET},
	} {
		got, err := ParseTenant(tc.ids)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %+v, %v; want error %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := ParseTenant(map[string]string{"neutron:network_name": "x"}); !errors.Is(err, errNotTenant) {
		t.Errorf("plain switch: %v", err)
	}
}

// FuzzParseList: never panics; what it accepts renders back to a list it
// accepts again with the same elements.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"['1:1']", `("a", 'b',)`, "[]", "['", "[,]", "[' x ']"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseList(s)
		if err != nil {
			return
		}
		parts := make([]string, len(l))
		for i, x := range l {
			if x == "" || strings.ContainsAny(x, "'\\") && strings.ContainsRune(x, '"') {
				t.Fatalf("accepted element %q of %q", x, s)
			}
			q := "'"
			if strings.Contains(x, "'") {
				q = `"`
			}
			parts[i] = q + x + q
		}
		back, err := ParseList("[" + strings.Join(parts, ", ") + "]")
		if err != nil || !reflect.DeepEqual(back, l) {
			t.Fatalf("%q -> %q -> %q, %v", s, l, back, err)
		}
	})
}
