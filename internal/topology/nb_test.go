package topology

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
)

func names(lsps []*nbdb.LogicalSwitchPort) []string {
	var out []string
	for _, p := range lsps {
		out = append(out, p.Name)
	}
	return out
}

func sp(s string) *string { return &s }

// TestNBIndexesFollowUpsertsAndDeletes checks every northbound index while
// rows arrive in both orders (member before container and after), change
// and go away.
func TestNBIndexesFollowUpsertsAndDeletes(t *testing.T) {
	tp := New()
	// The localnet port arrives before its switch, the VM port after.
	tp.Upsert(&nbdb.LogicalSwitchPort{UUID: "ln", Name: "provnet-1", Type: "localnet",
		Options: map[string]string{"network_name": "physnet1"}})
	require.Empty(t, tp.NBLocalnets("ls1"))
	tp.Upsert(&nbdb.LogicalSwitch{UUID: "ls1", Name: "neutron-net1", Ports: []string{"ln", "vm1", "rif"}})
	tp.Upsert(&nbdb.LogicalSwitchPort{UUID: "vm1", Name: "port-vm1",
		Options:     map[string]string{"requested-chassis": "c1,c2"},
		ExternalIDs: map[string]string{"neutron:host_id": "c1"}})
	tp.Upsert(&nbdb.LogicalSwitchPort{UUID: "rif", Name: "port-rif", Type: "router",
		Options: map[string]string{"router-port": "lrp-rif"}})
	tp.RLock()
	require.Equal(t, []string{"provnet-1"}, names(tp.NBLocalnets("ls1")))
	require.Equal(t, []string{"provnet-1"}, names(tp.NBAllLocalnets()))
	require.Equal(t, []string{"port-rif"}, names(tp.NBSwitchRouterPorts("ls1")))
	require.Equal(t, []string{"port-rif", "port-vm1", "provnet-1"}, names(tp.NBSwitchPorts("ls1")))
	require.Equal(t, "ls1", tp.NBPortSwitch("vm1"))
	require.Equal(t, "ls1", tp.NBSwitchByName("neutron-net1").UUID)
	require.Equal(t, "vm1", tp.NBPortByName("port-vm1").UUID)
	require.Equal(t, []string{"port-vm1"}, names(tp.NBPortsOnHost("c1")))
	require.Equal(t, []string{"port-vm1"}, names(tp.NBPortsOnHost("c2")))
	require.Equal(t, []string{"port-rif"}, names(tp.NBPortsForRouterPort("lrp-rif")))
	tp.RUnlock()

	// The port's type and hosts change; the migration ends on c2.
	tp.Upsert(&nbdb.LogicalSwitchPort{UUID: "ln", Name: "provnet-1", Type: "", Options: map[string]string{}})
	tp.Upsert(&nbdb.LogicalSwitchPort{UUID: "vm1", Name: "port-vm1", Options: map[string]string{"requested-chassis": "c2"}})
	tp.RLock()
	require.Empty(t, tp.NBLocalnets("ls1"))
	require.Empty(t, tp.NBPortsOnHost("c1"))
	require.Equal(t, []string{"port-vm1"}, names(tp.NBPortsOnHost("c2")))
	tp.RUnlock()

	// The switch drops the router port; then the switch goes.
	tp.Upsert(&nbdb.LogicalSwitch{UUID: "ls1", Name: "neutron-net1", Ports: []string{"ln", "vm1"}})
	tp.RLock()
	require.Empty(t, tp.NBSwitchRouterPorts("ls1"))
	require.Equal(t, "", tp.NBPortSwitch("rif"))
	tp.RUnlock()
	tp.Delete(nbdb.LogicalSwitchTable, "ls1")
	tp.Delete(nbdb.LogicalSwitchPortTable, "vm1")
	tp.RLock()
	require.Nil(t, tp.NBSwitchByName("neutron-net1"))
	require.Nil(t, tp.NBPortByName("port-vm1"))
	require.Equal(t, "", tp.NBPortSwitch("vm1"))
	require.Empty(t, tp.NBPortsOnHost("c2"))
	tp.RUnlock()
}

