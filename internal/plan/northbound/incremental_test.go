package northbound_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
)

// nbIncr drives one northbound.Driver incrementally, as the agent's incremental
// planner does: contributions per source, and after every batch of row
// changes, Reset (everything again if the context changed), else the
// changed rows plus Affected of each, re-planned. After every batch the
// merged state must equal a full plan by a fresh driver: any dependency
// Affected misses shows up as a difference.
type nbIncr struct {
	t       *testing.T
	f       *nbFx
	id      northbound.Identity
	d       *northbound.Driver
	contrib map[plan.RowRef]plan.Contribution
	replans int // sources re-planned by the last batch
}

func newNBIncr(t *testing.T, f *nbFx, id northbound.Identity) *nbIncr {
	h := &nbIncr{t: t, f: f, id: id, d: northbound.New(f.cfg, f.t, id)}
	f.t.RLock()
	h.d.Reset()
	h.all()
	f.t.RUnlock()
	f.log = nil
	h.check("initial")
	return h
}

func (h *nbIncr) all() {
	h.contrib = map[plan.RowRef]plan.Contribution{}
	for _, src := range h.d.Sources() {
		h.contrib[src] = h.d.Plan(src)
	}
	h.replans = len(h.contrib)
}

// sync processes the rows changed since the last call and compares.
func (h *nbIncr) sync(step string) {
	h.t.Helper()
	h.f.t.RLock()
	if h.d.Reset() {
		h.all()
	} else {
		dirty := map[plan.RowRef]bool{}
		all := false
		for _, src := range h.f.log {
			dirty[src] = true
			others, a := h.d.Affected(src)
			all = all || a
			for _, o := range others {
				dirty[o] = true
			}
		}
		if all {
			h.all()
		} else {
			h.replans = 0
			for src := range dirty {
				switch src.Table {
				case nbdb.LogicalSwitchTable, nbdb.LogicalRouterTable, nbdb.NBGlobalTable, vswitch.OpenVSwitchTable:
					continue // never contribute
				}
				h.replans++
				c := h.d.Plan(src)
				if len(c.Announcements) == 0 {
					delete(h.contrib, src)
				} else {
					h.contrib[src] = c
				}
			}
		}
	}
	h.d.Warnings()
	h.f.t.RUnlock()
	h.f.log = nil
	h.check(step)
}

func (h *nbIncr) state() *plan.State {
	m := plan.NewMerger()
	for _, c := range h.contrib {
		m.Add(c)
	}
	st := m.State("x")
	st.Sort()
	return st
}

func (h *nbIncr) check(step string) {
	h.t.Helper()
	got := h.state()
	want, _ := h.f.planAs(h.t, h.id)
	render := func(st *plan.State) []string {
		var out []string
		for _, a := range st.Announcements {
			out = append(out, fmt.Sprintf("%s %s %s %s", a.Prefix, a.Kind, a.Port, a.Network))
		}
		for _, e := range st.Wiring.Exposures {
			out = append(out, fmt.Sprintf("exp %s %s/%d mac=%s via=%v ndp=%v", e.Prefix, e.Bridge, e.VLAN, e.MAC, e.Via, e.ProxyNDP))
		}
		return out
	}
	require.Equal(h.t, render(want), render(got), "step %q", step)
}

func (h *nbIncr) has(prefix string, kind plan.Kind) bool {
	for _, a := range h.state().Announcements {
		if a.Prefix.String() == prefix && a.Kind == kind {
			return true
		}
	}
	return false
}

