package linux

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Ownership and dump: which kernel objects are ours, read back from the kernel.

func (r *Reconciler) inRange(prio uint32) bool {
	return prio >= uint32(r.o.RulePriority) && prio <= uint32(r.o.RulePriorityMax)
}

func (r *Reconciler) ownsRule(p parsedRule) bool {
	if p.tableWide {
		return r.ownTables[p.id.table] && r.inRange(p.id.prio)
	}
	if !p.plain {
		return false
	}
	if r.adoptTables[p.id.table] {
		return true
	}
	return r.ownTables[p.id.table] && r.inRange(p.id.prio)
}

func (r *Reconciler) ownsRoute(id objID, v objVal) bool {
	if r.isAnnounceTable(id) {
		return v.proto == r.proto
	}
	if r.ownTables[id.table] || r.adoptTables[id.table] {
		return v.proto == r.proto || v.proto == rtprotBoot
	}
	return false
}

func (r *Reconciler) ownsNeigh(id objID) bool { return r.provDevs[id.link] }

func (r *Reconciler) ownsAddr(id objID) bool {
	if r.nicIdx != 0 && id.link == r.nicIdx {
		return !id.dst.Addr().IsLinkLocalUnicast()
	}
	return r.provDevs[id.link] && isLinkAddress(id.dst)
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
		if id, v, ok := parseNeigh(m); ok && id.kind == kindNeigh && r.ownsNeigh(id) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump neighbours: %w", err)
	}
	proxyHdr := make([]byte, 12)
	proxyHdr[10] = unix.NTF_PROXY
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, proxyHdr, reset(kindProxy), func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindProxy && r.ownsNeigh(id) {
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
