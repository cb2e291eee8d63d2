package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
	"github.com/ovnbgp/ovnbgp/internal/vip"
)

// Kernel is the Linux dataplane (internal/dataplane/linux): wire adds and
// updates only, unwire removes only owned objects the state does not need.
type Kernel interface {
	Wire(ctx context.Context, st *plan.State) error
	Unwire(ctx context.Context, st *plan.State) error
	WireDelta(ctx context.Context, d *plan.Delta) error
	UnwireDelta(ctx context.Context, d *plan.Delta) error
	Run(ctx context.Context) error
}

// Flows is the OVS flow dataplane (internal/dataplane/ovs).
type Flows interface {
	Sync(ctx context.Context, flows []plan.Flow, bridges []string) error
	Run(ctx context.Context) error
}

// Planner is the incremental planner (plan.Incremental).
type Planner interface {
	Full() (*plan.State, []plan.Warning)
	Replan(dirty []plan.RowRef) (*plan.Delta, []plan.Warning)
	State() *plan.State
}

// Deps are the pieces the controller drives. Kernel, Flows and Speaker may
// be nil (a host wired by other means, or tests of one piece).
type Deps struct {
	Source  *Source
	Planner Planner
	// NeededDatapaths, when set (southbound driver), tells which extra
	// datapaths the planner needs monitored whole.
	NeededDatapaths func() []string
	Kernel          Kernel
	Flows           Flows
	Speaker         speaker.Speaker
	// Protected, when set, keeps the address guard's protected facts in
	// step with the host's addresses (see ProtectedWatch).
	Protected *ProtectedWatch
	// VIPs, when set, are the service VIPs (internal/vip), announced beside
	// the plan. Source and Planner are nil on a node without OVN.
	VIPs VIPs
}

// Agent is the controller.
type Agent struct {
	cfg  *config.Config
	log  *slog.Logger
	deps Deps

	mu        sync.RWMutex
	state     *plan.State // the planner's whole state, when built (see stale)
	ready     bool
	lastFull  time.Time
	lastErr   error
	lastErrAt time.Time
	warnings  []plan.Warning
	heartbeat time.Time

	// planMu serializes the planner between the controller and Snapshot.
	planMu sync.Mutex
	// stale: a.state lags behind the planner or was dropped (incremental
	// reconciles apply deltas without building the whole state; a full one
	// drops it once applied); currentState rebuilds it.
	stale bool
	kinds map[plan.Key]plan.Kind // announced keys, for the per-kind gauge
	count map[plan.Kind]int

	coalesce time.Duration // coalesceWait (tests change it)

	status *statusCache // /status snapshots

	// vipApplied: the VIP announcements the kernel and the speaker have
	// (controller goroutine only).
	vipApplied map[plan.Key]plan.Announcement
}

// New returns a controller; Run drives it.
func New(cfg *config.Config, log *slog.Logger, deps Deps) *Agent {
	if deps.Planner == nil {
		deps.Planner = noPlanner{}
	}
	return &Agent{cfg: cfg, log: log, deps: deps, coalesce: coalesceWait, status: newStatusCache()}
}

// coalesceWait is how long an incremental reconcile waits for more changes
// while changes stream in (see busy in Run);
// busyBatch is the batch size from which that is assumed.
const (
	coalesceWait = 20 * time.Millisecond
	busyBatch    = 4
)

// A failed reconcile is tried again after minRetry, doubling up to
// maxRetry while it keeps failing.
const (
	minRetry = 500 * time.Millisecond
	maxRetry = 30 * time.Second
)

