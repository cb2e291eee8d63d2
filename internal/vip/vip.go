// Package vip is the service VIP source (issue 19): for every
// [ovnbgp_vip:NAME] section it runs the health check in process
// (internal/health), follows whether the address is on a local interface
// (active-passive: Pacemaker's IPaddr2 moves it; netlink notifications, no
// polling) or keeps it there itself (anycast), and says which VIP
// announcements this node wants now. The agent merges them with the OVN
// drivers' plan (or runs them alone on a node without OVN) and applies a
// change at once.
package vip

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/health"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Announce states of a VIP.
const (
	Announced   = "announced"   // healthy and present: announced
	Depreferred = "depreferred" // unhealthy, on_failure med|prepend: announced with the attributes
	Withdrawn   = "withdrawn"   // not announced (Reason says why)
)

// Why a VIP is withdrawn.
const (
	ReasonUnhealthy   = "unhealthy"
	ReasonMaintenance = "maintenance"
	ReasonAbsent      = "absent"         // active-passive: the address is on no local interface
	ReasonDevice      = "device_missing" // anycast: the address cannot be put on its device
)

// Status is one VIP for `ovnbgp status` and /status.
type Status struct {
	Name        string        `json:"name"`
	Address     string        `json:"address"`
	Mode        string        `json:"mode"`
	Check       string        `json:"check"`
	State       string        `json:"state"` // announced | depreferred | withdrawn
	Reason      string        `json:"reason,omitempty"`
	Health      health.State  `json:"health"`
	Present     bool          `json:"present"`
	Last        health.Result `json:"last_check"`
	Transitions int           `json:"transitions"` // of the announce state
	Probes      uint64        `json:"probes"`
	Error       string        `json:"error,omitempty"` // anycast: why the address is not on its device
}

// Options of the source.
type Options struct {
	// CanDeprefer: the speaker sets path attributes (GoBGP and FRR both
	// do). Without it an unhealthy VIP with on_failure med|prepend is
	// withdrawn.
	CanDeprefer bool
	Logger      *slog.Logger
}

type entry struct {
	cfg config.VIP
	chk *health.Checker
	// under Source.mu
	state, reason string
	transitions   int
	link          int    // anycast: the device's index once the address is there
	devErr        string // anycast: the last error putting it there
}

// Source runs the VIPs.
type Source struct {
	o       Options
	log     *slog.Logger
	vips    []*entry
	addrs   *addrWatch
	changed chan struct{}
	ensure  chan struct{}

	mu  sync.Mutex
	cur map[string]plan.Announcement // VIP name → what it announces now
	// settled closes once the addresses were listed and every VIP had its
	// first round: the first full reconcile waits for it, so that a restart
	// does not withdraw a healthy VIP for a probe's time.
	settled     chan struct{}
	listed      bool
	firstRounds map[string]bool
}

// New builds the source of the configured VIPs; Run starts it.
func New(vips []config.VIP, o Options) *Source {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Source{o: o, log: log, changed: make(chan struct{}, 1), ensure: make(chan struct{}, 1), cur: map[string]plan.Announcement{},
		settled: make(chan struct{}), firstRounds: map[string]bool{}}
	s.addrs = newAddrWatch(s.addrsChanged)
	for _, v := range vips {
		e := &entry{cfg: v, state: Withdrawn, reason: ReasonUnhealthy}
		e.chk = health.NewChecker(Prober(v), health.Options{Interval: v.Interval, Timeout: v.Timeout, Rise: v.Rise, Fall: v.Fall, MaintenanceFile: v.MaintenanceFile})
		s.vips = append(s.vips, e)
		initMetrics(v.Name)
		if !o.CanDeprefer && v.OnFailure != config.OnFailureWithdraw {
			log.Warn("VIP: on_failure "+v.OnFailure+" needs a speaker that sets path attributes; with this speaker an unhealthy VIP is withdrawn", "vip", v.Name)
		}
	}
	return s
}

// Prober builds the check of a VIP section.
func Prober(v config.VIP) health.Prober {
	target := v.Target
	if target == "" {
		target = v.Address.String()
	}
	switch v.Check {
	case config.CheckTCP:
		return health.TCP{Addr: health.HostPort(target, v.Port)}
	case config.CheckHTTP, config.CheckHTTPS:
		return health.NewHTTP(v.Check+"://"+health.HostPort(target, v.Port)+v.Path, v.ExpectStatus, v.TLSVerify)
	case config.CheckCommand:
		return health.Command{Argv: v.Command}
	}
	return health.None{}
}

