package southbound_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// world is a small random southbound world whose rows are rewritten at
// random; names are few so that rows collide and relate (duplicate IPs,
// FIPs naming ports that come and go, routers losing peers, ...).
type world struct {
	r   *rand.Rand
	t   *topology.Topology
	gen int
}

var (
	wSwitches = []string{"pub1", "pub2", "sw1", "sw2", "sw3"}
	wRouters  = []string{"r1", "r2"}
	wChassis  = []string{"", "ch-c1", "ch-c2", "ch-c1b"}
)

func (w *world) pick(xs []string) string { return xs[w.r.IntN(len(xs))] }

func (w *world) ip(dp string) string {
	n := w.r.IntN(6)
	switch {
	case dp == "pub1":
		return fmt.Sprintf("172.24.4.%d", 10+n)
	case dp == "pub2":
		if w.r.IntN(2) == 0 {
			return fmt.Sprintf("2001:db8:5::%d", 10+n)
		}
		return fmt.Sprintf("172.24.5.%d", 10+n)
	default:
		j := dp[len(dp)-1:]
		switch w.r.IntN(3) {
		case 0:
			return fmt.Sprintf("2a01:4f8:%s::%d", j, 10+n)
		case 1:
			return fmt.Sprintf("fd00:%s::%d", j, 10+n)
		}
		return fmt.Sprintf("10.0.%s.%d", j, 10+n)
	}
}

func (w *world) bind(p *sbdb.PortBinding) {
	if c := w.pick(wChassis); c != "" {
		p.Chassis = ptr(c)
	}
	switch w.r.IntN(4) {
	case 0:
		p.Up = ptr(false)
	case 1:
		p.Up = nil
	default:
		p.Up = ptr(true)
	}
	if w.r.IntN(5) == 0 {
		p.AdditionalChassis = []string{w.pick(wChassis[1:])}
	}
}

func (w *world) pb(name, typ, dp string) *sbdb.PortBinding {
	w.gen++
	return &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Type: typ, Datapath: "dp-" + dp, TunnelKey: w.gen,
		Options: map[string]string{}, ExternalIDs: map[string]string{}}
}

