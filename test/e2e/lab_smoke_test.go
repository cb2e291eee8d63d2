package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestHandWiredProviderVM builds OVN central, one chassis, a ToR router and
// an external host, puts a VM on a flat provider network, wires the chassis
// by hand exactly as ../shared/docs/lab.md step 6 says (ip rule to the VM IP,
// route in the bridge table, proxy ARP on br-ex, forwarding, the cookie
// 0x3e7 MAC-rewrite flows on br-ex), and proves with ping that the external
// host reaches the VM and back. The ToR routes the VM IP to the chassis with
// a static route here; announcing it over BGP is the agent's job and is
// tested with the speakers.
//
// The reply's TTL proves the VM answered: 64 - 2 routed hops (chassis
// kernel, ToR) = 62. A chassis kernel answering for the VM would give 63.
func TestHandWiredProviderVM(t *testing.T) {
	start := time.Now()
	l := lab.New(t)
	central := l.StartCentral()

	tor := l.NetNS("tor", true)
	ext := l.NetNS("ext", false)
	l.Veth(tor, "tor-ext", []string{"198.51.100.1/24"}, ext, "ext-tor", []string{"198.51.100.10/24"})
	ext.IP("route", "add", "default", "via", "198.51.100.1")

	c1 := l.AddChassis(central, "c1", lab.ChassisOptions{EncapIP: "192.0.2.1"})
	l.Veth(tor, "tor-c1", []string{"10.0.1.1/30"}, c1.NS, "c1-tor", []string{"10.0.1.2/30"})
	// The chassis needs a default route: proxy ARP only answers for
	// targets routed through another interface.
	c1.NS.IP("route", "add", "default", "via", "10.0.1.1")

	// A Neutron-like flat provider network with one VM port on c1.
	central.NBCtl("ls-add", "public",
		"--", "lsp-add", "public", "provnet-public",
		"--", "lsp-set-type", "provnet-public", "localnet",
		"--", "lsp-set-addresses", "provnet-public", "unknown",
		"--", "lsp-set-options", "provnet-public", "network_name=physnet1",
		"--", "lsp-add", "public", "vm1",
		"--", "lsp-set-addresses", "vm1", "fa:16:3e:00:01:10 172.24.4.10",
		"--", "lsp-set-options", "vm1", "requested-chassis=c1")
	vm := l.AddVM(central, c1, "vm1", "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, []string{"172.24.4.1"})
	up := time.Since(start)

	// Hand wiring (lab.md step 6), bridge table 200.
	c1.NS.IP("link", "set", "br-ex", "up")
	c1.NS.IP("addr", "add", "169.254.0.1/32", "dev", "br-ex")
	c1.NS.Sysctl("net.ipv4.conf.br-ex.proxy_arp", "1")
	c1.NS.Sysctl("net.ipv4.neigh.br-ex.proxy_delay", "0")
	c1.NS.IP("route", "add", "default", "dev", "br-ex", "table", "200")
	c1.NS.IP("rule", "add", "to", "172.24.4.10/32", "lookup", "200", "pref", "1000")
	c1.NS.IP("route", "replace", "172.24.4.10/32", "dev", "br-ex", "table", "200")
	ofport := c1.OFPort("patch-provnet-public-to-br-int", 10*time.Second)
	mac := c1.MAC("br-ex")
	for _, proto := range []string{"ip", "ipv6"} {
		c1.OFCtl("add-flow", "br-ex", fmt.Sprintf("cookie=0x3e7,priority=900,%s,in_port=%d,actions=mod_dl_dst:%s,NORMAL", proto, ofport, mac))
	}
	tor.IP("route", "add", "172.24.4.10/32", "via", "10.0.1.2")

	var ttl int
	took := l.Eventually(15*time.Second, "ping ext -> vm1", func() bool {
		var err error
		ttl, err = ext.Ping("172.24.4.10")
		return err == nil
	})
	if ttl != 62 {
		t.Fatalf("reply TTL %d, want 62 (the VM itself answering through the chassis and the ToR)", ttl)
	}
	// And the VM reaches the external host (egress through the MAC-rewrite flow).
	if ttl, err := vm.NS.Ping("198.51.100.10"); err != nil || ttl != 62 {
		t.Fatalf("vm1 -> ext: ttl=%d err=%v", ttl, err)
	}
	t.Logf("lab up in %s (central, chassis, ToR, ext, VM bound); first ping answered %s after wiring; total %s",
		up.Round(time.Millisecond), took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