// Run performs the initial full reconcile, then processes events until ctx
// ends. The source must have been started.
func (a *Agent) Run(ctx context.Context) error {
	src := a.deps.Source
	var resyncC <-chan ovsdb.Resync
	var kickC <-chan struct{}
	if src != nil {
		resyncC, kickC = src.Resyncs(), src.Kick()
	}
	if a.deps.NeededDatapaths != nil {
		err := Settle(ctx, src, func() []string {
			_, dps := a.planFull(false)
			return dps
		})
		if err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.deps.Kernel != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.background("kernel", runCtx, a.deps.Kernel.Run) }()
	}
	if a.deps.Flows != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.background("flows", runCtx, a.deps.Flows.Run) }()
	}

	var protectedC <-chan struct{}
	if w := a.deps.Protected; w != nil {
		protectedC = w.Changed()
		wg.Add(1)
		go func() { defer wg.Done(); a.background("protected", runCtx, w.Run) }()
	}

	var vipC <-chan struct{}
	if v := a.deps.VIPs; v != nil {
		vipC = v.Changed()
		wg.Add(1)
		go func() { defer wg.Done(); a.background("vips", runCtx, v.Run) }()
	}

	retry := minRetry
	var retryC <-chan time.Time
	full := func(reason string) {
		if err := a.full(runCtx, reason); err != nil {
			a.setErr(err)
			retryC = time.After(retry)
			retry = min(2*retry, maxRetry)
			return
		}
		retry = minRetry
		retryC = nil
	}
	a.waitVIPs(runCtx)
	full("startup")
	interval := a.cfg.ReconcileInterval
	if interval <= 0 {
		interval = 300 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	beat := time.NewTicker(time.Second)
	defer beat.Stop()
	// busy: the last incremental reconcile took several keys and more were
	// waiting when it ended: changes stream in faster than one reconcile
	// each. Then the next one starts no earlier than coalesceWait after the
	// last one started, so that it takes many keys at once: the
	// per-reconcile costs (netlink round trip, speaker call, BGP UPDATE,
	// the routing daemons' reaction) are paid once per batch and the agent
	// keeps up with bursts. A reconcile that took longer than that has
	// gathered its next batch already and is followed at once; a lone
	// change is never delayed.
	busy := false
	var lastDrain time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			a.mu.Lock()
			a.heartbeat = time.Now()
			a.mu.Unlock()
		case <-vipC:
			if err := a.syncVIPs(runCtx); err != nil {
				a.setErr(err)
				if retryC == nil {
					retryC = time.After(retry)
					retry = min(2*retry, maxRetry)
				}
			}
		case r := <-resyncC:
			a.planMu.Lock()
			src.Reload()
			a.planMu.Unlock()
			full("resync: " + r.Reason)
		case <-ticker.C:
			a.refreshProtected()
			full("periodic")
		case <-protectedC:
			if a.refreshProtected() {
				full("protected facts changed")
			}
		case <-retryC:
			full("retry")
		case <-kickC:
			if wait := time.Until(lastDrain.Add(a.coalesce)); busy && wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
			t0 := time.Now()
			lastDrain = t0
			dirty, marked := src.Drain()
			if len(dirty) > 0 {
				err := a.incremental(runCtx, dirty, time.Since(t0))
				observeChanges(marked, err)
				if err != nil {
					a.setErr(err)
					if retryC == nil {
						retryC = time.After(retry)
						retry = min(2*retry, maxRetry)
					}
				}
			}
			busy = len(dirty) >= busyBatch && src.Pending()
		}
	}
}

// refreshProtected recomputes the protected facts (host addresses and
// connected networks, peers, remotes) and reports whether they changed:
// then every guard decision may have, and the caller re-plans everything
// (host address changes are rare; a full pass is simpler than tracking
// which rows a fact touches).
func (a *Agent) refreshProtected() bool {
	w := a.deps.Protected
	if w == nil {
		return false
	}
	a.planMu.Lock()
	added, removed, changed := w.Refresh()
	a.planMu.Unlock()
	if changed {
		a.log.Info("protected host addresses changed; re-planning", "added", added, "removed", removed)
	}
	return changed
}

