package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vishvananda/netlink"
)

// VRF devices: a VRF per tenant and, for an L3VNI (EVPN type-5), the bridge
// and VXLAN device that carry its routed traffic. Generic: EVPN
// (exposing_method = vrf) asks for all three, a driver that only needs a
// VRF (OVN dynamic routing) leaves VNI at 0.
//
// Ownership: every device ovnbgp creates carries the alias DeviceAlias
// (`ip link show` prints it), and only devices with that alias are ever
// deleted. A device of the wanted name and shape that lacks it (upstream's
// vrf-<vni>, br-<vni>, vxlan-<vni> after a switch) is adopted: the alias
// is set and ovnbgp manages it from then on. A device of the wanted name
// and another shape that is not ovnbgp's is reported and left alone; its
// VRF is not served, the others are. One of ovnbgp's own of the wrong
// shape (a VXLAN whose local address changed) is replaced.

// DeviceAlias marks the devices ovnbgp created or adopted (IFLA_IFALIAS).
const DeviceAlias = "ovnbgp"

// VRFDevice is one VRF and its EVPN devices as the kernel must have them.
type VRFDevice struct {
	Name  string // VRF device
	Table uint32 // its routing table
	// VNI is the L3VNI; 0 means a VRF without bridge and VXLAN device.
	VNI    uint32
	Bridge string     // bridge enslaved to the VRF, holding the VXLAN device
	VXLAN  string     // VXLAN device (learning off, neighbour suppression on)
	Local  netip.Addr // VXLAN source address (evpn_local_ip)
	Port   int        // VXLAN UDP destination port (evpn_udp_dstport)
}

// EVPNDeviceNames are upstream's names of the devices of an L3VNI:
// vrf-<vni>, br-<vni>, vxlan-<vni>. The longest, vxlan-16777215, is 14
// characters, so no VNI gives a name longer than IFNAMSIZ allows.
func EVPNDeviceNames(vni uint32) (vrf, bridge, vxlan string) {
	s := strconv.FormatUint(uint64(vni), 10)
	return "vrf-" + s, "br-" + s, "vxlan-" + s
}

// validate reports a device spec the kernel cannot take. Names are never
// cut: a name longer than 15 characters is refused.
func (d VRFDevice) validate() error {
	names := []string{d.Name}
	if d.VNI != 0 {
		names = append(names, d.Bridge, d.VXLAN)
	}
	for _, n := range names {
		if n == "" || len(n) > ifNameMax {
			return fmt.Errorf("VRF %s: device name %q must be 1..%d characters", d.Name, n, ifNameMax)
		}
	}
	if d.Table == 0 || d.Table >= 253 && d.Table <= 255 {
		return fmt.Errorf("VRF %s: table %d is reserved", d.Name, d.Table)
	}
	if d.VNI != 0 {
		if d.VNI > 1<<24-1 {
			return fmt.Errorf("VRF %s: VNI %d outside 1..16777215", d.Name, d.VNI)
		}
		if !d.Local.IsValid() {
			return fmt.Errorf("VRF %s: VNI %d needs a VXLAN local address (evpn_local_ip)", d.Name, d.VNI)
		}
		if d.Port < 1 || d.Port > 65535 {
			return fmt.Errorf("VRF %s: VXLAN port %d", d.Name, d.Port)
		}
	}
	return nil
}

// WireVRFs creates, adopts and repairs the devices of want, each VRF on its
// own: a VRF that cannot be wired is reported in the error and the others
// are. It deletes nothing but one of its own devices of the wrong shape,
// which it replaces.
func (r *Reconciler) WireVRFs(want []VRFDevice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.wireVRFs(want)
	return err
}

// wireVRFs is WireVRFs with the lock held; ok names the VRFs wired.
func (r *Reconciler) wireVRFs(want []VRFDevice) (ok map[string]netlink.Link, err error) {
	ok = map[string]netlink.Link{}
	links, err := r.linksByName()
	if err != nil {
		return ok, err
	}
	var errs []error
	names := map[string]string{}
	for _, d := range want {
		if err := d.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		dup := ""
		for _, n := range []string{d.Name, d.Bridge, d.VXLAN} {
			if o, ok := names[n]; ok && n != "" {
				dup = o
			}
		}
		if dup != "" {
			errs = append(errs, fmt.Errorf("VRF %s: a device name is also wanted by VRF %s", d.Name, dup))
			continue
		}
		for _, n := range []string{d.Name, d.Bridge, d.VXLAN} {
			if n != "" {
				names[n] = d.Name
			}
		}
		if err := r.wireVRF(links, d); err != nil {
			errs = append(errs, err)
			metricErrors.WithLabelValues("vrf").Inc()
			continue
		}
		ok[d.Name] = links[d.Name]
	}
	return ok, errors.Join(errs...)
}

// UnwireVRFs deletes ovnbgp's VRF, bridge and VXLAN devices that want does
// not name (VXLAN devices first, then bridges, then VRFs); with keepVRFs
// (delete_vrf_on_disconnect = false) the VRF devices stay.
func (r *Reconciler) UnwireVRFs(want []VRFDevice, keepVRFs bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unwireVRFs(want, keepVRFs)
}

