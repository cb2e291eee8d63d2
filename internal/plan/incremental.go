package plan

import (
	"slices"
	"strings"
)

// Incremental is the incremental planner: it remembers each source row's
// contribution and the merged state, and re-plans only the rows a change
// touches. It is not safe for concurrent use; every call must be made with
// the topology's read lock held (the driver reads it).
type Incremental struct {
	d       Driver
	chassis string
	planned bool

	contrib map[RowRef]Contribution // non-empty contributions only
	byKey   map[Key][]RowRef        // the sources contributing each key
	best    map[Key]Candidate       // the merged state
	bridges []BridgeWiring
	flows   []Flow
	vrfs    []VRF
}

// NewIncremental returns an incremental planner over a driver.
func NewIncremental(d Driver, chassis string) *Incremental {
	return &Incremental{d: d, chassis: chassis}
}

// Full plans everything, remembers every contribution and the merged state,
// and returns that state (the caller owns it).
func (p *Incremental) Full() (*State, []Warning) {
	p.d.Reset()
	p.full()
	return p.State(), sortWarnings(p.d.Warnings())
}

func (p *Incremental) full() {
	p.planned = true
	p.contrib = map[RowRef]Contribution{}
	p.byKey = map[Key][]RowRef{}
	p.best = map[Key]Candidate{}
	planAll(p.d, func(src RowRef, c Contribution) {
		if len(c.Announcements) == 0 {
			return
		}
		p.contrib[src] = c
		for i, a := range c.Announcements {
			k := a.Key()
			if !hasKeyBefore(c, i, k) {
				p.byKey[k] = append(p.byKey[k], src)
			}
			cand := candidate(src, c, i)
			if old, ok := p.best[k]; !ok || Better(cand, old) {
				p.best[k] = cand
			}
		}
	})
	p.bridges = p.d.Bridges()
	p.flows = p.d.Flows()
	p.vrfs = sortedVRFs(driverVRFs(p.d))
}

// hasKeyBefore: an entry before i of c has key k.
func hasKeyBefore(c Contribution, i int, k Key) bool {
	for j := 0; j < i; j++ {
		if c.Announcements[j].Key() == k {
			return true
		}
	}
	return false
}

// Replan re-plans the dirty sources and the ones their change affects (or
// everything when the driver's chassis-wide context changed, or Affected
// says so), re-merges only the keys whose contributions changed, updates
// the remembered state and returns the difference. Before the first Full,
// Replan plans everything and returns the whole state as a Delta.
func (p *Incremental) Replan(dirty []RowRef) (*Delta, []Warning) {
	if !p.planned {
		p.d.Reset()
		return p.replanAll(), sortWarnings(p.d.Warnings())
	}
	if p.d.Reset() {
		return p.replanAll(), sortWarnings(p.d.Warnings())
	}
	todo := make(map[RowRef]struct{}, len(dirty)*2)
	var order []RowRef
	push := func(s RowRef) {
		if _, ok := todo[s]; !ok {
			todo[s] = struct{}{}
			order = append(order, s)
		}
	}
	for _, src := range dirty {
		push(src)
		others, all := p.d.Affected(src)
		if all {
			return p.replanAll(), sortWarnings(p.d.Warnings())
		}
		for _, o := range others {
			push(o)
		}
	}
	touched := map[Key]struct{}{}
	for _, src := range order {
		c := p.d.Plan(src)
		old := p.contrib[src]
		if contributionEqual(old, c) {
			continue
		}
		for i, a := range old.Announcements {
			k := a.Key()
			touched[k] = struct{}{}
			if !hasKeyBefore(old, i, k) {
				p.removeSource(k, src)
			}
		}
		if len(c.Announcements) == 0 {
			delete(p.contrib, src)
		} else {
			p.contrib[src] = c
			for i, a := range c.Announcements {
				k := a.Key()
				touched[k] = struct{}{}
				if !hasKeyBefore(c, i, k) {
					p.byKey[k] = append(p.byKey[k], src)
				}
			}
		}
	}
	d := &Delta{}
	for k := range touched {
		p.remerge(k, d)
	}
	p.wiringDelta(d)
	d.sort()
	return d, sortWarnings(p.d.Warnings())
}

