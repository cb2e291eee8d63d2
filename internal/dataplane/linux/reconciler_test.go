package linux

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// timeScale stretches convergence bounds where nothing is a performance
// figure (the QEMU lab emulates its CPU).
var timeScale = 1

func exposure(prefix, bridge string, announce bool) plan.Exposure {
	return plan.Exposure{Prefix: netip.MustParsePrefix(prefix), Bridge: bridge, Announce: announce}
}

// baseState: a VM on br-ex (v4 with MAC, v6 with NDP proxy), a tenant
// subnet via a cr-lrp, and a wire-only prefix.
func baseState() *plan.State {
	vm4 := exposure("172.24.4.10/32", "br-ex", true)
	vm4.MAC = "fa:16:3e:00:01:10"
	vm6 := exposure("2001:db8:24::10/128", "br-ex", true)
	vm6.MAC = "fa:16:3e:00:01:10"
	vm6.ProxyNDP = []netip.Addr{netip.MustParseAddr("2001:db8:24::1")}
	crlrp := exposure("172.24.4.100/32", "br-ex", true)
	crlrp.MAC = "fa:16:3e:00:00:01"
	subnet := exposure("10.0.0.0/24", "br-ex", true)
	subnet.Via = netip.MustParseAddr("172.24.4.100")
	wireOnly := exposure("172.24.4.11/32", "br-ex", false)
	return &plan.State{Wiring: plan.Wiring{
		Bridges:   []plan.BridgeWiring{{Bridge: "br-ex", Physnet: "physnet1", Index: 1}},
		Exposures: []plan.Exposure{vm4, vm6, crlrp, subnet, wireOnly},
	}}
}

