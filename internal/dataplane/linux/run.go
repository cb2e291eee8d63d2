package linux

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"time"

	"golang.org/x/sys/unix"
)

// eventGroups are the rtnetlink multicast groups Run listens to.
const eventGroups = unix.RTMGRP_LINK | unix.RTMGRP_NEIGH | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR |
	unix.RTMGRP_IPV4_ROUTE | unix.RTMGRP_IPV6_ROUTE | unix.RTMGRP_IPV4_RULE | 1<<(unix.RTNLGRP_IPV6_RULE-1)

type event struct {
	typ uint16
	msg []byte
}

// eventQueue decouples the socket reader (which must never block, or the
// kernel drops notifications) from the worker that takes the reconciler's
// lock.
type eventQueue struct {
	mu     sync.Mutex
	evs    []event
	lost   bool
	notify chan struct{}
}

func (q *eventQueue) push(evs []event, lost bool) {
	q.mu.Lock()
	q.evs = append(q.evs, evs...)
	q.lost = q.lost || lost
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() ([]event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs, lost := q.evs, q.lost
	q.evs, q.lost = nil, false
	return evs, lost
}

// Run listens to rtnetlink notifications (links, addresses, routes, rules,
// neighbours) and repairs drift of owned objects against the remembered
// desired state: an owned object deleted or changed by hand is restored,
// typically within milliseconds; objects ovnbgp does not own are never
// touched. A change of a device ovnbgp uses (deleted, re-created, set down)
// or lost notifications cause a full re-read and re-wire. Run blocks until
// ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	var cnt nlCounters
	ec, err := openConn(r.ns, eventGroups, &cnt)
	if err != nil {
		return fmt.Errorf("subscribe to rtnetlink: %w", err)
	}
	defer ec.close()
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(ec.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("netlink receive timeout: %w", err)
	}
	q := &eventQueue{notify: make(chan struct{}, 1)}
	// Whatever changed before the subscription is caught by one re-read
	// (when the state was already read by a Wire).
	q.push(nil, true)
	r.readyOnce.Do(func() { close(r.ready) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			b, err := ec.recv()
			if err != nil {
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					continue
				}
				if errors.Is(err, unix.ENOBUFS) {
					q.push(nil, true)
					continue
				}
				r.log.Warn("dataplane: netlink notifications", "err", err)
				q.push(nil, true)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			var evs []event
			for len(b) >= 16 {
				l := int(nativeU32(b[0:4]))
				if l < 16 || l > len(b) {
					break
				}
				typ := nativeU16(b[4:6])
				evs = append(evs, event{typ: typ, msg: append([]byte(nil), b[16:l]...)})
				b = b[min(align4(l), len(b)):]
			}
			if len(evs) > 0 {
				q.push(evs, false)
			}
		}
	}()
	// The kernel sends no notification for NDP proxy entries: poll them.
	tick := time.NewTicker(proxyPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case <-tick.C:
			r.checkProxies()
			continue
		case <-q.notify:
		}
		evs, lost := q.take()
		r.handleEvents(evs, lost)
	}
}

// proxyPoll is how often Run re-reads the NDP proxy entries (one small
// dump, only while some are desired).
const proxyPoll = 400 * time.Millisecond

// checkProxies re-reads the proxy entries and restores the desired ones
// that are missing.
func (r *Reconciler) checkProxies() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.synced {
		return
	}
	want := 0
	for id := range r.desired {
		if id.kind == kindProxy {
			want++
		}
	}
	if want == 0 {
		return
	}
	have := map[objID]objVal{}
	hdr := make([]byte, 12)
	hdr[10] = unix.NTF_PROXY
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, hdr, func() { clear(have) }, func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindProxy && r.ownsNeigh(id, v) {
			have[id] = v
		}
	}); err != nil {
		r.log.Warn("dataplane: dump NDP proxies", "err", err)
		return
	}
	var missing []objID
	for id := range r.actual {
		if _, ok := have[id]; id.kind == kindProxy && !ok {
			delete(r.actual, id)
		}
	}
	for id, v := range have {
		r.actual[id] = v
	}
	for id := range r.desired {
		if id.kind == kindProxy && r.needs(id) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return
	}
	var es errSet
	failed := r.write(missing, true, &es)
	metricRepairs.WithLabelValues(kindProxy.String()).Add(float64(len(missing) - failed))
	r.stats.Repairs += len(missing) - failed
	r.stats.LastRepair = time.Now()
	if err := r.noteErr(&es); err != nil {
		r.log.Warn("dataplane: repair NDP proxies", "err", err)
	}
}

