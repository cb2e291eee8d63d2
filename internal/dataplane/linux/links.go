package linux

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Links and bridges: the VRF, dummy and VLAN devices and the provider bridges.

func (r *Reconciler) dumpLinks() error {
	links := map[string]linkInfo{}
	hdr := make([]byte, 16)
	err := r.c.dumpRetry(unix.RTM_GETLINK, hdr, func() { clear(links) }, func(typ uint16, msg []byte) {
		if l, ok := parseLink(msg); ok {
			links[l.name] = l
		}
	})
	if err != nil {
		return fmt.Errorf("dump links: %w", err)
	}
	r.links = links
	return nil
}

// setupBridges computes the bridge tables, writes ovnbgp.conf, creates the
// VRF, dummy and VLAN devices that are missing, sets the provider devices
// up and their sysctls. It refreshes the link index.
func (r *Reconciler) setupBridges(bridges []plan.BridgeWiring, es *errSet) {
	r.bridges = append([]plan.BridgeWiring(nil), bridges...)
	sort.Slice(r.bridges, func(i, j int) bool { return r.bridges[i].Bridge < r.bridges[j].Bridge })
	if err := r.dumpLinks(); err != nil {
		es.add("dump", err)
		return
	}
	rt, err := readRTTables(r.o.RTTablesDir)
	if err != nil {
		es.add("rt_tables", err)
		rt = &rtTables{byName: map[string]int{}, byID: map[int]string{}, from: map[string]string{}}
	}
	own := ownFile(r.o.RTTablesDir)
	clear(r.tables)
	r.ownTables = readOwnTables(r.o.RTTablesDir)
	reserved := map[int]string{0: "unspec", 253: "default", 254: "main", 255: "local"}
	if r.o.AnnounceMethod == AnnounceConnected {
		reserved[r.o.BGPVRFTableID] = "bgp_vrf_table_id"
	}
	if r.o.AnnounceMethod == AnnounceTable {
		reserved[r.o.AnnounceTableID] = "announce_table_id"
	}
	write := map[int]string{}
	used := map[int]string{}
	for _, b := range r.bridges {
		id, named := rt.byName[b.Bridge]
		if !named {
			id = r.o.BridgeTableBase + b.Index
			if other, ok := rt.byID[id]; ok && other != b.Bridge {
				es.add("table_conflict", fmt.Errorf("bridge %s: table %d is already named %q in rt_tables", b.Bridge, id, other))
				continue
			}
		}
		if what, ok := reserved[id]; ok {
			es.add("table_conflict", fmt.Errorf("bridge %s: table %d is %s", b.Bridge, id, what))
			continue
		}
		if other, ok := used[id]; ok {
			es.add("table_conflict", fmt.Errorf("bridges %s and %s: both map to table %d", other, b.Bridge, id))
			continue
		}
		used[id] = b.Bridge
		r.tables[b.Bridge] = uint32(id)
		r.ownTables[uint32(id)] = true
		if !named || rt.from[b.Bridge] == own {
			write[id] = b.Bridge // else upstream's line: the table is adopted
		}
	}
	if err := writeOwnTables(r.o.RTTablesDir, write); err != nil {
		es.add("rt_tables", err)
	}

	created := false
	if r.o.AnnounceMethod == AnnounceConnected {
		if c, err := r.ensureVRF(); err != nil {
			es.add("link", err)
		} else if c {
			created = true
		}
	}
	clear(r.vlanDevs)
	names := map[string]string{}
	for _, b := range r.bridges {
		br, ok := r.links[b.Bridge]
		if !ok {
			es.add("device_missing", fmt.Errorf("provider bridge %s: no such device", b.Bridge))
			continue
		}
		if !br.up {
			if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(br.index)}}); err != nil {
				es.add("link", fmt.Errorf("set %s up: %w", b.Bridge, err))
			}
		}
		for _, tag := range b.VLANs {
			name := VLANDeviceName(b.Bridge, tag)
			if other, ok := names[name]; ok && other != b.Bridge {
				es.add("vlan_conflict", fmt.Errorf("VLAN device name %s wanted by bridges %s and %s", name, other, b.Bridge))
				continue
			}
			names[name] = b.Bridge
			c, err := r.ensureVLAN(br, name, tag)
			if err != nil {
				es.add("vlan_conflict", err)
				continue
			}
			created = created || c
			r.vlanDevs[fmt.Sprintf("%s/%d", b.Bridge, tag)] = name
		}
	}
	if created {
		if err := r.dumpLinks(); err != nil {
			es.add("dump", err)
		}
	}
	r.deriveDevices()
	want := globalSysctls()
	for _, b := range r.bridges {
		if _, ok := r.links[b.Bridge]; ok {
			want = append(want, deviceSysctls(b.Bridge)...)
		}
	}
	for _, dev := range r.vlanDevs {
		if _, ok := r.links[dev]; ok {
			want = append(want, deviceSysctls(dev)...)
		}
	}
	n, err := applySysctls(r.ns, want)
	r.stats.SysctlWrite += n
	if err != nil {
		es.add("sysctl", err)
	}
}

// provDev is a provider device: the table of its bridge (0 when the bridge
// has none) and whether it is the bridge itself (else one of its VLAN
// devices).
type provDev struct {
	table  uint32
	bridge bool
}

