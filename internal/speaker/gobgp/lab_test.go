package gobgp

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// vethToLab connects the test's own network namespace (see main_test.go)
// to a lab namespace. The pair disappears with the lab namespace.
func vethToLab(t *testing.T, ourIf string, ourAddrs []string, peer *lab.NetNS, peerIf string, peerAddrs []string) {
	t.Helper()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("link", "add", ourIf, "type", "veth", "peer", "name", peerIf, "netns", peer.Name)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", ourIf).Run() })
	for _, a := range ourAddrs {
		args := []string{"addr", "add", a, "dev", ourIf}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		run(args...)
	}
	run("link", "set", ourIf, "up")
	for _, a := range peerAddrs {
		args := []string{"addr", "add", a, "dev", peerIf}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		peer.IP(args...)
	}
	peer.IP("link", "set", peerIf, "up")
}

// startSpeaker creates and starts a speaker, stopped (with withdraw) at the
// end of the test unless the test stopped it.
func startSpeaker(t *testing.T, c *config.Config, opts Options) *Speaker {
	t.Helper()
	sp, err := NewWithOptions(c, testLogger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Stop(context.Background(), true) })
	return sp
}

func mustSync(t *testing.T, sp *Speaker, a []plan.Announcement) {
	t.Helper()
	if err := sp.Sync(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// established waits until every peer of sp is Established and returns how
// long that took.
func established(t *testing.T, sp *Speaker, timeout time.Duration) time.Duration {
	t.Helper()
	return lab.Eventually(t, timeout, "speaker peers Established", func() bool {
		st, err := sp.Status(context.Background())
		if err != nil || len(st.Peers) == 0 {
			return false
		}
		for _, p := range st.Peers {
			if p.State != "Established" {
				return false
			}
		}
		return true
	})
}

// TestLabGoBGPD announces to a real gobgpd over an IPv4 and an IPv6
// session: IPv4 paths over the first, IPv6 paths over the second, each with
// the session's local address as next hop.
func TestLabGoBGPD(t *testing.T) {
	needLab(t)
	l := lab.New(t)
	peer := l.NetNS("gobgpd", false)
	vethToLab(t, "gb0", []string{"192.0.2.1/24", "2001:db8:a::1/64"}, peer, "eth0", []string{"192.0.2.2/24", "2001:db8:a::2/64"})
	g := l.StartGoBGP(peer, 65001, "192.0.2.2", []lab.GoBGPNeighbor{{Address: "192.0.2.1", AS: 64999}, {Address: "2001:db8:a::1", AS: 64999}})

	c := baseConfig()
	c.OVNBGP.GoBGPListenPort = 179 // our own namespace: gobgpd may connect to us too
	c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "65001"}, {Address: "2001:db8:a::2", RemoteAS: "external"}}
	sp := startSpeaker(t, c, Options{ConnectRetry: time.Second})

	mustSync(t, sp, anns("203.0.113.10/32", "2001:db8:f::10/128"))
	d := established(t, sp, 30*time.Second)
	t.Logf("sessions Established %v after the first Sync", d.Round(time.Millisecond))
	lab.Eventually(t, 10*time.Second, "first prefixes in gobgpd", func() bool {
		v4, _ := g.RIB("ipv4")
		v6, _ := g.RIB("ipv6")
		return len(v4["203.0.113.10/32"]) == 1 && len(v6["2001:db8:f::10/128"]) == 1
	})

	// Announce one more prefix of each family, measure, check next hops.
	start := time.Now()
	mustSync(t, sp, anns("203.0.113.10/32", "2001:db8:f::10/128", "203.0.113.11/32", "2001:db8:f::11/128"))
	var v4, v6 map[string][]string
	lab.Eventually(t, 10*time.Second, "announced prefixes in gobgpd", func() bool {
		v4, _ = g.RIB("ipv4")
		v6, _ = g.RIB("ipv6")
		return len(v4["203.0.113.11/32"]) == 1 && len(v6["2001:db8:f::11/128"]) == 1
	})
	t.Logf("announce: seen in gobgpd's RIB %v after Sync (includes the gobgp CLI poll, ~20 ms steps)", time.Since(start).Round(time.Millisecond))
	if nh := v4["203.0.113.11/32"][0]; nh != "192.0.2.1" {
		t.Errorf("IPv4 next hop %q, want the session's local address 192.0.2.1", nh)
	}
	if nh := v6["2001:db8:f::11/128"][0]; nh != "2001:db8:a::1" {
		t.Errorf("IPv6 next hop %q, want the session's local address 2001:db8:a::1", nh)
	}
	if len(v4) != 2 || len(v6) != 2 {
		t.Errorf("gobgpd RIB: %v %v", v4, v6)
	}

	st, err := sp.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, p := range st.Peers {
		sent += p.PrefixesSent
		if p.RemoteAS != 65001 || p.Uptime < 0 {
			t.Errorf("peer %+v", p)
		}
	}
	if sent != 4 || len(st.Prefixes) != 4 {
		t.Errorf("Status: sent %d prefixes, owns %v", sent, st.Prefixes)
	}

	// Withdraw one of each.
	start = time.Now()
	mustSync(t, sp, anns("203.0.113.10/32", "2001:db8:f::10/128"))
	lab.Eventually(t, 10*time.Second, "withdrawn prefixes gone from gobgpd", func() bool {
		v4, _ = g.RIB("ipv4")
		v6, _ = g.RIB("ipv6")
		return len(v4["203.0.113.11/32"]) == 0 && len(v6["2001:db8:f::11/128"]) == 0
	})
	t.Logf("withdraw: gone from gobgpd's RIB %v after Sync", time.Since(start).Round(time.Millisecond))
	if len(v4["203.0.113.10/32"]) != 1 || len(v6["2001:db8:f::10/128"]) != 1 {
		t.Errorf("untouched prefixes lost: %v %v", v4, v6)
	}

	// Stop(true): everything withdrawn, the sessions close.
	if err := sp.Stop(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 10*time.Second, "gobgpd RIB empty after Stop(true)", func() bool {
		v4, e4 := g.RIB("ipv4")
		v6, e6 := g.RIB("ipv6")
		return e4 == nil && e6 == nil && len(v4) == 0 && len(v6) == 0
	})
}