func TestNBRouterIndexes(t *testing.T) {
	tp := New()
	tp.Upsert(&nbdb.NAT{UUID: "n1", Type: "dnat_and_snat", ExternalIP: "172.24.4.150", LogicalIP: "10.0.0.10",
		LogicalPort: sp("vm1"), GatewayPort: sp("gw")})
	tp.Upsert(&nbdb.LogicalRouterPort{UUID: "gw", Name: "lrp-gw", MAC: "fa:16:3e:00:00:01",
		Networks: []string{"172.24.4.100/24"}, Status: map[string]string{"hosting-chassis": "gw1"}})
	tp.Upsert(&nbdb.LoadBalancer{UUID: "lb1", Name: "lb1", ExternalIDs: map[string]string{
		"lr_ref": "neutron-r1", "neutron:vip_port_id": "vip1"}})
	tp.Upsert(&nbdb.LoadBalancer{UUID: "lb2", Name: "pf-floatingip-x-tcp"})
	tp.Upsert(&nbdb.LogicalRouter{UUID: "r1", Name: "neutron-r1", Ports: []string{"gw"}, Nat: []string{"n1"},
		LoadBalancer: []string{"lb2"}})
	tp.Upsert(&nbdb.LogicalSwitch{UUID: "ls1", Name: "neutron-net1", LoadBalancer: []string{"lb1"}})
	tp.Upsert(&nbdb.NBGlobal{UUID: "g", ExternalIDs: map[string]string{"neutron:fip-distributed": "false"}})

	tp.RLock()
	require.Equal(t, "r1", tp.NBRouterPortRouter("gw"))
	require.Equal(t, "r1", tp.NBNATRouter("n1"))
	require.Len(t, tp.NBRouterNATs("r1"), 1)
	require.Len(t, tp.NBNATsByLogicalPort("vm1"), 1)
	require.Len(t, tp.NBNATsByGatewayPort("gw"), 1)
	require.Len(t, tp.NBHostedRouterPorts("gw1"), 1)
	require.Len(t, tp.NBRouterPorts("r1"), 1)
	require.Equal(t, "lrp-gw", tp.NBRouterPortByName("lrp-gw").Name)
	lbs := tp.NBRouterLoadBalancers("r1")
	require.Len(t, lbs, 2)
	require.Equal(t, []string{"r1"}, tp.NBLoadBalancerRouters("lb2"))
	require.Equal(t, []string{"ls1"}, tp.NBLoadBalancerSwitches("lb1"))
	require.Len(t, tp.NBLoadBalancersByVIPPort("vip1"), 1)
	require.Equal(t, "false", tp.NBGlobal().ExternalIDs["neutron:fip-distributed"])
	tp.RUnlock()

	// The gateway moves to gw2; the NAT loses its logical port; lb1 is
	// re-pointed at another router; the router drops lb2.
	tp.Upsert(&nbdb.LogicalRouterPort{UUID: "gw", Name: "lrp-gw", Status: map[string]string{"hosting-chassis": "gw2"}})
	tp.Upsert(&nbdb.NAT{UUID: "n1", Type: "dnat_and_snat", ExternalIP: "172.24.4.150"})
	tp.Upsert(&nbdb.LoadBalancer{UUID: "lb1", Name: "lb1", ExternalIDs: map[string]string{"lr_ref": "neutron-r2"}})
	tp.Upsert(&nbdb.LogicalRouter{UUID: "r1", Name: "neutron-r1", Ports: []string{"gw"}, Nat: []string{"n1"}})
	tp.RLock()
	require.Empty(t, tp.NBHostedRouterPorts("gw1"))
	require.Len(t, tp.NBHostedRouterPorts("gw2"), 1)
	require.Empty(t, tp.NBNATsByLogicalPort("vm1"))
	require.Empty(t, tp.NBNATsByGatewayPort("gw"))
	require.Empty(t, tp.NBRouterLoadBalancers("r1"))
	require.Empty(t, tp.NBLoadBalancersByVIPPort("vip1"))
	require.Empty(t, tp.NBLoadBalancerRouters("lb2"))
	tp.RUnlock()

	// Deletes.
	tp.Delete(nbdb.LogicalRouterTable, "r1")
	tp.Delete(nbdb.LogicalRouterPortTable, "gw")
	tp.Delete(nbdb.NATTable, "n1")
	tp.Delete(nbdb.LoadBalancerTable, "lb1")
	tp.Delete(nbdb.NBGlobalTable, "g")
	tp.RLock()
	defer tp.RUnlock()
	require.Equal(t, "", tp.NBRouterPortRouter("gw"))
	require.Equal(t, "", tp.NBNATRouter("n1"))
	require.Nil(t, tp.NBRouterByName("neutron-r1"))
	require.Nil(t, tp.NBRouterPortByName("lrp-gw"))
	require.Empty(t, tp.NBHostedRouterPorts("gw2"))
	require.Nil(t, tp.NBNAT("n1"))
	require.Nil(t, tp.NBLoadBalancer("lb1"))
	require.NotNil(t, tp.NBLoadBalancer("lb2"))
	require.Nil(t, tp.NBGlobal())
}

func TestPortHosts(t *testing.T) {
	for _, c := range []struct {
		rc, hostID string
		want       []string
	}{
		{"", "", nil},
		{"c1", "c1", []string{"c1"}},
		{"c1,c2", "c2", []string{"c1", "c2"}},
		{" c1 , ,c2,", "", []string{"c1", "c2"}},
		{"", "c3", []string{"c3"}},
	} {
		lsp := &nbdb.LogicalSwitchPort{Options: map[string]string{"requested-chassis": c.rc},
			ExternalIDs: map[string]string{"neutron:host_id": c.hostID}}
		require.Equal(t, c.want, PortHosts(lsp), "%+v", c)
	}
}
