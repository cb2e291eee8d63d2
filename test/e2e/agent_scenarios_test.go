package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// workload is the Neutron topology of the agent tests: a flat provider
// network "public" (172.24.4.0/24, 2001:db8:24::/64) on physnet1, a tenant
// network "private" (10.0.0.0/24) behind router1 whose gateway (cr-lrp
// 172.24.4.100) is scheduled on "gw", vm1 on the provider network on c1,
// vm2 on the tenant network on c2 with a distributed FIP 172.24.4.50, vm3 on
// the tenant network on c1 with a centralized FIP 172.24.4.51, and an OVN
// load balancer VIP 10.0.0.100 on the tenant network. IPv6 VMs on the
// provider network use the subnet-router anycast address (2001:db8:24::)
// as gateway: the chassis answers NDP for it.
type workload struct {
	vm1, vm2, vm3 *lab.VM
	// dropVM3 deletes vm3's port and its floating IP in the NB (the SB may
	// be down); dropVM1 deletes vm1's port and waits until the SB has it.
	dropVM3, dropVM1 func()
	// fipVia names the chassis announcing the floating IPs 172.24.4.50
	// (vm2 on c2) and 172.24.4.51 (vm3 on c1): the VM's when distributed,
	// the gateway's when centralized.
	fipVia map[string]string
	// after, when set, runs at the end of TestAgentAnnouncesEveryKind.
	after func(t *testing.T)
}

// via is the chassis announcing prefix: fipVia's, else def.
func (w *workload) via(prefix, def string) string {
	if v := w.fipVia[prefix]; v != "" {
		return v
	}
	return def
}

// workloadBuilders are the two producers of the workload: test/lab's
// builders, and a real neutron-server through its API
// (buildNeutronWorkload). The scenarios run on both.
var workloadBuilders = []struct {
	name     string
	newCloud func(*testing.T, ...nodeSpec) *cloud
	build    func(*cloud) *workload
}{
	{"builders", newCloud, (*cloud).buildWorkload},
	{"neutron", newNeutronCloud, (*cloud).buildNeutronWorkload},
}