// frrPeerConfig is FRR in the peer namespace: AS 65002, one IPv4 session
// to the speaker carrying IPv4 and IPv6 unicast. FRR's default graceful
// restart mode is helper.
const frrPeerConfig = `frr defaults datacenter
hostname fabric
!
router bgp 65002
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 neighbor 192.0.2.1 remote-as 64999
 neighbor 192.0.2.1 timers connect 1
 address-family ipv4 unicast
  neighbor 192.0.2.1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 192.0.2.1 activate
 exit-address-family
exit
!
`

// frrRoute is one prefix in FRR's table.
type frrRoute struct {
	Valid   bool
	Stale   bool
	Nexthop string
}

// frrRoutes reads FRR's BGP table of family "ipv4" or "ipv6".
func frrRoutes(f *lab.FRR, family string) (map[string]frrRoute, error) {
	var out struct {
		Routes map[string][]struct {
			Valid    bool `json:"valid"`
			Stale    bool `json:"stale"`
			Nexthops []struct {
				IP    string `json:"ip"`
				Scope string `json:"scope"`
			} `json:"nexthops"`
		} `json:"routes"`
	}
	if err := f.VtyshJSON("show bgp "+family+" unicast json", &out); err != nil {
		return nil, err
	}
	res := map[string]frrRoute{}
	for p, paths := range out.Routes {
		for _, path := range paths {
			r := frrRoute{Valid: path.Valid, Stale: path.Stale}
			for _, nh := range path.Nexthops {
				if nh.Scope == "" || nh.Scope == "global" {
					r.Nexthop = nh.IP
				}
			}
			res[p] = r
		}
	}
	return res, nil
}

// frrHas reports whether FRR has every prefix (valid) and none of absent.
func frrHas(f *lab.FRR, present []string, absent []string) bool {
	v4, e4 := frrRoutes(f, "ipv4")
	v6, e6 := frrRoutes(f, "ipv6")
	if e4 != nil || e6 != nil {
		return false
	}
	get := func(p string) (frrRoute, bool) {
		if strings.Contains(p, ":") {
			r, ok := v6[p]
			return r, ok
		}
		r, ok := v4[p]
		return r, ok
	}
	for _, p := range present {
		if r, ok := get(p); !ok || !r.Valid {
			return false
		}
	}
	for _, p := range absent {
		if _, ok := get(p); ok {
			return false
		}
	}
	return true
}

