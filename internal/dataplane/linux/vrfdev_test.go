package linux

import (
	"net/netip"
	"strings"
	"testing"
)

func TestEVPNDeviceNames(t *testing.T) {
	for _, vni := range []uint32{1, 100, 16777215} {
		v, b, x := EVPNDeviceNames(vni)
		for _, n := range []string{v, b, x} {
			if len(n) > ifNameMax {
				t.Errorf("VNI %d: %q longer than %d", vni, n, ifNameMax)
			}
		}
	}
	if v, b, x := EVPNDeviceNames(1001); v != "vrf-1001" || b != "br-1001" || x != "vxlan-1001" {
		t.Errorf("upstream names: %s %s %s", v, b, x)
	}
}

// TestVRFDeviceValidate: what the kernel cannot take is refused with the
// VRF named; a name is never cut.
func TestVRFDeviceValidate(t *testing.T) {
	ok := VRFDevice{Name: "vrf-5", Table: 5, VNI: 5, Bridge: "br-5", VXLAN: "vxlan-5", Local: netip.MustParseAddr("192.0.2.1"), Port: 4789}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(d *VRFDevice)
		want string
	}{
		{"long vrf name", func(d *VRFDevice) { d.Name = "vrf-tenant-abcdef" }, "1..15 characters"},
		{"long bridge name", func(d *VRFDevice) { d.Bridge = "bridge-of-vni-5x" }, "1..15 characters"},
		{"no vxlan name", func(d *VRFDevice) { d.VXLAN = "" }, "1..15 characters"},
		{"table 0", func(d *VRFDevice) { d.Table = 0 }, "reserved"},
		{"main table", func(d *VRFDevice) { d.Table = 254 }, "reserved"},
		{"vni too large", func(d *VRFDevice) { d.VNI = 1 << 24 }, "outside 1..16777215"},
		{"no local", func(d *VRFDevice) { d.Local = netip.Addr{} }, "evpn_local_ip"},
		{"no port", func(d *VRFDevice) { d.Port = 0 }, "port"},
	} {
		d := ok
		tc.mod(&d)
		if err := d.validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), d.Name) {
			t.Errorf("%s: %v, want %q naming %s", tc.name, err, tc.want, d.Name)
		}
	}
	plain := VRFDevice{Name: "ovnvrf7", Table: 7}
	if err := plain.validate(); err != nil {
		t.Errorf("VRF without VNI: %v", err)
	}
}