func TestWireTableMethod(t *testing.T) {
	n := newTestNS(t, "br-ex")
	r := n.reconciler(t, AnnounceTable)
	ctx := context.Background()
	st := baseState()
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}

	rules := n.rules(t)
	for _, want := range []string{
		ruleStr(1000, "172.24.4.10/32", 201), ruleStr(1000, "2001:db8:24::10/128", 201),
		ruleStr(1000, "172.24.4.100/32", 201), ruleStr(1008, "10.0.0.0/24", 201), ruleStr(1000, "172.24.4.11/32", 201),
	} {
		if !rules[want] {
			t.Errorf("missing rule %s; have %v", want, rules)
		}
	}
	routes := n.routes(t, 201)
	for _, want := range []string{
		"172.24.4.10/32 dev br-ex proto 201", "2001:db8:24::10/128 dev br-ex proto 201", "172.24.4.100/32 dev br-ex proto 201",
		"10.0.0.0/24 dev br-ex proto 201 via 172.24.4.100", "172.24.4.11/32 dev br-ex proto 201",
		"default dev br-ex proto 201", "default6 dev br-ex proto 201",
	} {
		if !routes[want] {
			t.Errorf("missing route %q in table 201; have %v", want, routes)
		}
	}
	ann := n.routes(t, 10)
	// Announce routes carry no next hop: they only tell FRR what to export.
	for _, want := range []string{"172.24.4.10/32 dev br-ex proto 201", "2001:db8:24::10/128 dev br-ex proto 201", "10.0.0.0/24 dev br-ex proto 201"} {
		if !ann[want] {
			t.Errorf("missing announce route %q in table 10; have %v", want, ann)
		}
	}
	if ann["172.24.4.11/32 dev br-ex proto 201"] {
		t.Errorf("a wire-only exposure is announced: %v", ann)
	}
	perm, proxy := n.neighbours(t, "br-ex")
	if perm["172.24.4.10"] != "fa:16:3e:00:01:10" || perm["172.24.4.100"] != "fa:16:3e:00:00:01" || perm["2001:db8:24::10"] != "fa:16:3e:00:01:10" {
		t.Errorf("permanent neighbours: %v", perm)
	}
	if !proxy["2001:db8:24::1"] {
		t.Errorf("NDP proxy entries: %v", proxy)
	}
	addrs := n.addrs(t, "br-ex")
	if !addrs["169.254.1.1/32"] || !addrs["fd53:d91e:400:7f17::1:1/128"] {
		t.Errorf("link addresses on br-ex: %v", addrs)
	}
	for path, want := range map[string]string{
		"net/ipv4/conf/br-ex/proxy_arp": "1", "net/ipv6/conf/br-ex/proxy_ndp": "1", "net/ipv4/neigh/br-ex/proxy_delay": "0",
		"net/ipv4/ip_forward": "1", "net/ipv6/conf/all/forwarding": "1",
	} {
		if got := n.sysctl(t, path); got != want {
			t.Errorf("sysctl %s = %s, want %s", path, got, want)
		}
	}
	conf, err := os.ReadFile(filepath.Join(n.dir, "rt_tables.d", "ovnbgp.conf"))
	if err != nil || !strings.Contains(string(conf), "201\tbr-ex") {
		t.Errorf("ovnbgp.conf: %q %v", conf, err)
	}

	// A second Wire of the same state sends nothing but the dumps.
	before := r.Stats().NLRequests
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if d := r.Stats().NLRequests - before; d > 7 {
		t.Errorf("an unchanged Wire sent %d requests, want only the 6 dumps", d)
	}

	// Unwire a smaller state: the VM's v4 address goes, its announce route
	// first; everything of the others stays.
	small := baseState()
	small.Wiring.Exposures = small.Wiring.Exposures[1:]
	if err := r.Unwire(ctx, small); err != nil {
		t.Fatal(err)
	}
	if n.rules(t)[ruleStr(1000, "172.24.4.10/32", 201)] {
		t.Error("rule of the removed exposure still there")
	}
	if n.routes(t, 201)["172.24.4.10/32 dev br-ex proto 201"] || n.routes(t, 10)["172.24.4.10/32 dev br-ex proto 201"] {
		t.Error("route of the removed exposure still there")
	}
	if perm, _ := n.neighbours(t, "br-ex"); perm["172.24.4.10"] != "" || perm["172.24.4.100"] == "" {
		t.Errorf("neighbours after unwire: %v", perm)
	}
	if !n.rules(t)[ruleStr(1008, "10.0.0.0/24", 201)] || !n.routes(t, 10)["2001:db8:24::10/128 dev br-ex proto 201"] {
		t.Error("Unwire removed objects still needed")
	}
	s := r.Stats()
	if s.Objects["rule"] != 4 || s.Exposures != 4 {
		t.Errorf("stats after unwire: %+v", s)
	}

	// Unwire everything.
	if err := r.Unwire(ctx, &plan.State{}); err != nil {
		t.Fatal(err)
	}
	if rs := n.rules(t); len(rs) != 0 {
		t.Errorf("rules left: %v", rs)
	}
	if rs := n.routes(t, 201); len(rs) != 0 {
		t.Errorf("routes left in table 201: %v", rs)
	}
	if rs := n.routes(t, 10); len(rs) != 0 {
		t.Errorf("routes left in table 10: %v", rs)
	}
	if perm, proxy := n.neighbours(t, "br-ex"); len(perm)+len(proxy) != 0 {
		t.Errorf("neighbours left: %v %v", perm, proxy)
	}
}

