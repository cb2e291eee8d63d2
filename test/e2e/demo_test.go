package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestDemo is `make demo`: a small OVN (one chassis, a provider network, two
// VMs, a router with a floating IP), ovnbgp with FRR on the chassis, a ToR
// (FRR) as BGP peer and an external host. It prints the peer's routes and a
// ping from the external host, and leaves everything running (remove it
// with `make demo-down`). It runs only when OVNBGP_DEMO=1.
func TestDemo(t *testing.T) {
	if os.Getenv("OVNBGP_DEMO") != "1" {
		t.Skip("the demo runs only with OVNBGP_DEMO=1 (make demo); it leaves its lab running")
	}
	start := time.Now()
	c := newCloud(t, nodeSpec{name: "c1", gateway: true})
	defer c.dumpLogs()
	n := c.neutron
	n.SetFIPDistributed(true)
	public := n.ProviderNetwork("public", "physnet1", 0)
	private := n.TenantNetwork("private")
	r := n.Router("router1")
	r.SetGateway(public, "fa:16:3e:00:00:01", "172.24.4.100/24", "c1")
	r.AddInterface(private, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	c.central.NBCtl("lr-route-add", r.LR, "0.0.0.0/0", "172.24.4.1")
	p1 := n.Port(public, "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, lab.PortOptions{Host: "c1"})
	p2 := n.Port(private, "fa:16:3e:00:02:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c1"})
	r.FIP(p2, "172.24.4.50", "fa:16:3e:00:00:50", true)
	c.central.NBCtl("--wait=sb", "sync")
	c.l.AddVM(c.central, c.nodes["c1"].ch, p1.ID, p1.MAC, p1.CIDRs, []string{"172.24.4.1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p2.ID, p2.MAC, p2.CIDRs, []string{"10.0.0.1"})
	c.startAgent("c1")
	for _, p := range []string{"172.24.4.10/32", "172.24.4.50/32", "172.24.4.100/32"} {
		c.waitAnnounced(p, "c1")
	}
	routes := c.torFRR.Vtysh("show bgp ipv4 unicast")
	var pings []string
	for _, ip := range []string{"172.24.4.10", "172.24.4.50"} {
		pingTTL(c.l, c.ext, ip)
		out, _ := c.ext.Try("ping", "-c3", "-i0.2", "-n", ip)
		pings = append(pings, "$ ping -c3 "+ip+"   (from the external host)\n"+out)
	}
	c.l.Keep()
	plan, _ := c.nodes["c1"].ch.NS.Try(agentBinary(t), "status", "--address", "127.0.0.1:9469")
	fmt.Printf(`
================================ ovnbgp demo ================================
Up in %s. OVN central, chassis c1 (ovn-controller, OVS, FRR, ovnbgp), a ToR
running FRR (AS 65000) and an external host 198.51.100.10 behind it, in
network namespaces %s-*.

What ovnbgp on c1 announces ($ ip netns exec %s-c1 %s status --address 127.0.0.1:9469):
%s

The ToR's BGP table ($ vtysh -N %s -c 'show bgp ipv4 unicast'):
%s
%s

Logs and configuration: %s
Tear it all down with:  make demo-down
=============================================================================
`, time.Since(start).Round(time.Second), c.l.Prefix, c.l.Prefix, agentBinary(t), indent(plan), c.torFRR.Pathspace,
		indent(routes), strings.Join(pings, "\n\n"), c.l.Dir)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