// slots are the row generators: each returns a fresh row for its slot, or
// nil to delete it.
func (w *world) slots() map[string]func() any {
	s := map[string]func() any{}
	for i := range 8 {
		name := fmt.Sprintf("vm%d", i)
		s[name] = func() any {
			dp := w.pick(wSwitches)
			typ := ""
			if w.r.IntN(4) == 0 {
				typ = "virtual"
			}
			p := w.pb(name, typ, dp)
			w.bind(p)
			switch w.r.IntN(4) {
			case 0:
				p.MAC = []string{"unknown"}
				p.ExternalIDs["neutron:cidrs"] = w.ip(dp) + "/24 " + w.ip(dp) + "/64"
			case 1:
				p.MAC = []string{"fa:16:3e:00:00:10 " + w.ip(dp) + " " + w.ip(dp)}
			default:
				p.MAC = []string{"fa:16:3e:00:00:10 " + w.ip(dp)}
			}
			if typ == "virtual" {
				p.ExternalIDs["neutron:cidrs"] = w.ip(dp) + "/64"
			}
			return p
		}
	}
	for i := range 2 {
		name := fmt.Sprintf("ovn-lb-vip-%d", i)
		s[name] = func() any {
			dp := w.pick(wSwitches)
			p := w.pb(name, "", dp)
			p.ExternalIDs["neutron:cidrs"] = w.ip(dp) + "/32"
			p.Up = ptr(false)
			return p
		}
	}
	for _, dp := range []string{"pub1", "pub2", "sw3"} {
		name := "provnet-" + dp
		s[name] = func() any {
			p := w.pb(name, "localnet", dp)
			p.MAC = []string{"unknown"}
			p.Options["network_name"] = w.pick([]string{"physnet1", "physnet2", "physnet3"})
			if w.r.IntN(2) == 0 {
				p.Tag = ptr(100 + w.r.IntN(3))
			}
			return p
		}
	}
	for _, dp := range append(append([]string{}, wSwitches...), wRouters...) {
		s["dp/"+dp] = func() any {
			return &sbdb.DatapathBinding{UUID: "dp-" + dp, TunnelKey: 1, ExternalIDs: map[string]string{
				"name": "neutron-" + dp, "name2": w.pick([]string{"", dp, dp + "-renamed"})}}
		}
	}
	for ri, r := range wRouters {
		gw := "gw-" + r
		lrp := "lrp-" + gw
		s[gw] = func() any {
			p := w.pb(gw, "patch", w.pick([]string{"pub1", "pub2"}))
			if w.r.IntN(5) != 0 {
				p.Options["peer"] = lrp
			}
			var nat []string
			for range w.r.IntN(3) {
				res := w.pick([]string{"vm0", "vm1", "vm2", "cr-lrp-gw-r1", "cr-lrp-gw-r2", "ghost"})
				nat = append(nat, fmt.Sprintf(`fa:16:3e:00:aa:0%d %s %s is_chassis_resident("%s")`, ri,
					w.ip(w.pick([]string{"pub1", "pub2"})), w.ip(w.pick([]string{"pub1", "sw1", "sw2"})), res))
			}
			p.NatAddresses = nat
			return p
		}
		s[lrp] = func() any {
			p := w.pb(lrp, "patch", r)
			if w.r.IntN(5) != 0 {
				p.Options["peer"] = gw
			}
			p.MAC = []string{"fa:16:3e:00:00:0" + fmt.Sprint(ri)}
			return p
		}
		s["cr-"+lrp] = func() any {
			p := w.pb("cr-"+lrp, "chassisredirect", r)
			w.bind(p)
			dp := w.pick([]string{"pub1", "pub2"})
			p.MAC = []string{fmt.Sprintf("fa:16:3e:00:00:0%d %s/24 %s/64", ri, w.ip("pub1"), strings.Replace(w.ip(dp), "172.24.5", "172.24.4", 1))}
			if w.r.IntN(2) == 0 {
				p.MAC = []string{fmt.Sprintf("fa:16:3e:00:00:0%d %s/24 2001:db8:5::1/64", ri, w.ip(dp))}
			}
			return p
		}
		for _, sw := range []string{"sw1", "sw2", "sw3"} {
			lrpIf := "lrp-if-" + r + "-" + sw
			rif := "rif-" + r + "-" + sw
			j := sw[2:]
			s[lrpIf] = func() any {
				p := w.pb(lrpIf, "patch", r)
				if w.r.IntN(5) != 0 {
					p.Options["peer"] = rif
				}
				p.MAC = []string{fmt.Sprintf("fa:16:3e:01:0%d:0%s 10.0.%s.1/24 2a01:4f8:%s::1/64 fd00:%s::1/64", ri, j, j, j, j)}
				return p
			}
			s[rif] = func() any {
				p := w.pb(rif, "patch", sw)
				p.Options["peer"] = lrpIf
				p.ExternalIDs["neutron:subnet_pool_addr_scope4"] = w.pick([]string{"", "scope-a", "scope-b"})
				p.ExternalIDs["neutron:subnet_pool_addr_scope6"] = w.pick([]string{"", "scope-a", "scope-b"})
				return p
			}
		}
	}
	for i := range 3 {
		name := fmt.Sprintf("lb%d", i)
		s["lb/"+name] = func() any {
			lb := &sbdb.LoadBalancer{UUID: "lb-" + name, Name: name, Vips: map[string]string{}, ExternalIDs: map[string]string{}}
			if w.r.IntN(3) == 0 {
				lb.Name = "pf-floatingip-" + name + "-tcp"
			}
			for range 1 + w.r.IntN(2) {
				dp := w.pick(wSwitches)
				ip := w.ip(dp)
				if strings.Contains(ip, ":") {
					ip = "[" + ip + "]"
				}
				lb.Vips[ip+":80"] = "10.0.1.10:8080"
			}
			if w.r.IntN(2) == 0 {
				lb.ExternalIDs["neutron:vip_fip"] = w.ip("pub1")
				lb.Vips[lb.ExternalIDs["neutron:vip_fip"]+":80"] = ""
			}
			if w.r.IntN(7) == 0 {
				lb.Vips["garbage"] = ""
			}
			dps := []string{"dp-" + w.pick(wSwitches), "dp-" + w.pick(wRouters)}
			switch w.r.IntN(4) {
			case 0:
				lb.Datapaths = dps
			case 1:
				lb.DatapathGroup = ptr("grp-" + fmt.Sprint(w.r.IntN(2)))
			case 2:
				lb.LSDatapathGroup = ptr("grp-" + fmt.Sprint(w.r.IntN(2)))
				lb.LRDatapathGroup = ptr("grp-2")
			default:
				lb.LSDatapathGroup = ptr("grp-" + fmt.Sprint(w.r.IntN(3)))
			}
			return lb
		}
	}
	for i := range 3 {
		g := fmt.Sprintf("grp-%d", i)
		s["grp/"+g] = func() any {
			grp := &sbdb.LogicalDPGroup{UUID: g}
			for range 1 + w.r.IntN(3) {
				grp.Datapaths = append(grp.Datapaths, "dp-"+w.pick(append(append([]string{}, wSwitches...), wRouters...)))
			}
			return grp
		}
	}
	s["chassis/c1"] = func() any {
		// The own chassis row: its uuid changes (re-registration).
		return &sbdb.Chassis{UUID: w.pick([]string{"ch-c1", "ch-c1b"}), Name: "c1", Hostname: "c1"}
	}
	s["chassis/c2"] = func() any { return &sbdb.Chassis{UUID: "ch-c2", Name: "c2", Hostname: "c2"} }
	s["ovs"] = func() any {
		return &vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "c1",
			"ovn-bridge-mappings": w.pick([]string{"physnet1:br-ex", "physnet1:br-ex,physnet2:br-vlan", "physnet2:br-vlan", "", "bad"})}}
	}
	return s
}

