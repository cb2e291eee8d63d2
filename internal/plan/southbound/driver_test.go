package southbound_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// fixture builds a southbound topology seen from chassis c1, whose OVS maps
// physnet1 to br-ex and physnet2 to br-vlan.
type fixture struct {
	t *topology.Topology
	n int
}

func newFixture(mappings string) *fixture {
	f := &fixture{t: topology.New()}
	f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "ovn-bridge-mappings": mappings}})
	for _, c := range []string{"c1", "c2"} {
		f.t.Upsert(&sbdb.Chassis{UUID: "ch-" + c, Name: c, Hostname: c})
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// pb adds a Port_Binding; chassis "" means unbound.
func (f *fixture) pb(name, typ, dp, chassis string, mac ...string) *sbdb.PortBinding {
	f.n++
	p := &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Type: typ, Datapath: "dp-" + dp, TunnelKey: f.n,
		MAC: mac, Options: map[string]string{}, ExternalIDs: map[string]string{}}
	if chassis != "" {
		p.Chassis = ptr("ch-" + chassis)
		p.Up = ptr(true)
	}
	f.t.Upsert(p)
	return p
}

func (f *fixture) localnet(dp, physnet string, tag int) {
	p := f.pb("provnet-"+dp, "localnet", dp, "", "unknown")
	p.Options["network_name"] = physnet
	if tag != 0 {
		p.Tag = ptr(tag)
	}
	f.t.Upsert(p)
}

// router adds a router "r" with a gateway on provider datapath pub: the
// switch-side patch port "gw", the router port "lrp-gw" (peer gw) and the
// chassisredirect "cr-lrp-gw" on chassis.
func (f *fixture) router(pub, chassis string, networks ...string) {
	gw := f.pb("gw", "patch", pub, "")
	gw.Options["peer"] = "lrp-gw"
	lrp := f.pb("lrp-gw", "patch", "r", "", append([]string{"fa:16:3e:00:00:01"}, networks...)...)
	lrp.Options["peer"] = "gw"
	f.pb("cr-lrp-gw", "chassisredirect", "r", chassis, "fa:16:3e:00:00:01 "+strings.Join(networks, " "))
}

// settle upserts every Port_Binding again: the fixture's builders change
// rows after adding them, and the topology indexes a row when it is
// upserted (in the agent, rows are never modified after Upsert).
func (f *fixture) settle() {
	var rows []*sbdb.PortBinding
	f.t.RLock()
	f.t.PortBindingUUIDs(func(u string) { rows = append(rows, f.t.PortBindingByUUID(u)) })
	f.t.RUnlock()
	for _, r := range rows {
		f.t.Upsert(r)
	}
}

func (f *fixture) plan(t *testing.T) (*plan.State, []plan.Warning) {
	t.Helper()
	f.settle()
	f.t.RLock()
	defer f.t.RUnlock()
	return plan.Full(southbound.New(config.Default(), f.t, "c1"), "c1")
}

type want struct {
	prefix string
	kind   plan.Kind
	port   string
	bridge string
	vlan   int
	mac    string
	ndp    []string
}

func check(t *testing.T, st *plan.State, wants []want) {
	t.Helper()
	require.Len(t, st.Announcements, len(wants), "announcements: %+v", st.Announcements)
	require.Len(t, st.Wiring.Exposures, len(wants))
	byPrefix := map[string]int{}
	for i, a := range st.Announcements {
		byPrefix[a.Prefix.String()] = i
	}
	for _, w := range wants {
		i, ok := byPrefix[w.prefix]
		require.True(t, ok, "missing %s in %+v", w.prefix, st.Announcements)
		a, e := st.Announcements[i], st.Wiring.Exposures[i]
		require.Equal(t, w.kind, a.Kind, w.prefix)
		require.Equal(t, w.port, a.Port, w.prefix)
		require.Equal(t, w.prefix, e.Prefix.String())
		require.Equal(t, w.bridge, e.Bridge, w.prefix)
		require.Equal(t, w.vlan, e.VLAN, w.prefix)
		require.Equal(t, w.mac, e.MAC, w.prefix)
		require.True(t, e.Announce)
		var ndp []string
		for _, n := range e.ProxyNDP {
			ndp = append(ndp, n.String())
		}
		require.Equal(t, w.ndp, ndp, w.prefix)
	}
}

