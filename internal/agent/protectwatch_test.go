package agent

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

func facts(addrs []string, nets []string) plan.Protected {
	var p plan.Protected
	for _, a := range addrs {
		p.Addrs = append(p.Addrs, netip.MustParseAddr(a))
	}
	for _, n := range nets {
		p.Nets = append(p.Nets, netip.MustParsePrefix(n))
	}
	return p
}

// TestProtectedWatchRefresh: the guard gets new facts only when they
// differ, whatever their order and duplicates, and the addresses ovnbgp
// adds itself (link-local, its fd53 link addresses) never count.
func TestProtectedWatchRefresh(t *testing.T) {
	start := facts([]string{"10.1.0.2", "127.0.0.1"}, []string{"10.1.0.0/24"})
	steps := []struct {
		name             string
		now              plan.Protected
		added, removed   []string
		changed          bool
		wantAddrs, wantN int
	}{
		{"same, reordered and duplicated", facts([]string{"127.0.0.1", "10.1.0.2", "10.1.0.2"}, []string{"10.1.0.0/24"}), nil, nil, false, 2, 1},
		{"ovnbgp's own link addresses", facts([]string{"127.0.0.1", "10.1.0.2", "169.254.1.1", "fd53:d91e:400:7f17::1:1", "fe80::1"},
			[]string{"10.1.0.0/24", "169.254.0.0/16", "fe80::/64"}), nil, nil, false, 2, 1},
		{"an address added to an uplink", facts([]string{"10.1.0.2", "127.0.0.1", "10.0.0.200"}, []string{"10.1.0.0/24", "10.0.0.0/24"}),
			[]string{"10.0.0.200", "10.0.0.0/24"}, nil, true, 3, 2},
		{"and removed again", start, nil, []string{"10.0.0.200", "10.0.0.0/24"}, true, 2, 1},
	}
	cur := start
	var set []plan.Protected
	w := NewProtectedWatch(func() plan.Protected { return cur }, func(p plan.Protected) { set = append(set, p) })
	require.Len(t, set, 1)
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			n := len(set)
			cur = s.now
			added, removed, changed := w.Refresh()
			require.Equal(t, s.changed, changed)
			require.Equal(t, s.added, added)
			require.Equal(t, s.removed, removed)
			if !changed {
				require.Len(t, set, n, "SetProtected called without a change")
				return
			}
			require.Len(t, set, n+1)
			require.Len(t, set[n].Addrs, s.wantAddrs)
			require.Len(t, set[n].Nets, s.wantN)
		})
	}
}
