package plan

import "sort"

// RowRef is one database row that can contribute announcements: (table,
// uuid). The agent turns every OVSDB update into the RowRefs it marks dirty
// (not to be confused with agent.Source, the OVSDB connections).
type RowRef struct {
	Table string
	UUID  string
}

// Contribution is what one source row asks for on this chassis right now:
// announcements, each with the exposure (wiring) it needs, index-aligned.
// A row that is gone, or asks for nothing, contributes nothing.
type Contribution struct {
	Announcements []Announcement
	Exposures     []Exposure // Exposures[i] wires Announcements[i]; Prefix/VRF/Announce are filled by the merger
}

// Driver is the per-row planning logic of one OVN driver (southbound
// `ovn_bgp_driver`, northbound `nb_ovn_bgp_driver`). The incremental planner
// (Incremental) owns the merge of contributions into a State and the Delta
// bookkeeping; a Driver only answers questions about rows. Every method is
// called with the topology's read lock held and must not modify it.
type Driver interface {
	// Reset is called at the start of every full plan and of every re-plan
	// batch: the driver refreshes its chassis-wide context (own chassis
	// uuid, bridge mappings, ...) from the topology. It returns true when
	// that context changed since the previous call (then the caller plans
	// everything again).
	Reset() (changed bool)
	// Sources lists every row that may contribute (for a full plan).
	Sources() []RowRef
	// Plan returns what src contributes now.
	Plan(src RowRef) Contribution
	// Affected lists the other rows whose contribution may change when src
	// changed (a localnet port: the ports of its datapath; a chassisredirect
	// port: the rows behind its router; ...). all=true means "everything"
	// (e.g. the own Chassis row or the bridge mappings changed).
	Affected(src RowRef) (others []RowRef, all bool)
	// Bridges and Flows are the chassis-wide wiring, recomputed on every
	// call (they are small).
	Bridges() []BridgeWiring
	Flows() []Flow
	// Warnings returns and clears the warnings collected since the last call.
	Warnings() []Warning
}

// Full computes the whole desired state of chassis through a driver: every
// source's contribution merged by key (when two reasons announce the same
// prefix, the kind listed first in Kinds wins, whatever the order the rows
// are seen in; equal kinds: the smaller port name wins; then the rest of
// the candidate decides, see Better). The caller holds the topology's read
// lock.
func Full(d Driver, chassis string) (*State, []Warning) {
	d.Reset()
	m := NewMerger()
	planAll(d, m.AddFrom)
	st := m.State(chassis)
	st.Wiring.Bridges = d.Bridges()
	st.Wiring.Flows = d.Flows()
	st.Wiring.VRFs = driverVRFs(d)
	st.Sort()
	return st, sortWarnings(d.Warnings())
}

// AllPlanner is an optional Driver method: plan every source in one pass,
// with the same result as calling Plan for each of Sources (and the same
// side effects), only faster.
type AllPlanner interface {
	PlanAll(fn func(RowRef, Contribution))
}

// planAll plans every source of d.
func planAll(d Driver, fn func(RowRef, Contribution)) {
	if ap, ok := d.(AllPlanner); ok {
		ap.PlanAll(fn)
		return
	}
	for _, src := range d.Sources() {
		fn(src, d.Plan(src))
	}
}

func sortWarnings(w []Warning) []Warning {
	sort.Slice(w, func(i, j int) bool { return w[i].String() < w[j].String() })
	return w
}

// Merger merges contributions into one announcement and exposure per key.
type Merger struct {
	contribs []Contribution
	srcs     []RowRef
	best     map[Key]mergeRef
}

// mergeRef points at entry i of contribution c.
type mergeRef struct{ c, i int32 }

// Candidate is one announcement with its exposure and the source row that
// asks for it.
type Candidate struct {
	Source       RowRef
	Announcement Announcement
	Exposure     Exposure
}

// NewMerger returns an empty merger.
func NewMerger() *Merger {
	return &Merger{best: map[Key]mergeRef{}}
}

// Add merges one contribution of an unnamed source.
func (m *Merger) Add(c Contribution) { m.AddFrom(RowRef{}, c) }