// TestNBIncrementalMatchesFull replays upstream's recurring failure modes
// (../shared/docs/upstream-ovn-bgp-agent.md §10.1 rows 6-18) as row
// updates in the orders OVN and Neutron produce them, and checks after each
// batch that the incremental result equals a full plan and holds what the
// row expects.
func TestNBIncrementalMatchesFull(t *testing.T) {
	const mac = "fa:16:3e:00:01:10"
	f := newNBFx()
	f.cfg.ExposeTenantNetworks = true
	nbWorld(f, "c1")
	f.iface("r1", "private", "10.0.0.1/24", "")
	vm1 := f.vm("public", "vm1", "host1", mac+" 172.24.4.10", "172.24.4.10/24")
	vm1.Up = nbPtr(false)
	f.up(vm1)
	vm3 := f.vm("private", "vm3", "host1", mac+" 10.0.0.10", "10.0.0.10/24")
	h := newNBIncr(t, f, northbound.Identity{})
	require.True(t, h.has("172.24.4.100/32", plan.KindCRLRP))
	require.True(t, h.has("10.0.0.10/32", plan.KindTenantPort))
	require.False(t, h.has("172.24.4.10/32", plan.KindProviderPort))

	// Row 11: chassis and up arrive in separate updates.
	vm1.Up = nbPtr(true)
	f.up(vm1)
	h.sync("row 11: up")
	require.True(t, h.has("172.24.4.10/32", plan.KindProviderPort))
	require.LessOrEqual(t, h.replans, 2, "a port update re-plans the port, not the world")

	// A port added to the provider network re-plans that port only.
	f.vm("public", "vm1b", "host2", mac+" 172.24.4.12", "172.24.4.12/24")
	h.sync("port added to a provider network")
	require.LessOrEqual(t, h.replans, 2, "adding a port must not re-plan the switch's other ports")

	// Row 12: live migration to host2.
	vm1.Options["requested-chassis"] = "host1,host2"
	f.up(vm1)
	h.sync("row 12: migration starts")
	require.True(t, h.has("172.24.4.10/32", plan.KindProviderPort))
	vm1.Options["requested-chassis"] = "host2"
	vm1.ExternalIDs["neutron:host_id"] = "host2"
	f.up(vm1)
	h.sync("row 12: migrated away")
	require.False(t, h.has("172.24.4.10/32", plan.KindProviderPort))

	// Row 18: stale IPs: the tenant VM's address changes.
	vm3.Addresses = []string{mac + " 10.0.0.12"}
	vm3.ExternalIDs["neutron:cidrs"] = "10.0.0.12/24"
	f.up(vm3)
	h.sync("row 18: address change")
	require.False(t, h.has("10.0.0.10/32", plan.KindTenantPort))
	require.True(t, h.has("10.0.0.12/32", plan.KindTenantPort))

	// Row 13: a virtual port whose chassis Neutron learns late.
	vip := f.vm("public", "vip1", "", mac+" 172.24.4.20", "172.24.4.20/24")
	vip.Type = "virtual"
	f.up(vip)
	h.sync("row 13: virtual port created")
	require.False(t, h.has("172.24.4.20/32", plan.KindProviderPort))
	vip.ExternalIDs["neutron:host_id"] = "host1"
	f.up(vip)
	h.sync("row 13: host_id known")
	require.True(t, h.has("172.24.4.20/32", plan.KindProviderPort))

	// Row 15: a distributed FIP for a VM bound here; the router lists the
	// NAT before the NAT row arrives.
	vm5 := f.vm("private", "vm5", "host1", mac+" 10.0.0.20", "10.0.0.20/24")
	f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Nat = append(lr.Nat, "nat5") })
	h.sync("row 15: router lists a NAT not yet there")
	n5 := &nbdb.NAT{UUID: "nat5", Type: "dnat_and_snat", ExternalIP: "172.24.4.155", LogicalIP: "10.0.0.20",
		LogicalPort: nbPtr("vm5"), ExternalIDs: map[string]string{"neutron:fip_network_id": "public"}}
	f.up(n5)
	h.sync("row 15: NAT without external_mac: centralized here")
	require.True(t, h.has("172.24.4.155/32", plan.KindFIP))
	n5.ExternalMAC = nbPtr("fa:16:3e:00:aa:05")
	f.up(n5)
	h.sync("row 15: external_mac set: distributed, VM bound here")
	require.True(t, h.has("172.24.4.155/32", plan.KindFIP))

	// Row 9: VM deleted with its FIP: the port goes first.
	f.del(nbdb.LogicalSwitchPortTable, vm5.UUID)
	h.sync("row 9: port deleted before its NAT")
	require.False(t, h.has("172.24.4.155/32", plan.KindFIP))
	f.del(nbdb.NATTable, "nat5")
	h.sync("row 9: NAT deleted")

	// Load balancers and port forwarding on the local gateway.
	f.addPort("private", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
		ExternalIDs: map[string]string{"neutron:cidrs": "10.0.0.100/32"}})
	f.lb("r1", "lb1", map[string]string{"10.0.0.100:80": "10.0.0.10:80"},
		map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_port_id": "vipport"})
	f.lb("r1", "pf-floatingip-abc-tcp", map[string]string{"172.24.4.170:2222": "10.0.0.10:22"},
		map[string]string{"neutron:router_name": "neutron-r1"})
	h.sync("LBs added")
	require.True(t, h.has("10.0.0.100/32", plan.KindLBVIP))
	require.True(t, h.has("172.24.4.170/32", plan.KindPFFIP))

	// Row 8: the cr-lrp moves away and back.
	gw := f.t.NBRouterPortByName("lrp-gw-r1")
	moved := *gw
	moved.Status = map[string]string{"hosting-chassis": "c2"}
	f.up(&moved)
	h.sync("row 8: cr-lrp moved to c2")
	for _, k := range []plan.Kind{plan.KindCRLRP, plan.KindTenantPort, plan.KindLBVIP, plan.KindPFFIP} {
		for _, a := range h.state().Announcements {
			require.NotEqual(t, k, a.Kind, "%s still announced after the gateway left", a.Prefix)
		}
	}
	back := moved
	back.Status = map[string]string{"hosting-chassis": "c1"}
	f.up(&back)
	h.sync("row 8: cr-lrp back")
	require.True(t, h.has("10.0.0.100/32", plan.KindLBVIP))
	require.True(t, h.has("10.0.0.12/32", plan.KindTenantPort))

	// Row 17: the LB is re-pointed at a router whose gateway is elsewhere.
	f.router("r2")
	f.gateway("r2", "public", "c2", "172.24.4.200/24")
	lb := *f.t.NBLoadBalancer("lb-lb1")
	lb.ExternalIDs = map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_port_id": "vipport", "lr_ref": "neutron-r2"}
	f.up(&lb)
	f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.LoadBalancer = []string{"lb-pf-floatingip-abc-tcp"} })
	h.sync("row 17: LB moved to a router hosted on c2")
	require.False(t, h.has("10.0.0.100/32", plan.KindLBVIP))

	// Row 7: the gateway's peer disappears (no network name, no
	// router-type port), then comes back.
	nopeer := back
	nopeer.ExternalIDs = map[string]string{}
	f.up(&nopeer)
	f.del(nbdb.LogicalSwitchPortTable, "gw-r1")
	h.sync("row 7: peer gone")
	require.False(t, h.has("172.24.4.100/32", plan.KindCRLRP))
	f.addPort("public", &nbdb.LogicalSwitchPort{UUID: "gw-r1", Name: "gw-r1", Type: "router", Up: nbPtr(true),
		Options: map[string]string{"router-port": "lrp-gw-r1"}, ExternalIDs: map[string]string{}})
	h.sync("row 7: peer back")
	require.True(t, h.has("172.24.4.100/32", plan.KindCRLRP))

	// NB_Global: liveness churn re-plans nothing; the flag re-plans all.
	f.up(&nbdb.NBGlobal{UUID: "nbg", ExternalIDs: map[string]string{"neutron:liveness_check_at": "1"}})
	h.sync("row 28: NB_Global churn")
	require.Equal(t, 0, h.replans)
	f.global("false")
	h.sync("fip-distributed false")

	// A tenant switch becomes a provider network (localnet added later).
	f.sw("late", "", 0)
	late := f.vm("late", "vm9", "host1", mac+" 172.24.9.10", "172.24.9.10/24")
	h.sync("late: tenant switch without router")
	require.False(t, h.has("172.24.9.10/32", plan.KindProviderPort))
	f.addPort("late", &nbdb.LogicalSwitchPort{UUID: "provnet-late", Name: "provnet-late", Type: "localnet",
		Options: map[string]string{"network_name": "physnet1"}})
	h.sync("late: localnet added")
	require.True(t, h.has("172.24.9.10/32", plan.KindProviderPort))

	// Row 6: the switch is deleted before its ports.
	f.del(nbdb.LogicalSwitchTable, "ls-late")
	h.sync("row 6: switch deleted")
	require.False(t, h.has("172.24.9.10/32", plan.KindProviderPort))
	f.del(nbdb.LogicalSwitchPortTable, late.UUID)
	h.sync("row 6: port deleted")

	// The bridge mappings change: everything is re-planned.
	f.up(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "hostname": "host1", "ovn-bridge-mappings": "physnet2:br-vlan"}})
	h.sync("mappings changed")
	require.False(t, h.has("172.24.4.100/32", plan.KindCRLRP))
}

