// Package ovs reconciles ovnbgp's OpenFlow flows on the provider bridges:
// per patch port from OVN (patch-provnet-*), one IPv4 and one IPv6 flow
//
//	cookie=0x3e7,priority=900,ip,in_port=<ofport>,actions=mod_dl_dst:<bridge MAC>,NORMAL
//	cookie=0x3e7,priority=900,ipv6,in_port=<ofport>,actions=mod_dl_dst:<bridge MAC>,NORMAL
//
// that rewrite the destination MAC of traffic leaving OVN so that the host
// kernel routes it (upstream ovn-bgp-agent's cookie-999 flows, which are
// adopted: the cookie is the same).
//
// Only flows carrying the cookie are ever changed or deleted. A Sync dumps
// them (`ovs-ofctl dump-flows BR cookie=0x3e7/-1`), diffs them against the
// desired set numerically (in_port=1 never matches in_port=10; both the
// OpenFlow 1.0 mod_dl_dst and the 1.3 set_field renderings are understood)
// and applies only the difference in a single atomic `ovs-ofctl --bundle
// add-flows BR -` per bridge. Before adding, table 0 is dumped once so that
// an add never replaces another cookie's flow that has our exact match and
// priority (such a flow is left alone and counted as blocked). Bridges that
// refuse ovs-ofctl's default OpenFlow version are retried with OpenFlow 1.3,
// then 1.4/1.5 (and without a bundle when only 1.0 is allowed); what works
// is remembered per bridge. Run watches every bridge with a long-running
// `ovs-ofctl monitor BR watch:` and repairs drift (a flow deleted or changed
// by hand, ovs-vswitchd restarted) within milliseconds.
//
// The reconciler does not read the OVS database: the planner emits a Flow
// once the patch port's ofport is known, and the agent calls Sync again
// whenever the planned flows change (a patch port that appears late).
package ovs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Options configure a Reconciler. The zero value works on a standard host.
type Options struct {
	// OFCtl is the ovs-ofctl program; default "ovs-ofctl".
	OFCtl string
	// Cookie marks ovnbgp's flows; default 0x3e7 (upstream's 999).
	Cookie uint64
	// Priority of the flows; default 900.
	Priority int
	// Target is what ovs-ofctl is given for a bridge; default the bridge
	// name. A lab passes "unix:<OVS_RUNDIR>/<bridge>.mgmt".
	Target func(bridge string) string
	// Env is extra environment for ovs-ofctl, e.g. OVS_RUNDIR=...
	Env []string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// ResyncInterval is how often Run re-checks every bridge even without
	// monitor events (belt and braces); default 60s, negative disables.
	ResyncInterval time.Duration
	// ControlDir is where the monitors' unixctl sockets go; default
	// os.TempDir() (ovs-ofctl monitor insists on creating one).
	ControlDir string
}

// Reconciler owns the flows with its cookie on the provider bridges.
type Reconciler struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex            // serialises reconciles of all bridges; guards desired
	desired map[string]desiredSet // managed bridges -> wanted flows (possibly empty)

	vmu     sync.Mutex
	version map[string]int // "read|write\x00bridge" -> index of the version args that work

	changed chan struct{} // the managed bridge set changed (for Run)

	connects atomic.Int64 // monitors that reported their first reply (for tests)
}

var monitorSeq atomic.Int64