func frrLab(t *testing.T) (*lab.Lab, *lab.FRR) {
	l := lab.New(t)
	peer := l.NetNS("frr", false)
	vethToLab(t, "fr0", []string{"192.0.2.1/24", "2001:db8:a::1/64"}, peer, "eth0", []string{"192.0.2.2/24", "2001:db8:a::2/64"})
	return l, l.StartFRR(peer, frrPeerConfig)
}

// TestLabFRR announces IPv4 and IPv6 prefixes to a real FRR over one IPv4
// session, IPv6 with Options.IPv6NextHop.
func TestLabFRR(t *testing.T) {
	needLab(t)
	_, f := frrLab(t)

	c := baseConfig()
	c.OVNBGP.GracefulRestart = false
	c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "external"}}
	sp := startSpeaker(t, c, Options{ConnectRetry: time.Second, IPv6NextHop: netip.MustParseAddr("2001:db8:a::1")})

	mustSync(t, sp, anns("203.0.113.20/32", "2001:db8:f::20/128"))
	d := established(t, sp, 30*time.Second)
	t.Logf("session Established %v after the first Sync", d.Round(time.Millisecond))
	lab.Eventually(t, 10*time.Second, "first prefixes in FRR", func() bool {
		return frrHas(f, []string{"203.0.113.20/32", "2001:db8:f::20/128"}, nil)
	})

	start := time.Now()
	mustSync(t, sp, anns("203.0.113.20/32", "2001:db8:f::20/128", "203.0.113.21/32", "2001:db8:f::21/128"))
	lab.Eventually(t, 10*time.Second, "announced prefixes valid in FRR", func() bool {
		return frrHas(f, []string{"203.0.113.21/32", "2001:db8:f::21/128"}, nil)
	})
	t.Logf("announce: valid in FRR %v after Sync (includes the vtysh poll)", time.Since(start).Round(time.Millisecond))
	v4, _ := frrRoutes(f, "ipv4")
	v6, _ := frrRoutes(f, "ipv6")
	if nh := v4["203.0.113.21/32"].Nexthop; nh != "192.0.2.1" {
		t.Errorf("IPv4 next hop in FRR %q, want 192.0.2.1", nh)
	}
	if nh := v6["2001:db8:f::21/128"].Nexthop; nh != "2001:db8:a::1" {
		t.Errorf("IPv6 next hop in FRR %q, want 2001:db8:a::1 (Options.IPv6NextHop)", nh)
	}
	// FRR installs them in its namespace's kernel table.
	out, _ := f.NS.Try("ip", "-6", "route", "show", "2001:db8:f::21")
	if !strings.Contains(out, "via 2001:db8:a::1") {
		t.Errorf("FRR did not install the IPv6 route: %q", out)
	}

	start = time.Now()
	mustSync(t, sp, anns("203.0.113.21/32", "2001:db8:f::21/128"))
	lab.Eventually(t, 10*time.Second, "withdrawn prefixes gone from FRR", func() bool {
		return frrHas(f, []string{"203.0.113.21/32", "2001:db8:f::21/128"}, []string{"203.0.113.20/32", "2001:db8:f::20/128"})
	})
	t.Logf("withdraw: gone from FRR %v after Sync", time.Since(start).Round(time.Millisecond))

	// Without graceful restart, Stop(false) sends a Cease NOTIFICATION: FRR
	// drops the routes at once.
	if err := sp.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	d = lab.Eventually(t, 10*time.Second, "routes gone after Stop(false) without graceful restart", func() bool {
		return frrHas(f, nil, []string{"203.0.113.21/32", "2001:db8:f::21/128"})
	})
	t.Logf("Stop(false) without graceful restart: FRR dropped the routes after %v", d.Round(time.Millisecond))
}

