package sbevpn_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/sbevpn"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// fx is a southbound topology on chassis c1 whose OVS maps physnet1 to
// br-ex.
type fx struct {
	t   *topology.Topology
	cfg *config.Config
	n   int
}

func newFx() *fx {
	f := &fx{t: topology.New(), cfg: config.Default()}
	f.cfg.Driver, f.cfg.EVPNLocalIP = config.DriverEVPN, "192.0.2.10"
	f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "ovn-bridge-mappings": "physnet1:br-ex"}})
	for _, c := range []string{"c1", "c2"} {
		f.t.Upsert(&sbdb.Chassis{UUID: "ch-" + c, Name: c, Hostname: c})
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fx) pb(name, typ, dp, chassis string, mac ...string) *sbdb.PortBinding {
	f.n++
	p := &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Type: typ, Datapath: "dp-" + dp, TunnelKey: f.n,
		MAC: mac, Options: map[string]string{}, ExternalIDs: map[string]string{}}
	if chassis != "" {
		p.Chassis, p.Up = ptr("ch-"+chassis), ptr(true)
	}
	return p
}

// tenant adds tenant i: provider network pub<i> on VLAN vlan, router r<i>
// with its gateway gw<i> (cr-lrp on gwHost, 172.24.<i>.100) carrying ids,
// and tenant network t<i> 10.0.0.0/24 with VM vm<i> at 10.0.0.5 (the
// tenants overlap).
func (f *fx) tenant(i, vlan int, gwHost string, ids ...string) {
	pub, r, ts := fmt.Sprint("pub", i), fmt.Sprint("r", i), fmt.Sprint("t", i)
	gw := fmt.Sprint("gw", i)
	f.t.Upsert(&sbdb.DatapathBinding{UUID: "dp-" + pub, ExternalIDs: map[string]string{"name": "neutron-" + pub, "name2": pub}})
	f.t.Upsert(&sbdb.DatapathBinding{UUID: "dp-" + r, ExternalIDs: map[string]string{"name": "neutron-" + r}})
	f.t.Upsert(&sbdb.DatapathBinding{UUID: "dp-" + ts, ExternalIDs: map[string]string{"name": "neutron-" + ts, "name2": ts}})
	ln := f.pb("provnet-"+pub, "localnet", pub, "", "unknown")
	ln.Options["network_name"] = "physnet1"
	if vlan != 0 {
		ln.Tag = ptr(vlan)
	}
	mac := fmt.Sprintf("fa:16:3e:00:%02x:01", i)
	sw := f.pb(gw, "patch", pub, "")
	sw.Options["peer"] = "lrp-" + gw
	for k := 0; k+1 < len(ids); k += 2 {
		sw.ExternalIDs[ids[k]] = ids[k+1]
	}
	lrp := f.pb("lrp-"+gw, "patch", r, "", fmt.Sprintf("%s 172.24.%d.100/24", mac, i))
	lrp.Options["peer"] = gw
	cr := f.pb("cr-lrp-"+gw, "chassisredirect", r, gwHost, fmt.Sprintf("%s 172.24.%d.100/24", mac, i))
	ifr := f.pb(fmt.Sprint("lrp-if", i), "patch", r, "", fmt.Sprintf("fa:16:3e:01:%02x:01 10.0.0.1/24", i))
	ifr.Options["peer"] = fmt.Sprint("rif", i)
	rif := f.pb(fmt.Sprint("rif", i), "patch", ts, "")
	rif.Options["peer"] = fmt.Sprint("lrp-if", i)
	vm := f.pb(fmt.Sprint("vm", i), "", ts, "c2", fmt.Sprintf("fa:16:3e:02:%02x:05 10.0.0.5", i))
	for _, p := range []*sbdb.PortBinding{ln, sw, lrp, cr, ifr, rif, vm} {
		f.t.Upsert(p)
	}
}