// TestNBIncrementalSNATFilter: with require_snat_disabled_for_tenant_networks
// and subnet advertisement, SNAT rules appearing (the router listing the
// NAT before its row arrives) and going withdraw and restore the subnet.
func TestNBIncrementalSNATFilter(t *testing.T) {
	f := newNBFx()
	f.cfg.ExposeTenantNetworks = true
	f.cfg.RequireSNATDisabledForTenantNetworks = true
	f.cfg.AdvertisementMethodTenantNetworks = "subnet"
	nbWorld(f, "c1")
	f.iface("r1", "private", "10.0.0.1/24", "")
	h := newNBIncr(t, f, northbound.Identity{})
	require.True(t, h.has("10.0.0.0/24", plan.KindTenantSubnet))
	f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Nat = append(lr.Nat, "snat1") })
	h.sync("router lists the SNAT")
	f.up(&nbdb.NAT{UUID: "snat1", Type: "snat", ExternalIP: "172.24.4.100", LogicalIP: "10.0.0.0/24"})
	h.sync("SNAT row arrives")
	require.False(t, h.has("10.0.0.0/24", plan.KindTenantSubnet))
	f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Nat = nil })
	f.del(nbdb.NATTable, "snat1")
	h.sync("SNAT removed")
	require.True(t, h.has("10.0.0.0/24", plan.KindTenantSubnet))
	// A tenant switch gains a second router interface (row arrives after
	// the switch lists it).
	f.sw("other", "", 0)
	ls := *f.ls["other"]
	ls.Ports = []string{"rif-r1-other"}
	f.ls["other"] = &ls
	f.up(&ls)
	h.sync("switch lists a router port not there yet")
	lrp := &nbdb.LogicalRouterPort{UUID: "lrp-r1-other", Name: "lrp-r1-other", MAC: "fa:16:3e:00:00:03", Networks: []string{"10.1.0.1/24"}}
	f.up(lrp)
	f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Ports = append(lr.Ports, lrp.UUID) })
	h.sync("router port added")
	f.up(&nbdb.LogicalSwitchPort{UUID: "rif-r1-other", Name: "rif-r1-other", Type: "router", Up: nbPtr(true),
		Options:     map[string]string{"router-port": "lrp-r1-other"},
		ExternalIDs: map[string]string{"neutron:device_owner": "network:router_interface", "neutron:cidrs": "10.1.0.1/24"}})
	h.sync("router interface row arrives")
	require.True(t, h.has("10.1.0.0/24", plan.KindTenantSubnet))
}
