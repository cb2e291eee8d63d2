//go:build !vmlab

package frr

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestLabAnnounceWithdrawRestart: a chassis FRR managed by the speaker
// (table method, peer gobgpd configured by ovnbgp) announces a /32 put in
// the announce table by hand (standing in for the dataplane), withdraws
// it, and after bgpd and then zebra are killed and started again the
// announcement is back at gobgpd within 5 s with no action from the test.
func TestLabAnnounceWithdrawRestart(t *testing.T) {
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	tgb := l.NetNS("tgb", false)
	l.Veth(tgb, "tgb-c1", []string{"10.0.3.1/30"}, c1, "c1-tgb", []string{"10.0.3.2/30"})
	c1.IP("link", "add", "bgp-nic", "type", "bridge")
	c1.IP("link", "set", "bgp-nic", "up")
	f := l.StartFRR(c1, operatorFor("c1")+"debug bgp neighbor-events\n")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(f.RunDir, "bgpd.log"))
			t.Logf("bgpd.log:\n%s", b)
			b, _ = os.ReadFile(filepath.Join(l.Dir, "gobgp-"+tgb.Name, "gobgpd.log"))
			t.Logf("gobgpd.log:\n%s", b)
		}
	})
	g := l.StartGoBGP(tgb, 65001, "10.0.3.1", []lab.GoBGPNeighbor{{Address: "10.0.3.2", AS: 64999}})
	// The ToR is FRR, as in production; gobgpd refuses a peer for several
	// seconds after its session dropped (its idle hold), FRR does not.
	tor := l.NetNS("tor", true)
	l.Veth(tor, "tor-c1", []string{"10.0.1.1/30"}, c1, "c1-tor", []string{"10.0.1.2/30"})
	torFRR := l.StartFRR(tor, `hostname tor
router bgp 65000
 bgp router-id 10.0.1.1
 no bgp ebgp-requires-policy
 neighbor 10.0.1.2 remote-as 64999
exit
`)
	atToR := func(p string) bool { return tor.IP("route", "show", p) != "" }

	cfg := config.Default()
	cfg.BGPRouterID = "10.0.3.2"
	cfg.OVNBGP.AnnounceMethod = config.AnnounceTable
	cfg.OVNBGP.Peers = []config.Peer{{Address: "10.0.3.1", RemoteAS: "65001"}, {Address: "10.0.1.1", RemoteAS: "65000"}}
	cfg.OVNBGP.GracefulRestart = false
	s := speakerFor(t, f, cfg, "-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Now()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	applied := time.Since(t0)
	est := l.Eventually(20*time.Second, "gobgpd session", func() bool { return g.NeighborEstablished("10.0.3.2") })
	l.Eventually(20*time.Second, "ToR session", func() bool { return torFRR.Established() == 1 })

	const vip = "172.24.4.10/32"
	if err := s.Sync(ctx, []plan.Announcement{{Prefix: netip.MustParsePrefix(vip)}}); err != nil {
		t.Fatal(err)
	}
	// Only host routes leave: a /24 in the same table stays home.
	c1.IP("route", "add", "198.51.100.0/24", "dev", "bgp-nic", "table", "10", "proto", "201")
	c1.IP("route", "add", vip, "dev", "bgp-nic", "table", "10", "proto", "201")
	announce := l.Eventually(10*time.Second, vip+" at gobgpd", func() bool { return ribHas(g, vip) })
	if ribHas(g, "198.51.100.0/24") {
		t.Errorf("198.51.100.0/24 reached gobgpd: the host-route prefix list is not applied")
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Prefixes, vip) || slices.Contains(st.Prefixes, "198.51.100.0/24") {
		t.Errorf("status prefixes %v, want %s and not the /24", st.Prefixes, vip)
	}
	var peer bool
	for _, p := range st.Peers {
		if p.Address == "10.0.3.1" && p.State == "Established" && p.RemoteAS == 65001 {
			peer = true
		}
	}
	if !peer || len(st.Peers) != 3 || st.AS != 64999 || st.RouterID != "10.0.3.2" {
		t.Errorf("status %+v: want AS 64999, router id 10.0.3.2, peers 10.0.3.1 (Established), 10.0.1.1 and the operator's", st)
	}
	if m, e := s.Drift(); len(m) != 0 || len(e) != 0 {
		t.Errorf("drift missing %v extra %v, want none", m, e)
	}

	c1.IP("route", "del", vip, "table", "10")
	withdraw := l.Eventually(10*time.Second, vip+" gone at gobgpd", func() bool { return !ribHas(g, vip) })
	if _, err := s.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Drift(); len(m) != 1 {
		t.Errorf("drift missing %v, want %s", m, vip)
	}
	c1.IP("route", "add", vip, "dev", "bgp-nic", "table", "10", "proto", "201")
	l.Eventually(10*time.Second, vip+" back at gobgpd", func() bool { return ribHas(g, vip) })

	var back [2]time.Duration
	// bgpd killed and started again (as watchfrr would): it comes back with
	// its own file only; the speaker re-applies and the route is back.
	restarts := st.Restarts
	f.Kill("bgpd")
	killed := time.Now()
	l.Eventually(10*time.Second, "the ToR drops the route after bgpd died", func() bool { return !atToR(vip) })
	f.StartDaemon("bgpd")
	started := time.Now()
	l.Eventually(30*time.Second, vip+" back at the ToR after the bgpd restart", func() bool { return atToR(vip) })
	back[0] = time.Since(killed)
	backStart := time.Since(started)
	l.Eventually(30*time.Second, vip+" back at gobgpd after the bgpd restart", func() bool { return ribHas(g, vip) })
	backGoBGP := time.Since(killed)
	if st, err = s.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Restarts <= restarts {
		t.Errorf("bgpd restart not counted: %d", st.Restarts)
	}
	if !running(t, f)["router bgp 64999\x00neighbor 192.0.2.99 description operator-peer"] {
		t.Errorf("operator config lost after the bgpd restart")
	}

	// zebra killed and started again: `ip import-table` is re-applied; once
	// bgpd has reconnected to zebra (FRR's zclient retry, up to ~10 s),
	// table changes flow again.
	restarts = st.Restarts
	f.Kill("zebra")
	killed = time.Now()
	f.StartDaemon("zebra")
	l.Eventually(30*time.Second, "ip import-table back in zebra", func() bool {
		out, _ := f.TryVtysh("show running-config")
		return strings.Contains(out, "ip import-table 10")
	})
	back[1] = time.Since(killed)
	l.Eventually(20*time.Second, "bgpd reconnected to zebra", func() bool {
		out, _ := f.TryVtysh("show zebra client summary")
		return strings.Contains(out, "\nbgp ")
	})
	const vip2 = "172.24.4.11/32"
	c1.IP("route", "add", vip2, "dev", "bgp-nic", "table", "10", "proto", "201")
	l.Eventually(10*time.Second, vip2+" at gobgpd after the zebra restart", func() bool { return ribHas(g, vip2) })
	c1.IP("route", "del", vip2, "table", "10")
	l.Eventually(10*time.Second, vip2+" withdrawn after the zebra restart", func() bool { return !ribHas(g, vip2) })
	if !ribHas(g, vip) {
		t.Errorf("%s lost at gobgpd after the zebra restart", vip)
	}
	if st, err = s.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Restarts <= restarts {
		t.Errorf("zebra restart not counted: %d", st.Restarts)
	}
	t.Logf("first apply %s; session %s; announce -> gobgpd RIB %s; withdraw %s; bgpd kill -> route back in the ToR kernel %s (%s after the restart), at gobgpd %s; zebra kill -> ip import-table re-applied %s",
		applied.Round(time.Millisecond), est.Round(time.Millisecond), announce.Round(time.Millisecond),
		withdraw.Round(time.Millisecond), back[0].Round(time.Millisecond), backStart.Round(time.Millisecond),
		backGoBGP.Round(time.Millisecond), back[1].Round(time.Millisecond))

	// Steady state: five announce/withdraw samples, kernel route -> gobgpd RIB.
	var ann, wd []time.Duration
	for i := range 5 {
		p := fmt.Sprintf("172.24.5.%d/32", 10+i)
		c1.IP("route", "add", p, "dev", "bgp-nic", "table", "10", "proto", "201")
		ann = append(ann, l.Eventually(10*time.Second, p+" at gobgpd", func() bool { return ribHas(g, p) }))
		c1.IP("route", "del", p, "table", "10")
		wd = append(wd, l.Eventually(10*time.Second, p+" gone at gobgpd", func() bool { return !ribHas(g, p) }))
	}
	slices.Sort(ann)
	slices.Sort(wd)
	t.Logf("steady state, 5 samples (20 ms polling): announce -> gobgpd RIB %s..%s (median %s); withdraw %s..%s (median %s)",
		ann[0].Round(time.Millisecond), ann[4].Round(time.Millisecond), ann[2].Round(time.Millisecond),
		wd[0].Round(time.Millisecond), wd[4].Round(time.Millisecond), wd[2].Round(time.Millisecond))

	// Stop with withdraw: the prefix leaves, the session stays.
	if err := s.Stop(ctx, true); err != nil {
		t.Fatal(err)
	}
	l.Eventually(10*time.Second, "withdrawn on Stop", func() bool { return !ribHas(g, vip) })
	if !g.NeighborEstablished("10.0.3.2") {
		t.Errorf("Stop(withdraw) dropped the session")
	}
}