// New returns a Reconciler; nothing runs until Sync or Run.
func New(o Options) *Reconciler {
	if o.OFCtl == "" {
		o.OFCtl = "ovs-ofctl"
	}
	if o.Cookie == 0 {
		o.Cookie = 0x3e7
	}
	if o.Priority == 0 {
		o.Priority = 900
	}
	if o.Target == nil {
		o.Target = func(bridge string) string { return bridge }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ResyncInterval == 0 {
		o.ResyncInterval = 60 * time.Second
	}
	if o.ControlDir == "" {
		o.ControlDir = os.TempDir()
	}
	return &Reconciler{
		o:       o,
		log:     o.Logger.With("component", "dataplane/ovs"),
		desired: map[string]desiredSet{},
		version: map[string]int{},
		changed: make(chan struct{}, 1),
	}
}

// Sync makes the flows with our cookie on every bridge in bridges exactly
// the desired ones (flows on a bridge not listed are synced too). It
// remembers the desired set for Run's drift repair. Bridges managed by the
// previous Sync that are no longer listed lose their flows (best effort).
// A bridge that fails (e.g. does not exist) does not stop the others; the
// errors are joined (errors.Is(err, ErrBridgeNotFound) for a missing one).
func (r *Reconciler) Sync(ctx context.Context, flows []plan.Flow, bridges []string) error {
	want, invalid := desiredByBridge(flows)
	for _, inv := range invalid {
		metricInvalid.WithLabelValues("planned_flow").Inc()
		r.log.Warn("ovs: planned flow not installed", "bridge", inv.Flow.Bridge, "port", inv.Flow.Port,
			"ofport", inv.Flow.OFPort, "mac", inv.Flow.DstMAC, "reason", inv.Reason)
	}
	for _, br := range bridges {
		if br == "" {
			continue
		}
		if want[br] == nil {
			want[br] = desiredSet{}
		}
	}

	r.mu.Lock()
	old := r.desired
	r.desired = want
	var errs []error
	for _, br := range sortedKeys(old) {
		if _, ok := want[br]; ok {
			continue
		}
		// No longer a provider bridge: take our flows away, quietly if the
		// bridge is gone with it.
		if err := r.reconcileBridge(ctx, br, desiredSet{}, "sync"); err != nil && !errors.Is(err, ErrBridgeNotFound) {
			errs = append(errs, err)
		}
		metricFlows.DeleteLabelValues(br)
		metricBlocked.DeleteLabelValues(br)
	}
	// Bridges are independent: reconcile them concurrently (each is one
	// dump and at most one bundle).
	brs := sortedKeys(want)
	brErrs := make([]error, len(brs))
	var wg sync.WaitGroup
	for i, br := range brs {
		wg.Go(func() { brErrs[i] = r.reconcileBridge(ctx, br, want[br], "sync") })
	}
	wg.Wait()
	errs = append(errs, brErrs...)
	r.mu.Unlock()

	select {
	case r.changed <- struct{}{}:
	default:
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]desiredSet) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// reconcileBridge dumps, diffs and applies one bridge. r.mu is held.
func (r *Reconciler) reconcileBridge(ctx context.Context, br string, want desiredSet, trigger string) error {
	start := time.Now()
	defer func() { metricDuration.WithLabelValues(br).Observe(time.Since(start).Seconds()) }()
	fail := func(err error) error {
		metricSyncs.WithLabelValues(br, trigger, "error").Inc()
		if errors.Is(err, ErrBridgeNotFound) {
			metricSyncs.WithLabelValues(br, trigger, "missing_bridge").Inc()
			err = fmt.Errorf("%w: %w", ErrBridgeNotFound, err)
		}
		return fmt.Errorf("ovs: bridge %s: %w", br, err)
	}
	have, err := r.dump(ctx, br, fmt.Sprintf("cookie=%#x/-1", r.o.Cookie))
	if err != nil {
		return fail(fmt.Errorf("dump flows: %w", err))
	}
	lines, adds, dels := diff(r.o.Cookie, r.o.Priority, have, want, nil)
	blocked := 0
	if adds > 0 {
		// An add would silently replace another cookie's flow with the
		// same match and priority: look for such flows before adding.
		table0, err := r.dump(ctx, br, "table=0")
		if err != nil {
			return fail(fmt.Errorf("dump flows: %w", err))
		}
		held := map[flowKey]bool{}
		for _, f := range table0 {
			if k, ok := f.matchKey(r.o.Priority); ok && f.Cookie != r.o.Cookie {
				if _, wanted := want[k]; wanted {
					held[k] = true
					r.log.Warn("ovs: a flow with another cookie has our match; leaving it alone", "bridge", br,
						"flow", f.Raw)
				}
			}
		}
		if len(held) > 0 {
			blocked = len(held)
			lines, adds, dels = diff(r.o.Cookie, r.o.Priority, have, want, held)
		}
	}
	metricBlocked.WithLabelValues(br).Set(float64(blocked))
	if len(lines) > 0 {
		if err := r.apply(ctx, br, lines); err != nil {
			if adds == 0 || dels == 0 || errors.Is(err, ErrBridgeNotFound) || ctx.Err() != nil {
				return fail(fmt.Errorf("apply %d adds and %d deletes: %w", adds, dels, err))
			}
			// The bundle is atomic, so nothing was applied. A delete line
			// built from a dumped flow that the switch does not accept back
			// must not keep the wanted flows out: apply the adds alone.
			r.log.Warn("ovs: bundle refused; applying the adds without the deletes", "bridge", br, "err", err)
			metricInvalid.WithLabelValues("refused_delete").Inc()
			if err2 := r.apply(ctx, br, lines[dels:]); err2 != nil {
				return fail(fmt.Errorf("apply %d adds and %d deletes: %w", adds, dels, errors.Join(err, err2)))
			}
			metricChanges.WithLabelValues(br, "add", trigger).Add(float64(adds))
			return fail(fmt.Errorf("%d deletes refused (adds applied): %w", dels, err))
		}
		metricChanges.WithLabelValues(br, "add", trigger).Add(float64(adds))
		metricChanges.WithLabelValues(br, "delete", trigger).Add(float64(dels))
		lvl := slog.LevelDebug
		if trigger != "sync" {
			lvl = slog.LevelInfo
		}
		r.log.Log(ctx, lvl, "ovs: flows reconciled", "bridge", br, "trigger", trigger, "added", adds, "deleted", dels,
			"took", time.Since(start))
	}
	metricFlows.WithLabelValues(br).Set(float64(len(want) - blocked))
	metricSyncs.WithLabelValues(br, trigger, "ok").Inc()
	return nil
}

// repair re-reconciles one bridge against the remembered desired set. It
// reports managed=false when the bridge is no longer managed.
func (r *Reconciler) repair(ctx context.Context, br string) (managed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want, ok := r.desired[br]
	if !ok {
		return false, nil
	}
	return true, r.reconcileBridge(ctx, br, want, "repair")
}

func (r *Reconciler) managed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedKeys(r.desired)
}

