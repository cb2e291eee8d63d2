package e2e

import (
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestLabBGPFabric brings up the lab's BGP pieces: FRR on a chassis, FRR on
// the ToR and gobgpd as a second peer. The chassis announces a VM's /32 the
// way ovnbgp's `table` announce method does on a kernel without vrf/dummy
// (route in table 10, FRR `ip import-table 10` + `redistribute table 10`);
// the ToR installs it in its kernel, gobgpd has it in its RIB, and the
// external host reaches the VM through the ToR with no static route.
func TestLabBGPFabric(t *testing.T) {
	start := time.Now()
	f := newFabric(t)
	l, tor, c1 := f.l, f.tor, f.c1
	tgb := l.NetNS("tgb", false)
	l.Veth(tgb, "tgb-c1", []string{"10.0.3.1/30"}, c1.NS, "c1-tgb", []string{"10.0.3.2/30"})

	torFRR := l.StartFRR(tor, `hostname tor
router bgp 65000
 bgp router-id 10.0.1.1
 no bgp ebgp-requires-policy
 neighbor 10.0.1.2 remote-as 64999
 address-family ipv4 unicast
  redistribute connected
  neighbor 10.0.1.2 default-originate
  maximum-paths 8
 exit-address-family
exit
`)
	c1FRR := l.StartFRR(c1.NS, `hostname c1
ip prefix-list only-host-prefixes seq 5 permit 0.0.0.0/0 ge 32
ip import-table 10
router bgp 64999
 bgp router-id 10.0.1.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 10.0.1.1 remote-as 65000
 neighbor 10.0.3.1 remote-as 65001
 address-family ipv4 unicast
  redistribute table 10
  neighbor 10.0.1.1 activate
  neighbor 10.0.1.1 prefix-list only-host-prefixes out
  neighbor 10.0.3.1 activate
  neighbor 10.0.3.1 prefix-list only-host-prefixes out
 exit-address-family
exit
`)
	gobgp := l.StartGoBGP(tgb, 65001, "10.0.3.1", []lab.GoBGPNeighbor{{Address: "10.0.3.2", AS: 64999}})
	est := l.Eventually(20*time.Second, "c1 sessions established", func() bool { return c1FRR.Established() == 2 })
	l.Eventually(20*time.Second, "ToR session established", func() bool { return torFRR.Established() == 1 })
	l.Eventually(10*time.Second, "gobgpd session established", func() bool { return gobgp.NeighborEstablished("10.0.3.2") })
	// The ToR's default-originate gives the chassis its default route
	// (proxy ARP needs one).
	l.Eventually(10*time.Second, "default route from the ToR on c1", func() bool {
		out := c1.NS.IP("route", "show", "default")
		return out != ""
	})

	f.providerVM()
	up := time.Since(start)
	f.wireByHand("172.24.4.10")
	announced := time.Now()
	c1.NS.IP("route", "replace", "172.24.4.10/32", "dev", "br-ex", "table", "10", "proto", "201")

	toGoBGP := l.Eventually(10*time.Second, "172.24.4.10/32 in gobgpd's RIB", func() bool {
		rib, err := gobgp.RIB("ipv4")
		return err == nil && len(rib["172.24.4.10/32"]) > 0
	})
	toToR := l.Eventually(10*time.Second, "172.24.4.10/32 in the ToR kernel", func() bool {
		out := tor.IP("route", "show", "172.24.4.10/32")
		return out != ""
	})
	rib, _ := gobgp.RIB("ipv4")
	for p := range rib {
		if p != "172.24.4.10/32" {
			t.Errorf("gobgpd received %s: only host routes may leave the chassis", p)
		}
	}
	if ttl := f.pingTTL(f.ext, "172.24.4.10"); ttl != 62 {
		t.Fatalf("reply TTL %d, want 62 (the VM answering)", ttl)
	}

	// Withdraw: the route leaves the ToR.
	c1.NS.IP("route", "del", "172.24.4.10/32", "table", "10")
	withdrawn := l.Eventually(10*time.Second, "withdraw at the ToR", func() bool {
		return tor.IP("route", "show", "172.24.4.10/32") == ""
	})
	t.Logf("lab up %s (BGP established %s after FRR start); announce -> gobgpd RIB %s, -> ToR kernel %s (after wiring at %s); withdraw -> ToR %s",
		up.Round(time.Millisecond), est.Round(time.Millisecond), toGoBGP.Round(time.Millisecond), toToR.Round(time.Millisecond),
		announced.Sub(start).Round(time.Millisecond), withdrawn.Round(time.Millisecond))
}