// plainDriver hides the driver's PlanAll: Full then calls Plan for every
// one of Sources.
type plainDriver struct{ plan.Driver }

var dbgHook func(w *world, step int, dirty []plan.RowRef, d *southbound.Driver)

func rowSource(row any) plan.RowRef {
	switch r := row.(type) {
	case *sbdb.PortBinding:
		return plan.RowRef{Table: sbdb.PortBindingTable, UUID: r.UUID}
	case *sbdb.LoadBalancer:
		return plan.RowRef{Table: sbdb.LoadBalancerTable, UUID: r.UUID}
	case *sbdb.LogicalDPGroup:
		return plan.RowRef{Table: sbdb.LogicalDPGroupTable, UUID: r.UUID}
	case *sbdb.DatapathBinding:
		return plan.RowRef{Table: sbdb.DatapathBindingTable, UUID: r.UUID}
	case *sbdb.Chassis:
		return plan.RowRef{Table: sbdb.ChassisTable, UUID: r.UUID}
	case *vswitch.OpenVSwitch:
		return plan.RowRef{Table: vswitch.OpenVSwitchTable, UUID: r.UUID}
	}
	panic(fmt.Sprintf("unknown row %T", row))
}

// TestIncrementalEqualsFull applies random sequences of row changes and
// checks after every batch that the incremental state equals a fresh full
// plan, and that the deltas applied in order to the first state give it too.
func TestIncrementalEqualsFull(t *testing.T) {
	configs := map[string]func(*config.Config){
		"default":     func(*config.Config) {},
		"tenant host": func(c *config.Config) { c.ExposeTenantNetworks = true },
		"tenant subnet": func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.AdvertisementMethodTenantNetworks = "subnet"
		},
		"gua only":       func(c *config.Config) { c.ExposeIPv6GUATenantNetworks = true },
		"address scopes": func(c *config.Config) { c.ExposeTenantNetworks = true; c.AddressScopes = []string{"scope-a"} },
	}
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	if n, err := strconv.Atoi(os.Getenv("OVNBGP_PROPERTY_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	for name, mod := range configs {
		t.Run(name, func(t *testing.T) {
			for seed := range seeds {
				cfg := config.Default()
				mod(cfg)
				runIncrementalProperty(t, cfg, uint64(seed))
			}
		})
	}
}