// Run repairs drift until ctx ends: for every bridge managed by the last
// Sync it keeps an `ovs-ofctl monitor BR watch:` running (restarted with
// backoff when it dies, e.g. when ovs-vswitchd restarts) and reconciles the
// bridge again as soon as a flow with our cookie changes, when the monitor
// (re)connects, and every ResyncInterval. It returns nil when ctx ends.
// Call it once, in its own goroutine; it may start before the first Sync.
func (r *Reconciler) Run(ctx context.Context) error {
	type watch struct {
		cancel context.CancelFunc
		kick   chan struct{}
		done   chan struct{}
	}
	r.sweepControlDir()
	watches := map[string]*watch{}
	defer func() {
		for _, w := range watches {
			w.cancel()
		}
		for _, w := range watches {
			<-w.done
		}
	}()
	var tick <-chan time.Time
	if r.o.ResyncInterval > 0 {
		t := time.NewTicker(r.o.ResyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		want := map[string]bool{}
		for _, br := range r.managed() {
			want[br] = true
			if watches[br] != nil {
				continue
			}
			wctx, cancel := context.WithCancel(ctx)
			w := &watch{cancel: cancel, kick: make(chan struct{}, 1), done: make(chan struct{})}
			watches[br] = w
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); r.repairLoop(wctx, br, w.kick) }()
			go func() { defer wg.Done(); r.monitorLoop(wctx, br, w.kick) }()
			go func() { wg.Wait(); close(w.done) }()
			kick(w.kick)
		}
		for br, w := range watches {
			if !want[br] {
				w.cancel()
				<-w.done
				delete(watches, br)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.changed:
		case <-tick:
			for _, w := range watches {
				kick(w.kick)
			}
		}
	}
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// repairLoop reconciles the bridge on every kick, and retries failures with
// backoff (250 ms doubling to 10 s) until one succeeds.
func (r *Reconciler) repairLoop(ctx context.Context, br string, kicks chan struct{}) {
	const minBackoff, maxBackoff = 250 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-kicks:
		case <-retry:
		}
		retry = nil
		// Coalesce a burst of monitor events (e.g. a whole dump deleted).
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
		select {
		case <-kicks:
		default:
		}
		managed, err := r.repair(ctx, br)
		if !managed || ctx.Err() != nil {
			// No longer managed: Run cancels this watch (unless a Sync
			// brings the bridge back first).
			continue
		}
		if err != nil {
			r.log.Warn("ovs: drift repair failed; retrying", "bridge", br, "in", backoff, "err", err)
			retry = time.After(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
	}
}

// monitorLoop keeps `ovs-ofctl monitor BR watch:!initial` running and kicks
// the repair loop when it (re)connects, when it reports a change to a flow
// with our cookie, and when it dies.
func (r *Reconciler) monitorLoop(ctx context.Context, br string, kicks chan struct{}) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		started := time.Now()
		err := r.monitorOnce(ctx, br, kicks)
		if ctx.Err() != nil {
			return
		}
		metricMonitors.WithLabelValues(br).Inc()
		kick(kicks)
		if time.Since(started) > 10*time.Second {
			backoff = minBackoff
		}
		r.log.Debug("ovs: flow monitor ended; restarting", "bridge", br, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (r *Reconciler) monitorOnce(ctx context.Context, br string, kicks chan struct{}) error {
	ctl := filepath.Join(r.o.ControlDir, fmt.Sprintf("ovnbgp-ofmon-%d-%d.ctl", os.Getpid(), monitorSeq.Add(1)))
	defer os.Remove(ctl)
	args := append(append([]string{}, r.readVersion(br)...), "monitor", r.o.Target(br), "watch:!initial",
		"--unixctl="+ctl)
	cmd := execCommand(ctx, r.o.OFCtl, args, r.o.Env)
	// ovs-ofctl prints the first reply on stdout and the flow events on
	// stderr (unbuffered); read both from one pipe.
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		metricOFCtl.WithLabelValues("monitor", "error").Inc()
		return err
	}
	ours := fmt.Sprintf("cookie=%#x", r.o.Cookie)
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	connected := false
	var other []string // the last lines that are neither replies nor events, for the error
	for sc.Scan() {
		line := sc.Text()
		isReply := strings.Contains(line, "FLOW_MONITOR reply")
		isEvent := strings.Contains(line, "event=")
		if !connected && (isReply || isEvent) {
			// The first reply means the monitor is registered: from now on
			// no change is missed, so check the bridge once.
			connected = true
			r.connects.Add(1)
			kick(kicks)
		}
		switch {
		case isEvent:
			if hasField(line, ours) {
				kick(kicks)
			}
		case !isReply:
			if other = append(other, line); len(other) > 3 {
				other = other[1:]
			}
		}
	}
	err = cmd.Wait()
	result := "ok"
	if err != nil {
		result = "error"
		err = fmt.Errorf("%s %s: %w: %s", r.o.OFCtl, strings.Join(args, " "), err, strings.Join(other, " | "))
	}
	metricOFCtl.WithLabelValues("monitor", result).Inc()
	return err
}

// sweepControlDir removes the monitor sockets left by ovnbgp processes that
// are gone (killed without a chance to clean up): no such process, or an
// unreaped zombie (a killed agent whose parent has not waited for it yet).
func (r *Reconciler) sweepControlDir() {
	paths, _ := filepath.Glob(filepath.Join(r.o.ControlDir, "ovnbgp-ofmon-*-*.ctl"))
	for _, p := range paths {
		pid, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(p), "ovnbgp-ofmon-"), "-")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(pid)
		if err != nil || n == os.Getpid() {
			continue
		}
		if processGone(n) {
			_ = os.Remove(p)
		}
	}
}

// processGone reports whether pid no longer runs: no /proc entry, or a
// zombie (state Z) or dead (X) process. An unreadable stat of an existing
// process counts as running.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	st := b[i+2]
	return st == 'Z' || st == 'X'
}

// hasField reports whether line has the whitespace-separated field f.
func hasField(line, f string) bool {
	for _, x := range strings.Fields(line) {
		if strings.TrimSuffix(x, ",") == f {
			return true
		}
	}
	return false
}