// deriveDevices recomputes the provider device set and bgp-nic's index
// from the link index.
func (r *Reconciler) deriveDevices() {
	clear(r.provDevs)
	for _, b := range r.bridges {
		if l, ok := r.links[b.Bridge]; ok {
			r.provDevs[l.index] = provDev{table: r.tables[b.Bridge], bridge: true}
		}
	}
	for k, dev := range r.vlanDevs {
		if l, ok := r.links[dev]; ok {
			r.provDevs[l.index] = provDev{table: r.tables[k[:strings.LastIndexByte(k, '/')]]}
		}
	}
	r.nicIdx = 0
	if r.o.AnnounceMethod == AnnounceConnected {
		if l, ok := r.links[r.o.BGPNic]; ok {
			r.nicIdx = l.index
		}
	}
}

// ensureVRF creates bgp_vrf (a VRF on bgp_vrf_table_id) and bgp_nic (a
// dummy enslaved to it) when missing, and sets both up. Existing devices
// of the wrong kind are reported, not replaced.
func (r *Reconciler) ensureVRF() (created bool, err error) {
	// An existing bgp_nic that is not a dummy (bgp_nic = eth1 by mistake)
	// is refused before anything is touched: it would be enslaved to the
	// VRF and its addresses managed as ovnbgp's.
	if nic, ok := r.links[r.o.BGPNic]; ok && nic.kind != "dummy" {
		return false, fmt.Errorf("bgp_nic %s exists and is not a dummy (kind %q): refusing to enslave it to %s and manage its addresses; name a free device or a dummy", r.o.BGPNic, nic.kind, r.o.BGPVRF)
	}
	vrf, ok := r.links[r.o.BGPVRF]
	if !ok {
		l := &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: r.o.BGPVRF}, Table: uint32(r.o.BGPVRFTableID)}
		if err := r.h.LinkAdd(l); err != nil {
			return false, fmt.Errorf("create VRF %s (table %d): %w (does the kernel have the vrf module? else use announce_method=table)", r.o.BGPVRF, r.o.BGPVRFTableID, err)
		}
		created = true
		vrf = linkInfo{index: int32(l.Index), name: r.o.BGPVRF, kind: "vrf", table: uint32(r.o.BGPVRFTableID)}
	} else if vrf.kind != "vrf" || vrf.table != uint32(r.o.BGPVRFTableID) {
		return false, fmt.Errorf("device %s exists but is not a VRF on table %d (kind %q table %d)", r.o.BGPVRF, r.o.BGPVRFTableID, vrf.kind, vrf.table)
	}
	if !vrf.up {
		if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(vrf.index)}}); err != nil {
			return created, fmt.Errorf("set %s up: %w", r.o.BGPVRF, err)
		}
	}
	nic, ok := r.links[r.o.BGPNic]
	if !ok {
		l := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: r.o.BGPNic, MasterIndex: int(vrf.index)}}
		if err := r.h.LinkAdd(l); err != nil {
			return created, fmt.Errorf("create dummy %s: %w", r.o.BGPNic, err)
		}
		created = true
		nic = linkInfo{index: int32(l.Index), name: r.o.BGPNic, kind: "dummy", master: vrf.index}
	}
	if nic.master != vrf.index {
		if err := r.h.LinkSetMasterByIndex(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(nic.index)}}, int(vrf.index)); err != nil {
			return created, fmt.Errorf("enslave %s to %s: %w", r.o.BGPNic, r.o.BGPVRF, err)
		}
		created = true
	}
	if !nic.up {
		if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(nic.index)}}); err != nil {
			return created, fmt.Errorf("set %s up: %w", r.o.BGPNic, err)
		}
		created = true
	}
	return created, nil
}

// ensureVLAN makes sure the VLAN device name exists on br with tag. A
// device of that name that is not a VLAN (an OVS internal port given the
// name, for instance) is used as it is and never deleted; a VLAN device on
// another parent or tag is a conflict.
func (r *Reconciler) ensureVLAN(br linkInfo, name string, tag int) (bool, error) {
	l, ok := r.links[name]
	if ok {
		if l.kind != "vlan" {
			delete(r.ownVLANs, name)
			return false, nil
		}
		if l.parent != br.index || l.vlanID != tag {
			return false, fmt.Errorf("device %s exists as VLAN %d on ifindex %d, not VLAN %d on %s", name, l.vlanID, l.parent, tag, br.name)
		}
		r.ownVLANs[name] = true
		if !l.up {
			if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(l.index)}}); err != nil {
				return false, fmt.Errorf("set %s up: %w", name, err)
			}
			return true, nil
		}
		return false, nil
	}
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: int(br.index)}, VlanId: tag}
	if err := r.h.LinkAdd(v); err != nil {
		return false, fmt.Errorf("create VLAN device %s (%s tag %d): %w", name, br.name, tag, err)
	}
	r.ownVLANs[name] = true
	if err := r.h.LinkSetUp(v); err != nil {
		return true, fmt.Errorf("set %s up: %w", name, err)
	}
	return true, nil
}

// removeStaleVLANs deletes the VLAN devices ovnbgp would name for a
// provider bridge but that no bridge needs any more.
func (r *Reconciler) removeStaleVLANs(es *errSet) {
	wanted := map[string]bool{}
	for _, d := range r.vlanDevs {
		wanted[d] = true
	}
	removed := false
	for _, b := range r.bridges {
		br, ok := r.links[b.Bridge]
		if !ok {
			continue
		}
		for name, l := range r.links {
			if l.kind != "vlan" || l.parent != br.index || wanted[name] || name != VLANDeviceName(b.Bridge, l.vlanID) {
				continue
			}
			if err := r.h.LinkDel(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(l.index)}}); err != nil {
				es.add("link", fmt.Errorf("delete stale VLAN device %s: %w", name, err))
				continue
			}
			delete(r.ownVLANs, name)
			removed = true
		}
	}
	if removed {
		if err := r.dumpLinks(); err != nil {
			es.add("dump", err)
		}
		r.deriveDevices()
	}
}
