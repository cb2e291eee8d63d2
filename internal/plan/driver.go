package plan

import "sort"

// Source is one database row that can contribute announcements: (table,
// uuid). The agent turns every OVSDB update into the Sources it marks dirty.
type Source struct {
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
	Sources() []Source
	// Plan returns what src contributes now.
	Plan(src Source) Contribution
	// Affected lists the other rows whose contribution may change when src
	// changed (a localnet port: the ports of its datapath; a chassisredirect
	// port: the rows behind its router; ...). all=true means "everything"
	// (e.g. the own Chassis row or the bridge mappings changed).
	Affected(src Source) (others []Source, all bool)
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
// are seen in; equal kinds: the smaller port name wins). The caller holds the
// topology's read lock.
func Full(d Driver, chassis string) (*State, []Warning) {
	d.Reset()
	m := NewMerger()
	for _, src := range d.Sources() {
		m.Add(d.Plan(src))
	}
	st := m.State(chassis)
	st.Wiring.Bridges = d.Bridges()
	st.Wiring.Flows = d.Flows()
	st.Sort()
	w := d.Warnings()
	sort.Slice(w, func(i, j int) bool { return w[i].String() < w[j].String() })
	return st, w
}

// Merger merges contributions into one announcement and exposure per key.
type Merger struct {
	ann map[Key]Announcement
	exp map[Key]Exposure
}

// NewMerger returns an empty merger.
func NewMerger() *Merger {
	return &Merger{ann: map[Key]Announcement{}, exp: map[Key]Exposure{}}
}

// Add merges one contribution.
func (m *Merger) Add(c Contribution) {
	for i, a := range c.Announcements {
		var e Exposure
		if i < len(c.Exposures) {
			e = c.Exposures[i]
		}
		k := a.Key()
		if old, ok := m.ann[k]; ok && !Wins(a, old) {
			continue
		}
		m.ann[k] = a
		e.Prefix, e.VRF, e.Announce = a.Prefix, a.VRF, true
		m.exp[k] = e
	}
}

// State returns the merged announcements and exposures (unsorted wiring
// lists besides the exposures are left empty).
func (m *Merger) State(chassis string) *State {
	st := &State{Chassis: chassis}
	for _, a := range m.ann {
		st.Announcements = append(st.Announcements, a)
	}
	for _, e := range m.exp {
		st.Wiring.Exposures = append(st.Wiring.Exposures, e)
	}
	return st
}

// Wins reports whether announcement a takes precedence over b for the same
// key.
func Wins(a, b Announcement) bool {
	ra, rb := kindRank(a.Kind), kindRank(b.Kind)
	if ra != rb {
		return ra < rb
	}
	return a.Port < b.Port
}
