package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// fabric is the lab most end-to-end tests start from: OVN central, a ToR
// router, an external host behind it (198.51.100.10) and chassis c1 linked to
// the ToR (10.0.1.2/30).
type fabric struct {
	l       *lab.Lab
	central *lab.Central
	tor     *lab.NetNS
	ext     *lab.NetNS
	c1      *lab.Chassis
}

func newFabric(t *testing.T) *fabric {
	t.Helper()
	f := &fabric{l: lab.New(t)}
	f.central = f.l.StartCentral()
	f.tor = f.l.NetNS("tor", true)
	f.ext = f.l.NetNS("ext", false)
	f.l.Veth(f.tor, "tor-ext", []string{"198.51.100.1/24"}, f.ext, "ext-tor", []string{"198.51.100.10/24"})
	f.ext.IP("route", "add", "default", "via", "198.51.100.1")
	f.c1 = f.l.AddChassis(f.central, "c1", lab.ChassisOptions{EncapIP: "192.0.2.1"})
	f.l.Veth(f.tor, "tor-c1", []string{"10.0.1.1/30"}, f.c1.NS, "c1-tor", []string{"10.0.1.2/30"})
	return f
}

// providerVM puts vm1 (172.24.4.10) on a flat provider network "public"
// on physnet1, bound to c1, and waits until it is up.
func (f *fabric) providerVM() *lab.VM {
	f.central.NBCtl("ls-add", "public",
		"--", "lsp-add", "public", "provnet-public",
		"--", "lsp-set-type", "provnet-public", "localnet",
		"--", "lsp-set-addresses", "provnet-public", "unknown",
		"--", "lsp-set-options", "provnet-public", "network_name=physnet1",
		"--", "lsp-add", "public", "vm1",
		"--", "lsp-set-addresses", "vm1", "fa:16:3e:00:01:10 172.24.4.10",
		"--", "lsp-set-options", "vm1", "requested-chassis=c1")
	return f.l.AddVM(f.central, f.c1, "vm1", "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, []string{"172.24.4.1"})
}

// wireByHand wires c1 for inbound traffic to ip exactly as
// ../shared/docs/lab.md step 6 says: bridge table 200 with a default route
// to br-ex, an ip rule to the IP, its route, proxy ARP on br-ex, and the
// cookie 0x3e7 MAC-rewrite flows for the provider patch port.
func (f *fabric) wireByHand(ip string) {
	c1 := f.c1
	c1.NS.IP("link", "set", "br-ex", "up")
	c1.NS.IP("addr", "add", "169.254.0.1/32", "dev", "br-ex")
	c1.NS.Sysctl("net.ipv4.conf.br-ex.proxy_arp", "1")
	c1.NS.Sysctl("net.ipv4.neigh.br-ex.proxy_delay", "0")
	c1.NS.IP("route", "add", "default", "dev", "br-ex", "table", "200")
	c1.NS.IP("rule", "add", "to", ip+"/32", "lookup", "200", "pref", "1000")
	c1.NS.IP("route", "replace", ip+"/32", "dev", "br-ex", "table", "200")
	ofport := c1.OFPort("patch-provnet-public-to-br-int", 10*time.Second)
	mac := c1.MAC("br-ex")
	for _, proto := range []string{"ip", "ipv6"} {
		c1.OFCtl("add-flow", "br-ex", fmt.Sprintf("cookie=0x3e7,priority=900,%s,in_port=%d,actions=mod_dl_dst:%s,NORMAL", proto, ofport, mac))
	}
}

// pingTTL waits until ping from ns to dst answers and returns the TTL.
func (f *fabric) pingTTL(ns *lab.NetNS, dst string) int {
	var ttl int
	f.l.Eventually(15*time.Second, "ping "+ns.Name+" -> "+dst, func() bool {
		var err error
		ttl, err = ns.Ping(dst)
		return err == nil
	})
	return ttl
}