func TestSBProviderPorts(t *testing.T) {
	cases := []struct {
		name  string
		build func(f *fixture)
		want  []want
	}{
		{"VM bound here on a flat provider network", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10")
		}, []want{{"172.24.4.10/32", plan.KindProviderPort, "vm1", "br-ex", 0, "", nil}}},
		{"VM bound on another chassis", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("vm1", "", "pub", "c2", "fa:16:3e:00:01:10 172.24.4.10")
		}, nil},
		{"VM bound here but down", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10").Up = ptr(false)
		}, nil},
		{"VLAN provider network, IPv4 and IPv6", func(f *fixture) {
			f.localnet("vlan", "physnet2", 100)
			f.pb("vm2", "", "vlan", "c1", "fa:16:3e:00:02:10 172.24.5.10 2001:db8:5::10")
		}, []want{
			{"172.24.5.10/32", plan.KindProviderPort, "vm2", "br-vlan", 100, "", nil},
			{"2001:db8:5::10/128", plan.KindProviderPort, "vm2", "br-vlan", 100, "", nil},
		}},
		{"upstream 10.1 row 14: config-drive port (mac unknown) takes its IPs from neutron:cidrs; NDP proxy for its IPv6 subnet", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("vm3", "", "pub", "c1", "unknown").ExternalIDs["neutron:cidrs"] = "172.24.4.30/24 2001:db8:24::30/64"
		}, []want{
			{"172.24.4.30/32", plan.KindProviderPort, "vm3", "br-ex", 0, "", nil},
			{"2001:db8:24::30/128", plan.KindProviderPort, "vm3", "br-ex", 0, "", []string{"2001:db8:24::"}},
		}},
		{"tenant network port is not announced by its own chassis", func(f *fixture) {
			f.pb("vm4", "", "private", "c1", "fa:16:3e:00:04:10 10.0.0.10")
		}, nil},
		{"provider network whose physnet is not mapped here", func(f *fixture) {
			f.localnet("other", "physnet9", 0)
			f.pb("vm5", "", "other", "c1", "fa:16:3e:00:05:10 172.30.0.10")
		}, nil},
		{"upstream 10.1 row 12: live migration, destination only in additional_chassis", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			p := f.pb("vm6", "", "pub", "c2", "fa:16:3e:00:06:10 172.24.4.60")
			p.AdditionalChassis = []string{"ch-c1"}
			p.RequestedChassis = ptr("ch-c1")
		}, nil},
		{"upstream 10.1 row 12: live migration, active here with the source as additional", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			p := f.pb("vm6", "", "pub", "c1", "fa:16:3e:00:06:10 172.24.4.60")
			p.AdditionalChassis = []string{"ch-c2"}
		}, []want{{"172.24.4.60/32", plan.KindProviderPort, "vm6", "br-ex", 0, "", nil}}},
		{"virtual port (VIP) bound here gets NDP proxies for its IPv6 networks", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			p := f.pb("vip", "virtual", "pub", "c1", "fa:16:3e:00:07:10 172.24.4.70 2001:db8:24::70")
			p.ExternalIDs["neutron:cidrs"] = "172.24.4.70/24 2001:db8:24::70/64"
		}, []want{
			{"172.24.4.70/32", plan.KindProviderPort, "vip", "br-ex", 0, "", nil},
			{"2001:db8:24::70/128", plan.KindProviderPort, "vip", "br-ex", 0, "", []string{"2001:db8:24::"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture("physnet1:br-ex,physnet2:br-vlan")
			c.build(f)
			st, warnings := f.plan(t)
			require.Empty(t, warnings)
			check(t, st, c.want)
		})
	}
}