// set changes the external_ids of port name (a new row, as the IDL does).
func (f *fx) set(name string, ids ...string) {
	old := f.t.PortBinding(name)
	p := *old
	p.ExternalIDs = map[string]string{}
	for k := 0; k+1 < len(ids); k += 2 {
		p.ExternalIDs[ids[k]] = ids[k+1]
	}
	f.t.Upsert(&p)
}

func (f *fx) plan(t *testing.T) (*plan.State, []plan.Warning) {
	t.Helper()
	f.t.RLock()
	defer f.t.RUnlock()
	return plan.Full(sbevpn.New(f.cfg, f.t, "c1", f.cfg.EVPNLocalIP), "c1")
}

func anns(st *plan.State) []string {
	var out []string
	for _, a := range st.Announcements {
		out = append(out, fmt.Sprintf("%s %s %s", a.VRF, a.Prefix, a.Kind))
	}
	sort.Strings(out)
	return out
}

func vrfs(st *plan.State) []string {
	var out []string
	for _, v := range st.Wiring.VRFs {
		out = append(out, fmt.Sprintf("%s vni=%d table=%d as=%d rd=%s ports=%v", v.Name, v.VNI, v.Table, v.AS, v.RD, v.Ports))
	}
	return out
}

func warned(ws []plan.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Row+" "+w.Reason)
	}
	sort.Strings(out)
	return out
}

const vni, as = "neutron_bgpvpn:vni", "neutron_bgpvpn:as"

func TestEVPNDriver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fx)
		vrfs  []string
		anns  []string
		warn  []string
	}{
		{"two tenants, both 10.0.0.5, in their own VRFs", func(f *fx) {
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
			f.tenant(2, 200, "c1", vni, "2000", as, "64999")
		}, []string{
			"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]",
			"vrf-2000 vni=2000 table=2000 as=64999 rd=192.0.2.10:2000 ports=[{br-ex 200}]",
		}, []string{
			"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp",
			"vrf-2000 10.0.0.5/32 tenant-port", "vrf-2000 172.24.2.100/32 cr-lrp",
		}, nil},
		{"a gateway without EVPN keys is not announced", func(f *fx) {
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
			f.tenant(2, 200, "c1")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]"},
			[]string{"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp"}, nil},
		{"a gateway hosted elsewhere: no VRF here", func(f *fx) {
			f.tenant(1, 100, "c2", vni, "100", as, "64999")
		}, nil, nil, nil},
		{"asdot AS", func(f *fx) {
			f.tenant(1, 100, "c1", vni, "100", as, "0.64999")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]"},
			[]string{"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp"}, nil},
		{"no IPv4 local IP: no RD (FRR derives one), never None:<vni>", func(f *fx) {
			f.cfg.EVPNLocalIP = ""
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd= ports=[{br-ex 100}]"},
			[]string{"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp"}, nil},
		{"subnet advertisement: the tenant subnet in the VRF", func(f *fx) {
			f.cfg.AdvertisementMethodTenantNetworks = "subnet"
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]"},
			[]string{"vrf-100 10.0.0.0/24 tenant-subnet", "vrf-100 172.24.1.100/32 cr-lrp"}, nil},
		{"bad input is warned naming the row, the others served", func(f *fx) {
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
			f.tenant(2, 200, "c1", vni, "16777216", as, "64999")
			f.tenant(3, 300, "c1", vni, "300", as, "AS64999")
			f.tenant(4, 400, "c1", vni, "400")
			f.tenant(5, 500, "c1", vni, "100", as, "65001")
			f.tenant(6, 0, "c1", vni, "600", as, "64999")
			f.tenant(7, 700, "c1", vni, "254", as, "64999")
			f.tenant(8, 800, "c1", vni, "0", as, "64999")
			f.tenant(9, 900, "c1", vni, "900", as, "4294967296")
			f.tenant(10, 1000, "c1", vni, "1000", as, "65001")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]"},
			[]string{"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp"},
			[]string{"gw10 foreign-as", "gw2 bad-bgpvpn", "gw3 bad-bgpvpn", "gw4 bad-bgpvpn", "gw5 duplicate-vni",
				"gw6 flat-tenant", "gw7 vni-table", "gw8 bad-bgpvpn", "gw9 bad-bgpvpn"}},
		{"the same VNI and AS on two gateways: one VRF with both provider networks", func(f *fx) {
			f.tenant(1, 100, "c1", vni, "100", as, "64999")
			f.tenant(2, 200, "c1", vni, "100", as, "64999")
		}, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100} {br-ex 200}]"},
			[]string{"vrf-100 10.0.0.5/32 tenant-port", "vrf-100 172.24.1.100/32 cr-lrp", "vrf-100 172.24.2.100/32 cr-lrp"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx()
			tc.setup(f)
			st, ws := f.plan(t)
			assert.Equal(t, tc.vrfs, vrfs(st))
			assert.Equal(t, tc.anns, anns(st))
			assert.Equal(t, tc.warn, warned(filterEVPN(ws)))
		})
	}
}

