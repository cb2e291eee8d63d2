package linux

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Tenant VRFs of the plan (plan.Wiring.VRFs): their devices (vrfdev.go),
// the VLAN devices of their provider networks enslaved to them, and the
// exposures of a VRF routed in its table (objsFor): a route
// `<prefix> dev <VLAN device> [via <gw>] table <VRF table> proto
// route_protocol` and the exposure's neighbour and NDP proxy entries on the
// VLAN device. No rule (the VRF's l3mdev rule does the lookup) and no
// announce object: FRR's `redistribute kernel` in the VRF instance
// announces the route as an EVPN type-5 route.
//
// Ownership: routes of route_protocol in the table of a VRF device ovnbgp
// owns (alias DeviceAlias), and neighbours on the VLAN devices with the
// marker, as on the other provider devices.

// vrfDevices turns the plan's VRFs into device specs.
func (r *Reconciler) vrfDevices(vrfs []plan.VRF) []VRFDevice {
	out := make([]VRFDevice, 0, len(vrfs))
	for _, v := range vrfs {
		d := VRFDevice{Name: v.Name, Table: uint32(v.Table), VNI: v.VNI, Local: r.o.EVPNLocalIP, Port: r.o.EVPNUDPPort}
		if v.VNI != 0 {
			_, d.Bridge, d.VXLAN = EVPNDeviceNames(v.VNI)
		}
		out = append(out, d)
	}
	return out
}

// setupVRFs wires the VRF devices of vrfs, enslaves the VLAN devices of
// their ports and records the tables their exposures are routed in. Called
// with the lock held, after setupBridges (which knows the VLAN devices).
func (r *Reconciler) setupVRFs(vrfs []plan.VRF, es *errSet) {
	r.vrfs = plan.CloneVRFs(vrfs)
	clear(r.vrfTables)
	clear(r.inVRF)
	wired, err := r.wireVRFs(r.vrfDevices(vrfs))
	if err != nil {
		es.add("vrf", err)
	}
	links, err := r.linksByName()
	if err != nil {
		es.add("dump", err)
		return
	}
	// The tables of every VRF device ovnbgp owns, wanted or not: the
	// routes of a VRF that goes are still ovnbgp's until Unwire removed
	// them.
	for _, l := range links {
		if v, ok := l.(*netlink.Vrf); ok && v.Attrs().Alias == DeviceAlias {
			r.ownTables[v.Table] = true
		}
	}
	master := map[string]int{} // VLAN device -> VRF ifindex it belongs to
	for _, v := range r.vrfs {
		vl, ok := wired[v.Name]
		if !ok {
			continue
		}
		r.vrfTables[v.Name] = uint32(v.Table)
		r.ownTables[uint32(v.Table)] = true
		for _, p := range v.Ports {
			dev, ok := r.vlanDevs[fmt.Sprintf("%s/%d", p.Bridge, p.VLAN)]
			if !ok {
				es.add("device_missing", fmt.Errorf("VRF %s: no VLAN device for %s VLAN %d (is the bridge mapped?)", v.Name, p.Bridge, p.VLAN))
				continue
			}
			master[dev] = vl.Attrs().Index
			r.inVRF[dev] = true
		}
	}
	ownVRF := map[int]bool{}
	for _, l := range links {
		if _, ok := l.(*netlink.Vrf); ok && l.Attrs().Alias == DeviceAlias {
			ownVRF[l.Attrs().Index] = true
		}
	}
	for _, dev := range r.vlanDevs {
		l, ok := links[dev]
		if !ok {
			continue
		}
		want, cur := master[dev], l.Attrs().MasterIndex
		switch {
		case want == cur:
		case want != 0:
			if err := r.h.LinkSetMasterByIndex(l, want); err != nil {
				es.add("vrf", fmt.Errorf("enslave %s to its VRF: %w", dev, err))
			}
		case ownVRF[cur]:
			// Its network left the tenant: back to the default VRF.
			if err := r.h.LinkSetNoMaster(l); err != nil {
				es.add("vrf", fmt.Errorf("release %s from its VRF: %w", dev, err))
			}
		}
	}
}

// removeStaleVRFs deletes ovnbgp's VRF devices the plan no longer has
// (the VRFs themselves only with delete_vrf_on_disconnect). Called with the
// lock held, after their routes are gone.
func (r *Reconciler) removeStaleVRFs(es *errSet) {
	if err := r.unwireVRFs(r.vrfDevices(r.vrfs), r.o.KeepVRFs); err != nil {
		es.add("vrf", err)
	}
}

// vrfObjs are the objects of an exposure in a tenant VRF.
func (r *Reconciler) vrfObjs(e plan.Exposure, p netip.Prefix) (objs []obj, cause string, err error) {
	table, ok := r.vrfTables[e.VRF]
	if !ok {
		return nil, "vrf_unknown", fmt.Errorf("exposure %s: VRF %s is not wired (see the vrf errors)", e.Key(), e.VRF)
	}
	if e.VLAN == 0 {
		return nil, "invalid", fmt.Errorf("exposure %s: a tenant VRF exposure needs a VLAN network", e.Key())
	}
	objs, link, cause, err := r.deviceObjs(e, p)
	if err != nil {
		return nil, cause, err
	}
	objs = append(objs, obj{objID{kind: kindRoute, table: table, dst: p}, objVal{link: link, via: e.Via, proto: r.proto}})
	return objs, "", nil
}