func runIncrementalProperty(t *testing.T, cfg *config.Config, seed uint64) {
	t.Helper()
	w := &world{r: rand.New(rand.NewPCG(seed, 7)), t: topology.New()}
	slots := w.slots()
	names := make([]string, 0, len(slots))
	for n := range slots {
		names = append(names, n)
	}
	// sort for determinism of the seed
	sortStrings(names)
	current := map[string]any{}
	apply := func(name string) plan.RowRef {
		if old := current[name]; old != nil && w.r.IntN(4) == 0 {
			src := rowSource(old)
			w.t.Delete(src.Table, src.UUID)
			delete(current, name)
			return src
		}
		row := slots[name]()
		if old := current[name]; old != nil {
			// A row whose uuid changes (own chassis re-registering) is a
			// delete of the old one and an insert.
			if os, ns := rowSource(old), rowSource(row); os != ns {
				w.t.Delete(os.Table, os.UUID)
			}
		}
		w.t.Upsert(row)
		current[name] = row
		return rowSource(row)
	}
	// Initial world: most slots filled.
	for _, n := range names {
		if w.r.IntN(5) != 0 {
			apply(n)
		}
	}
	w.t.RLock()
	drv := southbound.New(cfg, w.t, "c1")
	inc := plan.NewIncremental(drv, "c1")
	first, _ := inc.Full()
	w.t.RUnlock()
	applied := first
	for step := range 60 {
		var dirty []plan.RowRef
		var what []string
		for range 1 + w.r.IntN(3) {
			n := names[w.r.IntN(len(names))]
			old := current[n]
			src := apply(n)
			dirty = append(dirty, src)
			what = append(what, n)
			if old != nil {
				if os := rowSource(old); os != src {
					dirty = append(dirty, os)
				}
			}
		}
		w.t.RLock()
		if dbgHook != nil {
			dbgHook(w, step, dirty, drv)
		}
		delta, _ := inc.Replan(dirty)
		got := inc.State()
		want, _ := plan.Full(southbound.New(cfg, w.t, "c1"), "c1")
		w.t.RUnlock()
		w.t.RLock()
		plain, _ := plan.Full(plainDriver{southbound.New(cfg, w.t, "c1")}, "c1")
		w.t.RUnlock()
		require.Equal(t, render(plain), render(want), "seed %d step %d: PlanAll differs from Sources+Plan after changing %v", seed, step, what)
		require.Equal(t, render(want), render(got), "seed %d step %d after changing %v", seed, step, what)
		require.Equal(t, want, got)
		applied.Apply(delta)
		require.Equal(t, render(want), render(applied), "seed %d step %d: deltas applied in order, after changing %v", seed, step, what)
		require.Equal(t, want, applied)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// render prints a state one line per item, for readable diffs.
func render(st *plan.State) []string {
	var out []string
	for i, a := range st.Announcements {
		e := st.Wiring.Exposures[i]
		out = append(out, fmt.Sprintf("%s %s %s net=%s | %s br=%s vlan=%d via=%v mac=%s ndp=%v", a.Prefix, a.Kind, a.Port, a.Network,
			e.Prefix, e.Bridge, e.VLAN, e.Via, e.MAC, e.ProxyNDP))
	}
	for _, b := range st.Wiring.Bridges {
		out = append(out, fmt.Sprintf("bridge %+v", b))
	}
	for _, f := range st.Wiring.Flows {
		out = append(out, fmt.Sprintf("flow %+v", f))
	}
	return out
}