// TestLabBFDAndECMP: two chassis, each FRR managed by a speaker with the
// ToR as peer, BFD (100 ms x 3) and maximum-paths, announce the same /32;
// the ToR installs one route with two next hops; when c2's link is cut
// (every packet dropped in c2, the carrier stays up) BFD takes c2's leg
// down in under 1 s.
func TestLabBFDAndECMP(t *testing.T) {
	l := newLab(t)
	tor := l.NetNS("tor", true)
	c1 := l.NetNS("c1", true)
	c2 := l.NetNS("c2", true)
	l.Veth(tor, "tor-c1", []string{"10.0.1.1/30"}, c1, "c1-tor", []string{"10.0.1.2/30"})
	l.Veth(tor, "tor-c2", []string{"10.0.2.1/30"}, c2, "c2-tor", []string{"10.0.2.2/30"})
	torFRR := l.StartFRR(tor, `hostname tor
bfd
 profile fast
  transmit-interval 100
  receive-interval 100
  detect-multiplier 3
 exit
exit
router bgp 65000
 bgp router-id 10.0.1.1
 no bgp ebgp-requires-policy
 neighbor 10.0.1.2 remote-as 64999
 neighbor 10.0.1.2 bfd profile fast
 neighbor 10.0.2.2 remote-as 64999
 neighbor 10.0.2.2 bfd profile fast
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
exit
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range []struct {
		ns       *lab.NetNS
		id, peer string
	}{{c1, "10.0.1.2", "10.0.1.1"}, {c2, "10.0.2.2", "10.0.2.1"}} {
		c.ns.IP("link", "add", "bgp-nic", "type", "bridge")
		c.ns.IP("link", "set", "bgp-nic", "up")
		f := l.StartFRR(c.ns, "hostname "+c.ns.Name+"\n")
		cfg := config.Default()
		cfg.BGPRouterID = c.id
		cfg.OVNBGP.AnnounceMethod = config.AnnounceTable
		cfg.OVNBGP.Peers = []config.Peer{{Address: c.peer, RemoteAS: "65000"}}
		cfg.OVNBGP.BFD = true
		cfg.OVNBGP.BFDTransmitMs, cfg.OVNBGP.BFDReceiveMs, cfg.OVNBGP.BFDMultiplier = 100, 100, 3
		cfg.OVNBGP.MaximumPaths = 8
		s := speakerFor(t, f, cfg, "-")
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background(), false) })
		c.ns.IP("route", "add", "172.24.4.10/32", "dev", "bgp-nic", "table", "10", "proto", "201")
		if c.ns == c2 {
			l.Eventually(20*time.Second, "BFD up on c2", func() bool {
				st, err := s.Status(ctx)
				return err == nil && len(st.Peers) == 1 && st.Peers[0].BFD == "up"
			})
		}
	}
	l.Eventually(20*time.Second, "ToR sessions", func() bool { return torFRR.Established() == 2 })
	l.Eventually(20*time.Second, "ToR BFD sessions up", func() bool {
		out, _ := torFRR.TryVtysh("show bfd peers json")
		m, err := parseBFD([]byte(out))
		return err == nil && m["10.0.1.2"] == "up" && m["10.0.2.2"] == "up"
	})
	ecmp := func() int {
		return strings.Count(tor.IP("route", "show", "172.24.4.10/32"), "nexthop via")
	}
	l.Eventually(10*time.Second, "ECMP route with two next hops at the ToR", func() bool { return ecmp() == 2 })
	t.Logf("ToR: %s", tor.IP("route", "show", "172.24.4.10/32"))

	// Cut c2's link without touching the carrier: drop everything in c2.
	c2.Exec("nft", "add", "table", "inet", "cut")
	c2.Exec("nft", "add", "chain", "inet", "cut", "in", "{ type filter hook input priority 0 ; policy drop ; }")
	c2.Exec("nft", "add", "chain", "inet", "cut", "out", "{ type filter hook output priority 0 ; policy drop ; }")
	failover := l.Eventually(5*time.Second, "the ToR drops c2's leg", func() bool {
		out := tor.IP("route", "show", "172.24.4.10/32")
		return ecmp() == 0 && strings.Contains(out, "10.0.1.2")
	})
	// Functional, not a performance bar: BFD (100 ms x 3) must be what
	// dropped the leg, not the BGP hold timer (9 s at the shortest FRR
	// profile); the figure itself is logged (and measured by the bench).
	if failover >= 3*time.Second {
		t.Errorf("c2's leg dropped after %s: that is the hold timer, not BFD", failover)
	}
	t.Logf("BFD 100 ms x 3: link cut -> ToR route down to one next hop in %s", failover.Round(time.Millisecond))
}

// BenchmarkLabApply measures one apply (show daemons, the vtysh session
// with removals + the full rendering, show running-config for the drift
// baseline) of the full fabric variant against FRR in a namespace.
func BenchmarkLabApply(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	l := lab.New(b)
	ns := l.NetNS("c1", true)
	f := l.StartFRR(ns, operatorFor("c1"))
	v := variantNamed("table-fabric-full")
	for _, mode := range []struct {
		name string
		file bool
	}{{"session", false}, {"file", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg := v.config()
			cfg.OVNBGP.FRRPathspace = f.Pathspace
			s, err := NewWithOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{StateFile: "-", UseFile: mode.file})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := s.Apply(context.Background(), "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender renders the full fabric variant and its removals.
func BenchmarkRender(b *testing.B) {
	v := variantNamed("table-fabric-full")
	cfg := v.config()
	for b.Loop() {
		n, err := Render(v.input(cfg))
		if err != nil {
			b.Fatal(err)
		}
		_ = Text(Removals(n, nil, nil)) + Text(n)
	}
}
