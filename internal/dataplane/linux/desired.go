package linux

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Desired state: the kernel objects a plan.State needs.

// devFor returns the device an exposure is wired to.
func (r *Reconciler) devFor(e plan.Exposure) string {
	if e.VLAN == 0 {
		return e.Bridge
	}
	if d, ok := r.vlanDevs[fmt.Sprintf("%s/%d", e.Bridge, e.VLAN)]; ok {
		return d
	}
	return VLANDeviceName(e.Bridge, e.VLAN)
}

// objsFor computes the objects one exposure needs; cause is set when it
// cannot be wired now.
func (r *Reconciler) objsFor(e plan.Exposure) (objs []obj, cause string, err error) {
	if !e.Prefix.IsValid() {
		return nil, "invalid", fmt.Errorf("exposure %s: invalid prefix", e.Key())
	}
	p := e.Prefix.Masked()
	table, ok := r.tables[e.Bridge]
	if !ok {
		return nil, "bridge_unknown", fmt.Errorf("exposure %s: bridge %q has no routing table (not in the bridge mappings, or a table conflict)", e.Key(), e.Bridge)
	}
	dev := r.devFor(e)
	l, ok := r.links[dev]
	if !ok {
		return nil, "device_missing", fmt.Errorf("exposure %s: device %s is missing", e.Key(), dev)
	}
	if e.Via.IsValid() && e.Via.Is4() != p.Addr().Is4() {
		return nil, "invalid", fmt.Errorf("exposure %s: next hop %s of the other family", e.Key(), e.Via)
	}
	objs = make([]obj, 0, 4+len(e.ProxyNDP))
	if e.MAC != "" {
		hw, err := net.ParseMAC(e.MAC)
		if err != nil || len(hw) != 6 {
			return nil, "invalid", fmt.Errorf("exposure %s: bad MAC %q", e.Key(), e.MAC)
		}
		if p.IsSingleIP() {
			v := objVal{proto: r.proto}
			copy(v.mac[:], hw)
			objs = append(objs, obj{objID{kind: kindNeigh, link: l.index, dst: p}, v})
		}
	}
	for _, a := range e.ProxyNDP {
		if !a.Is6() || a.Is4In6() {
			return nil, "invalid", fmt.Errorf("exposure %s: NDP proxy address %s is not IPv6", e.Key(), a)
		}
		objs = append(objs, obj{objID{kind: kindProxy, link: l.index, dst: hostPrefix(a)}, objVal{proto: r.proto}})
	}
	rv := objVal{link: l.index, via: e.Via, proto: r.proto}
	objs = append(objs, obj{objID{kind: kindRoute, table: table, dst: p}, rv})
	if r.o.RuleMode == RulePerPrefix {
		objs = append(objs, obj{objID{kind: kindRule, table: table, prio: rulePriority(p, r.o.RulePriority, r.o.RulePriorityMax), dst: p}, objVal{}})
	}
	if e.Announce {
		switch r.o.AnnounceMethod {
		case AnnounceConnected:
			if r.nicIdx == 0 {
				// Wire it anyway; announce once bgp_nic exists.
				return objs, "device_missing", fmt.Errorf("exposure %s: %s is missing, not announced", e.Key(), r.o.BGPNic)
			}
			objs = append(objs, obj{objID{kind: kindAddr, link: r.nicIdx, dst: e.Prefix}, objVal{}})
		case AnnounceTable:
			// The announce route only tells FRR what to export: no next
			// hop (zebra would have to resolve it, and a via on the
			// provider bridge does not resolve through the main table).
			table := r.annTable
			if p.Addr().Is6() {
				table = r.annTable6
			}
			objs = append(objs, obj{objID{kind: kindRoute, table: table, dst: p}, objVal{link: l.index, proto: r.proto}})
		}
	}
	return objs, "", nil
}

// bridgeObjs are the per-bridge objects: the default routes of the bridge
// table and the link addresses of the bridge and its VLAN devices.
func (r *Reconciler) bridgeObjs(b plan.BridgeWiring) []obj {
	table, ok := r.tables[b.Bridge]
	br, ok2 := r.links[b.Bridge]
	if !ok || !ok2 {
		return nil
	}
	v := objVal{link: br.index, proto: r.proto}
	objs := []obj{
		{objID{kind: kindRoute, table: table, dst: netip.MustParsePrefix("0.0.0.0/0")}, v},
		{objID{kind: kindRoute, table: table, dst: netip.MustParsePrefix("::/0")}, v},
	}
	if r.o.RuleMode == RulePerTable {
		prio := uint32(min(r.o.RulePriority+b.Index, r.o.RulePriorityMax))
		objs = append(objs,
			obj{objID{kind: kindRule, table: table, prio: prio, dst: netip.MustParsePrefix("0.0.0.0/0")}, objVal{}},
			obj{objID{kind: kindRule, table: table, prio: prio, dst: netip.MustParsePrefix("::/0")}, objVal{}})
	}
	a4, a6 := LinkAddresses(b.Index, 0)
	objs = append(objs, obj{objID{kind: kindAddr, link: br.index, dst: a4}, objVal{}}, obj{objID{kind: kindAddr, link: br.index, dst: a6}, objVal{}})
	for _, tag := range b.VLANs {
		l, ok := r.links[r.vlanDevs[fmt.Sprintf("%s/%d", b.Bridge, tag)]]
		if !ok {
			continue
		}
		a4, a6 := LinkAddresses(b.Index, tag)
		objs = append(objs, obj{objID{kind: kindAddr, link: l.index, dst: a4}, objVal{}}, obj{objID{kind: kindAddr, link: l.index, dst: a6}, objVal{}})
	}
	return objs
}

// setOwner replaces the objects an owner needs, keeping reference counts;
// objects nobody needs any more become orphans (removed by Unwire*).
func (r *Reconciler) setOwner(k owner, objs []obj) {
	for _, o := range objs {
		d := r.desired[o.id]
		if d == nil {
			d = &dent{}
			r.desired[o.id] = d
		}
		d.val = o.val
		d.refs++
		delete(r.orphans, o.id)
	}
	for _, o := range r.owners[k] {
		d := r.desired[o.id]
		if d == nil {
			continue
		}
		d.refs--
		if d.refs <= 0 {
			delete(r.desired, o.id)
			r.orphans[o.id] = struct{}{}
		}
	}
	if objs == nil {
		delete(r.owners, k)
	} else {
		r.owners[k] = objs
	}
}

// setExposure records e as desired and computes its objects.
func (r *Reconciler) setExposure(e plan.Exposure, es *errSet) []obj {
	k := e.Key()
	r.exposures[k] = e
	objs, cause, err := r.objsFor(e)
	if err != nil {
		r.failed[k] = cause
		es.add(cause, err)
	} else {
		delete(r.failed, k)
	}
	r.setOwner(owner{key: k}, objs)
	return objs
}

func (r *Reconciler) dropExposure(k plan.Key) {
	delete(r.exposures, k)
	delete(r.failed, k)
	r.setOwner(owner{key: k}, nil)
}

// recompute rebuilds every owner from the remembered bridges and exposures.
func (r *Reconciler) recompute(es *errSet) {
	seen := map[owner]bool{}
	for _, b := range r.bridges {
		k := owner{bridge: b.Bridge}
		seen[k] = true
		r.setOwner(k, r.bridgeObjs(b))
	}
	for _, e := range r.exposures {
		seen[owner{key: e.Key()}] = true
		r.setExposure(e, es)
	}
	for k := range r.owners {
		if !seen[k] {
			r.setOwner(k, nil)
		}
	}
}