func (r *Reconciler) unwireVRFs(want []VRFDevice, keepVRFs bool) error {
	links, err := r.linksByName()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, d := range want {
		keep[d.Name], keep[d.Bridge], keep[d.VXLAN] = true, true, true
	}
	var errs []error
	for _, kind := range []string{"vxlan", "bridge", "vrf"} {
		if kind == "vrf" && keepVRFs {
			continue
		}
		var stale []string
		for name, l := range links {
			if l.Type() == kind && l.Attrs().Alias == DeviceAlias && !keep[name] {
				stale = append(stale, name)
			}
		}
		slices.Sort(stale)
		for _, name := range stale {
			if err := r.h.LinkDel(links[name]); err != nil {
				errs = append(errs, fmt.Errorf("delete %s %s: %w", kind, name, err))
				continue
			}
			r.log.Info("linux: deleted device", "kind", kind, "name", name)
		}
	}
	return errors.Join(errs...)
}

func (r *Reconciler) linksByName() (map[string]netlink.Link, error) {
	ls, err := r.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	m := make(map[string]netlink.Link, len(ls))
	for _, l := range ls {
		m[l.Attrs().Name] = l
	}
	return m, nil
}

// wireVRF makes one VRF's devices match d.
func (r *Reconciler) wireVRF(links map[string]netlink.Link, d VRFDevice) error {
	vrf, err := r.ensureDevice(links, d.Name, func(l netlink.Link) bool {
		v, ok := l.(*netlink.Vrf)
		return ok && v.Table == d.Table
	}, func() netlink.Link {
		return &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: d.Name}, Table: d.Table}
	}, 0)
	if err != nil {
		return fmt.Errorf("VRF %s (table %d): %w", d.Name, d.Table, err)
	}
	if d.VNI == 0 {
		return nil
	}
	vrfIdx := vrf.Attrs().Index
	br, err := r.ensureDevice(links, d.Bridge, func(l netlink.Link) bool {
		_, ok := l.(*netlink.Bridge)
		return ok
	}, func() netlink.Link {
		return &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: d.Bridge}}
	}, vrfIdx)
	if err != nil {
		return fmt.Errorf("VRF %s: bridge %s: %w", d.Name, d.Bridge, err)
	}
	local := net.IP(d.Local.AsSlice())
	vx, err := r.ensureDevice(links, d.VXLAN, func(l netlink.Link) bool {
		v, ok := l.(*netlink.Vxlan)
		return ok && v.VxlanId == int(d.VNI) && v.SrcAddr.Equal(local) && v.Port == d.Port && !v.Learning
	}, func() netlink.Link {
		return &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: d.VXLAN}, VxlanId: int(d.VNI), SrcAddr: local, Port: d.Port, Learning: false}
	}, br.Attrs().Index)
	if err != nil {
		return fmt.Errorf("VRF %s: VXLAN %s (VNI %d, local %s, port %d): %w", d.Name, d.VXLAN, d.VNI, d.Local, d.Port, err)
	}
	// Bridge port flags of the VXLAN device: MACs come from EVPN, not from
	// flooding; ARP/ND answered from EVPN entries. Re-setting them is
	// idempotent and cheap, so no read-back.
	if err := r.h.LinkSetLearning(vx, false); err != nil {
		return fmt.Errorf("VRF %s: %s learning off: %w", d.Name, d.VXLAN, err)
	}
	if err := r.h.LinkSetBrNeighSuppress(vx, true); err != nil {
		return fmt.Errorf("VRF %s: %s neigh_suppress on: %w", d.Name, d.VXLAN, err)
	}
	return nil
}

// ensureDevice returns device name, created (with ovnbgp's alias) when
// missing, adopted when it has the right shape, replaced when it is
// ovnbgp's and has the wrong one, refused otherwise; then enslaved to
// master (0: none) and set up.
func (r *Reconciler) ensureDevice(links map[string]netlink.Link, name string, shape func(netlink.Link) bool, build func() netlink.Link, master int) (netlink.Link, error) {
	l, ok := links[name]
	if ok && !shape(l) {
		if l.Attrs().Alias != DeviceAlias {
			return nil, fmt.Errorf("device %s exists with another shape (type %s) and is not ovnbgp's: left alone", name, l.Type())
		}
		if err := r.h.LinkDel(l); err != nil {
			return nil, fmt.Errorf("replace %s: %w", name, err)
		}
		r.log.Info("linux: replacing device of the wrong shape", "name", name, "type", l.Type())
		ok = false
	}
	if !ok {
		nl := build()
		nl.Attrs().MasterIndex = master
		if err := r.h.LinkAdd(nl); err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		created, err := r.h.LinkByName(name)
		if err != nil {
			return nil, fmt.Errorf("read back: %w", err)
		}
		l = created
		r.log.Info("linux: created device", "name", name, "type", l.Type())
	}
	if l.Attrs().Alias != DeviceAlias {
		if err := r.h.LinkSetAlias(l, DeviceAlias); err != nil {
			return nil, fmt.Errorf("set alias: %w", err)
		}
	}
	if master != 0 && l.Attrs().MasterIndex != master {
		if err := r.h.LinkSetMasterByIndex(l, master); err != nil {
			return nil, fmt.Errorf("enslave: %w", err)
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := r.h.LinkSetUp(l); err != nil {
			return nil, fmt.Errorf("set up: %w", err)
		}
	}
	links[name] = l
	return l, nil
}
