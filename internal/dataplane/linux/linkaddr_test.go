package linux

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// TestLinkAddressesReplaced: a bridge that carries the link addresses of
// the other scheme (an older ovnbgp wrote 5.0's; upstream 4.0.0 writes
// 4.0's) ends up with exactly the configured scheme's after Wire and
// Unwire: those addresses have ovnbgp's shape, so they are its own and are
// removed; addresses of other shapes on the bridge are left alone. The
// bridge's routes survive the switch (the kernel drops every IPv4 route of
// a device that loses its last IPv4 address: the new address must be added
// before the old one goes), also on a bridge with no other address.
func TestLinkAddressesReplaced(t *testing.T) {
	for _, c := range []struct {
		name, scheme string
		before, want []string
		bare         bool // no foreign address on the bridge
	}{
		{"older ovnbgp to 4.0", config.LinkAddresses40,
			[]string{"169.254.1.1/32", "fd53:d91e:400:7f17::1:1/128"},
			[]string{"169.254.0.1/32", "fd53:d91e:400:7f17::1/128"}, false},
		{"upstream 4.0 kept", config.LinkAddresses40,
			[]string{"169.254.0.1/32", "fd53:d91e:400:7f17::1/128"},
			[]string{"169.254.0.1/32", "fd53:d91e:400:7f17::1/128"}, false},
		{"upstream 4.0 to 5.0", config.LinkAddresses50,
			[]string{"169.254.0.1/32", "fd53:d91e:400:7f17::1/128"},
			[]string{"169.254.1.1/32", "fd53:d91e:400:7f17::1:1/128"}, false},
		{"older ovnbgp to 4.0, bare bridge", config.LinkAddresses40,
			[]string{"169.254.1.1/32", "fd53:d91e:400:7f17::1:1/128"},
			[]string{"169.254.0.1/32", "fd53:d91e:400:7f17::1/128"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newTestNS(t, "br-ex")
			br := n.link(t, "br-ex")
			foreign := []string{"169.254.9.9/24", "192.0.2.5/24", "fd53:d91e:400:7f18::1/128"}
			if c.bare {
				foreign = nil
			}
			for _, a := range append(append([]string{}, c.before...), foreign...) {
				if err := n.h.AddrAdd(br, &netlink.Addr{IPNet: ipnet(a)}); err != nil {
					t.Fatalf("add %s: %v", a, err)
				}
			}
			o := n.options(AnnounceTable)
			o.LinkAddresses = c.scheme
			r, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			st := &plan.State{Wiring: plan.Wiring{
				Bridges:   []plan.BridgeWiring{{Bridge: "br-ex", Physnet: "physnet1", Index: 1}},
				Exposures: []plan.Exposure{exposure("172.24.4.10/32", "br-ex", true)},
			}}
			ctx := context.Background()
			if err := r.Wire(ctx, st); err != nil {
				t.Fatal(err)
			}
			if err := r.Unwire(ctx, st); err != nil {
				t.Fatal(err)
			}
			var got []string
			for a := range n.addrs(t, "br-ex") {
				if !strings.HasPrefix(a, "fe80:") {
					got = append(got, a)
				}
			}
			want := append(append([]string{}, c.want...), foreign...)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("addresses on br-ex = %v, want %v", got, want)
			}
			routes := n.routes(t, 201)
			for _, r := range []string{"172.24.4.10/32 dev br-ex proto 201", "default dev br-ex proto 201"} {
				if !routes[r] {
					t.Errorf("route %q gone after the switch; table 201: %v", r, routes)
				}
			}
		})
	}
}