// Settled is closed once the addresses are known and every VIP had its
// first check.
func (s *Source) Settled() <-chan struct{} { return s.settled }

// settle records a first round (name "" for the address list).
func (s *Source) settle(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		s.listed = true
	} else {
		s.firstRounds[name] = true
	}
	select {
	case <-s.settled:
	default:
		if s.listed && len(s.firstRounds) == len(s.vips) {
			close(s.settled)
		}
	}
}

// Changed receives when the wanted announcements changed.
func (s *Source) Changed() <-chan struct{} { return s.changed }

// Len is the number of VIPs.
func (s *Source) Len() int { return len(s.vips) }

// Announcements are the VIP announcements this node wants now, sorted.
func (s *Source) Announcements() []plan.Announcement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]plan.Announcement, 0, len(s.cur))
	for _, a := range s.cur {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b plan.Announcement) int { return plan.CompareKey(a.Key(), b.Key()) })
	return out
}

// Status lists every VIP.
func (s *Source) Status() []Status {
	out := make([]Status, 0, len(s.vips))
	for _, e := range s.vips {
		cs := e.chk.Status()
		s.mu.Lock()
		st := Status{Name: e.cfg.Name, Address: e.cfg.Address.String(), Mode: e.cfg.Mode, Check: e.chk.Prober().Kind(),
			State: e.state, Reason: e.reason, Health: cs.State, Present: s.presentLocked(e), Last: cs.Last,
			Transitions: e.transitions, Probes: cs.Probes, Error: e.devErr}
		s.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Run runs the address watch and every check until ctx ends.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := s.addrs.run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("VIP address watch failed; subscribing again", "error", err)
				metricWatchErrors.Inc()
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	wg.Add(1)
	go func() { defer wg.Done(); s.runEnsure(ctx) }()
	for _, e := range s.vips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.chk.Run(ctx, func(st health.State, r health.Result, changed bool) { s.probed(e, st, r, changed) })
		}()
	}
	<-ctx.Done()
	return nil
}

// probed records a probe and re-evaluates the VIP.
func (s *Source) probed(e *entry, st health.State, r health.Result, changed bool) {
	name := e.cfg.Name
	if !r.At.IsZero() {
		res := "pass"
		if !r.OK {
			res = "fail"
		}
		metricProbes.WithLabelValues(name, res).Inc()
		metricProbeSeconds.WithLabelValues(name).Observe(r.Latency.Seconds())
		metricLastLatency.WithLabelValues(name).Set(r.Latency.Seconds())
	}
	cs := e.chk.Status()
	switch {
	case changed:
		lvl := slog.LevelInfo
		if st != health.Up {
			lvl = slog.LevelWarn
		}
		s.log.Log(context.Background(), lvl, "VIP check state changed", "vip", name, "health", st, "error", r.Error, "latency", r.Latency)
	case !r.At.IsZero() && !r.OK && cs.Failures == 1 && st == health.Up:
		// The first failure of a healthy VIP: fall holds it for now.
		s.log.Info("VIP check failed; held by fall", "vip", name, "error", r.Error, "fall", e.cfg.Fall)
	case !r.At.IsZero() && !r.OK:
		s.log.Debug("VIP check failed", "vip", name, "error", r.Error)
	}
	metricUp.WithLabelValues(name).Set(b2f(st == health.Up))
	if e.cfg.Mode == config.VIPAnycast {
		s.mu.Lock()
		missing := !s.presentLocked(e)
		s.mu.Unlock()
		if missing {
			s.kickEnsure()
		}
	}
	s.evaluate(e)
	if e.cfg.Mode != config.VIPAnycast || s.anycastTried(e) {
		s.settle(name)
	}
}

// anycastTried: ensure ran for the entry (its address is there, or the
// device error is known).
func (s *Source) anycastTried(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presentLocked(e) || e.devErr != ""
}

func (s *Source) addrsChanged() {
	for _, e := range s.vips {
		s.evaluate(e)
	}
	s.kickEnsure()
	s.settle("")
}

