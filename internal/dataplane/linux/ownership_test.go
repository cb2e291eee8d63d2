package linux

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// TestOwnershipNarrow: on a bridge table adopted from upstream (its
// rt_tables line), objects that are not ovnbgp's by docs/design.md's
// ownership table — a rule into the table outside [rule_priority,
// rule_priority_max], `proto boot` routes of shapes upstream never writes,
// a permanent neighbour and an NDP proxy entry on br-ex without ovnbgp's
// marker — survive Wire, drift repair, Unwire and an Unwire after a
// restart, while ovnbgp's own objects are repaired and removed as before.
func TestOwnershipNarrow(t *testing.T) {
	n := newTestNS(t, "br-ex", "br-other")
	if err := os.WriteFile(filepath.Join(n.dir, "rt_tables"), []byte("255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n47 br-ex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	br, other := n.link(t, "br-ex"), n.link(t, "br-other")
	for _, fr := range []*netlink.Rule{ruleTo("192.0.2.1/32", 47, 500), ruleTo("192.0.2.2/32", 47, 32001)} {
		if err := n.h.RuleAdd(fr); err != nil {
			t.Fatal(err)
		}
	}
	// proto boot, but a subnet route without a next hop, and a host route
	// on a device that is not br-ex's.
	for _, rt := range []*netlink.Route{
		{Dst: ipnet("198.51.100.0/24"), LinkIndex: br.Attrs().Index, Table: 47, Protocol: 3, Scope: netlink.SCOPE_LINK},
		{Dst: ipnet("203.0.113.7/32"), LinkIndex: other.Attrs().Index, Table: 47, Protocol: 3, Scope: netlink.SCOPE_LINK},
	} {
		if err := n.h.RouteAdd(rt); err != nil {
			t.Fatal(err)
		}
	}
	hw, _ := net.ParseMAC("02:00:00:00:00:99")
	if err := n.h.NeighAdd(&netlink.Neigh{LinkIndex: br.Attrs().Index, State: netlink.NUD_PERMANENT, IP: net.ParseIP("192.0.2.50"), HardwareAddr: hw}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.NeighAdd(&netlink.Neigh{LinkIndex: br.Attrs().Index, Family: netlink.FAMILY_V6, Flags: netlink.NTF_PROXY, IP: net.ParseIP("2001:db8:99::1")}); err != nil {
		t.Fatal(err)
	}
	foreignLeft := func(when string) {
		t.Helper()
		rules := n.rules(t)
		if !rules[ruleStr(500, "192.0.2.1/32", 47)] || !rules[ruleStr(32001, "192.0.2.2/32", 47)] {
			t.Errorf("%s: foreign rules into the adopted table removed: %v", when, rules)
		}
		rs := n.routes(t, 47)
		if !rs["198.51.100.0/24 dev br-ex proto 3"] || !rs["203.0.113.7/32 dev br-other proto 3"] {
			t.Errorf("%s: foreign proto boot routes removed: %v", when, rs)
		}
		perm, proxy := n.neighbours(t, "br-ex")
		if perm["192.0.2.50"] != "02:00:00:00:00:99" || !proxy["2001:db8:99::1"] {
			t.Errorf("%s: foreign neighbour or NDP proxy removed: %v %v", when, perm, proxy)
		}
	}
	ours := func() (neigh, proxy, rule bool) {
		p, x := n.neighbours(t, "br-ex")
		return p["172.24.4.10"] == "fa:16:3e:00:01:10", x["2001:db8:24::1"], n.rules(t)[ruleStr(1000, "172.24.4.10/32", 47)]
	}
	empty := &plan.State{Wiring: plan.Wiring{Bridges: baseState().Wiring.Bridges}}

	r := n.reconciler(t, AnnounceTable)
	ctx, stop := runWired(t, r, baseState())
	if got := r.Tables()["br-ex"]; got != 47 {
		t.Fatalf("br-ex table = %d, want the adopted 47", got)
	}
	foreignLeft("after Wire")

	// Drift: ovnbgp's neighbour, proxy entry and rule come back, the
	// foreign ones stay as they are.
	if err := n.h.NeighDel(&netlink.Neigh{LinkIndex: br.Attrs().Index, IP: net.ParseIP("172.24.4.10")}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.NeighDel(&netlink.Neigh{LinkIndex: br.Attrs().Index, Family: netlink.FAMILY_V6, Flags: netlink.NTF_PROXY, IP: net.ParseIP("2001:db8:24::1")}); err != nil {
		t.Fatal(err)
	}
	if err := n.h.RuleDel(ruleTo("172.24.4.10/32", 47, 1000)); err != nil {
		t.Fatal(err)
	}
	bound := 2 * time.Second * time.Duration(timeScale)
	for deadline := time.Now().Add(bound); ; time.Sleep(5 * time.Millisecond) {
		if a, b, c := ours(); a && b && c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ovnbgp's neighbour, NDP proxy or rule not restored within %v", bound)
		}
	}
	foreignLeft("after drift repair")

	if err := r.Unwire(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if a, b, c := ours(); a || b || c {
		t.Errorf("after Unwire ovnbgp's neighbour %v, NDP proxy %v, rule %v remain", a, b, c)
	}
	foreignLeft("after Unwire")

	// Across a restart: a new reconciler knows its entries by the marker.
	if err := r.Wire(ctx, baseState()); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	r2 := n.reconciler(t, AnnounceTable)
	if err := r2.Unwire(context.Background(), empty); err != nil {
		t.Fatal(err)
	}
	if a, b, c := ours(); a || b || c {
		t.Errorf("after a restart's Unwire ovnbgp's neighbour %v, NDP proxy %v, rule %v remain", a, b, c)
	}
	foreignLeft("after a restart's Unwire")
}

// TestOwnsRouteShapes: which routes of a bridge table are ovnbgp's (docs/
// design.md's ownership table), upstream's three `proto boot` shapes
// included.
func TestOwnsRouteShapes(t *testing.T) {
	r := &Reconciler{
		proto:     201,
		ownTables: map[uint32]bool{47: true, 48: true, 60: true},
		// br-ex (table 47) with its VLAN device, br-2 (table 48); table 60
		// is named in ovnbgp.conf, its bridge no longer mapped.
		provDevs: map[int32]provDev{2: {table: 47, bridge: true}, 3: {table: 47}, 4: {table: 48, bridge: true}},
	}
	gw := netip.MustParseAddr("172.24.4.100")
	gw6 := netip.MustParseAddr("2001:db8::100")
	for _, c := range []struct {
		name  string
		table uint32
		dst   string
		v     objVal
		want  bool
	}{
		{"ours", 47, "198.51.100.0/24", objVal{link: 9, proto: 201}, true},
		{"ours in an ovnbgp.conf table", 60, "198.51.100.0/24", objVal{link: 9, proto: 201}, true},
		{"ours outside bridge tables", 50, "198.51.100.0/24", objVal{link: 2, proto: 201}, false},
		{"upstream default", 47, "0.0.0.0/0", objVal{link: 2, proto: rtprotBoot}, true},
		{"upstream default6", 47, "::/0", objVal{link: 2, proto: rtprotBoot}, true},
		{"upstream host", 47, "172.24.4.10/32", objVal{link: 2, proto: rtprotBoot}, true},
		{"upstream host on the VLAN device", 47, "2001:db8::10/128", objVal{link: 3, proto: rtprotBoot}, true},
		{"upstream subnet via", 47, "10.0.0.0/24", objVal{link: 3, via: gw, proto: rtprotBoot}, true},
		{"upstream subnet6 via", 47, "2001:db8:1::/64", objVal{link: 2, via: gw6, proto: rtprotBoot}, true},
		{"boot default via", 47, "0.0.0.0/0", objVal{link: 2, via: gw, proto: rtprotBoot}, false},
		{"boot default on the VLAN device", 47, "0.0.0.0/0", objVal{link: 3, proto: rtprotBoot}, false},
		{"boot subnet without next hop", 47, "10.0.0.0/24", objVal{link: 2, proto: rtprotBoot}, false},
		{"boot host via", 47, "172.24.4.10/32", objVal{link: 2, via: gw, proto: rtprotBoot}, false},
		{"boot subnet via the other family", 47, "2001:db8:1::/64", objVal{link: 2, via: gw, proto: rtprotBoot}, false},
		{"boot on another bridge's device", 47, "172.24.4.10/32", objVal{link: 4, proto: rtprotBoot}, false},
		{"boot on a foreign device", 47, "172.24.4.10/32", objVal{link: 9, proto: rtprotBoot}, false},
		{"boot in an ovnbgp.conf table", 60, "172.24.4.10/32", objVal{link: 2, proto: rtprotBoot}, false},
		{"static in a bridge table", 47, "172.24.4.10/32", objVal{link: 2, proto: 4}, false},
	} {
		id := objID{kind: kindRoute, table: c.table, dst: netip.MustParsePrefix(c.dst)}
		if got := r.ownsRoute(id, c.v); got != c.want {
			t.Errorf("%s: ownsRoute = %v, want %v", c.name, got, c.want)
		}
	}
}
