package dynamic_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

func ptr[T any](v T) *T { return &v }

// sbFixture is a southbound topology seen from chassis c1 (Chassis row
// ch-c1), with c2 beside it.
type sbFixture struct {
	t *topology.Topology
	n int
}

func newSB() *sbFixture {
	f := &sbFixture{t: topology.New()}
	f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "c1"}})
	for _, c := range []string{"c1", "c2"} {
		f.t.Upsert(&sbdb.Chassis{UUID: "ch-" + c, Name: c, Hostname: c})
	}
	return f
}

// dp adds a router datapath; vrfID "" leaves dynamic-routing-vrf-id unset.
func (f *sbFixture) dp(name string, key int, vrfID string) {
	ids := map[string]string{"name": name}
	if vrfID != "" {
		ids["dynamic-routing-vrf-id"] = vrfID
	}
	f.t.Upsert(&sbdb.DatapathBinding{UUID: "dp-" + name, TunnelKey: key, ExternalIDs: ids})
}

// port adds a Port_Binding of type typ on router dp, bound to chassis
// ("" unbound), with dynamic-routing=true and the extra options.
func (f *sbFixture) port(name, typ, dp, chassis string, opts ...string) {
	f.n++
	o := map[string]string{"dynamic-routing": "true"}
	for i := 0; i+1 < len(opts); i += 2 {
		if opts[i+1] == "" {
			delete(o, opts[i])
		} else {
			o[opts[i]] = opts[i+1]
		}
	}
	p := &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Type: typ, Datapath: "dp-" + dp, TunnelKey: f.n, Options: o,
		ExternalIDs: map[string]string{}}
	if chassis != "" {
		p.Chassis = ptr("ch-" + chassis)
	}
	f.t.Upsert(p)
}

func (f *sbFixture) plan(t *testing.T, cfg *config.Config) (*dynamic.State, []plan.Warning) {
	t.Helper()
	f.t.RLock()
	defer f.t.RUnlock()
	return dynamic.Plan(cfg, "c1", dynamic.SouthboundRouters(f.t, "c1", "ch-c1"), dynamic.LocalFrom(f.t))
}

// vrf is the short form of a planned VRF the table test compares.
type vrf struct {
	name, table, router string
	ovn                 bool
	ports, ifaces       string // comma-separated
}

