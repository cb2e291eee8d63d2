package plan

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