func TestSBRouterGatewayAndFIPs(t *testing.T) {
	cases := []struct {
		name  string
		build func(f *fixture)
		want  []want
	}{
		{"cr-lrp hosted here: gateway IPs with the cr-lrp MAC and NDP proxy", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24", "2001:db8:24::100/64")
		}, []want{
			{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil},
			{"2001:db8:24::100/128", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", []string{"2001:db8:24::"}},
		}},
		{"cr-lrp hosted elsewhere", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c2", "172.24.4.100/24")
		}, nil},
		{"distributed FIP of a VM bound here", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c2", "172.24.4.100/24")
			f.pb("vm1", "", "private", "c1", "fa:16:3e:00:01:10 10.0.0.10")
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm1")`}
			f.t.Upsert(gw)
		}, []want{{"172.24.4.150/32", plan.KindFIP, "vm1", "br-ex", 0, "", nil}}},
		{"centralized FIP on the cr-lrp hosted here (the gateway IP stays a cr-lrp announcement)", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24")
			f.pb("vm1", "", "private", "c2", "fa:16:3e:00:01:10 10.0.0.10")
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:00:01 172.24.4.100 172.24.4.151 is_chassis_resident("cr-lrp-gw")`}
			f.t.Upsert(gw)
		}, []want{
			{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil},
			{"172.24.4.151/32", plan.KindFIP, "cr-lrp-gw", "br-ex", 0, "", nil},
		}},
		{"upstream 10.1 row 9: FIP of a deleted VM is withdrawn", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c2", "172.24.4.100/24")
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm-gone")`}
			f.t.Upsert(gw)
		}, nil},
		{"upstream 10.1 row 11: FIP of a VM bound here but down", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c2", "172.24.4.100/24")
			f.pb("vm1", "", "private", "c1", "fa:16:3e:00:01:10 10.0.0.10").Up = ptr(false)
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm1")`}
			f.t.Upsert(gw)
		}, nil},
		{"upstream 10.1 row 7: router port without its peer yet falls back to the name rule", func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("gw", "patch", "pub", "")
			f.pb("lrp-gw", "patch", "r", "", "fa:16:3e:00:00:01 172.24.4.100/24")
			f.pb("cr-lrp-gw", "chassisredirect", "r", "c1", "fa:16:3e:00:00:01 172.24.4.100/24")
		}, []want{{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil}}},
		{"upstream 10.1 row 6: cr-lrp whose provider switch is already deleted", func(f *fixture) {
			f.pb("lrp-gw", "patch", "r", "", "fa:16:3e:00:00:01 172.24.4.100/24").Options["peer"] = "gone"
			f.pb("cr-lrp-gw", "chassisredirect", "r", "c1", "fa:16:3e:00:00:01 172.24.4.100/24")
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture("physnet1:br-ex")
			c.build(f)
			st, warnings := f.plan(t)
			require.Empty(t, warnings)
			check(t, st, c.want)
		})
	}
}

