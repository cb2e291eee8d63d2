package southbound_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// centralWithChassis starts OVN central with chassis gw1, c1 and c2
// registered in the SB and distributed FIPs on.
func centralWithChassis(t *testing.T) (*lab.Central, *lab.Neutron) {
	t.Helper()
	lab.NeedRoot(t, "the OVN lab")
	c := lab.New(t).StartCentral()
	for i, ch := range []string{"gw1", "c1", "c2"} {
		c.SBCtl("chassis-add", ch, "geneve", "192.0.2."+string(rune('1'+i)))
	}
	n := c.Neutron()
	n.SetFIPDistributed(true)
	return c, n
}

// TestSBPlanFromRealNorthd writes a Neutron topology into a real OVN NB
// (as ML2/OVN does), lets the real ovn-northd derive the southbound,
// binds the ports as ovn-controller would (ovn-sbctl lsp-bind), reads the
// SB through ovnbgp's OVSDB client into the topology and checks the plans
// of the compute chassis c1 and the gateway chassis gw1: the shapes the
// planner relies on (mac, nat_addresses, options:peer,
// chassis-redirect-port, Load_Balancer datapath columns, Datapath_Binding
// names) are northd's own.
func TestSBPlanFromRealNorthd(t *testing.T) {
	c, n := centralWithChassis(t)
	pub := n.ProviderNetwork("public", "physnet1", 0)
	vlan := n.ProviderNetwork("vlan100", "physnet1", 100)
	priv := n.TenantNetwork("private")
	vm1 := n.Port(pub, "fa:16:3e:00:01:10", []string{"172.24.4.10/24", "2001:db8:24::10/64"}, lab.PortOptions{Host: "c1"})
	vm2 := n.Port(vlan, "fa:16:3e:00:02:10", []string{"172.24.5.10/24"}, lab.PortOptions{Host: "c1"})
	vm3 := n.Port(priv, "fa:16:3e:00:03:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c1"})
	vm4 := n.Port(priv, "fa:16:3e:00:04:10", []string{"10.0.0.11/24"}, lab.PortOptions{Host: "c2"})
	vm5 := n.Port(priv, "fa:16:3e:00:05:10", []string{"10.0.0.12/24"}, lab.PortOptions{Host: "c2", ConfigDrive: true})
	r := n.Router("router1")
	gw := r.SetGateway(pub, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw1")
	r.AddInterface(priv, "fa:16:3e:00:00:02", "10.0.0.1/24", "scope-1", false)
	r.FIP(vm3, "172.24.4.150", "fa:16:3e:00:aa:03", true)  // distributed: on c1 with vm3
	r.FIP(vm4, "172.24.4.151", "fa:16:3e:00:aa:04", false) // centralized: on gw1
	r.LoadBalancer("10.0.0.100", 80, priv, priv, []string{"10.0.0.10", "10.0.0.11"}, "172.24.4.160")
	r.PortForwarding("172.24.4.170", "tcp", 2222, "10.0.0.10", 22)
	c.NBCtl("--wait=sb", "sync")
	// What ovn-controller does: claim the ports where they run.
	for port, ch := range map[string]string{vm1.ID: "c1", vm2.ID: "c1", vm3.ID: "c1", vm4.ID: "c2", vm5.ID: "c2", "cr-" + gw.LRP: "gw1"} {
		c.SBCtl("lsp-bind", port, ch)
	}
	lab.Eventually(t, 10*time.Second, "FIPs in nat_addresses", func() bool {
		nat := c.SBCtl("--bare", "--columns=nat_addresses", "find", "Port_Binding", "logical_port="+gw.ID)
		return strings.Contains(nat, "172.24.4.150") && strings.Contains(nat, "172.24.4.151")
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: c.SBRemote()})
	require.NoError(t, err)
	t.Cleanup(cli.Close)
	topo := topology.New()
	for _, table := range []string{sbdb.ChassisTable, sbdb.DatapathBindingTable, sbdb.LogicalDPGroupTable, sbdb.LoadBalancerTable, sbdb.PortBindingTable} {
		require.Zero(t, cli.ForEach(table, func(_ string, row any) bool { topo.Upsert(row); return true }), table)
	}

	planFor := func(chassis string, cfg *config.Config) []string {
		topo.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
			"system-id": chassis, "ovn-bridge-mappings": "physnet1:br-ex"}})
		topo.RLock()
		defer topo.RUnlock()
		st, warnings := plan.Full(southbound.New(cfg, topo, chassis), chassis)
		require.Empty(t, warnings)
		var out []string
		for i, a := range st.Announcements {
			e := st.Wiring.Exposures[i]
			s := a.Prefix.String() + " " + string(a.Kind) + " " + e.Bridge
			if e.VLAN != 0 {
				s += " vlan"
			}
			if e.Via.IsValid() {
				s += " via " + e.Via.String()
			}
			if e.MAC != "" {
				s += " mac " + e.MAC
			}
			out = append(out, s)
		}
		return out
	}

	require.Equal(t, []string{
		"172.24.4.10/32 provider-port br-ex",
		"172.24.4.150/32 fip br-ex",
		"172.24.5.10/32 provider-port br-ex vlan",
		"2001:db8:24::10/128 provider-port br-ex",
	}, planFor("c1", config.Default()), "compute chassis c1")
	require.Empty(t, planFor("c2", config.Default()), "c2 hosts only tenant VMs and a FIP centralized elsewhere")

	gwPlan := planFor("gw1", config.Default())
	require.Contains(t, gwPlan, "172.24.4.100/32 cr-lrp br-ex mac fa:16:3e:00:00:01")
	require.Contains(t, gwPlan, "172.24.4.151/32 fip br-ex")
	// Neutron's gateway port has exclude-lb-vips-from-garp=true, so
	// northd leaves load-balancer VIPs out of its nat_addresses: the LB's
	// FIP is announced from the SB Load_Balancer row (lb-vip), and the
	// port forwarding's FIP, whose load balancer is on the router only (not
	// in the SB), is not seen by the southbound driver at all (as upstream's
	// ovn_bgp_driver; the northbound driver announces it).
	require.Contains(t, gwPlan, "172.24.4.160/32 lb-vip br-ex")
	for _, a := range gwPlan {
		require.False(t, strings.HasPrefix(a, "172.24.4.170/"), "port-forwarding FIP in the SB plan: %s", a)
	}
	require.NotContains(t, gwPlan, "172.24.4.150/32 fip br-ex", "the distributed FIP is announced by c1")
	for _, a := range gwPlan {
		require.NotContains(t, a, "10.0.0.", "no tenant address without expose_tenant_networks")
	}

	tenant := config.Default()
	tenant.ExposeTenantNetworks = true
	gwPlan = planFor("gw1", tenant)
	for _, want := range []string{
		"10.0.0.10/32 tenant-port br-ex via 172.24.4.100",
		"10.0.0.11/32 tenant-port br-ex via 172.24.4.100",
		"10.0.0.12/32 tenant-port br-ex via 172.24.4.100", // config drive: from neutron:cidrs
		"10.0.0.100/32 lb-vip br-ex via 172.24.4.100",
	} {
		require.Contains(t, gwPlan, want)
	}
	// nat-addresses=router: northd lists the router's LB VIPs with the
	// centralized NAT IPs, resident on the cr-lrp. The LB FIP and the
	// port-forwarding FIP are announced from there (kind fip); the tenant
	// LB VIP in the same entry is not a provider address (only lb-vip,
	// routed via the gateway).
	// Neutron's gateway port has exclude-lb-vips-from-garp=true, so
	// northd leaves load-balancer VIPs out of its nat_addresses: the LB's
	// FIP is announced from the SB Load_Balancer row (lb-vip), and the
	// port forwarding's FIP, whose load balancer is on the router only (not
	// in the SB), is not seen by the southbound driver at all (as upstream's
	// ovn_bgp_driver; the northbound driver announces it).
	require.Contains(t, gwPlan, "172.24.4.160/32 lb-vip br-ex")
	for _, a := range gwPlan {
		require.False(t, strings.HasPrefix(a, "172.24.4.170/"), "port-forwarding FIP in the SB plan: %s", a)
	}
	require.NotContains(t, gwPlan, "10.0.0.100/32 fip br-ex")

	subnet := config.Default()
	subnet.ExposeTenantNetworks = true
	subnet.AdvertisementMethodTenantNetworks = "subnet"
	require.Contains(t, planFor("gw1", subnet), "10.0.0.0/24 tenant-subnet br-ex via 172.24.4.100")

	// The tenant switch is what a gateway chassis must monitor whole.
	topo.RLock()
	d := southbound.New(tenant, topo, "gw1")
	d.Reset()
	needed := d.NeededDatapaths()
	topo.RUnlock()
	require.Len(t, needed, 1)
	require.Equal(t, vm3Datapath(t, topo, vm3.ID), needed[0])
}

