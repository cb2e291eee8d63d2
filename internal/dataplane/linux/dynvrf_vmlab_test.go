//go:build vmlab

package linux

import (
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestVMDynamicVRFs: exposing_method = dynamic's VRF devices on a real
// kernel. ovnbgp creates (and marks) the VRF OVN does not maintain and
// puts its routing interface in it; a VRF OVN maintains is only used once
// it exists (its interface enslaved then); a foreign VRF of the wanted
// name and table is used and never deleted; a device of a wanted name that
// is no VRF is an error and stays; Unwire deletes only ovnbgp's VRFs that
// are no longer wanted, releasing their interfaces.
func TestVMDynamicVRFs(t *testing.T) {
	n := newTestNS(t)
	for _, d := range []string{"bgp-eth1", "bgp-eth2", "bgp-eth3", "notavrf"} {
		if err := n.h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: d}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.h.LinkAdd(&netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "foreign7"}, Table: 7}); err != nil {
		t.Fatal(err)
	}
	ns := n.ns
	d, err := NewDynVRFs(&ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := []DynVRF{
		{Name: "ovnvrf42", Table: 42, Create: true, Slaves: []string{"bgp-eth1", "missing0"}},
		{Name: "ovnvrf10", Table: 10, Slaves: []string{"bgp-eth2"}}, // OVN maintains it
		{Name: "foreign7", Table: 7, Create: true, Slaves: []string{"bgp-eth3"}},
		{Name: "notavrf", Table: 8, Create: true},
	}
	err = d.Wire(want)
	if err == nil || !strings.Contains(err.Error(), "notavrf exists but is not a VRF") {
		t.Fatalf("Wire: want the error naming notavrf, got %v", err)
	}
	vrf := n.link(t, "ovnvrf42")
	if v, ok := vrf.(*netlink.Vrf); !ok || v.Table != 42 || v.Attrs().Alias != DynVRFAlias || v.Attrs().OperState == netlink.OperDown {
		t.Fatalf("ovnvrf42: %T %+v", vrf, vrf.Attrs())
	}
	if m := n.link(t, "bgp-eth1").Attrs().MasterIndex; m != vrf.Attrs().Index {
		t.Errorf("bgp-eth1 master %d, want ovnvrf42 (%d)", m, vrf.Attrs().Index)
	}
	if _, err := n.h.LinkByName("ovnvrf10"); err == nil {
		t.Error("ovnvrf10 created although OVN maintains it")
	}
	if m := n.link(t, "bgp-eth3").Attrs().MasterIndex; m != n.link(t, "foreign7").Attrs().Index {
		t.Error("bgp-eth3 not put in the foreign VRF of the wanted name and table")
	}
	if a := n.link(t, "foreign7").Attrs().Alias; a != "" {
		t.Errorf("the foreign VRF was marked %q", a)
	}
	if n.link(t, "notavrf").Type() != "dummy" {
		t.Error("notavrf was replaced")
	}

	// ovn-controller creates ovnvrf10: the next pass enslaves bgp-eth2.
	if err := n.h.LinkAdd(&netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "ovnvrf10"}, Table: 10}); err != nil {
		t.Fatal(err)
	}
	_ = d.Wire(want[:3])
	if m := n.link(t, "bgp-eth2").Attrs().MasterIndex; m != n.link(t, "ovnvrf10").Attrs().Index {
		t.Error("bgp-eth2 not put in ovnvrf10 once OVN created it")
	}
	owned, err := d.Owned()
	if err != nil || len(owned) != 1 || owned[0] != "ovnvrf42" {
		t.Fatalf("Owned = %v, %v; want [ovnvrf42]", owned, err)
	}

	// Everything goes (the routers moved away): only ovnvrf42 is deleted.
	if err := d.Unwire(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.h.LinkByName("ovnvrf42"); err == nil {
		t.Error("ovnvrf42 still there")
	}
	for _, name := range []string{"ovnvrf10", "foreign7", "bgp-eth1", "notavrf"} {
		n.link(t, name) // fails the test when gone
	}
	if m := n.link(t, "bgp-eth1").Attrs().MasterIndex; m != 0 {
		t.Errorf("bgp-eth1 still has master %d", m)
	}
}
