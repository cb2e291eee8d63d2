package linux

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Ownership and dump: which kernel objects are ours, read back from the kernel.

func (r *Reconciler) inRange(prio uint32) bool {
	return prio >= uint32(r.o.RulePriority) && prio <= uint32(r.o.RulePriorityMax)
}

// ownsRule: a rule of the two shapes ovnbgp writes, into a bridge table
// (adopted or not), at a priority in [rule_priority, rule_priority_max].
// Anything else, upstream's rules at the kernel's priorities included, is
// left alone.
func (r *Reconciler) ownsRule(p parsedRule) bool {
	return (p.tableWide || p.plain) && r.ownTables[p.id.table] && r.inRange(p.id.prio)
}

// ownsRoute: a route of protocol route_protocol in a bridge table or the
// announce table, or a `proto boot` route of a shape upstream's agent
// writes in a bridge table (upstreamRoute).
func (r *Reconciler) ownsRoute(id objID, v objVal) bool {
	if r.isAnnounceTable(id) {
		return v.proto == r.proto
	}
	if !r.ownTables[id.table] {
		return false
	}
	switch v.proto {
	case r.proto:
		return true
	case rtprotBoot:
		return r.upstreamRoute(id, v)
	}
	return false
}

// upstreamRoute tells the `proto boot` routes upstream's agent writes in a
// bridge table, adopted on a switch from upstream: the route's device is a
// provider device of the bridge of that table (the bridge or one of its
// VLAN devices), and it is
//   - the default route `default dev <bridge>` (no next hop),
//   - a host route `<ip>/32|128 dev <bridge|vlan dev>` (no next hop), or
//   - a subnet route `<net> via <cr-lrp ip> dev <bridge|vlan dev>`.
func (r *Reconciler) upstreamRoute(id objID, v objVal) bool {
	d, ok := r.provDevs[v.link]
	if !ok || d.table == 0 || d.table != id.table {
		return false
	}
	switch {
	case id.dst.Bits() == 0:
		return !v.via.IsValid() && d.bridge
	case id.dst.IsSingleIP():
		return !v.via.IsValid()
	default:
		return v.via.IsValid() && v.via.Is4() == id.dst.Addr().Is4()
	}
}

// ownsNeigh: a permanent neighbour or NDP proxy entry on a provider device
// that carries ovnbgp's marker, NDA_PROTOCOL = route_protocol (ovnbgp
// writes every entry with it; an entry of someone else at an address
// ovnbgp plans is replaced with ovnbgp's, marker included).
func (r *Reconciler) ownsNeigh(id objID, v objVal) bool {
	_, ok := r.provDevs[id.link]
	return ok && v.proto == r.proto
}

func (r *Reconciler) ownsAddr(id objID) bool {
	if r.nicIdx != 0 && id.link == r.nicIdx {
		return !id.dst.Addr().IsLinkLocalUnicast()
	}
	_, ok := r.provDevs[id.link]
	return ok && isLinkAddress(id.dst)
}

// isAnnounce tells the announce objects (last on wire, first on unwire).
func (r *Reconciler) isAnnounce(id objID) bool {
	switch id.kind {
	case kindAddr:
		return r.nicIdx != 0 && id.link == r.nicIdx
	case kindRoute:
		return r.isAnnounceTable(id)
	}
	return false
}

// isAnnounceTable: a route of the family's announce table.
func (r *Reconciler) isAnnounceTable(id objID) bool {
	if id.dst.Addr().Is4() {
		return r.annTable != 0 && id.table == r.annTable
	}
	return r.annTable6 != 0 && id.table == r.annTable6
}

// dumpInto is dumpObjects for a reconcile: a failure is recorded in es.
func (r *Reconciler) dumpInto(es *errSet) bool {
	if err := r.dumpObjects(); err != nil {
		es.add("dump", err)
		return false
	}
	return true
}

// dumpObjects rebuilds the index of owned objects from the kernel.
func (r *Reconciler) dumpObjects() error {
	act := map[objID]objVal{}
	reset := func(k kind) func() {
		return func() {
			for id := range act {
				if id.kind == k {
					delete(act, id)
				}
			}
		}
	}
	hdr12 := make([]byte, 12)
	if err := r.c.dumpRetry(unix.RTM_GETRULE, hdr12, reset(kindRule), func(_ uint16, m []byte) {
		if p, ok := parseRule(m); ok && r.ownsRule(p) {
			act[p.id] = objVal{}
		}
	}); err != nil {
		return fmt.Errorf("dump rules: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETROUTE, hdr12, reset(kindRoute), func(_ uint16, m []byte) {
		if id, v, ok := parseRoute(m); ok && r.ownsRoute(id, v) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump routes: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, hdr12, reset(kindNeigh), func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindNeigh && r.ownsNeigh(id, v) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump neighbours: %w", err)
	}
	proxyHdr := make([]byte, 12)
	proxyHdr[10] = unix.NTF_PROXY
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, proxyHdr, reset(kindProxy), func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindProxy && r.ownsNeigh(id, v) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump NDP proxies: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETADDR, make([]byte, 8), reset(kindAddr), func(_ uint16, m []byte) {
		if id, ok := parseAddr(m); ok && r.ownsAddr(id) {
			act[id] = objVal{}
		}
	}); err != nil {
		return fmt.Errorf("dump addresses: %w", err)
	}
	r.actual = act
	r.synced = true
	r.stats.Resyncs++
	metricResyncs.Inc()
	return nil
}