func (c *cloud) buildWorkload() *workload {
	w := &workload{}
	n := c.neutron
	n.SetFIPDistributed(true)
	public := n.ProviderNetwork("public", "physnet1", 0)
	private := n.TenantNetwork("private")
	router := n.Router("router1")
	router.SetGateway(public, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw")
	router.AddInterface(private, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	// The router's way out: the gateway chassis' br-ex answers ARP for
	// anything it routes (proxy ARP), so any address will do as next hop.
	c.central.NBCtl("lr-route-add", router.LR, "0.0.0.0/0", "172.24.4.1")

	p1 := n.Port(public, "fa:16:3e:00:01:10", []string{"172.24.4.10/24", "2001:db8:24::10/64"}, lab.PortOptions{Host: "c1"})
	p2 := n.Port(private, "fa:16:3e:00:02:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c2"})
	p3 := n.Port(private, "fa:16:3e:00:03:10", []string{"10.0.0.20/24"}, lab.PortOptions{Host: "c1"})
	router.FIP(p2, "172.24.4.50", "fa:16:3e:00:00:50", true)
	router.FIP(p3, "172.24.4.51", "fa:16:3e:00:00:51", false)
	router.LoadBalancer("10.0.0.100", 80, private, private, []string{"10.0.0.10"}, "")
	c.central.NBCtl("--wait=sb", "sync")

	w.vm1 = c.l.AddVM(c.central, c.nodes["c1"].ch, p1.ID, p1.MAC, p1.CIDRs, []string{"172.24.4.1", "2001:db8:24::"})
	w.vm2 = c.l.AddVM(c.central, c.nodes["c2"].ch, p2.ID, p2.MAC, p2.CIDRs, []string{"10.0.0.1"})
	w.vm3 = c.l.AddVM(c.central, c.nodes["c1"].ch, p3.ID, p3.MAC, p3.CIDRs, []string{"10.0.0.1"})
	w.dropVM3 = func() {
		c.central.NBCtl("lr-nat-del", router.LR, "dnat_and_snat", "172.24.4.51", "--", "lsp-del", p3.ID)
	}
	w.dropVM1 = func() { c.central.NBCtl("--wait=sb", "lsp-del", p1.ID) }
	return w
}

// bgpUpdatesFrom returns how many UPDATE messages the ToR received from a
// chassis (FRR's per-neighbour message counters).
func (c *cloud) bgpUpdatesFrom(name string) int {
	var out map[string]struct {
		MessageStats struct {
			UpdatesRecv int `json:"updatesRecv"`
		} `json:"messageStats"`
	}
	if err := c.torFRR.VtyshJSON("show bgp neighbors "+c.nodes[name].ip+" json", &out); err != nil {
		c.l.T.Fatalf("ToR neighbour counters: %v", err)
	}
	return out[c.nodes[name].ip].MessageStats.UpdatesRecv
}

// TestAgentAnnouncesEveryKind runs the agent on a gateway and two compute
// chassis and checks that each address kind is announced by the right
// chassis and reachable from the external host.
func TestAgentAnnouncesEveryKind(t *testing.T) {
	for _, b := range workloadBuilders {
		t.Run(b.name, func(t *testing.T) {
			start := time.Now()
			c := b.newCloud(t, nodeSpec{name: "gw", gateway: true}, nodeSpec{name: "c1"}, nodeSpec{name: "c2"})
			defer c.dumpLogs()
			w := b.build(c)
			c.checkEveryKind(t, w, time.Since(start))
		})
	}
}

func (c *cloud) checkEveryKind(t *testing.T, w *workload, built time.Duration) {
	for _, name := range c.names {
		c.startAgent(name)
	}
	agentsUp := time.Now()
	// Reply TTLs: a VM answers with 64; each router on the way back takes
	// one (chassis kernel, ToR, and OVN's logical router for tenant VMs and
	// FIPs).
	cases := []struct {
		what, prefix, via string
		ping              string
		ttl               int
	}{
		{"provider-network VM", "172.24.4.10/32", "c1", "172.24.4.10", 62},
		{"provider-network VM, IPv6", "2001:db8:24::10/128", "c1", "2001:db8:24::10", 62},
		{"FIP of vm2", "172.24.4.50/32", w.via("172.24.4.50/32", "c2"), "172.24.4.50", 61},
		{"FIP of vm3", "172.24.4.51/32", w.via("172.24.4.51/32", "gw"), "172.24.4.51", 61},
		// OVN's logical router answers itself, with TTL 255, decremented by
		// its own pipeline, the gateway chassis and the ToR.
		{"router gateway (cr-lrp)", "172.24.4.100/32", "gw", "172.24.4.100", 252},
		{"tenant VM behind the gateway", "10.0.0.10/32", "gw", "10.0.0.10", 61},
		{"tenant VM behind the gateway (on c1)", "10.0.0.20/32", "gw", "10.0.0.20", 61},
		{"OVN load-balancer VIP", "10.0.0.100/32", "gw", "", 0},
	}
	var report []string
	for _, tc := range cases {
		d := c.waitAnnounced(tc.prefix, tc.via)
		line := fmt.Sprintf("%-38s %-20s via %-3s announced %6s after the agents started", tc.what, tc.prefix, tc.via,
			time.Since(agentsUp).Round(time.Millisecond))
		_ = d
		if tc.ping != "" {
			if ttl := pingTTL(c.l, c.ext, tc.ping); ttl != tc.ttl {
				t.Errorf("%s: ping %s: reply TTL %d, want %d (who answered?)", tc.what, tc.ping, ttl, tc.ttl)
			}
			line += ", ping ok"
		}
		report = append(report, line)
	}
	// Nothing else leaves the chassis: no subnets, no duplicates.
	for _, name := range c.names {
		st, err := c.agentStatus(name)
		if err != nil {
			t.Fatalf("status of %s: %v", name, err)
		}
		if st["ready"] != true {
			t.Errorf("%s: not ready: %v", name, st["last_error"])
		}
	}
	// The VMs reach the outside (egress through the MAC-rewrite flows).
	if ttl := pingTTL(c.l, w.vm1.NS, "198.51.100.10"); ttl != 62 {
		t.Errorf("vm1 -> ext: TTL %d, want 62", ttl)
	}
	t.Logf("lab and workload built in %s\n%s", built.Round(time.Millisecond), strings.Join(report, "\n"))
	if w.after != nil {
		w.after(t)
	}
}

// TestAgentRestartsWithoutFlaps: SIGKILL and restart of the agent, a
// restart of the southbound ovsdb-server, and a port deleted while the
// agent is down.
func TestAgentRestartsWithoutFlaps(t *testing.T) {
	for _, b := range workloadBuilders {
		t.Run(b.name, func(t *testing.T) {
			c := b.newCloud(t, nodeSpec{name: "gw", gateway: true}, nodeSpec{name: "c1"}, nodeSpec{name: "c2"})
			defer c.dumpLogs()
			c.checkRestartsWithoutFlaps(t, b.build(c))
		})
	}
}

func (c *cloud) checkRestartsWithoutFlaps(t *testing.T, w *workload) {
	for _, name := range c.names {
		c.startAgent(name)
	}
	c.waitAnnounced("172.24.4.10/32", "c1")
	c.waitAnnounced("172.24.4.100/32", "gw")
	c.waitAnnounced("172.24.4.50/32", w.via("172.24.4.50/32", "c2"))
	c.waitAnnounced("10.0.0.10/32", "gw")
	// Let the sessions settle, then count UPDATEs per chassis.
	time.Sleep(2 * time.Second)

	// 1. SIGKILL every agent and start it again: the ToR receives no
	// UPDATE at all (no withdrawal, no re-announcement).
	before := map[string]int{}
	for _, name := range c.names {
		before[name] = c.bgpUpdatesFrom(name)
		c.stopAgent(name, syscall.SIGKILL)
	}
	for _, name := range c.names {
		c.startAgent(name)
	}
	for _, name := range c.names {
		c.l.Eventually(60*time.Second, name+" agent ready again", func() bool {
			st, err := c.agentStatus(name)
			return err == nil && st["ready"] == true
		})
	}
	time.Sleep(3 * time.Second)
	for _, name := range c.names {
		if n := c.bgpUpdatesFrom(name); n != before[name] {
			t.Errorf("agent restart on %s: the ToR received %d UPDATE messages, want 0", name, n-before[name])
		}
	}

	// 2. Restart the southbound ovsdb-server; while it is away, delete
	// vm3's port and its floating IP in the NB, as Neutron does (northd
	// applies it when the SB returns).
	for _, name := range c.names {
		before[name] = c.bgpUpdatesFrom(name)
	}
	c.central.SB.Kill()
	time.Sleep(2 * time.Second)
	for _, name := range c.names {
		if n := c.bgpUpdatesFrom(name); n != before[name] {
			t.Errorf("SB down: %s sent %d UPDATE messages, want 0", name, n-before[name])
		}
	}
	w.dropVM3()
	c.central.SB.Restart()
	d := c.waitGone("172.24.4.51/32")
	c.waitGone("10.0.0.20/32")
	t.Logf("SB restarted: the change made while it was away (vm3 deleted) withdrawn %s after the restart", d.Round(time.Millisecond))
	for _, p := range []string{"172.24.4.10/32", "172.24.4.100/32", "172.24.4.50/32", "10.0.0.10/32"} {
		if len(c.torNextHops(p)) == 0 {
			t.Errorf("%s withdrawn after the SB restart", p)
		}
	}

	// 3. Delete a port while c1's agent is down: gone after it starts.
	c.stopAgent("c1", syscall.SIGTERM)
	if len(c.torNextHops("172.24.4.10/32")) == 0 {
		t.Errorf("SIGTERM withdrew 172.24.4.10/32; the default keeps routes announced")
	}
	w.dropVM1()
	c.startAgent("c1")
	d = c.waitGone("172.24.4.10/32")
	t.Logf("port deleted while the agent was down: withdrawn %s after the agent started", d.Round(time.Millisecond))
}

// TestAgentLiveMigration moves a provider-network VM from c1 to c2 the way
// Nova and Neutron do (requested-chassis lists both, then only the
// destination) and measures the ping gap seen by the external host.
func TestAgentLiveMigration(t *testing.T) {
	t.Run("builders", func(t *testing.T) {
		c := newCloud(t, nodeSpec{name: "c1"}, nodeSpec{name: "c2"})
		defer c.dumpLogs()
		n := c.neutron
		public := n.ProviderNetwork("public", "physnet1", 0)
		p := n.Port(public, "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, lab.PortOptions{Host: "c1"})
		vm := c.l.AddVM(c.central, c.nodes["c1"].ch, p.ID, p.MAC, p.CIDRs, []string{"172.24.4.1"})
		c.checkLiveMigration(t, vm,
			// As ML2/OVN writes it (lsp-set-options replaces all options).
			func() {
				c.central.NBCtl("lsp-set-options", p.ID, "requested-chassis=c1,c2", "activation-strategy=rarp")
			},
			func() { c.central.NBCtl("lsp-set-options", p.ID, "requested-chassis=c2") })
	})
	// Through Neutron: Nova's binding:profile migrating_to makes ML2/OVN
	// request the port on both chassis, with activation-strategy=rarp (the
	// destination passes traffic once the VM sends a RARP, as libvirt does
	// after the switch-over; migrateVM's copy sends one), then the binding
	// moves to the destination.
	t.Run("neutron", func(t *testing.T) {
		c := newNeutronCloud(t, nodeSpec{name: "c1"}, nodeSpec{name: "c2"})
		defer c.dumpLogs()
		a := c.api
		a.AllowICMP()
		public := a.ProviderNetwork("public", "physnet1", 0, true)
		pub4 := a.Subnet(public, "public4", "172.24.4.0/24", lab.SubnetOptions{Gateway: "172.24.4.1"})
		p := a.Port(public, "vm1", "fa:16:3e:00:01:10", "c1", []ports.IP{{SubnetID: pub4.ID, IPAddress: "172.24.4.10"}})
		vm := c.l.AddVM(c.central, c.nodes["c1"].ch, p.ID, p.MACAddress, a.IPs(p), []string{"172.24.4.1"})
		c.checkLiveMigration(t, vm, func() { a.StartMigration(p, "c2") }, func() { a.FinishMigration(p, "c2") })
	})
}

// checkLiveMigration migrates vm from c1 to c2 (both: the port requested
// on both chassis; done: on the destination only) and measures the ping
// gap seen by the external host.
func (c *cloud) checkLiveMigration(t *testing.T, vm *lab.VM, both, done func()) {
	for _, name := range c.names {
		c.startAgent(name)
	}
	c.waitAnnounced("172.24.4.10/32", "c1")
	pingTTL(c.l, c.ext, "172.24.4.10")

	// A continuous ping from the external host, 20 per second.
	pinger := startPinger(c.ext, "172.24.4.10", 50*time.Millisecond)
	// Migration: the destination gets the port too (its own VM copy),
	// requested-chassis lists both; then the source is removed.
	both()
	dst := migrateVM(c, vm, "c2")
	sendRARP(c, dst, vm.MAC)
	overlap := time.Now()
	// During the overlap exactly one chassis announces it.
	c.l.Eventually(10*time.Second, "overlap settles", func() bool { return len(c.torNextHops("172.24.4.10/32")) == 1 })
	done()
	c.nodes["c1"].ch.VSCtl("del-port", "br-int", "tap"+shortLSP(vm.LSP))
	moved := c.waitAnnounced("172.24.4.10/32", "c2")
	if ttl := pingTTL(c.l, c.ext, "172.24.4.10"); ttl != 62 {
		t.Errorf("after migration: TTL %d, want 62", ttl)
	}
	time.Sleep(time.Second)
	lost, gap := pinger.stop()
	_ = dst
	t.Logf("live migration: route moved to c2 %s after the switch (%s after both were requested); ping: %d lost, longest gap %s",
		moved.Round(time.Millisecond), time.Since(overlap).Round(time.Millisecond), lost, gap.Round(time.Millisecond))
}

// sendRARP sends the RARP announcement libvirt sends from a migrated VM
// (ethertype 0x8035, "reverse request" for its own MAC): OVN's
// activation-strategy=rarp passes the destination's traffic after it.
func sendRARP(c *cloud, ns *lab.NetNS, mac string) {
	script := `import socket,sys
m=bytes.fromhex(sys.argv[1].replace(':',''))
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)
s.bind(('eth0',0))
s.send(b'\xff'*6+m+b'\x80\x35'+b'\x00\x01\x08\x00\x06\x04\x00\x03'+m+b'\x00'*4+m+b'\x00'*4+b'\x00'*18)`
	if out, err := ns.Try("python3", "-c", script, mac); err != nil {
		c.l.T.Fatalf("RARP from %s: %v: %s", ns.Name, err, out)
	}
}

func shortLSP(lsp string) string {
	tap := "tap" + lsp
	if len(tap) > 15 {
		tap = tap[:15]
	}
	return tap[3:]
}

// migrateVM plugs a copy of vm (same MAC and addresses, its own namespace)
// into the destination chassis' br-int with the same iface-id, as the
// destination hypervisor does during a live migration.
func migrateVM(c *cloud, vm *lab.VM, to string) *lab.NetNS {
	ch := c.nodes[to].ch
	ns := c.l.NetNS(vm.LSP[:8]+"-dst", false)
	tap := "tap" + shortLSP(vm.LSP)
	ch.NS.IP("link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", ns.Name)
	ns.IP("link", "set", "eth0", "address", vm.MAC)
	for _, a := range vm.Addr {
		ns.IP("addr", "add", a, "dev", "eth0")
	}
	ns.IP("link", "set", "eth0", "up")
	ns.IP("route", "add", "default", "via", "172.24.4.1")
	ns.Exec("ethtool", "-K", "eth0", "tx", "off")
	ch.NS.IP("link", "set", tap, "up")
	ch.VSCtl("add-port", "br-int", tap, "--", "set", "Interface", tap, "external_ids:iface-id="+vm.LSP,
		"external_ids:attached-mac="+vm.MAC, "external_ids:iface-status=active")
	return ns
}

// pinger pings continuously and records the replies.
type pinger struct {
	done   chan struct{}
	result chan [2]int64
}

func startPinger(ns *lab.NetNS, dst string, every time.Duration) *pinger {
	p := &pinger{done: make(chan struct{}), result: make(chan [2]int64, 1)}
	go func() {
		var lost int64
		var gap, longest time.Duration
		last := time.Now()
		for {
			select {
			case <-p.done:
				p.result <- [2]int64{lost, int64(longest)}
				return
			default:
			}
			_, err := ns.Try("ping", "-c1", "-W1", "-n", dst)
			if err != nil {
				lost++
			} else {
				gap = time.Since(last)
				if gap > longest {
					longest = gap
				}
				last = time.Now()
			}
			time.Sleep(every)
		}
	}()
	return p
}

func (p *pinger) stop() (lost int, longest time.Duration) {
	close(p.done)
	r := <-p.result
	return int(r[0]), time.Duration(r[1])
}

var _ = json.Marshal

// reloadAgent rewrites the chassis' configuration and sends SIGHUP.
func (c *cloud) reloadAgent(name string) {
	t := c.l.T
	n := c.nodes[name]
	if err := os.WriteFile(n.conf, []byte(c.config(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-n.agent.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// TestAgentSIGHUPWithGoBGP runs the embedded GoBGP speaker and changes
// expose_tenant_networks with SIGHUP, twice: the tenant VM is withdrawn,
// then announced again, the provider VM stays announced throughout, and
// the agent stays ready (the old speaker frees its port for the new one).
func TestAgentSIGHUPWithGoBGP(t *testing.T) {
	c := newCloud(t, nodeSpec{name: "c1", gateway: true, speaker: "gobgp"})
	defer c.dumpLogs()
	// The embedded speaker installs no route in the kernel (FRR installs
	// the ToR's default-originate): the chassis' way back is static.
	c.nodes["c1"].ch.NS.IP("route", "add", "default", "via", "10.0.1.1")
	n := c.neutron
	public := n.ProviderNetwork("public", "physnet1", 0)
	private := n.TenantNetwork("private")
	r := n.Router("router1")
	r.SetGateway(public, "fa:16:3e:00:00:01", "172.24.4.100/24", "c1")
	r.AddInterface(private, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	c.central.NBCtl("lr-route-add", r.LR, "0.0.0.0/0", "172.24.4.1")
	p1 := n.Port(public, "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, lab.PortOptions{Host: "c1"})
	p2 := n.Port(private, "fa:16:3e:00:02:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c1"})
	c.central.NBCtl("--wait=sb", "sync")
	c.l.AddVM(c.central, c.nodes["c1"].ch, p1.ID, p1.MAC, p1.CIDRs, []string{"172.24.4.1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p2.ID, p2.MAC, p2.CIDRs, []string{"10.0.0.1"})
	c.startAgent("c1")
	c.waitAnnounced("172.24.4.10/32", "c1")
	c.waitAnnounced("10.0.0.10/32", "c1")
	if ttl := pingTTL(c.l, c.ext, "10.0.0.10"); ttl != 61 {
		t.Errorf("tenant VM: TTL %d, want 61", ttl)
	}

	c.nodes["c1"].tenants = false
	c.reloadAgent("c1")
	d := c.waitGone("10.0.0.10/32")
	if len(c.torNextHops("172.24.4.10/32")) == 0 {
		t.Error("SIGHUP withdrew the provider VM")
	}
	c.nodes["c1"].tenants = true
	c.reloadAgent("c1")
	d2 := c.waitAnnounced("10.0.0.10/32", "c1")
	c.l.Eventually(30*time.Second, "agent ready after the reloads", func() bool {
		st, err := c.agentStatus("c1")
		return err == nil && st["ready"] == true
	})
	if ttl := pingTTL(c.l, c.ext, "10.0.0.10"); ttl != 61 {
		t.Errorf("tenant VM after the reloads: TTL %d, want 61", ttl)
	}
	t.Logf("SIGHUP expose_tenant_networks=false: withdrawn in %s; =true again: announced in %s",
		d.Round(time.Millisecond), d2.Round(time.Millisecond))
}