func (p *Incremental) removeSource(k Key, src RowRef) {
	srcs := p.byKey[k]
	for i, s := range srcs {
		if s == src {
			srcs[i] = srcs[len(srcs)-1]
			srcs = srcs[:len(srcs)-1]
			break
		}
	}
	if len(srcs) == 0 {
		delete(p.byKey, k)
	} else {
		p.byKey[k] = srcs
	}
}

// remerge picks the winner of key k again and records the change in d.
func (p *Incremental) remerge(k Key, d *Delta) {
	var best Candidate
	found := false
	for _, src := range p.byKey[k] {
		c := p.contrib[src]
		for i, a := range c.Announcements {
			if a.Key() != k {
				continue
			}
			cand := candidate(src, c, i)
			if !found || Better(cand, best) {
				best, found = cand, true
			}
		}
	}
	old, had := p.best[k]
	switch {
	case !found && had:
		d.Withdraw = append(d.Withdraw, old.Announcement)
		d.Unwire = append(d.Unwire, old.Exposure)
		delete(p.best, k)
	case found:
		if !had || old.Announcement != best.Announcement {
			d.Announce = append(d.Announce, best.Announcement)
		}
		if !had || !exposureEqual(old.Exposure, best.Exposure) {
			d.Wire = append(d.Wire, best.Exposure)
		}
		p.best[k] = best
	}
}

// replanAll plans everything again and returns the difference with the
// remembered state.
func (p *Incremental) replanAll() *Delta {
	oldBest := p.best
	oldBridges, oldFlows, oldVRFs, had := p.bridges, p.flows, p.vrfs, p.planned
	p.full()
	d := &Delta{}
	for k, old := range oldBest {
		if _, ok := p.best[k]; !ok {
			d.Withdraw = append(d.Withdraw, old.Announcement)
			d.Unwire = append(d.Unwire, old.Exposure)
		}
	}
	for k, cur := range p.best {
		old, ok := oldBest[k]
		if !ok || old.Announcement != cur.Announcement {
			d.Announce = append(d.Announce, cur.Announcement)
		}
		if !ok || !exposureEqual(old.Exposure, cur.Exposure) {
			d.Wire = append(d.Wire, cur.Exposure)
		}
	}
	if !had || !slices.EqualFunc(oldBridges, p.bridges, bridgeEqual) {
		d.BridgesChanged, d.Bridges = true, CloneBridges(p.bridges)
	}
	if !had || !slices.Equal(oldFlows, p.flows) {
		d.FlowsChanged, d.Flows = true, slices.Clone(p.flows)
	}
	if !had || !slices.EqualFunc(oldVRFs, p.vrfs, vrfEqual) {
		d.VRFsChanged, d.VRFs = true, CloneVRFs(p.vrfs)
	}
	d.sort()
	return d
}

// wiringDelta recomputes the chassis-wide bridges and flows.
func (p *Incremental) wiringDelta(d *Delta) {
	if b := p.d.Bridges(); !slices.EqualFunc(b, p.bridges, bridgeEqual) {
		p.bridges = b
		d.BridgesChanged, d.Bridges = true, CloneBridges(b)
	}
	if f := p.d.Flows(); !slices.Equal(f, p.flows) {
		p.flows = f
		d.FlowsChanged, d.Flows = true, slices.Clone(f)
	}
	if v := sortedVRFs(driverVRFs(p.d)); !slices.EqualFunc(v, p.vrfs, vrfEqual) {
		p.vrfs = v
		d.VRFsChanged, d.VRFs = true, CloneVRFs(v)
	}
}

func sortedVRFs(v []VRF) []VRF {
	slices.SortFunc(v, func(a, b VRF) int { return strings.Compare(a.Name, b.Name) })
	return v
}