func (s *Source) kickEnsure() {
	select {
	case s.ensure <- struct{}{}:
	default:
	}
}

// runEnsure puts the anycast addresses that are missing on their devices,
// when asked (the address watch saw a change, a probe round found one
// missing: a device that appears later is caught within an interval).
func (s *Source) runEnsure(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ensure:
		}
		for _, e := range s.vips {
			if e.cfg.Mode != config.VIPAnycast {
				continue
			}
			s.mu.Lock()
			ok := s.presentLocked(e)
			s.mu.Unlock()
			if ok {
				continue
			}
			link, err := ensureAddr(e.cfg.Device, e.cfg.Address)
			s.mu.Lock()
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != e.devErr {
				if err != nil {
					s.log.Warn("VIP: cannot keep the anycast address on its device; withdrawn", "vip", e.cfg.Name, "device", e.cfg.Device, "error", err)
					metricDeviceErrors.WithLabelValues(e.cfg.Name).Inc()
				} else {
					s.log.Info("VIP: anycast address on its device", "vip", e.cfg.Name, "device", e.cfg.Device, "address", e.cfg.Address)
				}
			}
			e.devErr, e.link = msg, link
			s.mu.Unlock()
			s.evaluate(e)
		}
	}
}

// presentLocked: active-passive, on any local interface; anycast, on its
// device (s.mu held).
func (s *Source) presentLocked(e *entry) bool {
	if e.cfg.Mode == config.VIPAnycast {
		return e.link != 0 && e.devErr == "" && s.addrs.onLink(e.cfg.Address, e.link)
	}
	return s.addrs.present(e.cfg.Address)
}

// evaluate computes what the VIP announces from its health and presence
// and signals Changed when that differs from before.
func (s *Source) evaluate(e *entry) {
	cs := e.chk.Status()
	s.mu.Lock()
	present := s.presentLocked(e)
	state, reason := Withdrawn, ""
	var attrs plan.PathAttrs
	switch {
	case cs.State == health.Maintenance:
		reason = ReasonMaintenance
	case !present && e.cfg.Mode == config.VIPAnycast && e.devErr != "":
		reason = ReasonDevice
	case !present:
		reason = ReasonAbsent
	case cs.State == health.Up:
		state = Announced
	case s.o.CanDeprefer && e.cfg.OnFailure == config.OnFailureMED:
		state, attrs = Depreferred, plan.PathAttrs{MED: e.cfg.DepreferMED, SetMED: true}
	case s.o.CanDeprefer && e.cfg.OnFailure == config.OnFailurePrepend:
		state, attrs = Depreferred, plan.PathAttrs{Prepend: e.cfg.DepreferPrepend}
	default:
		reason = ReasonUnhealthy
	}
	name := e.cfg.Name
	oldState, oldReason := e.state, e.reason
	e.state, e.reason = state, reason
	old, had := s.cur[name]
	var want plan.Announcement
	if state != Withdrawn {
		want = plan.Announcement{Prefix: e.cfg.Prefix(), Kind: plan.KindServiceVIP, Port: name, Network: e.cfg.Mode,
			Reason: "service VIP " + name + " (" + e.cfg.Mode + ") " + state, Attrs: attrs}
		s.cur[name] = want
	} else {
		delete(s.cur, name)
	}
	changed := had != (state != Withdrawn) || (had && old != want)
	if oldState != state {
		e.transitions++
		metricTransitions.WithLabelValues(name, state).Inc()
	}
	s.mu.Unlock()
	metricPresent.WithLabelValues(name).Set(b2f(present))
	for _, st := range []string{Announced, Depreferred, Withdrawn} {
		metricState.WithLabelValues(name, st).Set(b2f(st == state))
	}
	if oldState != state || oldReason != reason {
		lvl := slog.LevelInfo
		if state != Announced && reason != ReasonAbsent {
			lvl = slog.LevelWarn
		}
		s.log.Log(context.Background(), lvl, "VIP "+state, "vip", name, "address", e.cfg.Address, "mode", e.cfg.Mode,
			"reason", reason, "health", cs.State, "present", present)
	}
	if changed {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Prefixes are the host prefixes of the VIPs (announced or not).
func (s *Source) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s.vips))
	for _, e := range s.vips {
		out = append(out, e.cfg.Prefix())
	}
	return out
}