func TestSBBadInputIsWarnedAndSkipped(t *testing.T) {
	f := newFixture("physnet1:br-ex,garbage,physnet2:")
	f.localnet("pub", "physnet1", 0)
	f.pb("bad", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.999 not-an-ip")
	f.pb("good", "", "pub", "c1", "fa:16:3e:00:01:11 172.24.4.11")
	f.pb("badcidr", "", "pub", "c1", "unknown").ExternalIDs["neutron:cidrs"] = "10.0.0.300/24"
	f.router("pub", "c1", "172.24.4.100/24")
	gw := f.t.PortBinding("gw")
	gw.NatAddresses = []string{"fa:16:3e:00:00:01 172.24.4.200", `fa:16:3e:00:00:01 bogus is_chassis_resident("cr-lrp-gw")`}
	f.t.Upsert(gw)
	before := invalidRowsTotal(t)
	st, warnings := f.plan(t)
	require.Equal(t, float64(len(warnings)), invalidRowsTotal(t)-before, "one metric increment per warning")
	check(t, st, []want{
		{"172.24.4.11/32", plan.KindProviderPort, "good", "br-ex", 0, "", nil},
		{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil},
	})
	var reasons []string
	for _, w := range warnings {
		reasons = append(reasons, w.Reason)
	}
	require.ElementsMatch(t, []string{"bridge-mappings", "bridge-mappings", "bad-address", "bad-address", "bad-cidr",
		"bad-nat-addresses", "bad-nat-addresses"}, reasons)
}

func TestSBBridgesAndFlows(t *testing.T) {
	f := newFixture("physnet1:br-ex,physnet2:br-vlan")
	f.localnet("pub", "physnet1", 0)
	f.localnet("v100", "physnet2", 100)
	f.localnet("v200", "physnet2", 200)
	f.t.Upsert(&vswitch.Interface{UUID: "i-brex", Name: "br-ex", Type: "internal", MACInUse: ptr("aa:bb:cc:00:00:01")})
	f.t.Upsert(&vswitch.Interface{UUID: "i-p1", Name: "patch-provnet-pub-to-br-int", Type: "patch", Ofport: ptr(3)})
	f.t.Upsert(&vswitch.Interface{UUID: "i-p2", Name: "patch-provnet-late-to-br-int", Type: "patch"})
	f.t.Upsert(&vswitch.Interface{UUID: "i-eth", Name: "eth1", Ofport: ptr(1)})
	f.t.Upsert(&vswitch.Port{UUID: "p-p1", Name: "patch-provnet-pub-to-br-int", Interfaces: []string{"i-p1"}})
	f.t.Upsert(&vswitch.Port{UUID: "p-p2", Name: "patch-provnet-late-to-br-int", Interfaces: []string{"i-p2"}})
	f.t.Upsert(&vswitch.Port{UUID: "p-eth", Name: "eth1", Interfaces: []string{"i-eth"}})
	f.t.Upsert(&vswitch.Bridge{UUID: "b-ex", Name: "br-ex", Ports: []string{"p-p1", "p-p2", "p-eth"}})
	st, _ := f.plan(t)
	require.Equal(t, []plan.BridgeWiring{
		{Bridge: "br-ex", Physnet: "physnet1", Index: 1},
		{Bridge: "br-vlan", Physnet: "physnet2", Index: 2, VLANs: []int{100, 200}},
	}, st.Wiring.Bridges)
	// upstream 10.1 row 1: the patch port without an ofport yet gets no flow.
	require.Equal(t, []plan.Flow{{Bridge: "br-ex", Port: "patch-provnet-pub-to-br-int", OFPort: 3, DstMAC: "aa:bb:cc:00:00:01"}},
		st.Wiring.Flows)

	// The ofport arrives: the flow follows.
	f.t.Upsert(&vswitch.Interface{UUID: "i-p2", Name: "patch-provnet-late-to-br-int", Type: "patch", Ofport: ptr(4)})
	st, _ = f.plan(t)
	require.Len(t, st.Wiring.Flows, 2)
}

func TestSBSamePlanWhateverTheOrder(t *testing.T) {
	build := func(reverse bool) *plan.State {
		f := newFixture("physnet1:br-ex")
		steps := []func(){
			func() { f.localnet("pub", "physnet1", 0) },
			func() { f.router("pub", "c1", "172.24.4.100/24") },
			func() { f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10") },
		}
		if reverse {
			for i := len(steps) - 1; i >= 0; i-- {
				steps[i]()
			}
		} else {
			for _, s := range steps {
				s()
			}
		}
		st, _ := f.plan(t)
		return st
	}
	require.Equal(t, build(false), build(true))
	st := build(false)
	require.Equal(t, netip.MustParsePrefix("172.24.4.10/32"), st.Announcements[0].Prefix, "sorted by prefix")
}

// invalidRowsTotal sums ovnbgp_plan_invalid_rows_total over its labels.
func invalidRowsTotal(t *testing.T) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range plan.Collectors() {
		require.NoError(t, reg.Register(c))
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "ovnbgp_plan_invalid_rows_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}