// filterEVPN keeps this driver's warnings (the southbound driver's own
// are its tests' business).
func filterEVPN(ws []plan.Warning) []plan.Warning {
	var out []plan.Warning
	for _, w := range ws {
		switch w.Reason {
		case "bad-bgpvpn", "duplicate-vni", "flat-tenant", "vni-table", "shared-provider", "foreign-as":
			out = append(out, w)
		}
	}
	return out
}

// TestEVPNWarningCounted: a bad row is counted in the invalid-rows metric
// (one increment per warning) and its warning names the key.
func TestEVPNWarningCounted(t *testing.T) {
	before := invalidRows(t)
	f := newFx()
	f.tenant(1, 100, "c1", vni, "99999999", as, "64999")
	_, ws := f.plan(t)
	require.Equal(t, float64(len(ws)), invalidRows(t)-before)
	ws = filterEVPN(ws)
	require.Len(t, ws, 1)
	assert.Contains(t, ws[0].Detail, "neutron_bgpvpn:vni")
	assert.Equal(t, "Port_Binding", ws[0].Table)
}

func invalidRows(t *testing.T) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range plan.Collectors() {
		require.NoError(t, reg.Register(c))
	}
	mfs, err := reg.Gather() // the one metric: ovnbgp_plan_invalid_rows_total
	require.NoError(t, err)
	total := 0.0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// TestEVPNIncrementalEqualsFresh: adding, changing and removing a VNI (the
// upstream bug #2038819: a removed VNI's routes were never withdrawn)
// through the incremental planner gives what a fresh plan gives, and the
// removed VNI's VRF and routes leave the state.
func TestEVPNIncrementalEqualsFresh(t *testing.T) {
	f := newFx()
	f.tenant(1, 100, "c1", vni, "100", as, "64999")
	f.tenant(2, 200, "c1")
	inc := plan.NewIncremental(sbevpn.New(f.cfg, f.t, "c1", f.cfg.EVPNLocalIP), "c1")
	step := func(name string, mod func()) *plan.State {
		mod()
		f.t.RLock()
		inc.Replan(nil)
		got := inc.State()
		f.t.RUnlock()
		fresh, _ := f.plan(t)
		require.Equal(t, anns(fresh), anns(got), name)
		require.Equal(t, vrfs(fresh), vrfs(got), name)
		return got
	}
	f.t.RLock()
	inc.Full()
	f.t.RUnlock()
	st := step("add VNI 2000", func() { f.set("gw2", vni, "2000", as, "64999") })
	require.Len(t, st.Wiring.VRFs, 2)
	step("change VNI 2000 to 3000", func() { f.set("gw2", vni, "3000", as, "64999") })
	st = step("remove VNI 3000", func() { f.set("gw2") })
	require.Equal(t, []string{"vrf-100 vni=100 table=100 as=64999 rd=192.0.2.10:100 ports=[{br-ex 100}]"}, vrfs(st))
	for _, a := range anns(st) {
		require.True(t, strings.HasPrefix(a, "vrf-100 "), a)
	}
}
