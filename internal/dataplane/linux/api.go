package linux

import (
	"context"
	"fmt"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// API: Wire, Unwire, WireDelta, UnwireDelta, Stats and Tables.

// Wire makes every object st needs present and up to date: bridges first
// (tables, devices, sysctls, link addresses, default routes), then every
// exposure's wiring, then the announce objects of the exposures whose
// wiring is complete. It removes nothing (objects no longer needed are
// removed by Unwire) and remembers st as the desired state. It re-reads
// the kernel state first, so it also heals anything missed.
func (r *Reconciler) Wire(ctx context.Context, st *plan.State) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	r.setupBridges(st.Wiring.Bridges, &es)
	r.setupVRFs(st.Wiring.VRFs, &es)
	if !r.dumpInto(&es) {
		return r.noteErr(&es)
	}
	clear(r.exposures)
	for _, e := range st.Wiring.Exposures {
		r.exposures[e.Key()] = e
	}
	clear(r.failed)
	r.recompute(&es)
	r.fresh = true
	r.wireOwners(r.allOwners(), &es)
	r.fresh = false
	r.publish()
	metricApply.WithLabelValues("wire").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// Unwire removes every owned object that st does not need: the announce
// objects first, then their wiring, then VLAN devices no bridge needs. It
// remembers st as the desired state.
func (r *Reconciler) Unwire(ctx context.Context, st *plan.State) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced {
		r.setupBridges(st.Wiring.Bridges, &es)
		if !r.dumpInto(&es) {
			return r.noteErr(&es)
		}
	} else if !sameBridges(r.bridges, st.Wiring.Bridges) {
		r.bridges = append([]plan.BridgeWiring(nil), st.Wiring.Bridges...)
		r.dropVLANDevs()
	}
	clear(r.exposures)
	for _, e := range st.Wiring.Exposures {
		r.exposures[e.Key()] = e
	}
	clear(r.failed)
	var ignore errSet
	r.recompute(&ignore)
	var stale []objID
	for id := range r.actual {
		if _, ok := r.desired[id]; !ok {
			stale = append(stale, id)
		}
	}
	r.removeIDs(stale, &es)
	clear(r.orphans)
	r.removeStaleVLANs(&es)
	r.vrfs = plan.CloneVRFs(st.Wiring.VRFs)
	r.removeStaleVRFs(&es)
	r.publish()
	metricApply.WithLabelValues("unwire").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// dropVLANDevs forgets the VLAN devices of bridges no longer wired, so
// that removeStaleVLANs deletes them.
func (r *Reconciler) dropVLANDevs() {
	keep := map[string]bool{}
	for _, b := range r.bridges {
		for _, tag := range b.VLANs {
			keep[fmt.Sprintf("%s/%d", b.Bridge, tag)] = true
		}
	}
	for k := range r.vlanDevs {
		if !keep[k] {
			delete(r.vlanDevs, k)
		}
	}
}

func sameBridges(a, b []plan.BridgeWiring) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]plan.BridgeWiring{}
	for _, x := range a {
		m[x.Bridge] = x
	}
	for _, y := range b {
		x, ok := m[y.Bridge]
		if !ok || x.Index != y.Index || x.Physnet != y.Physnet || fmt.Sprint(x.VLANs) != fmt.Sprint(y.VLANs) {
			return false
		}
	}
	return true
}

// WireDelta wires the exposures of d.Wire (and the bridges when
// d.BridgesChanged), touching only their keys: the kernel is not re-read.
// Objects a changed exposure no longer needs are removed by UnwireDelta.
func (r *Reconciler) WireDelta(ctx context.Context, d *plan.Delta) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced || d.BridgesChanged || d.VRFsChanged {
		bridges, vrfs := r.bridges, r.vrfs
		if d.BridgesChanged {
			bridges = d.Bridges
		}
		if d.VRFsChanged {
			vrfs = d.VRFs
		}
		r.setupBridges(bridges, &es)
		r.setupVRFs(vrfs, &es)
		// A VLAN device moved into or out of a VRF lost its routes:
		// re-read the kernel rather than wait for the notifications.
		if !r.synced || d.VRFsChanged {
			if !r.dumpInto(&es) {
				return r.noteErr(&es)
			}
		}
		for _, e := range d.Wire {
			r.exposures[e.Key()] = e
		}
		r.recompute(&es)
		r.wireOwners(r.allOwners(), &es)
	} else {
		owners := make([]owner, 0, len(d.Wire))
		for _, e := range d.Wire {
			r.setExposure(e, &es)
			owners = append(owners, owner{key: e.Key()})
		}
		r.retryFailed(&owners, &es)
		r.wireOwners(owners, &es)
	}
	metricApply.WithLabelValues("wire_delta").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// retryFailed adds the exposures that failed before (bounded) to a delta.
func (r *Reconciler) retryFailed(owners *[]owner, es *errSet) {
	n := 0
	for k := range r.failed {
		if n == 64 {
			break
		}
		n++
		if e, ok := r.exposures[k]; ok {
			r.setExposure(e, es)
			*owners = append(*owners, owner{key: k})
		}
	}
}

// UnwireDelta removes what the exposures of d.Unwire needed (unless another
// exposure still needs it) and what changed exposures no longer need:
// announce objects first, then wiring.
func (r *Reconciler) UnwireDelta(ctx context.Context, d *plan.Delta) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced {
		r.setupBridges(r.bridges, &es)
		if !r.dumpInto(&es) {
			return r.noteErr(&es)
		}
	}
	for _, e := range d.Unwire {
		r.dropExposure(e.Key())
	}
	var stale []objID
	for id := range r.orphans {
		if _, ok := r.actual[id]; ok {
			stale = append(stale, id)
		} else {
			delete(r.orphans, id)
		}
	}
	r.removeIDs(stale, &es)
	if d.BridgesChanged {
		r.removeStaleVLANs(&es)
	}
	if d.VRFsChanged {
		r.vrfs = plan.CloneVRFs(d.VRFs)
		r.removeStaleVRFs(&es)
	}
	metricApply.WithLabelValues("unwire_delta").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// Stats returns a snapshot of the counters and of the owned objects.
func (r *Reconciler) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Objects = map[string]int{}
	for id := range r.actual {
		s.Objects[id.kind.String()]++
	}
	s.Failed = map[string]int{}
	for _, c := range r.failed {
		s.Failed[c]++
	}
	s.Desired = len(r.desired)
	s.Exposures = len(r.exposures)
	s.NLRequests = r.cnt.requests.Load()
	s.NLSyscalls = r.cnt.syscalls.Load()
	return s
}

// Tables returns the routing table of each provider bridge (after Wire).
func (r *Reconciler) Tables() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for b, t := range r.tables {
		out[b] = int(t)
	}
	return out
}
