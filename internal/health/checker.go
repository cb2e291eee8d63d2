package health

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// State is the steady state of a check.
type State string

// States. A checker starts Down; its very first probe, when it passes,
// makes it Up at once (so that a restart of ovnbgp on a healthy node
// withdraws nothing); otherwise Down becomes Up after Rise passing probes in
// a row. Up becomes Down after Fall failing probes in a row. Maintenance:
// the maintenance file exists; no probe runs, and leaving it starts again
// from Down.
const (
	Down        State = "down"
	Up          State = "up"
	Maintenance State = "maintenance"
)

// Options of a checker.
type Options struct {
	Interval        time.Duration
	Timeout         time.Duration
	Rise, Fall      int
	MaintenanceFile string // "" for none
}

// Result is the last probe.
type Result struct {
	At      time.Time     `json:"at"`
	OK      bool          `json:"ok"`
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"latency"`
}

// Status is a checker's snapshot.
type Status struct {
	State       State  `json:"state"`
	Last        Result `json:"last"`
	Passes      int    `json:"passes"`   // passing probes in a row
	Failures    int    `json:"failures"` // failing probes in a row
	Transitions int    `json:"transitions"`
	Probes      uint64 `json:"probes"`
}

// Checker holds one check's state.
type Checker struct {
	o      Options
	prober Prober

	mu sync.Mutex
	st Status
}

// NewChecker returns a checker in state Down.
func NewChecker(p Prober, o Options) *Checker {
	return &Checker{o: o, prober: p, st: Status{State: Down}}
}

// Prober is the checker's prober.
func (c *Checker) Prober() Prober { return c.prober }

// Status returns a snapshot.
func (c *Checker) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// Observe records one probe result and returns the new state and whether
// it changed. It is the whole rise/fall logic, without time.
func (c *Checker) Observe(r Result) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Last = r
	c.st.Probes++
	old := c.st.State
	if r.OK {
		c.st.Passes++
		c.st.Failures = 0
		if c.st.State != Up && (c.st.Passes >= c.o.Rise || c.st.Probes == 1) {
			c.st.State = Up
		}
	} else {
		c.st.Failures++
		c.st.Passes = 0
		if c.st.State == Up && c.st.Failures >= c.o.Fall {
			c.st.State = Down
		}
	}
	return c.transition(old)
}

// SetMaintenance enters or leaves maintenance; it returns the new state and
// whether it changed. Leaving it starts from Down with no passes counted.
func (c *Checker) SetMaintenance(on bool) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.st.State
	switch {
	case on && old != Maintenance:
		c.st.State = Maintenance
	case !on && old == Maintenance:
		c.st.State = Down
	default:
		return old, false
	}
	c.st.Passes, c.st.Failures = 0, 0
	return c.transition(old)
}

func (c *Checker) transition(old State) (State, bool) {
	if c.st.State == old {
		return old, false
	}
	c.st.Transitions++
	return c.st.State, true
}

// inMaintenance reports whether the maintenance file exists. A file that
// cannot be checked (permission denied) counts as present: the operator
// asked for maintenance and we cannot tell it ended.
func (c *Checker) inMaintenance() bool {
	if c.o.MaintenanceFile == "" {
		return false
	}
	_, err := os.Stat(c.o.MaintenanceFile)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

// Step runs one round: the maintenance file, then (outside maintenance) one
// probe. It returns the new state and whether it changed.
func (c *Checker) Step(ctx context.Context) (State, Result, bool) {
	if st, changed := c.SetMaintenance(c.inMaintenance()); st == Maintenance {
		return st, Result{}, changed
	}
	lat, err := Run(ctx, c.prober, c.o.Timeout)
	if ctx.Err() != nil {
		return c.Status().State, Result{}, false
	}
	r := Result{At: time.Now(), OK: err == nil, Latency: lat}
	if err != nil {
		r.Error = err.Error()
	}
	st, changed := c.Observe(r)
	return st, r, changed
}

// Run probes every Interval until ctx ends; after each round, report is
// called with the state, the probe's result (zero in maintenance) and
// whether the state changed. The first probe runs at once.
func (c *Checker) Run(ctx context.Context, report func(State, Result, bool)) {
	t := time.NewTicker(c.o.Interval)
	defer t.Stop()
	for {
		st, r, changed := c.Step(ctx)
		if ctx.Err() != nil {
			return
		}
		report(st, r, changed)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