func short(st *dynamic.State) []vrf {
	out := []vrf{}
	for _, v := range st.VRFs {
		out = append(out, vrf{v.Name, itoa(v.Table), v.Router, v.OVNMaintains, strings.Join(v.Ports, ","), strings.Join(v.Interfaces, ",")})
	}
	return out
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestSouthboundVRFs(t *testing.T) {
	cases := []struct {
		name     string
		build    func(f *sbFixture)
		want     []vrf
		warnings []string // reasons, in order
	}{
		{"Neutron's main router: gateway port here, vrf id 42, OVN maintains the VRF", func(f *sbFixture) {
			f.dp("bgp-lr-main", 5, "42")
			f.port("cr-lrp-main", "chassisredirect", "bgp-lr-main", "c1", "dynamic-routing-maintain-vrf", "true")
		}, []vrf{{"ovnvrf42", "42", "bgp-lr-main", true, "cr-lrp-main", ""}}, nil},
		{"gateway port on another chassis: nothing here (a move away withdraws)", func(f *sbFixture) {
			f.dp("bgp-lr-main", 5, "42")
			f.port("cr-lrp-main", "chassisredirect", "bgp-lr-main", "c2")
		}, []vrf{}, nil},
		{"router without dynamic-routing", func(f *sbFixture) {
			f.dp("r", 5, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing", "")
		}, []vrf{}, nil},
		{"per-chassis gateway router on this chassis, routing port mapped", func(f *sbFixture) {
			f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "c1",
				"dynamic-routing-port-mapping": "bgp-c1-eth1=eth1,bgp-c1-eth2=eth2"}})
			f.dp("bgp-lr-c1", 7, "11")
			f.port("lrp-c1-eth1", "l3gateway", "bgp-lr-c1", "", "l3gateway-chassis", "c1", "dynamic-routing-port-name", "bgp-c1-eth1")
			f.port("lrp-c1-eth2", "l3gateway", "bgp-lr-c1", "", "l3gateway-chassis", "c1", "dynamic-routing-port-name", "bgp-c1-eth2")
			f.dp("bgp-lr-c2", 8, "11")
			f.port("lrp-c2-eth1", "l3gateway", "bgp-lr-c2", "", "l3gateway-chassis", "c2")
		}, []vrf{{"ovnvrf11", "11", "bgp-lr-c1", false, "lrp-c1-eth1,lrp-c1-eth2", "eth1,eth2"}}, nil},
		{"routing port bound here by iface-id, no mapping", func(f *sbFixture) {
			f.t.Upsert(&vswitch.Interface{UUID: "if1", Name: "bgp-port0", ExternalIDs: map[string]string{"iface-id": "lsp-bgp"}})
			f.dp("r", 9, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-port-name", "lsp-bgp")
		}, []vrf{{"ovnvrf9", "9", "r", false, "cr-lrp-r", "bgp-port0"}}, nil},
		{"routing port neither mapped nor bound: planned without it, warned", func(f *sbFixture) {
			f.dp("r", 9, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-port-name", "lsp-bgp")
		}, []vrf{{"ovnvrf9", "9", "r", false, "cr-lrp-r", ""}}, []string{"routing-port-unbound"}},
		{"no vrf id: the tunnel key is the table; the port's VRF name", func(f *sbFixture) {
			f.dp("r", 77, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-vrf-name", "tenant-a")
		}, []vrf{{"tenant-a", "77", "r", false, "cr-lrp-r", ""}}, nil},
		{"unreadable vrf id: the tunnel key, as ovn-controller does", func(f *sbFixture) {
			f.dp("r", 77, "forty-two")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1")
		}, []vrf{{"ovnvrf77", "77", "r", false, "cr-lrp-r", ""}}, nil},
		{"vrf id out of range (0): the tunnel key", func(f *sbFixture) {
			f.dp("r", 77, "0")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1")
		}, []vrf{{"ovnvrf77", "77", "r", false, "cr-lrp-r", ""}}, nil},
		{"VRF name of 16 characters: OVN's default name, warned", func(f *sbFixture) {
			f.dp("r", 12, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-vrf-name", "abcdefghijklmnop")
		}, []vrf{{"ovnvrf12", "12", "r", false, "cr-lrp-r", ""}}, []string{"bad-vrf-name"}},
		{"VRF name FRR cannot take: not planned, the other router is", func(f *sbFixture) {
			f.dp("bad", 12, "")
			f.port("cr-lrp-bad", "chassisredirect", "bad", "c1", "dynamic-routing-vrf-name", "a b\nexit")
			f.dp("good", 13, "")
			f.port("cr-lrp-good", "chassisredirect", "good", "c1")
		}, []vrf{{"ovnvrf13", "13", "good", false, "cr-lrp-good", ""}}, []string{"bad-vrf-name"}},
		{"kernel's main table: not planned", func(f *sbFixture) {
			f.dp("r", 5, "254")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1")
		}, []vrf{}, []string{"vrf-table-conflict"}},
		{"one of ovnbgp's bridge tables: not planned", func(f *sbFixture) {
			f.dp("r", 5, "201")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1")
		}, []vrf{}, []string{"vrf-table-conflict"}},
		{"bgp_vrf_table_id (10 by default, Neutron's per-chassis vrf id): not planned", func(f *sbFixture) {
			f.dp("r", 10, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1")
		}, []vrf{}, []string{"vrf-table-conflict"}},
		{"two routers on one VRF name: the first by name keeps it", func(f *sbFixture) {
			f.dp("a", 20, "")
			f.port("cr-lrp-a", "chassisredirect", "a", "c1", "dynamic-routing-vrf-name", "shared")
			f.dp("b", 21, "")
			f.port("cr-lrp-b", "chassisredirect", "b", "c1", "dynamic-routing-vrf-name", "shared")
		}, []vrf{{"shared", "20", "a", false, "cr-lrp-a", ""}}, []string{"vrf-collision"}},
		{"two routers on one table: the first by name keeps it", func(f *sbFixture) {
			f.dp("a", 20, "30")
			f.port("cr-lrp-a", "chassisredirect", "a", "c1")
			f.dp("b", 21, "30")
			f.port("cr-lrp-b", "chassisredirect", "b", "c1", "dynamic-routing-vrf-name", "other")
		}, []vrf{{"ovnvrf30", "30", "a", false, "cr-lrp-a", ""}}, []string{"vrf-collision"}},
		{"bad port mapping entry: warned, the entries before it used", func(f *sbFixture) {
			f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "c1",
				"dynamic-routing-port-mapping": "p1=eth1,p2,p3=eth3"}})
			f.dp("r", 9, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-port-name", "p1")
		}, []vrf{{"ovnvrf9", "9", "r", false, "cr-lrp-r", "eth1"}}, []string{"bad-port-mapping"}},
		{"mapped interface name FRR cannot take: no peer on it, warned", func(f *sbFixture) {
			f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "c1",
				"dynamic-routing-port-mapping": "p1=eth1!"}})
			f.dp("r", 9, "")
			f.port("cr-lrp-r", "chassisredirect", "r", "c1", "dynamic-routing-port-name", "p1")
		}, []vrf{{"ovnvrf9", "9", "r", false, "cr-lrp-r", ""}}, []string{"bad-routing-interface"}},
		{"distributed router port without a gateway: not planned", func(f *sbFixture) {
			f.dp("r", 9, "")
			f.port("lrp-r", "patch", "r", "")
		}, []vrf{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newSB()
			tc.build(f)
			st, ws := f.plan(t, config.Default())
			require.Equal(t, tc.want, short(st))
			var reasons []string
			for _, w := range ws {
				reasons = append(reasons, w.Reason)
				require.NotEmpty(t, w.Row, "a warning names its row: %v", w)
			}
			require.Equal(t, tc.warnings, reasons, "%v", ws)
		})
	}
}

