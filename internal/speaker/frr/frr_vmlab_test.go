//go:build vmlab

package frr

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestVMLabConnected runs upstream's layout, which needs the vrf and dummy
// kernel modules (only in the QEMU lab): bgp-nic, a dummy in VRF bgp-vrf
// (table 10); the speaker renders the leak (import vrf in the default
// instance, redistribute connected in the VRF instance); an address on
// bgp-nic reaches gobgpd, Status lists it as advertised, and removing the
// address withdraws it. Timing is not checked (software emulation).
func TestVMLabConnected(t *testing.T) {
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	tgb := l.NetNS("tgb", false)
	l.Veth(tgb, "tgb-c1", []string{"10.0.3.1/30"}, c1, "c1-tgb", []string{"10.0.3.2/30"})
	c1.IP("link", "add", "bgp-vrf", "type", "vrf", "table", "10")
	c1.IP("link", "add", "bgp-nic", "type", "dummy")
	c1.IP("link", "set", "bgp-nic", "master", "bgp-vrf")
	c1.IP("link", "set", "bgp-vrf", "up")
	c1.IP("link", "set", "bgp-nic", "up")
	f := l.StartFRR(c1, operatorFor("c1"))
	g := l.StartGoBGP(tgb, 65001, "10.0.3.1", []lab.GoBGPNeighbor{{Address: "10.0.3.2", AS: 64999}})

	cfg := config.Default() // announce_method connected, bgp-vrf, bgp-nic
	cfg.OVNBGP.Peers = []config.Peer{{Address: "10.0.3.1", RemoteAS: "65001"}}
	s := speakerFor(t, f, cfg, "-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("FRR %s, rendered:\n%s", parseVersion(f.Vtysh("show version")), s.Rendered())
	l.Eventually(60*time.Second, "gobgpd session", func() bool { return g.NeighborEstablished("10.0.3.2") })

	const vip = "172.24.4.10/32"
	if err := s.Sync(ctx, []plan.Announcement{{Prefix: netip.MustParsePrefix(vip)}}); err != nil {
		t.Fatal(err)
	}
	c1.IP("addr", "add", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" at gobgpd", func() bool { return ribHas(g, vip) })
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Prefixes, vip) {
		t.Errorf("status prefixes %v lack %s", st.Prefixes, vip)
	}
	if m, e := s.Drift(); len(m) != 0 || len(e) != 0 {
		t.Errorf("drift missing %v extra %v, want none", m, e)
	}
	c1.IP("addr", "del", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" withdrawn at gobgpd", func() bool { return !ribHas(g, vip) })

	// bgpd restarted: the leak is re-applied and the address is back.
	c1.IP("addr", "add", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" at gobgpd again", func() bool { return ribHas(g, vip) })
	f.Kill("bgpd")
	f.StartDaemon("bgpd")
	l.Eventually(120*time.Second, vip+" back at gobgpd after the bgpd restart", func() bool { return ribHas(g, vip) })
}