// AddFrom merges the contribution of src.
func (m *Merger) AddFrom(src RowRef, c Contribution) {
	if len(c.Announcements) == 0 {
		return
	}
	ci := int32(len(m.contribs))
	m.contribs = append(m.contribs, c)
	m.srcs = append(m.srcs, src)
	for i, a := range c.Announcements {
		k := a.Key()
		if old, ok := m.best[k]; ok && !Better(candidate(src, c, i), m.candidate(old)) {
			continue
		}
		m.best[k] = mergeRef{c: ci, i: int32(i)}
	}
}

func (m *Merger) candidate(r mergeRef) Candidate {
	return candidate(m.srcs[r.c], m.contribs[r.c], int(r.i))
}

// candidate returns entry i of a contribution, its exposure completed.
func candidate(src RowRef, c Contribution, i int) Candidate {
	a := c.Announcements[i]
	var e Exposure
	if i < len(c.Exposures) {
		e = c.Exposures[i]
	}
	e.Prefix, e.VRF, e.Announce = a.Prefix, a.VRF, true
	return Candidate{Source: src, Announcement: a, Exposure: e}
}

// State returns the merged announcements and exposures (unsorted wiring
// lists besides the exposures are left empty).
func (m *Merger) State(chassis string) *State {
	st := &State{Chassis: chassis}
	st.Announcements = make([]Announcement, 0, len(m.best))
	st.Wiring.Exposures = make([]Exposure, 0, len(m.best))
	for _, r := range m.best {
		c := m.candidate(r)
		st.Announcements = append(st.Announcements, c.Announcement)
		st.Wiring.Exposures = append(st.Wiring.Exposures, c.Exposure)
	}
	return st
}

// Wins reports whether announcement a takes precedence over b for the same
// key: the kind listed first in Kinds, then the smaller port name.
func Wins(a, b Announcement) bool {
	ra, rb := kindRank(a.Kind), kindRank(b.Kind)
	if ra != rb {
		return ra < rb
	}
	return a.Port < b.Port
}

// Better is the total order between two candidates for the same key: Wins,
// then network, reason, source, then the exposure's fields. Being total, it
// makes the merge independent of the order rows and entries are seen in,
// which the incremental planner relies on to equal a full plan.
func Better(a, b Candidate) bool {
	if Wins(a.Announcement, b.Announcement) {
		return true
	}
	if Wins(b.Announcement, a.Announcement) {
		return false
	}
	x, y := a.Announcement, b.Announcement
	if x.Network != y.Network {
		return x.Network < y.Network
	}
	if x.Reason != y.Reason {
		return x.Reason < y.Reason
	}
	if a.Source != b.Source {
		if a.Source.Table != b.Source.Table {
			return a.Source.Table < b.Source.Table
		}
		return a.Source.UUID < b.Source.UUID
	}
	return lessExposure(a.Exposure, b.Exposure)
}

func lessExposure(a, b Exposure) bool {
	if a.Bridge != b.Bridge {
		return a.Bridge < b.Bridge
	}
	if a.VLAN != b.VLAN {
		return a.VLAN < b.VLAN
	}
	if c := a.Via.Compare(b.Via); c != 0 {
		return c < 0
	}
	if a.MAC != b.MAC {
		return a.MAC < b.MAC
	}
	if len(a.ProxyNDP) != len(b.ProxyNDP) {
		return len(a.ProxyNDP) < len(b.ProxyNDP)
	}
	for i := range a.ProxyNDP {
		if c := a.ProxyNDP[i].Compare(b.ProxyNDP[i]); c != 0 {
			return c < 0
		}
	}
	return false
}

// Add appends one announcement and its exposure (which takes the
// announcement's prefix and VRF) to a contribution.
func Add(c *Contribution, a Announcement, e Exposure) {
	e.Prefix, e.VRF, e.Announce = a.Prefix, a.VRF, true
	c.Announcements = append(c.Announcements, a)
	c.Exposures = append(c.Exposures, e)
}

// AddOnce appends one announcement and its exposure to a contribution, once
// per prefix.
func AddOnce(c *Contribution, a Announcement, e Exposure) {
	for _, old := range c.Announcements {
		if old.Key() == a.Key() {
			return
		}
	}
	Add(c, a, e)
}

// kindRank is k's place in Kinds (the merge order).
func kindRank(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}
