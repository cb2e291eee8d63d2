package plan

import (
	"net/netip"
	"testing"
)

func TestGateway(t *testing.T) {
	g := &Gateway{Nets: []netip.Prefix{
		netip.MustParsePrefix("172.24.4.100/24"),
		netip.MustParsePrefix("2001:db8::a/64"),
		netip.MustParsePrefix("198.51.100.7/32"),
	}}
	for _, tc := range []struct {
		a        string
		contains bool
		via      string
	}{
		{"172.24.4.50", true, "172.24.4.100"},
		{"172.24.4.100", true, "172.24.4.100"},
		{"172.24.5.1", false, "172.24.4.100"},
		{"198.51.100.7", false, "172.24.4.100"}, // a host-length network contains nothing
		{"2001:db8::5", true, "2001:db8::a"},
		{"2001:db9::5", false, "2001:db8::a"},
	} {
		a := netip.MustParseAddr(tc.a)
		if got := g.Contains(a); got != tc.contains {
			t.Errorf("Contains(%s) = %v, want %v", a, got, tc.contains)
		}
		if via, ok := g.Via(a); !ok || via.String() != tc.via {
			t.Errorf("Via(%s) = %v %v, want %s", a, via, ok, tc.via)
		}
	}
	if _, ok := (&Gateway{Nets: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}}).Via(netip.MustParseAddr("::1")); ok {
		t.Error("Via of a family the gateway lacks: ok, want none")
	}
}