func (r *Reconciler) handleEvents(evs []event, lost bool) {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.synced {
		return
	}
	repair := map[objID]bool{}
	resync := lost
	for _, ev := range evs {
		if r.handleEvent(ev, repair) {
			resync = true
		}
	}
	var es errSet
	if resync {
		r.log.Info("dataplane: re-reading the kernel state", "lost_notifications", lost)
		r.setupBridges(r.bridges, &es)
		if err := r.dumpObjects(); err != nil {
			es.add("dump", err)
		} else {
			r.recompute(&es)
			r.wireOwners(r.allOwners(), &es)
		}
		r.publish()
	} else if len(repair) > 0 {
		var wiring, ann []objID
		for id := range repair {
			if !r.needs(id) {
				continue
			}
			if r.isAnnounce(id) {
				ann = append(ann, id)
			} else {
				wiring = append(wiring, id)
			}
		}
		for _, ids := range [][]objID{wiring, ann} {
			before := len(ids)
			failed := r.write(ids, true, &es)
			if before > 0 {
				for _, id := range ids {
					metricRepairs.WithLabelValues(id.kind.String()).Inc()
				}
				r.stats.Repairs += before - failed
				r.stats.LastRepair = time.Now()
				r.log.Info("dataplane: restored owned objects changed behind our back", "count", before-failed, "failed", failed)
			}
		}
		metricApply.WithLabelValues("repair").Observe(time.Since(t0).Seconds())
	}
	if err := r.noteErr(&es); err != nil {
		r.log.Warn("dataplane: repair", "err", err)
	}
}

// handleEvent updates the index from one notification and notes the
// desired objects that now differ from the kernel; it returns true when a
// full re-read is needed.
func (r *Reconciler) handleEvent(ev event, repair map[objID]bool) bool {
	switch ev.typ {
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		p, ok := parseRule(ev.msg)
		if !ok || (!r.ownsRule(p) && r.desired[p.id] == nil) {
			return false
		}
		if ev.typ == unix.RTM_NEWRULE {
			r.actual[p.id] = objVal{}
		} else {
			delete(r.actual, p.id)
		}
		if r.needs(p.id) {
			repair[p.id] = true
		}
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		id, v, ok := parseRoute(ev.msg)
		if !ok || (!r.ownsRoute(id, v) && r.desired[id] == nil) {
			return false
		}
		if ev.typ == unix.RTM_NEWROUTE {
			if r.ownsRoute(id, v) {
				r.actual[id] = v
			} else {
				delete(r.actual, id) // replaced by a foreign route: ours is gone
			}
		} else if a, ok := r.actual[id]; ok && a.link == v.link && a.via == v.via {
			delete(r.actual, id)
		}
		if r.needs(id) {
			repair[id] = true
		}
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
		id, v, perm, ok := parseNeighAny(ev.msg)
		if !ok {
			return false
		}
		_, known := r.actual[id]
		owned := r.ownsNeigh(id, v)
		if !owned && !known && r.desired[id] == nil {
			return false
		}
		if ev.typ == unix.RTM_NEWNEIGH && perm && owned {
			r.actual[id] = v
		} else {
			delete(r.actual, id)
		}
		if r.needs(id) {
			repair[id] = true
		}
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		id, ok := parseAddr(ev.msg)
		if !ok || !r.ownsAddr(id) {
			return false
		}
		if ev.typ == unix.RTM_NEWADDR {
			r.actual[id] = objVal{}
		} else {
			delete(r.actual, id)
		}
		if r.needs(id) {
			repair[id] = true
		}
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		l, ok := parseLink(ev.msg)
		if !ok {
			return false
		}
		old, known := r.links[l.name]
		if !r.usesDevice(l.name) {
			if ev.typ == unix.RTM_NEWLINK {
				r.links[l.name] = l
			} else if known && old.index == l.index {
				delete(r.links, l.name)
			}
			return false
		}
		if ev.typ == unix.RTM_DELLINK {
			return known
		}
		return !known || old.index != l.index || old.up != l.up || old.master != l.master
	}
	return false
}

// usesDevice tells the devices whose changes need a full re-read.
func (r *Reconciler) usesDevice(name string) bool {
	if r.o.AnnounceMethod == AnnounceConnected && (name == r.o.BGPVRF || name == r.o.BGPNic) {
		return true
	}
	for _, b := range r.bridges {
		if b.Bridge == name {
			return true
		}
	}
	for _, d := range r.vlanDevs {
		if d == name {
			return true
		}
	}
	return false
}

// parseNeighAny parses any neighbour message; perm is true for permanent
// and proxy entries.
func parseNeighAny(msg []byte) (objID, objVal, bool, bool) {
	if id, v, ok := parseNeigh(msg); ok {
		return id, v, true, true
	}
	if len(msg) < 12 {
		return objID{}, objVal{}, false, false
	}
	var t attrTable
	parseAttrs(msg[12:], &t)
	a, ok := addrFrom(t[unix.NDA_DST])
	if !ok {
		return objID{}, objVal{}, false, false
	}
	return objID{kind: kindNeigh, link: int32(nativeU32(msg[4:8])), dst: hostPrefix(a)}, objVal{}, false, true
}