// TestLabGracefulRestart checks the promise "no flaps on restarts" against
// FRR: Stop(false) leaves the routes at FRR (stale) for the restart time; a
// new speaker taking over before then refreshes them without FRR ever
// losing them; without a new speaker they expire after the restart time;
// Stop(true) withdraws at once.
func TestLabGracefulRestart(t *testing.T) {
	needLab(t)
	_, f := frrLab(t)
	const restart = 10 * time.Second

	c := baseConfig()
	c.OVNBGP.GracefulRestart = true
	c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "65002"}}
	opts := Options{ConnectRetry: time.Second, IPv6NextHop: netip.MustParseAddr("2001:db8:a::1"), RestartTime: restart}
	kept := []string{"203.0.113.30/32", "2001:db8:f::30/128"}
	gone := []string{"203.0.113.31/32"}

	a := startSpeaker(t, c, opts)
	mustSync(t, a, anns(append(kept, gone...)...))
	established(t, a, 30*time.Second)
	lab.Eventually(t, 30*time.Second, "prefixes in FRR", func() bool { return frrHas(f, append(kept, gone...), nil) })

	// Watch FRR continuously from now on: the kept prefixes must never
	// disappear.
	type sample struct {
		at    time.Duration
		ok    bool
		stale bool
	}
	watchStart := time.Now()
	stopWatch := make(chan struct{})
	samplesCh := make(chan []sample, 1)
	go func() {
		var s []sample
		for {
			select {
			case <-stopWatch:
				samplesCh <- s
				return
			default:
			}
			v4, e4 := frrRoutes(f, "ipv4")
			v6, e6 := frrRoutes(f, "ipv6")
			if e4 == nil && e6 == nil {
				r4, ok4 := v4[kept[0]]
				r6, ok6 := v6[kept[1]]
				s = append(s, sample{at: time.Since(watchStart), ok: ok4 && ok6, stale: r4.Stale || r6.Stale})
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	if err := a.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Since(watchStart)
	lab.Eventually(t, 5*time.Second, "FRR marks our routes stale", func() bool {
		v4, err := frrRoutes(f, "ipv4")
		return err == nil && v4[kept[0]].Stale
	})
	if why := frrLastReset(t, f); strings.Contains(strings.ToLower(why), "notification") {
		t.Errorf("Stop(false) with graceful restart sent a NOTIFICATION: FRR's last reset %q", why)
	} else {
		t.Logf("Stop(false) with graceful restart: FRR's last reset reason %q", why)
	}
	time.Sleep(2 * time.Second)

	// The "restarted agent": a new speaker, same configuration, a slightly
	// different set.
	b := startSpeaker(t, c, opts)
	restartedAt := time.Since(watchStart)
	mustSync(t, b, anns(append(kept, "203.0.113.32/32")...))
	syncedAt := time.Now()
	up := established(t, b, 30*time.Second)
	lab.Eventually(t, 40*time.Second, "FRR refreshed: kept prefixes not stale, new one present, dropped one gone", func() bool {
		v4, e4 := frrRoutes(f, "ipv4")
		v6, e6 := frrRoutes(f, "ipv6")
		if e4 != nil || e6 != nil {
			return false
		}
		_, old := v4[gone[0]]
		return !old && v4["203.0.113.32/32"].Valid && v4[kept[0]].Valid && !v4[kept[0]].Stale && v6[kept[1]].Valid && !v6[kept[1]].Stale
	})
	close(stopWatch)
	samples := <-samplesCh
	lost := 0
	for _, s := range samples {
		if !s.ok {
			lost++
		}
	}
	t.Logf("restart: stopped at %v, new speaker at %v, session up %v and FRR in sync (End-of-RIB, stale flags cleared) %v after the new speaker's first Sync; %d samples of FRR's table, %d without the kept prefixes",
		stoppedAt.Round(time.Millisecond), restartedAt.Round(time.Millisecond), up.Round(time.Millisecond), time.Since(syncedAt).Round(time.Millisecond), len(samples), lost)
	if lost > 0 || len(samples) < 3 {
		t.Errorf("kept prefixes flapped at FRR during the restart: %d of %d samples without them", lost, len(samples))
	}

	// Stop(false) and no new speaker: FRR keeps the routes for about the
	// restart time, then drops them.
	if err := b.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	// Probe continuously (a vtysh probe can take a second on a loaded
	// host): the last probe that still saw the routes must have started
	// after 60 % of the restart time.
	stopped := time.Now()
	var lastPresent, goneBy time.Duration
	for {
		at := time.Since(stopped)
		if at > restart+15*time.Second {
			t.Fatalf("routes still at FRR %v after Stop(false), restart time %v", at, restart)
		}
		if frrHas(f, kept, nil) {
			lastPresent = at
		} else if frrHas(f, nil, kept) {
			goneBy = time.Since(stopped)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lastPresent < restart*6/10 {
		t.Errorf("FRR dropped the routes between %v and %v after Stop(false), before the restart time %v", lastPresent, goneBy, restart)
	}
	t.Logf("no restart: FRR kept the stale routes at least %v and dropped them by %v after Stop(false) (restart time %v)",
		lastPresent.Round(time.Millisecond), goneBy.Round(time.Millisecond), restart)

	// Stop(true) withdraws at once even with graceful restart.
	cc := startSpeaker(t, c, opts)
	mustSync(t, cc, anns(kept...))
	established(t, cc, 40*time.Second)
	lab.Eventually(t, 40*time.Second, "prefixes back in FRR", func() bool { return frrHas(f, kept, nil) })
	start := time.Now()
	if err := cc.Stop(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 5*time.Second, "routes withdrawn by Stop(true)", func() bool { return frrHas(f, nil, kept) })
	t.Logf("Stop(true): FRR's last reset reason %q", frrLastReset(t, f))
	t.Logf("Stop(true): FRR without the routes %v after Stop was called", time.Since(start).Round(time.Millisecond))
}

// TestLabFRRPassword: peer_password becomes TCP MD5 on the session.
func TestLabFRRPassword(t *testing.T) {
	needLab(t)
	l := lab.New(t)
	peer := l.NetNS("frrmd5", false)
	vethToLab(t, "md0", []string{"192.0.2.1/24"}, peer, "eth0", []string{"192.0.2.2/24"})
	f := l.StartFRR(peer, strings.Replace(frrPeerConfig, " neighbor 192.0.2.1 timers connect 1\n",
		" neighbor 192.0.2.1 timers connect 1\n neighbor 192.0.2.1 password s3cret\n", 1))

	c := baseConfig()
	c.OVNBGP.PeerPassword = "s3cret"
	c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "65002"}}
	sp := startSpeaker(t, c, Options{ConnectRetry: time.Second})
	mustSync(t, sp, anns("203.0.113.40/32"))
	established(t, sp, 30*time.Second)
	lab.Eventually(t, 10*time.Second, "prefix in FRR over the MD5 session", func() bool {
		return frrHas(f, []string{"203.0.113.40/32"}, nil)
	})
}

// frrLastReset returns why FRR last reset the session with the speaker.
func frrLastReset(t *testing.T, f *lab.FRR) string {
	var n map[string]struct {
		LastResetDueTo            string `json:"lastResetDueTo"`
		LastNotificationReason    string `json:"lastNotificationReason"`
		LastErrorCodeSubcode      string `json:"lastErrorCodeSubcode"`
		DownLastResetDueTo        string `json:"downLastResetDueTo"`
		LastNotificationHardReset bool   `json:"lastNotificationHardReset"`
	}
	if err := f.VtyshJSON("show bgp neighbors 192.0.2.1 json", &n); err != nil {
		t.Logf("show bgp neighbors: %v", err)
		return ""
	}
	r := n["192.0.2.1"]
	return strings.TrimSpace(r.LastResetDueTo + " " + r.LastNotificationReason + " " + r.LastErrorCodeSubcode)
}

// TestLabListen: with gobgp_listen_port the speaker accepts the session
// the peer opens. Our own dials go to a port nothing listens on, so the
// session can only be FRR's.
func TestLabListen(t *testing.T) {
	needLab(t)
	_, f := frrLab(t)
	c := baseConfig()
	c.OVNBGP.GoBGPListenPort = 179
	c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "65002"}}
	sp := startSpeaker(t, c, Options{ConnectRetry: time.Second, RemotePort: 1179, ListenAddresses: []string{"192.0.2.1"}})
	mustSync(t, sp, anns("203.0.113.50/32"))
	d := established(t, sp, 30*time.Second)
	t.Logf("passive session Established %v after the first Sync", d.Round(time.Millisecond))
	lab.Eventually(t, 10*time.Second, "prefix in FRR over the session FRR opened", func() bool {
		return frrHas(f, []string{"203.0.113.50/32"}, nil)
	})
}