func vm3Datapath(t *testing.T, topo *topology.Topology, port string) string {
	t.Helper()
	topo.RLock()
	defer topo.RUnlock()
	p := topo.PortBinding(port)
	require.NotNil(t, p)
	return p.Datapath
}

// TestSBIncrementalFromRealEvents drives the incremental planner the way
// the agent does: the OVSDB client's events only mark (table, uuid) dirty;
// the current row is read with Get, upserted into (or deleted from) the
// topology, and the dirty rows are re-planned. After every change made
// through the real northd (gateway moves, VM deleted with its FIP, new
// tenant VM), the incremental state equals a full plan.
func TestSBIncrementalFromRealEvents(t *testing.T) {
	c, n := centralWithChassis(t)
	pub := n.ProviderNetwork("public", "physnet1", 0)
	priv := n.TenantNetwork("private")
	vm3 := n.Port(priv, "fa:16:3e:00:03:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c1"})
	vm4 := n.Port(priv, "fa:16:3e:00:04:10", []string{"10.0.0.11/24"}, lab.PortOptions{Host: "c2"})
	r := n.Router("router1")
	gw := r.SetGateway(pub, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw1")
	r.AddInterface(priv, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	r.FIP(vm3, "172.24.4.150", "fa:16:3e:00:aa:03", true)
	r.FIP(vm4, "172.24.4.151", "fa:16:3e:00:aa:04", false)
	c.NBCtl("--wait=sb", "sync")
	cr := "cr-" + gw.LRP
	for port, ch := range map[string]string{vm3.ID: "c1", vm4.ID: "c2", cr: "gw1"} {
		c.SBCtl("lsp-bind", port, ch)
	}

	var mu sync.Mutex
	var dirty []plan.RowRef
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: c.SBRemote(), OnEvent: func(e ovsdb.Event) {
		mu.Lock()
		dirty = append(dirty, plan.RowRef{Table: e.Table, UUID: e.UUID})
		mu.Unlock()
	}})
	require.NoError(t, err)
	t.Cleanup(cli.Close)
	topo := topology.New()
	topo.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{"system-id": "gw1", "ovn-bridge-mappings": "physnet1:br-ex"}})
	for _, table := range []string{sbdb.ChassisTable, sbdb.DatapathBindingTable, sbdb.LogicalDPGroupTable, sbdb.LoadBalancerTable, sbdb.PortBindingTable} {
		cli.ForEach(table, func(_ string, row any) bool { topo.Upsert(row); return true })
	}
	cfg := config.Default()
	cfg.ExposeTenantNetworks = true
	topo.RLock()
	inc := plan.NewIncremental(southbound.New(cfg, topo, "gw1"), "gw1")
	inc.Full()
	topo.RUnlock()
	mu.Lock()
	dirty = nil // the initial dump is in the full plan
	mu.Unlock()

	has := func(prefix string) bool {
		for _, a := range inc.State().Announcements {
			if a.Prefix.String() == prefix {
				return true
			}
		}
		return false
	}
	// process applies the pending events as the agent's updater does.
	process := func() {
		mu.Lock()
		batch := dirty
		dirty = nil
		mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, s := range batch {
			row, ok, err := cli.Get(s.Table, s.UUID)
			require.NoError(t, err)
			if ok {
				topo.Upsert(row)
			} else {
				topo.Delete(s.Table, s.UUID)
			}
		}
		topo.RLock()
		defer topo.RUnlock()
		inc.Replan(batch)
		want, _ := plan.Full(southbound.New(cfg, topo, "gw1"), "gw1")
		require.Equal(t, render(want), render(inc.State()))
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		lab.Eventually(t, 10*time.Second, what, func() bool { process(); return cond() })
	}

	until("initial", func() bool { return has("172.24.4.100/32") && has("172.24.4.151/32") && has("10.0.0.10/32") })
	require.False(t, has("172.24.4.150/32"), "distributed FIP of c1")

	c.SBCtl("lsp-unbind", cr)
	c.SBCtl("lsp-bind", cr, "c2")
	until("gateway moved to c2", func() bool { return len(inc.State().Announcements) == 0 })

	c.SBCtl("lsp-unbind", cr)
	c.SBCtl("lsp-bind", cr, "gw1")
	until("gateway back", func() bool { return has("172.24.4.100/32") && has("10.0.0.11/32") && has("172.24.4.151/32") })

	c.NBCtl("--wait=sb", "lsp-del", vm4.ID)
	until("VM deleted", func() bool { return !has("10.0.0.11/32") })

	vm6 := n.Port(priv, "fa:16:3e:00:06:10", []string{"10.0.0.16/24"}, lab.PortOptions{Host: "c2"})
	c.NBCtl("--wait=sb", "sync")
	c.SBCtl("lsp-bind", vm6.ID, "c2")
	until("new tenant VM", func() bool { return has("10.0.0.16/32") })
}
