//go:build vmlab

package linux

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

func init() { timeScale = 20 }

// These tests need the vrf, dummy and 8021q modules: they run in the
// full-kernel QEMU lab (scripts/test-vm.sh, test/vmlab/run.sh).

// TestVMConnectedMethod: upstream's layout, bgp-vrf (table 10) with the
// bgp-nic dummy, addresses on bgp-nic, and drift repair of both.
func TestVMConnectedMethod(t *testing.T) {
	n := newTestNS(t, "br-ex")
	r := n.reconciler(t, AnnounceConnected)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	if err := r.Wire(ctx, baseState()); err != nil {
		t.Fatal(err)
	}
	<-r.Listening()
	vrf := n.link(t, "bgp-vrf")
	if v, ok := vrf.(*netlink.Vrf); !ok || v.Table != 10 {
		t.Fatalf("bgp-vrf is %T %+v", vrf, vrf)
	}
	nic := n.link(t, "bgp-nic")
	if nic.Type() != "dummy" || nic.Attrs().MasterIndex != vrf.Attrs().Index {
		t.Fatalf("bgp-nic: type %s master %d", nic.Type(), nic.Attrs().MasterIndex)
	}
	addrs := n.addrs(t, "bgp-nic")
	for _, a := range []string{"172.24.4.10/32", "2001:db8:24::10/128", "172.24.4.100/32", "10.0.0.0/24"} {
		if !addrs[a] {
			t.Errorf("missing %s on bgp-nic: %v", a, addrs)
		}
	}
	if addrs["172.24.4.11/32"] {
		t.Error("wire-only exposure announced")
	}
	// The VRF table holds the connected routes FRR redistributes.
	found := false
	for s := range n.routes(t, 10) {
		if strings.HasPrefix(s, "10.0.0.0/24 dev bgp-nic") {
			found = true
		}
	}
	if !found {
		t.Errorf("no connected route for 10.0.0.0/24 in the VRF table: %v", n.routes(t, 10))
	}
	// Drift: an address, then the dummy itself.
	if err := n.h.AddrDel(nic, &netlink.Addr{IPNet: ipnet("172.24.4.10/32")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "address on bgp-nic", func() bool { return n.addrs(t, "bgp-nic")["172.24.4.10/32"] })
	if err := n.h.LinkDel(nic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "re-created bgp-nic with its addresses", func() bool {
		l, err := n.h.LinkByName("bgp-nic")
		return err == nil && l.Attrs().MasterIndex == vrf.Attrs().Index && n.addrs(t, "bgp-nic")["2001:db8:24::10/128"]
	})
	// A foreign address elsewhere stays; ours not needed goes, announce first.
	if err := r.Unwire(ctx, &plan.State{Wiring: plan.Wiring{Bridges: baseState().Wiring.Bridges}}); err != nil {
		t.Fatal(err)
	}
	for a := range n.addrs(t, "bgp-nic") {
		if p := netip.MustParsePrefix(a); !p.Addr().IsLinkLocalUnicast() {
			t.Errorf("address %s left on bgp-nic", a)
		}
	}
}

// TestVMVLANDevices: VLAN devices named within IFNAMSIZ without
// collisions, wired, and removed when no longer needed; a foreign VLAN
// device is left alone.
func TestVMVLANDevices(t *testing.T) {
	n := newTestNS(t, "br-provider1", "br-provider2")
	// A foreign VLAN device on the bridge, with a name outside the rule.
	if err := n.h.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "mine.7", ParentIndex: n.link(t, "br-provider1").Attrs().Index}, VlanId: 7}); err != nil {
		t.Fatal(err)
	}
	r := n.reconciler(t, AnnounceTable)
	ctx := context.Background()
	st := &plan.State{Wiring: plan.Wiring{
		Bridges: []plan.BridgeWiring{
			{Bridge: "br-provider1", Index: 1, VLANs: []int{100, 1001}},
			{Bridge: "br-provider2", Index: 2, VLANs: []int{1001}},
		},
		Exposures: []plan.Exposure{
			{Prefix: netip.MustParsePrefix("172.24.5.10/32"), Bridge: "br-provider1", VLAN: 1001, Announce: true, MAC: "fa:16:3e:00:05:10"},
			{Prefix: netip.MustParsePrefix("172.24.6.10/32"), Bridge: "br-provider2", VLAN: 1001, Announce: true},
		},
	}}
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	n0, n1, n2 := VLANDeviceName("br-provider1", 100), VLANDeviceName("br-provider1", 1001), VLANDeviceName("br-provider2", 1001)
	if n1 == n2 || len(n1) > 15 || len(n2) > 15 {
		t.Fatalf("names %q %q", n1, n2)
	}
	for _, c := range []struct {
		name, parent string
		tag          int
	}{{n0, "br-provider1", 100}, {n1, "br-provider1", 1001}, {n2, "br-provider2", 1001}} {
		l := n.link(t, c.name)
		v, ok := l.(*netlink.Vlan)
		if !ok || v.VlanId != c.tag || v.ParentIndex != n.link(t, c.parent).Attrs().Index {
			t.Errorf("%s: %T %+v", c.name, l, l)
			continue
		}
		if got := n.sysctl(t, "net/ipv4/conf/"+c.name+"/proxy_arp"); got != "1" {
			t.Errorf("%s proxy_arp=%s", c.name, got)
		}
		if got := n.sysctl(t, "net/ipv6/conf/"+c.name+"/proxy_ndp"); got != "1" {
			t.Errorf("%s proxy_ndp=%s", c.name, got)
		}
	}
	if a := n.addrs(t, n0); !a["169.254.1.100/32"] || !a["fd53:d91e:400:7f17::1:64/128"] {
		t.Errorf("link addresses on %s: %v", n0, a)
	}
	if !n.routes(t, 201)["172.24.5.10/32 dev "+n1+" proto 201"] || !n.routes(t, 202)["172.24.6.10/32 dev "+n2+" proto 201"] {
		t.Errorf("VLAN routes: %v %v", n.routes(t, 201), n.routes(t, 202))
	}
	if perm, _ := n.neighbours(t, n1); perm["172.24.5.10"] != "fa:16:3e:00:05:10" {
		t.Errorf("neighbour on %s: %v", n1, perm)
	}
	// VLAN 100 is no longer needed: its device goes; the foreign one stays.
	st.Wiring.Bridges[0].VLANs = []int{1001}
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := r.Unwire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := n.h.LinkByName(n0); err == nil {
		t.Errorf("stale VLAN device %s not removed", n0)
	}
	if _, err := n.h.LinkByName("mine.7"); err != nil {
		t.Errorf("foreign VLAN device removed: %v", err)
	}
	if _, err := n.h.LinkByName(n1); err != nil {
		t.Errorf("needed VLAN device removed: %v", err)
	}
}

