//go:build vmlab

package frr

import (
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/linux"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestVMLabDynamicVRFRoutes: the FRR configuration of exposing_method =
// dynamic in a real VRF (full kernel): routes as OVN writes them into the
// VRF's table (blackhole, protocol ovn 84, metric 1000), one written
// before the VRF device existed (OVN may write before ovnbgp creates the
// VRF: ovnbgp's DynVRFs then notifies it again, without which FRR 10.3
// never redistributes it) and one after, reach the ToR over the VRF's routing interface (BGP
// unnumbered); a kernel route of another metric in the same table does
// not; the ToR's default route comes back into the VRF's table.
func TestVMLabDynamicVRFRoutes(t *testing.T) {
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	tor := l.NetNS("tor", true)
	l.Veth(c1, "c1-tor", nil, tor, "tor-c1", nil)
	start := l.StartFRR // FRR 8.4 and 10 alike (test/lab starts mgmtd where FRR has it)
	torFRR := start(tor, lab.ToRUnnumbered(65000, "10.255.0.1", "tor-c1"))
	// As in production: FRR runs; ovn-controller writes a route into the
	// table before the VRF exists; then ovnbgp creates the VRF, puts the
	// routing interface in it and configures FRR.
	f := start(c1, "hostname c1\n")
	c1.IP("route", "add", "blackhole", "203.0.113.5/32", "table", "42", "proto", "84", "metric", "1000")
	ns, err := netns.GetFromName(c1.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	vrfs, err := linux.NewDynVRFs(&ns, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer vrfs.Close()
	if err := vrfs.Wire([]linux.DynVRF{{Name: "ovnvrf42", Table: 42, Create: true, Slaves: []string{"c1-tor"}}}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.ExposingMethod = config.ExposingDynamic
	cfg.BGPRouterID = "10.255.0.2"
	s := speakerFor(t, f, cfg, "-")
	s.dynamic = []DynamicVRF{{Name: "ovnvrf42", Interfaces: []string{"c1-tor"}}}
	if err := s.Apply(t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("c1 zebra:\n%s", f.Vtysh("show ip route vrf ovnvrf42"))
			t.Logf("c1 bgp:\n%s", f.Vtysh("show bgp vrf ovnvrf42 ipv4 unicast"))
			t.Logf("c1 running-config:\n%s", f.Vtysh("show running-config"))
			t.Logf("tor:\n%s", torFRR.Vtysh("show bgp ipv4 unicast"))
		}
	})
	l.Eventually(120*time.Second, "session in the VRF", func() bool { return torFRR.Established() == 1 })
	c1.IP("route", "add", "blackhole", "203.0.113.6/32", "vrf", "ovnvrf42", "proto", "84", "metric", "1000")
	c1.IP("route", "add", "198.51.100.7/32", "dev", "c1-tor", "vrf", "ovnvrf42", "proto", "84")
	atToR := func(p string) bool { return strings.Contains(tor.IP("route", "show", p), strings.TrimSuffix(p, "/32")) }
	l.Eventually(120*time.Second, "OVN's routes at the ToR", func() bool { return atToR("203.0.113.5/32") && atToR("203.0.113.6/32") })
	if atToR("198.51.100.7/32") {
		t.Error("a kernel route of another metric reached the ToR")
	}
	l.Eventually(120*time.Second, "the ToR's default route in the VRF table", func() bool {
		return strings.Contains(c1.IP("route", "show", "table", "42"), "default")
	})
}