// State returns the current merged state as a fresh, sorted copy that the
// caller owns (building it costs O(n log n) in the number of prefixes).
func (p *Incremental) State() *State {
	st := &State{Chassis: p.chassis}
	st.Announcements = make([]Announcement, 0, len(p.best))
	st.Wiring.Exposures = make([]Exposure, 0, len(p.best))
	for _, c := range p.best {
		st.Announcements = append(st.Announcements, c.Announcement)
		e := c.Exposure
		e.ProxyNDP = slices.Clone(e.ProxyNDP)
		st.Wiring.Exposures = append(st.Wiring.Exposures, e)
	}
	st.Wiring.Bridges = CloneBridges(p.bridges)
	st.Wiring.Flows = slices.Clone(p.flows)
	st.Wiring.VRFs = CloneVRFs(p.vrfs)
	st.Sort()
	return st
}

// Apply changes the state by a delta (as produced by Replan from this
// state) and puts it back in canonical order.
func (s *State) Apply(d *Delta) {
	ann := make(map[Key]Announcement, len(s.Announcements))
	for _, a := range s.Announcements {
		ann[a.Key()] = a
	}
	exp := make(map[Key]Exposure, len(s.Wiring.Exposures))
	for _, e := range s.Wiring.Exposures {
		exp[e.Key()] = e
	}
	for _, a := range d.Withdraw {
		delete(ann, a.Key())
	}
	for _, e := range d.Unwire {
		delete(exp, e.Key())
	}
	for _, a := range d.Announce {
		ann[a.Key()] = a
	}
	for _, e := range d.Wire {
		exp[e.Key()] = e
	}
	s.Announcements = s.Announcements[:0]
	for _, a := range ann {
		s.Announcements = append(s.Announcements, a)
	}
	s.Wiring.Exposures = s.Wiring.Exposures[:0]
	for _, e := range exp {
		s.Wiring.Exposures = append(s.Wiring.Exposures, e)
	}
	if d.BridgesChanged {
		s.Wiring.Bridges = CloneBridges(d.Bridges)
	}
	if d.FlowsChanged {
		s.Wiring.Flows = slices.Clone(d.Flows)
	}
	if d.VRFsChanged {
		s.Wiring.VRFs = CloneVRFs(d.VRFs)
	}
	s.Sort()
}

func (d *Delta) sort() {
	byKeyA := func(a, b Announcement) int { return CompareKey(a.Key(), b.Key()) }
	byKeyE := func(a, b Exposure) int { return CompareKey(a.Key(), b.Key()) }
	slices.SortFunc(d.Announce, byKeyA)
	slices.SortFunc(d.Withdraw, byKeyA)
	slices.SortFunc(d.Wire, byKeyE)
	slices.SortFunc(d.Unwire, byKeyE)
}

func contributionEqual(a, b Contribution) bool {
	return slices.Equal(a.Announcements, b.Announcements) &&
		slices.EqualFunc(a.Exposures, b.Exposures, exposureEqual)
}

func exposureEqual(a, b Exposure) bool {
	return a.Prefix == b.Prefix && a.VRF == b.VRF && a.Bridge == b.Bridge && a.VLAN == b.VLAN &&
		a.Via == b.Via && a.MAC == b.MAC && a.Announce == b.Announce && slices.Equal(a.ProxyNDP, b.ProxyNDP)
}

func bridgeEqual(a, b BridgeWiring) bool {
	return a.Bridge == b.Bridge && a.Physnet == b.Physnet && a.Index == b.Index && slices.Equal(a.VLANs, b.VLANs)
}

func CloneBridges(b []BridgeWiring) []BridgeWiring {
	if b == nil {
		return nil
	}
	out := make([]BridgeWiring, len(b))
	for i, x := range b {
		x.VLANs = slices.Clone(x.VLANs)
		out[i] = x
	}
	return out
}
