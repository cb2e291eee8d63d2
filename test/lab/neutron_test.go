package lab_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestNeutronTopology builds every kind of object the builders make and
// checks what ovn-northd derived from them in the SB: the localnet ports
// (with the VLAN tag), the cr-lrp of the router gateway, the FIPs in the
// gateway patch port's nat_addresses (distributed ones resident on the VM
// port, centralized ones on the cr-lrp), the load balancers.
func TestNeutronTopology(t *testing.T) {
	l := lab.New(t)
	c := l.StartCentral()
	c.SBCtl("chassis-add", "gw1", "geneve", "192.0.2.10")
	n := c.Neutron()
	n.SetFIPDistributed(true)
	pub := n.ProviderNetwork("public", "physnet1", 0)
	vlan := n.ProviderNetwork("vlan100", "physnet1", 100)
	priv := n.TenantNetwork("private")
	vm1 := n.Port(pub, "fa:16:3e:00:01:10", []string{"172.24.4.10/24", "2001:db8:24::10/64"}, lab.PortOptions{Host: "c1"})
	n.Port(vlan, "fa:16:3e:00:02:10", []string{"172.24.5.10/24"}, lab.PortOptions{Host: "c1"})
	vm3 := n.Port(priv, "fa:16:3e:00:03:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c2"})
	vm4 := n.Port(priv, "fa:16:3e:00:04:10", []string{"10.0.0.11/24"}, lab.PortOptions{Host: "c2"})
	n.Port(priv, "fa:16:3e:00:05:10", []string{"10.0.0.12/24"}, lab.PortOptions{Host: "c2", ConfigDrive: true})

	r := n.Router("router1")
	gw := r.SetGateway(pub, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw1")
	r.AddInterface(priv, "fa:16:3e:00:00:02", "10.0.0.1/24", "scope-1", false)
	r.FIP(vm3, "172.24.4.150", "fa:16:3e:00:aa:03", true)
	r.FIP(vm4, "172.24.4.151", "fa:16:3e:00:aa:04", false)
	lb := r.LoadBalancer("10.0.0.100", 80, priv, priv, []string{"10.0.0.10", "10.0.0.11"}, "172.24.4.160")
	pf := r.PortForwarding("172.24.4.170", "tcp", 2222, "10.0.0.10", 22)
	c.NBCtl("--wait=sb", "sync")

	find := func(args ...string) string {
		return c.SBCtl(append([]string{"--bare"}, args...)...)
	}
	if got := find("--columns=type", "find", "Port_Binding", "logical_port=cr-"+gw.LRP); got != "chassisredirect" {
		t.Fatalf("cr-lrp Port_Binding: %q", got)
	}
	if got := find("--columns=tag", "find", "Port_Binding", "logical_port="+vlan.Localnet); got != "100" {
		t.Fatalf("VLAN localnet tag: %q", got)
	}
	if got := find("--columns=mac", "find", "Port_Binding", "logical_port="+vm1.ID); !strings.Contains(got, "172.24.4.10") {
		t.Fatalf("VM port mac: %q", got)
	}
	var nat string
	lab.Eventually(t, 10*time.Second, "FIPs in the gateway patch port's nat_addresses", func() bool {
		nat = find("--columns=nat_addresses", "find", "Port_Binding", "logical_port="+gw.ID)
		return strings.Contains(nat, "172.24.4.150") && strings.Contains(nat, "172.24.4.151")
	})
	if !strings.Contains(nat, `is_chassis_resident(\"`+vm3.ID+`\")`) && !strings.Contains(nat, `is_chassis_resident("`+vm3.ID+`")`) {
		t.Errorf("distributed FIP not resident on the VM port: %s", nat)
	}
	if !strings.Contains(nat, "cr-"+gw.LRP) {
		t.Errorf("centralized FIP not resident on the cr-lrp: %s", nat)
	}
	// The octavia LB is on a switch, so northd copies it to the SB; the
	// port-forwarding LB is on the router only and stays in the NB (only the
	// NB driver exposes port forwardings, as upstream).
	if lbs := find("--columns=name", "list", "Load_Balancer"); !strings.Contains(lbs, lb) {
		t.Errorf("load balancer %s not in the SB: %s", lb, lbs)
	}
	if got := c.NBCtl("--bare", "--columns=vips", "find", "Load_Balancer", "name="+pf); !strings.Contains(got, "172.24.4.170:2222") {
		t.Errorf("port-forwarding LB vips: %q", got)
	}
	if got := c.NBCtl("get", "NB_Global", ".", `external_ids:"neutron:fip-distributed"`); strings.Trim(got, `"`) != "True" {
		t.Errorf("NB_Global fip-distributed: %s", got)
	}
}

// TestNeutronPorts: Ports writes each port as Port does, in one call.
func TestNeutronPorts(t *testing.T) {
	l := lab.New(t)
	c := l.StartCentral()
	n := c.Neutron()
	pub := n.ProviderNetwork("public", "physnet1", 0)
	ps := n.Ports(pub, []lab.PortSpec{
		{MAC: "fa:16:3e:00:01:01", CIDRs: []string{"172.24.4.11/24"}, PortOptions: lab.PortOptions{Host: "c1"}},
		{MAC: "fa:16:3e:00:01:02", CIDRs: []string{"172.24.4.12/24"}, PortOptions: lab.PortOptions{Host: "c2"}},
	})
	if len(ps) != 2 {
		t.Fatalf("%d ports, want 2", len(ps))
	}
	for _, p := range ps {
		if got := c.NBCtl("get", "Logical_Switch_Port", p.ID, `external_ids:"neutron:cidrs"`); strings.Trim(got, `"`) != p.CIDRs[0] {
			t.Errorf("port %s neutron:cidrs %s, want %s", p.ID, got, p.CIDRs[0])
		}
		if got := c.NBCtl("get", "Logical_Switch_Port", p.ID, "options:requested-chassis"); strings.Trim(got, `"`) != p.Host {
			t.Errorf("port %s requested-chassis %s, want %s", p.ID, got, p.Host)
		}
	}
}
