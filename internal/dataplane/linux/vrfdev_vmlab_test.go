//go:build vmlab

package linux

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// tenantDevices is the VRF of VNI vni as the vrf exposing method wants it.
func tenantDevices(vni uint32) VRFDevice {
	v, b, x := EVPNDeviceNames(vni)
	return VRFDevice{Name: v, Table: vni, VNI: vni, Bridge: b, VXLAN: x, Local: netip.MustParseAddr("192.0.2.10"), Port: 4789}
}

// TestVMVRFDevices: the VRF, bridge and VXLAN devices of two L3VNIs and a
// VRF without VNI are created with ovnbgp's alias, enslaved and up; drift
// (a device deleted, a VXLAN of ours re-made with another local address,
// a master taken away) is repaired by the next Wire; upstream's devices
// of the right shape are adopted; a foreign device of the wanted name and
// another shape is left alone and its VRF reported while the others are
// served; Unwire deletes only ovnbgp's devices no longer wanted, and keeps
// the VRFs with keepVRFs.
func TestVMVRFDevices(t *testing.T) {
	n := newTestNS(t)
	r := n.reconciler(t, AnnounceTable)
	a, b := tenantDevices(100), tenantDevices(16777215)
	plain := VRFDevice{Name: "ovnvrf7", Table: 7}
	// Upstream left vrf-100 behind (no alias): adopted.
	if err := n.h.LinkAdd(&netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "vrf-100"}, Table: 100}); err != nil {
		t.Fatal(err)
	}
	// Someone else's dummy holds br-300: VNI 300 is refused, not touched.
	if err := n.h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "br-300"}}); err != nil {
		t.Fatal(err)
	}
	// A foreign VRF that ovnbgp never wanted: never deleted.
	if err := n.h.LinkAdd(&netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: "vrf-999"}, Table: 999}); err != nil {
		t.Fatal(err)
	}
	c := tenantDevices(300)
	err := r.WireVRFs([]VRFDevice{a, b, c, plain})
	if err == nil || !strings.Contains(err.Error(), "br-300 exists with another shape") {
		t.Fatalf("WireVRFs: %v, want the br-300 refusal", err)
	}
	check := func(d VRFDevice) {
		t.Helper()
		vrf := n.link(t, d.Name)
		if v, ok := vrf.(*netlink.Vrf); !ok || v.Table != d.Table || v.Attrs().Alias != DeviceAlias || v.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s: %T %+v", d.Name, vrf, vrf.Attrs())
		}
		if d.VNI == 0 {
			return
		}
		br := n.link(t, d.Bridge)
		if br.Type() != "bridge" || br.Attrs().MasterIndex != vrf.Attrs().Index || br.Attrs().Alias != DeviceAlias || br.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s: %s %+v", d.Bridge, br.Type(), br.Attrs())
		}
		l := n.link(t, d.VXLAN)
		vx, ok := l.(*netlink.Vxlan)
		if !ok || vx.VxlanId != int(d.VNI) || !vx.SrcAddr.Equal(net.IP(d.Local.AsSlice())) || vx.Port != d.Port || vx.Learning ||
			vx.Attrs().MasterIndex != br.Attrs().Index || vx.Attrs().Alias != DeviceAlias {
			t.Errorf("%s: %T %+v", d.VXLAN, l, l)
		}
		if pi, err := n.h.LinkGetProtinfo(l); err != nil || pi.Learning || !pi.NeighSuppress {
			t.Errorf("%s bridge port: %+v %v (want learning off, neigh_suppress on)", d.VXLAN, pi, err)
		}
	}
	for _, d := range []VRFDevice{a, b, plain} {
		check(d)
	}
	if l := n.link(t, "br-300"); l.Type() != "dummy" || l.Attrs().Alias == DeviceAlias {
		t.Errorf("foreign br-300 touched: %s %+v", l.Type(), l.Attrs())
	}

	// Drift: a bridge deleted, a VXLAN taken off its bridge.
	if err := n.h.LinkDel(n.link(t, b.Bridge)); err != nil {
		t.Fatal(err)
	}
	if err := n.h.LinkSetNoMaster(n.link(t, a.VXLAN)); err != nil {
		t.Fatal(err)
	}
	if err := r.WireVRFs([]VRFDevice{a, b, plain}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []VRFDevice{a, b, plain} {
		check(d)
	}
	// The local address changed: ovnbgp's VXLAN device is replaced.
	a2 := a
	a2.Local = netip.MustParseAddr("192.0.2.11")
	if err := r.WireVRFs([]VRFDevice{a2, b, plain}); err != nil {
		t.Fatal(err)
	}
	check(a2)

	// VNI 16777215 goes, VRFs kept (delete_vrf_on_disconnect = false).
	if err := r.UnwireVRFs([]VRFDevice{a2, plain}, true); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{b.Bridge, b.VXLAN} {
		if _, err := n.h.LinkByName(gone); err == nil {
			t.Errorf("%s left", gone)
		}
	}
	n.link(t, b.Name)
	// Everything goes; the foreign devices stay.
	if err := r.UnwireVRFs(nil, false); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{a.Name, a.Bridge, a.VXLAN, b.Name, plain.Name} {
		if _, err := n.h.LinkByName(gone); err == nil {
			t.Errorf("%s left", gone)
		}
	}
	n.link(t, "vrf-999")
	n.link(t, "br-300")
}
