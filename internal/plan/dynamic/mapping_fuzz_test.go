package dynamic

import (
	"strings"
	"testing"
)

// FuzzPortMapping: any dynamic-routing-port-mapping text parses without a
// panic into entries with a name and an interface, and the entries are a
// prefix of what the text lists.
func FuzzPortMapping(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=b,c=d", "a=b c=d", "a,b=c", "=x", "a=", "a==b", ",,,", "a=b,\tc=d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ws := parsePortMapping(s)
		if len(ws) > 1 {
			t.Fatalf("%q: more than one warning: %v", s, ws)
		}
		for k, v := range m {
			if k == "" || v == "" {
				t.Fatalf("%q: empty name or interface in %v", s, m)
			}
			if !strings.Contains(s, k+"="+v) {
				t.Fatalf("%q: entry %s=%s not in the text", s, k, v)
			}
		}
	})
}
