package e2e

import (
	"testing"
	"time"
)

// TestHandWiredProviderVM builds OVN central, one chassis, a ToR router and
// an external host, puts a VM on a flat provider network, wires the chassis
// by hand exactly as ../shared/docs/lab.md step 6 says, and proves with ping
// that the external host reaches the VM and back. The ToR routes the VM IP
// to the chassis with a static route here; TestLabBGPFabric announces it.
//
// The reply's TTL proves the VM answered: 64 - 2 routed hops (chassis
// kernel, ToR) = 62. A chassis kernel answering for the VM would give 63.
func TestHandWiredProviderVM(t *testing.T) {
	start := time.Now()
	f := newFabric(t)
	// The chassis needs a default route: proxy ARP only answers for
	// targets routed through another interface.
	f.c1.NS.IP("route", "add", "default", "via", "10.0.1.1")
	vm := f.providerVM()
	up := time.Since(start)

	f.wireByHand("172.24.4.10")
	f.tor.IP("route", "add", "172.24.4.10/32", "via", "10.0.1.2")
	wired := time.Now()
	if ttl := f.pingTTL(f.ext, "172.24.4.10"); ttl != 62 {
		t.Fatalf("reply TTL %d, want 62 (the VM itself answering through the chassis and the ToR)", ttl)
	}
	took := time.Since(wired)
	// And the VM reaches the external host (egress through the MAC-rewrite flow).
	if ttl := f.pingTTL(vm.NS, "198.51.100.10"); ttl != 62 {
		t.Fatalf("vm1 -> ext: ttl=%d, want 62", ttl)
	}
	t.Logf("lab up in %s (central, chassis, ToR, ext, VM bound); first ping answered %s after wiring; total %s",
		up.Round(time.Millisecond), took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