func waitFor(t *testing.T, bound time.Duration, what string, ok func() bool) {
	t.Helper()
	bound *= time.Duration(timeScale)
	deadline := time.Now().Add(bound)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVMAdoptBGPNic: upstream's bgp-vrf and bgp-nic with addresses are
// adopted: wanted addresses stay (no flap), stale ones go at Unwire, and
// the address is never removed on the way.
func TestVMAdoptBGPNic(t *testing.T) {
	n := newTestNS(t, "br-ex")
	vrf := &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "bgp-vrf"}, Table: 10}
	if err := n.h.LinkAdd(vrf); err != nil {
		t.Fatal(err)
	}
	nic := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "bgp-nic", MasterIndex: vrf.Index}}
	if err := n.h.LinkAdd(nic); err != nil {
		t.Fatal(err)
	}
	for _, l := range []netlink.Link{vrf, nic} {
		if err := n.h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"172.24.4.10/32", "172.24.4.77/32"} {
		if err := n.h.AddrAdd(nic, &netlink.Addr{IPNet: ipnet(a)}); err != nil {
			t.Fatal(err)
		}
	}
	// Watch for any deletion of the wanted address.
	updates := make(chan netlink.AddrUpdate, 100)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{Namespace: &n.ns}); err != nil {
		t.Fatal(err)
	}
	r := n.reconciler(t, AnnounceConnected)
	ctx := context.Background()
	st := baseState()
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if a := n.addrs(t, "bgp-nic"); !a["172.24.4.10/32"] || !a["172.24.4.77/32"] {
		t.Errorf("Wire flushed upstream's addresses: %v", a)
	}
	if err := r.Unwire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if a := n.addrs(t, "bgp-nic"); !a["172.24.4.10/32"] || a["172.24.4.77/32"] {
		t.Errorf("after Unwire: %v", a)
	}
	for {
		select {
		case u := <-updates:
			if !u.NewAddr && u.LinkAddress.String() == "172.24.4.10/32" {
				t.Fatal("the wanted address was removed on the way (a flap)")
			}
			continue
		default:
		}
		break
	}
	if l := n.link(t, "bgp-nic"); l.Attrs().Index != nic.Index {
		t.Error("bgp-nic was re-created")
	}
}