// Settle makes sure the southbound conditions cover what the plan needs
// (the tenant datapaths behind local gateways depend on the plan) before the
// first plan is used, so that the first reconcile withdraws nothing that is
// healthy. needed plans everything and returns the datapaths the plan
// needs (southbound driver only).
func Settle(ctx context.Context, src *Source, needed func() []string) error {
	for i := 0; i < 5; i++ {
		if !src.SetNeededDatapaths(needed()) {
			return nil
		}
		select {
		case <-src.Resyncs():
			src.Reload()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// background runs a reconciler's watcher, restarting it if it returns early.
func (a *Agent) background(name string, ctx context.Context, run func(context.Context) error) {
	for ctx.Err() == nil {
		if err := run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("watcher stopped; restarting", "component", name, "error", err)
			metricErrors.WithLabelValues(name, "watcher").Inc()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (a *Agent) setErr(err error) {
	a.mu.Lock()
	a.lastErr, a.lastErrAt = err, time.Now()
	a.mu.Unlock()
	a.log.Error("reconcile failed; will retry", "error", err)
}

func (a *Agent) plan(fn func() []plan.Warning) {
	a.planMu.Lock()
	var w []plan.Warning
	if src := a.deps.Source; src != nil {
		src.Topo.RLock()
		w = fn()
		src.Topo.RUnlock()
	} else {
		w = fn()
	}
	a.planMu.Unlock()
	for _, x := range w {
		a.log.Warn("planner: row skipped", "table", x.Table, "row", x.Row, "reason", x.Reason, "detail", x.Detail)
	}
	if len(w) > 0 {
		a.mu.Lock()
		a.warnings = append(a.warnings[:0], w...)
		a.mu.Unlock()
	}
}

// planFull plans everything under the planning locks and returns the state
// and, with the southbound driver, the datapaths it needs (nil otherwise).
// keep makes the state the agent's (under planMu, see apply) and reports the
// warnings; without it (settling before the first reconcile) both are left.
func (a *Agent) planFull(keep bool) (st *plan.State, need []string) {
	a.plan(func() []plan.Warning {
		var w []plan.Warning
		st, w = a.deps.Planner.Full()
		if a.deps.NeededDatapaths != nil {
			need = a.deps.NeededDatapaths()
		}
		if !keep {
			return nil
		}
		a.mu.Lock()
		a.state, a.stale = st, false
		a.mu.Unlock()
		return w
	})
	return st, need
}

// full plans everything and reconciles every component against it:
// wire (kernel, flows), announce (speaker), then unwire what is stale.
func (a *Agent) full(ctx context.Context, reason string) error {
	start := time.Now()
	st, need := a.planFull(true)
	if a.deps.NeededDatapaths != nil {
		a.deps.Source.SetNeededDatapaths(need)
	}
	st = a.withVIPs(st)
	ph := newPhases(start)
	ph.mark("plan")
	err := a.apply(ctx, st, nil, ph)
	if err == nil {
		a.vipsApplied(st)
	}
	a.mu.Lock()
	if err == nil {
		a.lastFull = time.Now()
		a.lastErr = nil
		a.ready = true
		metricReady.Set(1)
	}
	// The whole state is only read by status and shutdown: it is rebuilt
	// from the planner when asked, rather than held (megabytes at scale).
	a.state, a.stale = nil, true
	a.mu.Unlock()
	observe("full", start, err)
	a.countAll(st)
	a.log.Info("full reconcile", "reason", reason, "announcements", len(st.Announcements),
		"exposures", len(st.Wiring.Exposures), "flows", len(st.Wiring.Flows), "duration", time.Since(start), "phases", ph, "error", err)
	return err
}

// incremental re-plans the dirty sources and applies the delta. With a
// speaker that takes deltas and no bridge or flow change, the whole state
// is not built (that was O(n log n) per event).
func (a *Agent) incremental(ctx context.Context, dirty []plan.RowRef, drain time.Duration) error {
	start := time.Now()
	ph := newPhases(start, phase{"drain", drain})
	var d *plan.Delta
	var st *plan.State
	var need []string
	a.plan(func() []plan.Warning {
		var w []plan.Warning
		d, w = a.deps.Planner.Replan(dirty)
		// a.state follows the planner under planMu, so that Snapshot,
		// which rebuilds a stale state under planMu too, never keeps an
		// older one.
		if d.FlowsChanged || d.BridgesChanged {
			st = a.deps.Planner.State()
		}
		a.mu.Lock()
		if st != nil {
			a.state, a.stale = st, false
		} else if !d.Empty() {
			a.stale = true
		}
		a.mu.Unlock()
		if a.deps.NeededDatapaths != nil {
			need = a.deps.NeededDatapaths()
		}
		return w
	})
	if a.deps.NeededDatapaths != nil {
		a.deps.Source.SetNeededDatapaths(need)
	}
	ph.mark("plan")
	if d == nil || d.Empty() {
		return nil
	}
	err := a.apply(ctx, st, d, ph)
	observe("incremental", start, err)
	a.countDelta(d)
	level := slog.LevelDebug
	if time.Since(start)+drain > slowReconcile {
		level = slog.LevelInfo
	}
	a.log.Log(ctx, level, "incremental reconcile", "sources", len(dirty), "announce", len(d.Announce), "withdraw", len(d.Withdraw),
		"duration", time.Since(start)+drain, "phases", ph, "error", err)
	return err
}

// slowReconcile is the duration above which an incremental reconcile is
// logged at info level, with the time of each phase.
const slowReconcile = 100 * time.Millisecond

// phases times a reconcile's steps for the logs: each mark records the
// time since the previous one.
type phases struct {
	last  time.Time
	steps []phase
}

type phase struct {
	name string
	d    time.Duration
}

func newPhases(start time.Time, first ...phase) *phases {
	return &phases{last: start, steps: first}
}

func (p *phases) mark(name string) {
	if p == nil {
		return
	}
	now := time.Now()
	p.steps = append(p.steps, phase{name, now.Sub(p.last)})
	p.last = now
}

func (p *phases) String() string {
	var b strings.Builder
	for i, x := range p.steps {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", x.name, x.d.Round(10*time.Microsecond))
	}
	return b.String()
}

func (a *Agent) countAll(st *plan.State) {
	a.kinds = make(map[plan.Key]plan.Kind, len(st.Announcements))
	a.count = map[plan.Kind]int{}
	for _, an := range st.Announcements {
		a.kinds[an.Key()] = an.Kind
		a.count[an.Kind]++
	}
	a.publishCounts()
}

func (a *Agent) countDelta(d *plan.Delta) {
	if a.kinds == nil {
		return
	}
	for _, an := range d.Withdraw {
		if old, ok := a.kinds[an.Key()]; ok {
			a.count[old]--
			delete(a.kinds, an.Key())
		}
	}
	for _, an := range d.Announce {
		if old, ok := a.kinds[an.Key()]; ok {
			a.count[old]--
		}
		a.kinds[an.Key()] = an.Kind
		a.count[an.Kind]++
	}
	a.publishCounts()
}

func (a *Agent) publishCounts() {
	for _, k := range plan.Kinds {
		metricAnnounced.WithLabelValues(string(k)).Set(float64(a.count[k]))
	}
}

// apply reconciles in the safe order. d == nil: the whole state st; else
// only the delta d, with st the state after it when d changes the bridges
// or the flows (nil otherwise: building the whole state per event would
// cost O(announcements)). A failing component does not stop the others'
// steps that are safe without it, but nothing is unwired while the speaker
// failed to withdraw.
func (a *Agent) apply(ctx context.Context, st *plan.State, d *plan.Delta, ph *phases) error {
	var errs []error
	// step records a step's error (counted, wrapped with what) and its time
	// under phase; it reports whether the step succeeded.
	step := func(component, cause, what, phase string, err error) bool {
		if err != nil {
			metricErrors.WithLabelValues(component, cause).Inc()
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
		ph.mark(phase)
		return err == nil
	}
	k, f, sp := a.deps.Kernel, a.deps.Flows, a.deps.Speaker
	if k != nil {
		var err error
		if d == nil {
			err = k.Wire(ctx, st)
		} else {
			err = k.WireDelta(ctx, d)
		}
		step("kernel", "wire", "kernel wire", "wire", err)
	}
	if f != nil && (d == nil || d.FlowsChanged || d.BridgesChanged) {
		step("flows", "sync", "ovs flows", "flows", f.Sync(ctx, st.Wiring.Flows, bridgesOf(st)))
	}
	speakerOK := true
	if vs, ok := sp.(speaker.VRFSyncer); ok && (d == nil || d.VRFsChanged) {
		var vrfs []plan.VRF
		if d == nil {
			vrfs = st.Wiring.VRFs
		} else {
			vrfs = d.VRFs
		}
		speakerOK = step("speaker", "vrfs", "speaker VRFs", "speaker", vs.SyncVRFs(ctx, vrfs))
	}
	if sp != nil {
		var err error
		switch {
		case d == nil:
			err = sp.Sync(ctx, st.Announcements)
		case len(d.Announce) > 0 || len(d.Withdraw) > 0:
			err = sp.SyncDelta(ctx, d.Announce, d.Withdraw)
		}
		speakerOK = step("speaker", "sync", "speaker", "speaker", err) && speakerOK
	}
	if k != nil && speakerOK {
		var err error
		if d == nil {
			err = k.Unwire(ctx, st)
		} else {
			err = k.UnwireDelta(ctx, d)
		}
		step("kernel", "unwire", "kernel unwire", "unwire", err)
	}
	return errors.Join(errs...)
}

func bridgesOf(st *plan.State) []string {
	out := make([]string, 0, len(st.Wiring.Bridges))
	for _, b := range st.Wiring.Bridges {
		out = append(out, b.Bridge)
	}
	return out
}

// Shutdown is called once Run has returned. Unless withdraw_on_stop is set
// it leaves everything announced and wired, so a restart (or an upgrade)
// causes no withdrawal at all.
func (a *Agent) Shutdown(ctx context.Context) error {
	withdraw := a.cfg.OVNBGP.WithdrawOnStop
	var errs []error
	if sp := a.deps.Speaker; sp != nil {
		if err := sp.Stop(ctx, withdraw); err != nil {
			errs = append(errs, fmt.Errorf("speaker stop: %w", err))
		}
	}
	if withdraw {
		empty := &plan.State{Chassis: a.chassis()}
		if k := a.deps.Kernel; k != nil {
			if err := k.Unwire(ctx, empty); err != nil {
				errs = append(errs, fmt.Errorf("kernel unwire: %w", err))
			}
		}
		if f := a.deps.Flows; f != nil {
			if st := a.currentState(); st != nil {
				if err := f.Sync(ctx, nil, bridgesOf(st)); err != nil {
					errs = append(errs, fmt.Errorf("ovs flows: %w", err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Snapshot is the controller's view for `ovnbgp status` and /status.
type Snapshot struct {
	Chassis    string             `json:"chassis"`
	Hostname   string             `json:"hostname"`
	Driver     string             `json:"driver"`
	Ready      bool               `json:"ready"`
	LastFull   time.Time          `json:"last_full_reconcile"`
	LastError  string             `json:"last_error,omitempty"`
	LastErrAt  time.Time          `json:"last_error_at,omitzero"`
	OVN        DBStatus           `json:"ovn"`
	OVS        DBStatus           `json:"ovs"`
	State      *plan.State        `json:"state"`
	Warnings   []string           `json:"warnings,omitempty"`
	Speaker    *speaker.Status    `json:"speaker,omitempty"`
	SpeakerErr string             `json:"speaker_error,omitempty"`
	Counts     map[plan.Kind]int  `json:"counts"`
	Rows       map[string]int     `json:"rows"`
	VIPs       []vip.Status       `json:"vips,omitempty"`
	Extra      map[string]float64 `json:"-"`
}

// DBStatus describes one OVSDB connection.
type DBStatus struct {
	Endpoint   string `json:"endpoint"`
	Generation int    `json:"generation"`
}

// currentState returns the planner's whole state, rebuilt when stale.
func (a *Agent) currentState() *plan.State {
	var st *plan.State
	a.plan(func() []plan.Warning {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.stale {
			a.state, a.stale = a.deps.Planner.State(), false
		}
		st = a.state
		return nil
	})
	return st
}

// Snapshot returns the current view.
func (a *Agent) Snapshot(ctx context.Context) *Snapshot {
	a.currentState()
	a.mu.RLock()
	s := &Snapshot{Chassis: a.chassis(), Hostname: a.hostname(), Driver: a.driver(),
		Ready: a.ready, LastFull: a.lastFull, State: a.state, Counts: map[plan.Kind]int{}, Rows: map[string]int{}}
	if a.lastErr != nil {
		s.LastError, s.LastErrAt = a.lastErr.Error(), a.lastErrAt
	}
	for _, w := range a.warnings {
		s.Warnings = append(s.Warnings, w.String())
	}
	a.mu.RUnlock()
	if s.State != nil {
		for _, an := range s.State.Announcements {
			s.Counts[an.Kind]++
		}
	}
	if v := a.deps.VIPs; v != nil {
		s.VIPs = v.Status()
	}
	src := a.deps.Source
	if src == nil {
		src = &Source{}
	}
	if c := src.OVN(); c != nil {
		s.OVN = DBStatus{Endpoint: c.Endpoint(), Generation: c.Generation()}
		for _, t := range tablesOf[src.nb] {
			s.Rows[t] = c.Count(t)
		}
	}
	if c := src.OVS(); c != nil {
		s.OVS = DBStatus{Endpoint: c.Endpoint(), Generation: c.Generation()}
	}
	if sp := a.deps.Speaker; sp != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := sp.Status(sctx)
		cancel()
		s.Speaker = st
		if err != nil {
			s.SpeakerErr = err.Error()
		}
	}
	return s
}

// Ready reports whether the first full reconcile succeeded.
func (a *Agent) Ready() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ready
}

// Alive reports whether the controller loop has ticked recently.
func (a *Agent) Alive() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.heartbeat.IsZero() || time.Since(a.heartbeat) < 30*time.Second
}
