package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// buildNeutronWorkload creates the workload of buildWorkload (same
// networks, addresses and chassis) through a real neutron-server's API:
// a flat external network with an IPv4 and an IPv6 subnet, a tenant
// network, a router with its gateway at 172.24.4.100 (Neutron schedules it
// on the gateway chassis "gw"), ports bound with binding:host_id, the
// default security group opened to ICMP, floating IPs 172.24.4.50 (vm2)
// and 172.24.4.51 (vm3). The load balancer VIP 10.0.0.100 is written by
// the builders, as ovn-octavia would (the lab has no Octavia).
//
// Neutron 21 makes every floating IP of an up port distributed while
// enable_distributed_floating_ip is on (it writes external_mac when the
// port goes up, and on every start replays that for all ports) and clears
// it while off: both FIPs are of the same kind. So the FIPs are created
// with the server's current setting (a restart costs a minute or two) and,
// in `after`, neutron-server is restarted with the other one: Neutron
// writes or clears external_mac and both move, between the VMs' chassis
// (distributed) and the gateway chassis (centralized).
func (c *cloud) buildNeutronWorkload() *workload {
	t := c.l.T
	a := c.api
	dvr := c.srv.DistributedFIP()
	a.AllowICMP()
	public := a.ProviderNetwork("public", "physnet1", 0, true)
	pub4 := a.Subnet(public, "public4", "172.24.4.0/24", lab.SubnetOptions{Gateway: "172.24.4.1"})
	pub6 := a.Subnet(public, "public6", "2001:db8:24::/64", lab.SubnetOptions{Gateway: "2001:db8:24::1"})
	private := a.TenantNetwork("private")
	priv4 := a.Subnet(private, "private4", "10.0.0.0/24", lab.SubnetOptions{Gateway: "10.0.0.1"})
	router := a.Router("router1", public, []*subnets.Subnet{pub4}, []string{"172.24.4.100"}, true)
	a.AddInterface(router, priv4)
	p1 := a.Port(public, "vm1", "fa:16:3e:00:01:10", "c1", []ports.IP{{SubnetID: pub4.ID, IPAddress: "172.24.4.10"},
		{SubnetID: pub6.ID, IPAddress: "2001:db8:24::10"}})
	p2 := a.Port(private, "vm2", "fa:16:3e:00:02:10", "c2", []ports.IP{{SubnetID: priv4.ID, IPAddress: "10.0.0.10"}})
	p3 := a.Port(private, "vm3", "fa:16:3e:00:03:10", "c1", []ports.IP{{SubnetID: priv4.ID, IPAddress: "10.0.0.20"}})
	priv := lab.ExistingNetwork(private.ID, private.Name)
	c.neutron.ExistingRouter(router.ID, router.Name).LoadBalancer("10.0.0.100", 80, priv, priv, []string{"10.0.0.10"}, "")

	w := &workload{fipVia: fipVia(dvr)}
	w.vm1 = c.l.AddVM(c.central, c.nodes["c1"].ch, p1.ID, p1.MACAddress, a.IPs(p1), []string{"172.24.4.1", "2001:db8:24::"})
	w.vm2 = c.l.AddVM(c.central, c.nodes["c2"].ch, p2.ID, p2.MACAddress, a.IPs(p2), []string{"10.0.0.1"})
	w.vm3 = c.l.AddVM(c.central, c.nodes["c1"].ch, p3.ID, p3.MACAddress, a.IPs(p3), []string{"10.0.0.1"})
	fip3 := a.FIP(public, "172.24.4.51", p3)
	a.FIP(public, "172.24.4.50", p2)
	c.waitFIPMACs(t, dvr)
	c.central.NBCtl("--wait=sb", "sync")
	t.Logf("the workload as `openstack` commands:\n  %s", strings.Join(a.Commands(), "\n  "))
	w.dropVM3 = func() { a.DeleteFIP(fip3); a.DeletePort(p3) }
	w.dropVM1 = func() { a.DeletePort(p1); c.central.NBCtl("--wait=sb", "sync") }
	w.after = func(t *testing.T) {
		c.srv.SetDistributedFIP(t, !dvr)
		c.waitFIPMACs(t, !dvr)
		for p, via := range fipVia(!dvr) {
			d := c.waitAnnounced(p, via)
			t.Logf("enable_distributed_floating_ip = %t: %s moved to %s %s after Neutron's NAT change", !dvr, p, via, d.Round(time.Millisecond))
		}
		for _, ip := range []string{"172.24.4.50", "172.24.4.51"} {
			if ttl := pingTTL(c.l, c.ext, ip); ttl != 61 {
				t.Errorf("FIP %s after the switch: reply TTL %d, want 61", ip, ttl)
			}
		}
	}
	return w
}

// fipVia: where the workload's floating IPs are announced, by the VMs'
// chassis when distributed, by the gateway chassis when centralized.
func fipVia(distributed bool) map[string]string {
	if distributed {
		return map[string]string{"172.24.4.50/32": "c2", "172.24.4.51/32": "c1"}
	}
	return map[string]string{"172.24.4.50/32": "gw", "172.24.4.51/32": "gw"}
}

// waitFIPMACs waits until Neutron has written (set) or cleared the
// external_mac of both floating IPs' NAT rows (the MAC of the floating
// IP's own port, written once the VM port is up).
func (c *cloud) waitFIPMACs(t testing.TB, set bool) {
	for _, ip := range []string{"172.24.4.50", "172.24.4.51"} {
		lab.Eventually(t, 90*time.Second, fmt.Sprintf("Neutron sets (%t) external_mac of the FIP %s", set, ip), func() bool {
			mac := strings.Trim(c.central.NBCtl("--bare", "--columns=external_mac", "find", "NAT", "external_ip="+ip), `"`)
			return (mac != "") == set
		})
	}
}
