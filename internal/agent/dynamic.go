package agent

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
)

// DynamicDeps are what the exposing_method = dynamic controller drives.
type DynamicDeps struct {
	Source *Source
	// Plan computes the dynamic plan; it is called with the topology
	// read-locked.
	Plan func() (*dynamic.State, []plan.Warning)
	// Kernel creates the VRFs ovnbgp owns and puts the routing interfaces
	// in them (Wire), and deletes its VRFs no longer planned (Unwire).
	Kernel interface {
		Wire(st *dynamic.State) error
		Unwire(st *dynamic.State) error
	}
	// Speaker configures FRR for the VRFs.
	Speaker interface {
		SetDynamic(ctx context.Context, st *dynamic.State) error
	}
}

// Dynamic is the controller of exposing_method = dynamic: OVN writes and
// learns the routes itself, so there is no per-prefix work. Every change
// of the rows it reads re-plans the few resident routers whole
// (level-triggered) and reconciles in the agent's order: kernel Wire (the
// VRF before FRR uses it), FRR, kernel Unwire (a VRF is deleted only after
// FRR dropped its instance, never while FRR failed to).
type Dynamic struct {
	cfg  *config.Config
	log  *slog.Logger
	deps DynamicDeps

	mu       sync.Mutex
	state    *dynamic.State
	warnings []string
	lastErr  error
	at       time.Time // the last reconcile's end
	lastOK   time.Time // the last successful reconcile's end (zero: none yet)
}

// NewDynamic returns the controller.
func NewDynamic(cfg *config.Config, log *slog.Logger, deps DynamicDeps) *Dynamic {
	return &Dynamic{cfg: cfg, log: log, deps: deps}
}

// State returns the last plan (nil before the first), the last
// reconcile's error and when it ended.
func (d *Dynamic) State() (*dynamic.State, time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state, d.at, d.lastErr
}

// Run reconciles until ctx ends.
func (d *Dynamic) Run(ctx context.Context) error {
	src := d.deps.Source
	retry := minRetry
	var retryC <-chan time.Time
	pass := func(reason string) {
		if err := d.reconcile(ctx, reason); err != nil {
			d.log.Warn("dynamic: reconcile failed; retrying", "reason", reason, "error", err, "retry_in", retry)
			retryC = time.After(retry)
			retry = min(2*retry, maxRetry)
			return
		}
		retry, retryC = minRetry, nil
	}
	pass("startup")
	interval := d.cfg.ReconcileInterval
	if interval <= 0 {
		interval = 300 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-src.Resyncs():
			src.Reload()
			pass("resync: " + r.Reason)
		case <-ticker.C:
			pass("periodic")
		case <-retryC:
			pass("retry")
		case <-src.Kick():
			if dirty, _ := src.Drain(); len(dirty) > 0 {
				pass("change")
			}
		}
	}
}

func (d *Dynamic) reconcile(ctx context.Context, reason string) error {
	t0 := time.Now()
	src := d.deps.Source
	src.Topo.RLock()
	st, ws := d.deps.Plan()
	src.Topo.RUnlock()
	d.logWarnings(ws)
	d.mu.Lock()
	prev := d.state
	d.mu.Unlock()
	var errs []error
	if err := d.deps.Kernel.Wire(st); err != nil {
		errs = append(errs, err)
	}
	if err := d.deps.Speaker.SetDynamic(ctx, st); err != nil {
		// FRR may still announce a VRF that went: leave its device.
		errs = append(errs, err)
	} else if err := d.deps.Kernel.Unwire(st); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	d.mu.Lock()
	d.state, d.lastErr, d.at = st, err, time.Now()
	if err == nil {
		d.lastOK = d.at
	}
	d.mu.Unlock()
	if changed(prev, st) {
		names := make([]string, 0, len(st.VRFs))
		for _, v := range st.VRFs {
			names = append(names, v.Name)
		}
		d.log.Info("dynamic: VRFs reconciled", "reason", reason, "vrfs", names, "took", time.Since(t0).Round(time.Millisecond), "error", err)
	}
	return err
}

// logWarnings logs the plan's warnings when they differ from the last
// pass's (a bad row is logged once, not at every change).
func (d *Dynamic) logWarnings(ws []plan.Warning) {
	s := make([]string, 0, len(ws))
	for _, w := range ws {
		s = append(s, w.String())
	}
	slices.Sort(s)
	d.mu.Lock()
	same := slices.Equal(s, d.warnings)
	d.warnings = s
	d.mu.Unlock()
	if same {
		return
	}
	for _, w := range s {
		d.log.Warn("dynamic: " + w)
	}
}

func changed(a, b *dynamic.State) bool {
	if a == nil || b == nil {
		return a != b
	}
	return !slices.EqualFunc(a.VRFs, b.VRFs, func(x, y dynamic.VRF) bool {
		return x.Name == y.Name && x.Table == y.Table && x.OVNMaintains == y.OVNMaintains &&
			slices.Equal(x.Interfaces, y.Interfaces) && slices.Equal(x.Ports, y.Ports)
	})
}

// Ready reports whether a reconcile succeeded (/readyz): the VRFs and
// FRR's instances for them were in place once.
func (d *Dynamic) Ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.lastOK.IsZero()
}

// Alive is true: the dynamic controller's loop does a bounded amount of
// work per pass (a few routers) and has no heartbeat of its own.
func (d *Dynamic) Alive() bool { return true }

// CachedSnapshot is the dynamic controller's status: identity, readiness,
// the last reconcile and its error, the plan's warnings. Its per-VRF
// state is what `ovnbgp plan` prints.
func (d *Dynamic) CachedSnapshot(context.Context) (*Snapshot, error) {
	src := d.deps.Source
	s := &Snapshot{Driver: d.cfg.Driver, Counts: map[plan.Kind]int{}, Rows: map[string]int{}}
	if src != nil {
		s.Chassis, s.Hostname = src.ID.SystemID, src.ID.Hostname
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s.Ready, s.LastFull = !d.lastOK.IsZero(), d.lastOK
	if d.lastErr != nil {
		s.LastError, s.LastErrAt = d.lastErr.Error(), d.at
	}
	s.Warnings = slices.Clone(d.warnings)
	return s, nil
}
