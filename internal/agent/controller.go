package agent

import "context"

// Controller is what the HTTP endpoints (Serve) ask of the controller
// running now: the Agent (underlay, vrf, the EVPN driver) or Dynamic
// (exposing_method = dynamic).
type Controller interface {
	// Alive reports whether the controller loop is not stalled (/healthz).
	Alive() bool
	// Ready reports whether a first reconcile succeeded (/readyz).
	Ready() bool
	// CachedSnapshot is the status (/status, `ovnbgp status`).
	CachedSnapshot(ctx context.Context) (*Snapshot, error)
}

var (
	_ Controller = (*Agent)(nil)
	_ Controller = (*Dynamic)(nil)
)
