// Package speaker is the interface between the agent and the BGP speakers:
// FRR (internal/speaker/frr) and the embedded GoBGP (internal/speaker/gobgp).
package speaker

import (
	"context"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Speaker announces the chassis' prefixes to the fabric.
//
// With FRR the prefixes reach bgpd through the kernel objects the Linux
// dataplane creates (an address on bgp_nic in bgp_vrf, or a route in the
// announce table); the FRR speaker renders and applies the configuration
// that makes FRR export them, and Sync only records what should be seen.
// The GoBGP speaker adds and withdraws the paths itself.
type Speaker interface {
	// Name is "frr" or "gobgp".
	Name() string
	// Start applies the base configuration (FRR: render + reload; GoBGP:
	// start the server, add the peers) and starts the watchers (FRR: re-apply
	// within 5 s after a zebra/bgpd restart). It returns once the first
	// apply is done and does not block afterwards; ctx ends the watchers.
	Start(ctx context.Context) error
	// Sync makes the announced set equal to anns (idempotent, level-triggered;
	// only the difference is applied).
	Sync(ctx context.Context, anns []plan.Announcement) error
	// SyncDelta applies a difference: the agent's incremental path,
	// O(change). A changed key is in both lists (withdrawn old value,
	// announced new one). Full reconciles use Sync.
	SyncDelta(ctx context.Context, announce, withdraw []plan.Announcement) error
	// Status reports peers and announced prefixes, for `ovnbgp status` and
	// metrics.
	Status(ctx context.Context) (*Status, error)
	// Stop ends the speaker. withdraw=false leaves what is announced in
	// place where the speaker outlives the agent (FRR keeps announcing; the
	// embedded GoBGP speaker cannot and stops with the process, using BGP
	// graceful restart when enabled); withdraw=true withdraws everything
	// first.
	Stop(ctx context.Context, withdraw bool) error
}

// VRFSyncer is implemented by speakers that announce tenant VRFs
// (plan.Wiring.VRFs, exposing_method = vrf): SyncVRFs makes the speaker's
// per-VRF configuration equal to vrfs (level-triggered). The agent calls
// it after the kernel wire, before Sync.
type VRFSyncer interface {
	SyncVRFs(ctx context.Context, vrfs []plan.VRF) error
}

// Status is a snapshot of a speaker.
type Status struct {
	Speaker  string    `json:"speaker"`
	RouterID string    `json:"router_id,omitempty"`
	AS       uint32    `json:"as,omitempty"`
	Peers    []Peer    `json:"peers"`
	Prefixes []string  `json:"prefixes"` // prefixes the speaker advertises (best paths it owns), sorted
	Applied  time.Time `json:"applied"`  // last successful apply of the base configuration
	Restarts int       `json:"restarts"` // speaker daemon restarts detected and repaired (FRR)
}

// Peer is one BGP neighbour.
type Peer struct {
	Address       string        `json:"address"` // IP, or interface name for BGP unnumbered
	RemoteAS      uint32        `json:"remote_as,omitempty"`
	State         string        `json:"state"` // Established, Active, Idle, ...
	Uptime        time.Duration `json:"uptime,omitempty"`
	PrefixesSent  int           `json:"prefixes_sent"`
	PrefixesRecvd int           `json:"prefixes_received"`
	BFD           string        `json:"bfd,omitempty"` // BFD session state when BFD is on
}
