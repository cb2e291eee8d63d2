package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestDemo is `make demo`: a small OVN (one chassis, a provider network, two
// VMs, a router with a floating IP), ovnbgp with FRR on the chassis, a ToR
// (FRR) as BGP peer and an external host. It prints the peer's routes, a
// ping from the external host and the commands to try next (demoCommands),
// and leaves everything running after it returns: the lab is kept with tag
// OVNBGP_DEMO_TAG (default "demo"; `make demo-down` removes it). It runs
// only when OVNBGP_DEMO=1; TestDemoOutlivesItsProcess runs it as a
// subprocess. With OVNBGP_DEMO_STATE it writes its demoLab there as JSON.
func TestDemo(t *testing.T) {
	if os.Getenv("OVNBGP_DEMO") != "1" {
		t.Skip("the demo runs only with OVNBGP_DEMO=1 (make demo, or TestDemoOutlivesItsProcess); it leaves its lab running")
	}
	tag := os.Getenv("OVNBGP_DEMO_TAG")
	if tag == "" {
		tag = "demo"
	}
	start := time.Now()
	var c *cloud
	var publicLS, built string
	if os.Getenv("OVNBGP_DEMO_NEUTRON") == "1" {
		c = newNeutronCloud(t, nodeSpec{name: "c1", gateway: true})
		publicLS, built = c.demoThroughNeutron()
	} else {
		c = newCloud(t, nodeSpec{name: "c1", gateway: true})
		publicLS = c.demoThroughBuilders()
	}
	defer c.dumpLogs()
	c.startAgent("c1")
	for _, p := range demoPrefixes {
		c.waitAnnounced(p, "c1")
	}
	routes := c.torFRR.Vtysh("show bgp ipv4 unicast")
	var pings []string
	for _, ip := range []string{"172.24.4.10", "172.24.4.50"} {
		pingTTL(c.l, c.ext, ip)
		out, _ := c.ext.Try("ping", "-c3", "-i0.2", "-n", ip)
		pings = append(pings, "$ ping -c3 "+ip+"   (from the external host)\n"+out)
	}
	d := demoLab{Prefix: c.l.Prefix, Dir: c.l.Dir, Agent: agentBinary(t), PublicLS: publicLS,
		NBSock: c.central.NB.Sock, OVSSock: c.nodes["c1"].ch.OVS.Sock, OVSRundir: c.l.Subdir("c1", "ovs"),
		Conf: c.nodes["c1"].conf, Log: c.nodes["c1"].log, AgentPid: filepath.Join(c.l.Dir, "ovnbgp-c1.pid"),
		ToR: c.torFRR.Pathspace}
	if p := os.Getenv("OVNBGP_DEMO_STATE"); p != "" {
		b, _ := json.Marshal(d)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.l.Keep(tag)
	if c.srv != nil {
		c.srv.Keep(tag)
		c.api.Keep()
	}
	plan, _ := c.nodes["c1"].ch.NS.Try(agentBinary(t), "status", "--address", "127.0.0.1:9469")
	fmt.Printf(`
================================ ovnbgp demo ================================
Up in %s. OVN central, chassis c1 (ovn-controller, OVS, FRR, ovnbgp), a ToR
running FRR (AS 65000) and an external host 198.51.100.10 behind it, in
network namespaces %s-*. Everything keeps running after this returns.
%s
What ovnbgp on c1 announces ($ %s):
%s

The ToR's BGP table ($ %s):
%s
%s
%s
Logs and configuration: %s
Tear it all down with:  make demo-down
=============================================================================
`, time.Since(start).Round(time.Second), c.l.Prefix, built, d.commands().Status, indent(plan), d.commands().ToRRoutes,
		indent(routes), strings.Join(pings, "\n\n"), d.commands().text(), c.l.Dir)
}

// demoThroughBuilders writes the demo's topology into the NB with
// test/lab's builders and returns the provider switch's name.
func (c *cloud) demoThroughBuilders() string {
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
	return public.LS
}

// demoThroughNeutron creates the same topology through the real
// neutron-server's API (make demo NEUTRON=1) and returns the provider
// switch's name and the text listing the `openstack` commands it stands
// for (the floating IP is centralized: enable_distributed_floating_ip is
// Neutron's default, off; c1 is the gateway chassis either way).
func (c *cloud) demoThroughNeutron() (publicLS, built string) {
	a := c.api
	a.AllowICMP()
	public := a.ProviderNetwork("public", "physnet1", 0, true)
	pub4 := a.Subnet(public, "public4", "172.24.4.0/24", lab.SubnetOptions{Gateway: "172.24.4.1"})
	private := a.TenantNetwork("private")
	priv4 := a.Subnet(private, "private4", "10.0.0.0/24", lab.SubnetOptions{Gateway: "10.0.0.1"})
	r := a.Router("router1", public, []*subnets.Subnet{pub4}, []string{"172.24.4.100"}, true)
	a.AddInterface(r, priv4)
	p1 := a.Port(public, "vm1", "fa:16:3e:00:01:10", "c1", []ports.IP{{SubnetID: pub4.ID, IPAddress: "172.24.4.10"}})
	p2 := a.Port(private, "vm2", "fa:16:3e:00:02:10", "c1", []ports.IP{{SubnetID: priv4.ID, IPAddress: "10.0.0.10"}})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p1.ID, p1.MACAddress, a.IPs(p1), []string{"172.24.4.1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p2.ID, p2.MACAddress, a.IPs(p2), []string{"10.0.0.1"})
	a.FIP(public, "172.24.4.50", p2)
	c.central.NBCtl("--wait=sb", "sync")
	return "neutron-" + public.ID, fmt.Sprintf(`
The topology was built by a real neutron-server %s (ML2/OVN, noauth, API
%s), through its API; the equivalent openstack commands:
  %s
`, c.srv.Version, c.srv.URL, strings.Join(a.Commands(), "\n  "))
}

// demoPrefixes are what the demo's agent announces: VM 1 on the provider
// network, the floating IP of VM 2, the router's gateway port.
var demoPrefixes = []string{"172.24.4.10/32", "172.24.4.50/32", "172.24.4.100/32"}

// demoNewPort is the VM port the closing text suggests adding.
const (
	demoNewPort   = "vm3"
	demoNewMAC    = "fa:16:3e:00:01:20"
	demoNewIP     = "172.24.4.20"
	demoNewPrefix = demoNewIP + "/32"
)

// demoLab is what the demo's suggested commands need to know about its lab.
type demoLab struct {
	Prefix, Dir, Agent, PublicLS, NBSock, OVSSock, OVSRundir, Conf, Log, AgentPid, ToR string
}

// demoCommands are the shell commands the demo's closing text suggests.
// The text prints them and TestDemoOutlivesItsProcess runs these very
// strings, after the demo's process has exited.
type demoCommands struct {
	AddPort      []string // a VM port in the NB, bound on c1 (ovs-vsctl)
	WatchPort    string   // the new port's address at the ToR
	KillAgent    string   // SIGKILL the agent
	ToRRoutes    string   // the ToR's BGP table
	RestartAgent string   // start the agent again, detached
	Status       string   // what the running agent announces
	Plan         string   // what the agent would announce (no agent needed)
}

func (d demoLab) commands() demoCommands {
	inNS := "ip netns exec " + d.Prefix + "-c1 env OVS_RUNDIR=" + d.OVSRundir + " "
	return demoCommands{
		AddPort: []string{
			fmt.Sprintf("ovn-nbctl --db=unix:%s lsp-add %s %s -- lsp-set-addresses %s '%s %s'",
				d.NBSock, d.PublicLS, demoNewPort, demoNewPort, demoNewMAC, demoNewIP),
			fmt.Sprintf("ovs-vsctl --db=unix:%s add-port br-int %s -- set Interface %s type=internal external_ids:iface-id=%s",
				d.OVSSock, demoNewPort, demoNewPort, demoNewPort),
		},
		WatchPort:    fmt.Sprintf("vtysh -N %s -c 'show bgp ipv4 unicast %s'", d.ToR, demoNewPrefix),
		KillAgent:    "kill -9 $(cat " + d.AgentPid + ")",
		ToRRoutes:    fmt.Sprintf("vtysh -N %s -c 'show bgp ipv4 unicast'", d.ToR),
		RestartAgent: fmt.Sprintf("setsid -f sh -c 'echo $$ >%s; exec %s%s agent --config-file %s >>%s 2>&1 </dev/null'", d.AgentPid, inNS, d.Agent, d.Conf, d.Log),
		Status:       fmt.Sprintf("ip netns exec %s-c1 %s status --address 127.0.0.1:9469", d.Prefix, d.Agent),
		Plan:         inNS + d.Agent + " plan --config-file " + d.Conf,
	}
}

// text is the "try next" part of the closing text.
func (c demoCommands) text() string {
	return fmt.Sprintf(`
Try next:

1. Add a VM port on the provider network, bind it on c1, and watch the ToR
   learn %s (give it a second):
     %s
     %s
     %s

2. Kill the agent: the ToR keeps every route (FRR on c1 keeps announcing;
   nothing moves), then start it again and ask it what it announces:
     %s
     %s
     %s
     %s

3. What ovnbgp would announce on c1, computed from the databases alone:
     %s
`, demoNewPrefix, c.AddPort[0], c.AddPort[1], c.WatchPort, c.KillAgent, c.ToRRoutes, c.RestartAgent, c.Status, c.Plan)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