// TestSouthboundMove: the gateway port moving to another chassis removes
// the VRF from this chassis' plan; moving back brings it back.
func TestSouthboundMove(t *testing.T) {
	f := newSB()
	f.dp("bgp-lr-main", 5, "42")
	f.port("cr-lrp-main", "chassisredirect", "bgp-lr-main", "c1")
	st, _ := f.plan(t, config.Default())
	require.Len(t, st.VRFs, 1)
	f.port("cr-lrp-main", "chassisredirect", "bgp-lr-main", "c2")
	st, _ = f.plan(t, config.Default())
	require.Empty(t, st.VRFs)
	f.t.Delete(sbdb.PortBindingTable, "pb-cr-lrp-main")
	f.port("cr-lrp-main", "chassisredirect", "bgp-lr-main", "c1")
	st, _ = f.plan(t, config.Default())
	require.Equal(t, "ovnvrf42", st.VRFs[0].Name)
}

// TestNorthboundVRFs: the same facts from the northbound rows.
func TestNorthboundVRFs(t *testing.T) {
	cases := []struct {
		name     string
		build    func(tp *topology.Topology)
		want     []vrf
		warnings []string
	}{
		{"distributed gateway port hosted here, vrf id 42", func(tp *topology.Topology) {
			lr(tp, "bgp-lr-main", map[string]string{"dynamic-routing": "true", "dynamic-routing-vrf-id": "42"},
				lrp("lrp-main-gw", map[string]string{"dynamic-routing-maintain-vrf": "true"}, "c1"))
		}, []vrf{{"ovnvrf42", "42", "bgp-lr-main", true, "lrp-main-gw", ""}}, nil},
		{"hosted on another chassis", func(tp *topology.Topology) {
			lr(tp, "bgp-lr-main", map[string]string{"dynamic-routing": "true", "dynamic-routing-vrf-id": "42"},
				lrp("lrp-main-gw", nil, "c2"))
		}, []vrf{}, nil},
		{"gateway router on this chassis, VRF name on the router", func(tp *topology.Topology) {
			lr(tp, "bgp-lr-c1", map[string]string{"dynamic-routing": "true", "dynamic-routing-vrf-id": "11",
				"chassis": "c1", "dynamic-routing-vrf-name": "vrf-c1"},
				lrp("lrp-c1", nil, ""))
			lr(tp, "bgp-lr-c2", map[string]string{"dynamic-routing": "true", "dynamic-routing-vrf-id": "10", "chassis": "c2"},
				lrp("lrp-c2", nil, ""))
		}, []vrf{{"vrf-c1", "11", "bgp-lr-c1", false, "lrp-c1", ""}}, nil},
		{"no vrf id: refused (no tunnel key in the northbound)", func(tp *topology.Topology) {
			lr(tp, "r", map[string]string{"dynamic-routing": "true"}, lrp("lrp-r", nil, "c1"))
		}, []vrf{}, []string{"no-vrf-id"}},
		{"unreadable vrf id: refused", func(tp *topology.Topology) {
			lr(tp, "r", map[string]string{"dynamic-routing": "true", "dynamic-routing-vrf-id": "x"}, lrp("lrp-r", nil, "c1"))
		}, []vrf{}, []string{"bad-vrf-id"}},
		{"not a dynamic-routing router", func(tp *topology.Topology) {
			lr(tp, "r", map[string]string{"dynamic-routing-vrf-id": "42"}, lrp("lrp-r", nil, "c1"))
		}, []vrf{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp := topology.New()
			tc.build(tp)
			tp.RLock()
			st, ws := dynamic.Plan(config.Default(), "c1", dynamic.NorthboundRouters(tp, "c1"), dynamic.LocalFrom(tp))
			tp.RUnlock()
			require.Equal(t, tc.want, short(st))
			var reasons []string
			for _, w := range ws {
				reasons = append(reasons, w.Reason)
				require.Equal(t, nbdb.LogicalRouterTable, w.Table)
			}
			require.Equal(t, tc.warnings, reasons, "%v", ws)
		})
	}
}

func lrp(name string, opts map[string]string, host string) *nbdb.LogicalRouterPort {
	p := &nbdb.LogicalRouterPort{UUID: "u-" + name, Name: name, MAC: "fa:16:3e:00:00:01", Networks: []string{"172.24.4.1/24"},
		Options: opts, Status: map[string]string{}}
	if host != "" {
		p.Status["hosting-chassis"] = host
	}
	return p
}

func lr(tp *topology.Topology, name string, opts map[string]string, ports ...*nbdb.LogicalRouterPort) {
	r := &nbdb.LogicalRouter{UUID: "u-" + name, Name: name, Options: opts}
	for _, p := range ports {
		r.Ports = append(r.Ports, p.UUID)
		tp.Upsert(p)
	}
	tp.Upsert(r)
}