// TestForeignLeftAlone: objects outside the ownership markers survive Wire
// and Unwire.
func TestForeignLeftAlone(t *testing.T) {
	n := newTestNS(t, "br-ex")
	br := n.link(t, "br-ex")
	// A human's rule with a priority outside the range, to the bridge table;
	// a static route in the bridge table; a rule in the range to another
	// table; a reachable neighbour; an address on the bridge.
	foreign := []*netlink.Rule{ruleTo("192.0.2.1/32", 201, 500), ruleTo("192.0.2.2/32", 77, 1000)}
	for _, fr := range foreign {
		if err := n.h.RuleAdd(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.h.RouteAdd(&netlink.Route{Dst: ipnet("192.0.2.3/32"), LinkIndex: br.Attrs().Index, Table: 201, Protocol: 4, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.AddrAdd(br, &netlink.Addr{IPNet: ipnet("192.0.2.254/24")}); err != nil {
		t.Fatal(err)
	}
	r := n.reconciler(t, AnnounceTable)
	ctx := context.Background()
	if err := r.Wire(ctx, baseState()); err != nil {
		t.Fatal(err)
	}
	if err := r.Unwire(ctx, &plan.State{Wiring: plan.Wiring{Bridges: baseState().Wiring.Bridges}}); err != nil {
		t.Fatal(err)
	}
	rules := n.rules(t)
	if !rules[ruleStr(500, "192.0.2.1/32", 201)] || !rules[ruleStr(1000, "192.0.2.2/32", 77)] {
		t.Errorf("foreign rules removed: %v", rules)
	}
	if !n.routes(t, 201)["192.0.2.3/32 dev br-ex proto 4"] {
		t.Errorf("foreign static route removed: %v", n.routes(t, 201))
	}
	if !n.addrs(t, "br-ex")["192.0.2.254/24"] {
		t.Error("foreign address removed")
	}
	if len(rules) != 2 {
		t.Errorf("owned rules left after unwire: %v", rules)
	}
}

func ruleTo(dst string, table, prio int) *netlink.Rule {
	r := netlink.NewRule()
	r.Dst = ipnet(dst)
	r.Table = table
	r.Priority = prio
	if netip.MustParsePrefix(dst).Addr().Is6() {
		r.Family = netlink.FAMILY_V6
	}
	return r
}

// TestAdoptUpstream: a host left by upstream ovn-bgp-agent (table number
// picked at random in rt_tables, rules without priority, proto boot
// routes) converges without flushing.
func TestAdoptUpstream(t *testing.T) {
	for _, mode := range []string{RulePerPrefix, RulePerTable} {
		t.Run(mode, func(t *testing.T) { testAdoptUpstream(t, mode) })
	}
}

func testAdoptUpstream(t *testing.T, mode string) {
	n := newTestNS(t, "br-ex")
	if err := os.WriteFile(filepath.Join(n.dir, "rt_tables"), []byte("255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n47 br-ex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	br := n.link(t, "br-ex")
	// Upstream's rule as the kernel numbers it (no priority given) and its routes.
	up := netlink.NewRule()
	up.Dst = ipnet("172.24.4.10/32")
	up.Table = 47
	if err := n.h.RuleAdd(up); err != nil {
		t.Fatal(err)
	}
	stale := ruleTo("172.24.4.99/32", 47, 32000)
	if err := n.h.RuleAdd(stale); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{"172.24.4.10/32", "172.24.4.99/32"} {
		if err := n.h.RouteAdd(&netlink.Route{Dst: ipnet(dst), LinkIndex: br.Attrs().Index, Table: 47, Protocol: 3, Scope: netlink.SCOPE_LINK}); err != nil {
			t.Fatal(err)
		}
	}
	var upPrio int
	for r := range n.rules(t) {
		if strings.HasSuffix(r, ":172.24.4.10/32:47") {
			upPrio = atoiPrefix(r)
		}
	}
	if upPrio == 0 {
		t.Fatalf("upstream rule not found: %v", n.rules(t))
	}

	// Upstream's default routes of the table.
	for _, dst := range []string{"0.0.0.0/0", "::/0"} {
		if err := n.h.RouteAdd(&netlink.Route{Dst: ipnet(dst), LinkIndex: br.Attrs().Index, Table: 47, Protocol: 3, Scope: netlink.SCOPE_LINK}); err != nil && !strings.Contains(dst, "::") {
			t.Fatal(err)
		}
	}
	o := n.options(AnnounceTable)
	o.RuleMode = mode
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	st := &plan.State{Wiring: plan.Wiring{
		Bridges:   []plan.BridgeWiring{{Bridge: "br-ex", Index: 1}},
		Exposures: []plan.Exposure{exposure("172.24.4.10/32", "br-ex", true)},
	}}
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := r.Tables()["br-ex"]; got != 47 {
		t.Fatalf("br-ex table = %d, want the adopted 47", got)
	}
	rules := n.rules(t)
	if !rules[ruleStr(upPrio, "172.24.4.10/32", 47)] || !rules[ruleStr(32000, "172.24.4.99/32", 47)] {
		t.Errorf("after Wire nothing is flushed: %v", rules)
	}
	wantTableRules := map[string]bool{"2:1001:47:0": true, "10:1001:47:0": true}
	if mode == RulePerPrefix && !rules[ruleStr(1000, "172.24.4.10/32", 47)] {
		t.Errorf("after Wire, ours is added: %v", rules)
	}
	if mode == RulePerTable && !equalSets(n.tableRules(t), wantTableRules) {
		t.Errorf("table rules: %v", n.tableRules(t))
	}
	// The kernel routes the exposure into br-ex, and nothing else (the
	// adopted table's default route included).
	if rs, err := n.h.RouteGet(net.ParseIP("172.24.4.10")); err != nil || len(rs) == 0 || rs[0].LinkIndex != br.Attrs().Index {
		t.Errorf("exposure not routed into br-ex: %v %v", rs, err)
	}
	if rs, err := n.h.RouteGet(net.ParseIP("198.51.100.1")); mode == RulePerTable && err == nil {
		t.Errorf("unexposed address routed: %v", rs)
	}
	if !n.routes(t, 47)["172.24.4.10/32 dev br-ex proto 201"] {
		t.Errorf("upstream route not replaced in place: %v", n.routes(t, 47))
	}
	if conf, _ := os.ReadFile(filepath.Join(n.dir, "rt_tables.d", "ovnbgp.conf")); strings.Contains(string(conf), "br-ex") {
		t.Errorf("ovnbgp.conf names an adopted table: %q", conf)
	}
	if err := r.Unwire(ctx, st); err != nil {
		t.Fatal(err)
	}
	// Upstream's rules are outside [rule_priority, rule_priority_max]: not
	// ovnbgp's, left alone (docs/operations.md says how to remove them).
	rules = n.rules(t)
	upRules := map[string]bool{ruleStr(upPrio, "172.24.4.10/32", 47): true, ruleStr(32000, "172.24.4.99/32", 47): true}
	if mode == RulePerPrefix {
		upRules[ruleStr(1000, "172.24.4.10/32", 47)] = true
	}
	if !equalSets(rules, upRules) {
		t.Errorf("after Unwire: rules %v, want ovnbgp's and upstream's untouched %v", rules, upRules)
	}
	if mode == RulePerTable && !equalSets(n.tableRules(t), wantTableRules) {
		t.Errorf("after Unwire ovnbgp's table rules should remain: %v", n.tableRules(t))
	}
	if rs, err := n.h.RouteGet(net.ParseIP("172.24.4.10")); err != nil || len(rs) == 0 || rs[0].LinkIndex != br.Attrs().Index {
		t.Errorf("exposure not routed into br-ex after Unwire: %v %v", rs, err)
	}
	if rs := n.routes(t, 47); rs["172.24.4.99/32 dev br-ex proto 3"] || !rs["172.24.4.10/32 dev br-ex proto 201"] {
		t.Errorf("routes after Unwire: %v", rs)
	}
}

func atoiPrefix(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestErrorsDoNotStopOthers: an exposure on a missing bridge and one with a
// bad MAC fail with a cause; the others are wired; the missing bridge is
// wired as soon as it exists (next pass).
func TestErrorsDoNotStopOthers(t *testing.T) {
	n := newTestNS(t, "br-ex")
	r := n.reconciler(t, AnnounceTable)
	st := baseState()
	st.Wiring.Bridges = append(st.Wiring.Bridges, plan.BridgeWiring{Bridge: "br-late", Index: 2})
	bad := exposure("172.24.4.12/32", "br-ex", true)
	bad.MAC = "not-a-mac"
	st.Wiring.Exposures = append(st.Wiring.Exposures, exposure("198.51.100.5/32", "br-late", true), bad)
	err := r.Wire(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "device_missing") || !strings.Contains(err.Error(), "invalid=1") {
		t.Fatalf("want device_missing and invalid errors, got %v", err)
	}
	if !n.rules(t)[ruleStr(1000, "172.24.4.10/32", 201)] {
		t.Error("healthy exposures not wired")
	}
	if f := r.Stats().Failed; f["device_missing"] != 1 || f["invalid"] != 1 {
		t.Errorf("failed: %v", f)
	}
	n.addBridge(t, "br-late")
	st.Wiring.Exposures = st.Wiring.Exposures[:len(st.Wiring.Exposures)-1]
	if err := r.Wire(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if !n.rules(t)[ruleStr(1000, "198.51.100.5/32", 202)] || !n.routes(t, 10)["198.51.100.5/32 dev br-late proto 201"] {
		t.Errorf("late bridge not wired: %v", n.rules(t))
	}
}

// TestDelta: incremental wire and unwire touch only their keys; a changed
// exposure's old objects go at UnwireDelta.
func TestDelta(t *testing.T) {
	n := newTestNS(t, "br-ex", "br-two")
	r := n.reconciler(t, AnnounceTable)
	ctx := context.Background()
	st := baseState()
	st.Wiring.Bridges = append(st.Wiring.Bridges, plan.BridgeWiring{Bridge: "br-two", Index: 2})
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	before := r.Stats().NLRequests
	add := exposure("172.24.4.50/32", "br-ex", true)
	if err := r.WireDelta(ctx, &plan.Delta{Wire: []plan.Exposure{add}}); err != nil {
		t.Fatal(err)
	}
	if d := r.Stats().NLRequests - before; d != 3 {
		t.Errorf("one new exposure took %d requests, want 3 (route, rule, announce route)", d)
	}
	if !n.rules(t)[ruleStr(1000, "172.24.4.50/32", 201)] || !n.routes(t, 10)["172.24.4.50/32 dev br-ex proto 201"] {
		t.Error("delta exposure not wired")
	}
	// Move it to br-two.
	moved := add
	moved.Bridge = "br-two"
	d := &plan.Delta{Wire: []plan.Exposure{moved}, Unwire: []plan.Exposure{st.Wiring.Exposures[4]}}
	if err := r.WireDelta(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := r.UnwireDelta(ctx, d); err != nil {
		t.Fatal(err)
	}
	rules := n.rules(t)
	if rules[ruleStr(1000, "172.24.4.50/32", 201)] || !rules[ruleStr(1000, "172.24.4.50/32", 202)] {
		t.Errorf("moved exposure rules: %v", rules)
	}
	if n.routes(t, 201)["172.24.4.50/32 dev br-ex proto 201"] || !n.routes(t, 202)["172.24.4.50/32 dev br-two proto 201"] {
		t.Error("moved exposure routes")
	}
	if !n.routes(t, 10)["172.24.4.50/32 dev br-two proto 201"] {
		t.Errorf("announce route not updated in place: %v", n.routes(t, 10))
	}
	if rules[ruleStr(1000, "172.24.4.11/32", 201)] {
		t.Error("unwired exposure's rule still there")
	}
}

// TestDrift: owned objects deleted or changed by hand come back within 1 s;
// foreign objects added meanwhile are left alone.
func TestDrift(t *testing.T) {
	n := newTestNS(t, "br-ex")
	r := n.reconciler(t, AnnounceTable)
	_, stop := runWired(t, r, baseState())
	br := n.link(t, "br-ex")
	bound := time.Second * time.Duration(timeScale)

	check := func(what string, present func() bool) {
		t.Helper()
		deadline := time.Now().Add(bound)
		for !present() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not restored within %v", what, bound)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Rule.
	if err := n.h.RuleDel(ruleTo("172.24.4.10/32", 201, 1000)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	check("rule", func() bool { return n.rules(t)[ruleStr(1000, "172.24.4.10/32", 201)] })
	t.Logf("rule restored after %v", time.Since(t0))
	// IPv6 rule.
	if err := n.h.RuleDel(ruleTo("2001:db8:24::10/128", 201, 1000)); err != nil {
		t.Fatal(err)
	}
	check("IPv6 rule", func() bool { return n.rules(t)[ruleStr(1000, "2001:db8:24::10/128", 201)] })
	// Route in the bridge table, announce route.
	if err := n.h.RouteDel(&netlink.Route{Dst: ipnet("172.24.4.10/32"), Table: 201, Scope: netlink.SCOPE_NOWHERE}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.RouteDel(&netlink.Route{Dst: ipnet("2001:db8:24::10/128"), Table: 10}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	check("route", func() bool { return n.routes(t, 201)["172.24.4.10/32 dev br-ex proto 201"] })
	check("announce route", func() bool { return n.routes(t, 10)["2001:db8:24::10/128 dev br-ex proto 201"] })
	t.Logf("routes restored after %v", time.Since(t0))
	// A route of ours changed by hand (other device) is put back.
	if err := n.h.RouteReplace(&netlink.Route{Dst: ipnet("172.24.4.11/32"), LinkIndex: n.link(t, "lo").Attrs().Index, Table: 201, Protocol: 201, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatal(err)
	}
	check("changed route", func() bool { return n.routes(t, 201)["172.24.4.11/32 dev br-ex proto 201"] })
	// Neighbour, NDP proxy, link address.
	hw, _ := net.ParseMAC("fa:16:3e:00:01:10")
	if err := n.h.NeighDel(&netlink.Neigh{LinkIndex: br.Attrs().Index, IP: net.ParseIP("172.24.4.10"), HardwareAddr: hw}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.NeighDel(&netlink.Neigh{LinkIndex: br.Attrs().Index, Family: netlink.FAMILY_V6, Flags: netlink.NTF_PROXY, IP: net.ParseIP("2001:db8:24::1")}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.AddrDel(br, &netlink.Addr{IPNet: ipnet("169.254.1.1/32")}); err != nil {
		t.Fatal(err)
	}
	check("neighbour", func() bool { p, _ := n.neighbours(t, "br-ex"); return p["172.24.4.10"] == "fa:16:3e:00:01:10" })
	check("NDP proxy", func() bool { _, p := n.neighbours(t, "br-ex"); return p["2001:db8:24::1"] })
	check("link address", func() bool { return n.addrs(t, "br-ex")["169.254.1.1/32"] })

	// Foreign objects added now are left alone (and do not trigger removals).
	if err := n.h.RuleAdd(ruleTo("192.0.2.1/32", 201, 500)); err != nil {
		t.Fatal(err)
	}
	if err := n.h.RouteAdd(&netlink.Route{Dst: ipnet("192.0.2.3/32"), LinkIndex: br.Attrs().Index, Table: 201, Protocol: 4, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if !n.rules(t)[ruleStr(500, "192.0.2.1/32", 201)] || !n.routes(t, 201)["192.0.2.3/32 dev br-ex proto 4"] {
		t.Error("foreign objects touched")
	}
	if s := r.Stats(); s.Repairs < 8 {
		t.Errorf("repairs = %d, want >= 8", s.Repairs)
	}
	// Device re-created: everything on it comes back (full re-read).
	if err := n.h.LinkDel(br); err != nil {
		t.Fatal(err)
	}
	if err := n.h.LinkDel(n.link(t, n.veths["br-ex"])); err != nil {
		t.Fatal(err)
	}
	n.addBridge(t, "br-ex")
	check("wiring on a re-created bridge", func() bool {
		return n.routes(t, 201)["172.24.4.10/32 dev br-ex proto 201"] && n.addrs(t, "br-ex")["169.254.1.1/32"]
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestConnectedNeedsVRF: on a kernel without the vrf module the connected
// method says so clearly (the host kernel here; the VM lab tests the
// method itself).
func TestConnectedWithoutVRFModule(t *testing.T) {
	n := newTestNS(t, "br-ex")
	if err := n.h.LinkAdd(&netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "probe-vrf"}, Table: 99}); err == nil {
		t.Skip("this kernel has VRF support; the VM lab test covers the connected method")
	}
	r := n.reconciler(t, AnnounceConnected)
	err := r.Wire(context.Background(), baseState())
	if err == nil || !strings.Contains(err.Error(), "announce_method=table") {
		t.Fatalf("want a clear error about the missing vrf module, got %v", err)
	}
	// The wiring is there, the announcements are not.
	if !n.rules(t)[ruleStr(1000, "172.24.4.10/32", 201)] {
		t.Error("wiring missing")
	}
}

// TestConnectedRefusesNonDummyBGPNic: bgp_nic naming an existing device
// that is not a dummy (a veth here, eth1 by mistake in production) is
// refused with a clear error, and the device keeps its addresses and stays
// out of any VRF.
func TestConnectedRefusesNonDummyBGPNic(t *testing.T) {
	n := newTestNS(t, "br-ex")
	if err := n.h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "bgp-nic"}, PeerName: "bgp-nic-p"}); err != nil {
		t.Fatal(err)
	}
	nic := n.link(t, "bgp-nic")
	if err := n.h.AddrAdd(nic, &netlink.Addr{IPNet: ipnet("192.0.2.1/24")}); err != nil {
		t.Fatal(err)
	}
	r := n.reconciler(t, AnnounceConnected)
	err := r.Wire(context.Background(), baseState())
	if err == nil || !strings.Contains(err.Error(), "bgp_nic bgp-nic exists and is not a dummy") {
		t.Fatalf("want the non-dummy bgp_nic refused, got %v", err)
	}
	if !n.addrs(t, "bgp-nic")["192.0.2.1/24"] {
		t.Errorf("bgp-nic lost its address: %v", n.addrs(t, "bgp-nic"))
	}
	if m := n.link(t, "bgp-nic").Attrs().MasterIndex; m != 0 {
		t.Errorf("bgp-nic was enslaved (master %d)", m)
	}
}

// TestRuleModesRoute: the kernel's own route lookup sends an exposed
// address into the bridge, and leaves other addresses alone, in both rule
// modes.
func TestRuleModesRoute(t *testing.T) {
	for _, mode := range []string{RulePerPrefix, RulePerTable} {
		t.Run(mode, func(t *testing.T) {
			n := newTestNS(t, "br-ex")
			o := n.options(AnnounceTable)
			o.RuleMode = mode
			r, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Wire(context.Background(), baseState()); err != nil {
				t.Fatal(err)
			}
			br := n.link(t, "br-ex").Attrs().Index
			for _, dst := range []string{"172.24.4.10", "2001:db8:24::10", "10.0.0.7"} {
				rs, err := n.h.RouteGet(net.ParseIP(dst))
				if err != nil || len(rs) == 0 || rs[0].LinkIndex != br {
					t.Errorf("%s: route get %v %v, want dev br-ex", dst, rs, err)
				}
			}
			if rs, err := n.h.RouteGet(net.ParseIP("10.0.0.7")); err == nil && len(rs) > 0 && !rs[0].Gw.Equal(net.ParseIP("172.24.4.100")) {
				t.Errorf("tenant subnet not via the cr-lrp: %v", rs)
			}
			// Not exposed: no route (the namespace has no default route), in
			// particular not the bridge table's default route.
			if rs, err := n.h.RouteGet(net.ParseIP("198.51.100.1")); err == nil {
				t.Errorf("unexposed address routed: %v", rs)
			}
			if mode == RulePerTable {
				if rules := n.rules(t); len(rules) != 0 {
					t.Errorf("per-prefix rules in table mode: %v", rules)
				}
				if s := r.Stats(); s.Objects["rule"] != 2 {
					t.Errorf("table mode rules: %v", s.Objects)
				}
			}
			if err := r.Unwire(context.Background(), &plan.State{}); err != nil {
				t.Fatal(err)
			}
			if rs, err := n.h.RouteGet(net.ParseIP("172.24.4.10")); err == nil {
				t.Errorf("still routed after unwire: %v", rs)
			}
		})
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestAnnounceNone: with a speaker that announces by itself only the
// wiring is written.
func TestAnnounceNone(t *testing.T) {
	n := newTestNS(t, "br-ex")
	r := n.reconciler(t, AnnounceNone)
	if err := r.Wire(context.Background(), baseState()); err != nil {
		t.Fatal(err)
	}
	if rs := n.routes(t, 10); len(rs) != 0 {
		t.Errorf("announce routes with method none: %v", rs)
	}
	if !n.routes(t, 201)["172.24.4.10/32 dev br-ex proto 201"] {
		t.Error("wiring missing")
	}
}

// TestDriftTableRule: in the table rule mode the per-bridge rules are
// restored too.
func TestDriftTableRule(t *testing.T) {
	n := newTestNS(t, "br-ex")
	o := n.options(AnnounceTable)
	o.RuleMode = RulePerTable
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	if err := r.Wire(ctx, baseState()); err != nil {
		t.Fatal(err)
	}
	<-r.Listening()
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rule := netlink.NewRule()
		rule.Family = fam
		rule.Table = 201
		rule.Priority = 1001
		rule.SuppressPrefixlen = 0
		if err := n.h.RuleDel(rule); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Second * time.Duration(timeScale))
	want := map[string]bool{"2:1001:201:0": true, "10:1001:201:0": true}
	for !equalSets(n.tableRules(t), want) {
		if time.Now().After(deadline) {
			t.Fatalf("table rules not restored: %v", n.tableRules(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWireTableMethodIPv6InMain: with the IPv6 announce table set to the
// main table (what OptionsFromConfig does, for FRR without `ipv6
// import-table`), IPv6 announce routes go there and IPv4 ones to the
// announce table; both are owned, removed by Unwire, and foreign IPv6 routes
// in main are left alone.
func TestWireTableMethodIPv6InMain(t *testing.T) {
	n := newTestNS(t, "br-ex")
	o := n.options(AnnounceTable)
	o.AnnounceTable6ID = unix.RT_TABLE_MAIN
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	ctx := context.Background()
	_, foreign, _ := net.ParseCIDR("2001:db8:99::1/128")
	if err := n.h.RouteAdd(&netlink.Route{LinkIndex: n.link(t, "br-ex").Attrs().Index, Dst: foreign, Protocol: unix.RTPROT_BOOT}); err != nil {
		t.Fatal(err)
	}
	if err := r.Wire(ctx, baseState()); err != nil {
		t.Fatal(err)
	}
	main, ann := n.routes(t, unix.RT_TABLE_MAIN), n.routes(t, 10)
	if !main["2001:db8:24::10/128 dev br-ex proto 201"] || ann["2001:db8:24::10/128 dev br-ex proto 201"] {
		t.Errorf("IPv6 announce route: main %v, table 10 %v", main, ann)
	}
	if !ann["172.24.4.10/32 dev br-ex proto 201"] || main["172.24.4.10/32 dev br-ex proto 201"] {
		t.Errorf("IPv4 announce route: main %v, table 10 %v", main, ann)
	}
	if err := r.Unwire(ctx, &plan.State{}); err != nil {
		t.Fatal(err)
	}
	main = n.routes(t, unix.RT_TABLE_MAIN)
	if main["2001:db8:24::10/128 dev br-ex proto 201"] {
		t.Errorf("IPv6 announce route left in main: %v", main)
	}
	if !main["2001:db8:99::1/128 dev br-ex proto 3"] {
		t.Errorf("foreign IPv6 route in main removed: %v", main)
	}
}
