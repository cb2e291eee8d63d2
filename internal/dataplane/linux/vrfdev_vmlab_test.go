//go:build vmlab

package linux

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/plan"
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

// TestVMVRFWire: a tenant VRF of the plan: its devices, the VLAN device of
// its provider network enslaved to it, its exposure routed in its table
// with the VM's neighbour and no rule; a foreign route in that table stays;
// the VNI gone: its route, devices and the enslavement go, the VLAN device
// stays for the bridge.
func TestVMVRFWire(t *testing.T) {
	n := newTestNS(t, "br-ex")
	o := n.options(AnnounceNone)
	o.EVPNLocalIP, o.EVPNUDPPort = netip.MustParseAddr("192.0.2.10"), 4789
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	ctx := context.Background()
	vrfs := []plan.VRF{{Name: "vrf-100", VNI: 100, Table: 100, Ports: []plan.VRFPort{{Bridge: "br-ex", VLAN: 101}}}}
	bridges := []plan.BridgeWiring{{Bridge: "br-ex", Index: 1, VLANs: []int{101}}}
	st := &plan.State{Wiring: plan.Wiring{Bridges: bridges, VRFs: vrfs, Exposures: []plan.Exposure{
		{Prefix: netip.MustParsePrefix("10.0.0.5/32"), VRF: "vrf-100", Bridge: "br-ex", VLAN: 101, MAC: "fa:16:3e:00:01:05", Announce: true},
	}}}
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := r.Unwire(ctx, st); err != nil {
		t.Fatal(err)
	}
	vlan := VLANDeviceName("br-ex", 101)
	vrf := n.link(t, "vrf-100")
	if l := n.link(t, vlan); l.Attrs().MasterIndex != vrf.Attrs().Index {
		t.Errorf("%s not enslaved to vrf-100: master %d", vlan, l.Attrs().MasterIndex)
	}
	if !n.routes(t, 100)["10.0.0.5/32 dev "+vlan+" proto 201"] {
		t.Errorf("table 100: %v", n.routes(t, 100))
	}
	if perm, _ := n.neighbours(t, vlan); perm["10.0.0.5"] != "fa:16:3e:00:01:05" {
		t.Errorf("neighbour on %s: %v", vlan, perm)
	}
	for rule := range n.rules(t) {
		if strings.Contains(rule, "10.0.0.5") {
			t.Errorf("rule for a VRF exposure: %s", rule)
		}
	}
	n.link(t, "br-100")
	n.link(t, "vxlan-100")
	// No link address in the VRF: FRR would announce it to the tenant.
	for a := range n.addrs(t, vlan) {
		if p := netip.MustParsePrefix(a); !p.Addr().IsLinkLocalUnicast() || p.Addr().Is4() {
			t.Errorf("address %s on %s in the tenant VRF", a, vlan)
		}
	}
	// A foreign route in the VRF's table survives a full pass.
	if err := n.h.RouteAdd(&netlink.Route{Dst: ipnet("10.9.9.0/24"), LinkIndex: n.link(t, vlan).Attrs().Index, Table: 100, Protocol: 4}); err != nil {
		t.Fatal(err)
	}
	if err := r.Wire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := r.Unwire(ctx, st); err != nil {
		t.Fatal(err)
	}
	if !n.routes(t, 100)["10.9.9.0/24 dev "+vlan+" proto 4"] {
		t.Errorf("foreign route removed: %v", n.routes(t, 100))
	}
	// The VNI goes.
	gone := &plan.State{Wiring: plan.Wiring{Bridges: bridges}}
	if err := r.Wire(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := r.Unwire(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"vrf-100", "br-100", "vxlan-100"} {
		if _, err := n.h.LinkByName(dev); err == nil {
			t.Errorf("%s left", dev)
		}
	}
	if l := n.link(t, vlan); l.Attrs().MasterIndex != 0 {
		t.Errorf("%s still enslaved: master %d", vlan, l.Attrs().MasterIndex)
	}
	// Back in the underlay: its link addresses again.
	if a := n.addrs(t, vlan); !a["169.254.1.101/32"] {
		t.Errorf("link address missing on %s out of the VRF: %v", vlan, a)
	}
}
