package lab_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestRealNeutronWrites drives a real neutron-server (ML2/OVN) through its
// API and checks the NB rows ovnbgp reads, as Neutron wrote them: what
// the builders of neutron.go must match (OVNBGP_NEUTRON_DUMP=1 logs every
// row). Everything an operator creates for ovnbgp: flat and VLAN provider
// networks, IPv4 and IPv6 subnets, subnet pools of address scopes, an IPv6
// SLAAC tenant subnet, a router with its gateway scheduled on the gateway
// chassis, centralized and distributed floating IPs, a port forwarding.
func TestRealNeutronWrites(t *testing.T) {
	srv := lab.SharedNeutron(t)
	c := srv.Central
	t.Cleanup(func() { c.SBCtl("--if-exists", "chassis-del", "gw", "--", "--if-exists", "chassis-del", "c1") })
	l := lab.New(t)
	l.AddChassis(c, "gw", lab.ChassisOptions{EncapIP: "192.0.2.1", Gateway: true})
	c1 := l.AddChassis(c, "c1", lab.ChassisOptions{EncapIP: "192.0.2.2"})
	api := srv.API(t)
	srv.SetDistributedFIP(t, false) // Neutron's default (a no-op unless a test changed it)

	pub := api.ProviderNetwork("public", "physnet1", 0, true)
	pub4 := api.Subnet(pub, "public4", "172.24.4.0/24", lab.SubnetOptions{Gateway: "172.24.4.1"})
	api.Subnet(pub, "public6", "2001:db8:24::/64", lab.SubnetOptions{Gateway: "2001:db8:24::1"})
	vlan := api.ProviderNetwork("vlan100", "physnet1", 100, false)
	api.Subnet(vlan, "vlan100-4", "172.24.5.0/24", lab.SubnetOptions{})
	scope4 := api.AddressScope("scope4", 4)
	scope6 := api.AddressScope("scope6", 6)
	pool4 := api.SubnetPool("pool4", []string{"10.10.0.0/16"}, scope4, 24)
	pool6 := api.SubnetPool("pool6", []string{"2001:db8:100::/56"}, scope6, 64)
	priv := api.TenantNetwork("private")
	priv4 := api.Subnet(priv, "private4", "", lab.SubnetOptions{Pool: pool4, PrefixLen: 24})
	priv6 := api.Subnet(priv, "private6", "", lab.SubnetOptions{Pool: pool6, PrefixLen: 64, IPv6Mode: "slaac"})
	r := api.Router("router1", pub, []*subnets.Subnet{pub4}, []string{"172.24.4.100"}, true)
	api.AddInterface(r, priv4)
	api.AddInterface(r, priv6)

	p1 := api.Port(pub, "vm1", "fa:16:3e:00:01:10", "c1", []ports.IP{{SubnetID: pub4.ID, IPAddress: "172.24.4.10"}})
	p2 := api.Port(priv, "vm2", "fa:16:3e:00:02:10", "c1", nil)
	l.AddVM(c, c1, p2.ID, p2.MACAddress, api.IPs(p2), nil)
	fip := api.FIP(pub, "172.24.4.50", p2)
	pfFIP := api.FIP(pub, "172.24.4.60", nil)
	p3 := api.Port(priv, "vm3", "fa:16:3e:00:03:10", "", nil)
	api.PortForwarding(pfFIP, p3, p3.FixedIPs[0].IPAddress, "tcp", 22, 2222)
	c.NBCtl("--wait=sb", "sync")

	nb := func(args ...string) string { return c.NBCtl(append([]string{"--bare"}, args...)...) }
	lr := "neutron-" + r.ID
	// The gateway is scheduled on the gateway chassis.
	gwLRP := nb("--columns=name", "find", "Logical_Router_Port", `external_ids:"neutron:router_name"=`+r.ID, "gateway_chassis!=[]")
	// (The package's tests delete their routers: these rows are this one's.)
	if got := nb("--columns=chassis_name", "list", "Gateway_Chassis"); got != "gw" {
		t.Errorf("gateway port %s: scheduled on %q, want gw only", gwLRP, got)
	}
	natRow := func(ip string) string {
		return c.NBCtl("--columns=logical_port,external_mac,gateway_port,external_ids", "find", "NAT", "external_ip="+ip)
	}
	// A centralized FIP (enable_distributed_floating_ip off): logical_port
	// is the VM port all the same; no external_mac, no gateway_port.
	col := func(ip, column string) string {
		return strings.Trim(nb("--columns="+column, "find", "NAT", "external_ip="+ip), `"`)
	}
	if lp, mac, gwp := col("172.24.4.50", "logical_port"), col("172.24.4.50", "external_mac"), col("172.24.4.50", "gateway_port"); lp != p2.ID || mac != "" || gwp != "" {
		t.Errorf("centralized FIP: logical_port %q (want %s), external_mac %q, gateway_port %q (want both empty)", lp, p2.ID, mac, gwp)
	}
	t.Logf("NAT of FIP 172.24.4.50, enable_distributed_floating_ip = false:\n%s", natRow("172.24.4.50"))
	if os.Getenv("OVNBGP_NEUTRON_DUMP") != "" {
		for _, tbl := range []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port", "NAT",
			"Load_Balancer", "NB_Global", "Logical_Router_Static_Route", "Gateway_Chassis"} {
			t.Logf("%s:\n%s", tbl, c.NBCtl("list", tbl))
		}
	}
	// The port forwarding: a load balancer on the router only.
	pf := "pf-floatingip-" + pfFIP.ID + "-tcp"
	if got := nb("--columns=vips", "find", "Load_Balancer", "name="+pf); got != "172.24.4.60:2222="+p3.FixedIPs[0].IPAddress+":22" {
		t.Errorf("port forwarding %s: vips %q", pf, got)
	}
	if got := nb("--columns=load_balancer", "find", "Logical_Router", "name="+lr); got != nb("--columns=_uuid", "find", "Load_Balancer", "name="+pf) {
		t.Errorf("port forwarding %s not on router %s: %q", pf, lr, got)
	}
	// DVR on: Neutron writes external_mac, the MAC of the floating IP's own
	// port (neutron:fip_external_mac), not the VM's, once the port is up.
	srv.SetDistributedFIP(t, true)
	api.AssociateFIP(fip, nil)
	api.AssociateFIP(fip, p2)
	fipMAC := strings.Trim(c.NBCtl("get", "NAT", nb("--columns=_uuid", "find", "NAT", "external_ip=172.24.4.50"), `external_ids:"neutron:fip_external_mac"`), `"`)
	lab.Eventually(t, 60*time.Second, "external_mac on the distributed FIP", func() bool {
		mac := col("172.24.4.50", "external_mac")
		return mac != "" && mac == fipMAC
	})
	if lp := col("172.24.4.50", "logical_port"); lp != p2.ID || fipMAC == p2.MACAddress {
		t.Errorf("distributed FIP: logical_port %q (want %s), external_mac %s (the VM's is %s)", lp, p2.ID, fipMAC, p2.MACAddress)
	}
	t.Logf("NAT of FIP 172.24.4.50, enable_distributed_floating_ip = true, port up:\n%s", natRow("172.24.4.50"))
	_, _ = p1, vlan
}
