package agent

import (
	"context"
	"time"
)

// statusTTL is how long a /status snapshot is served again: building one
// rebuilds the planner's whole state under the planner's lock (when it is
// stale) and runs a few vtysh commands with FRR, so a client polling in a
// loop, or many at once, must not turn each request into one build.
const statusTTL = time.Second

// statusCache holds the last /status snapshot. sem (capacity 1) lets one
// build run at a time; requests that arrive meanwhile wait for it and
// share its result.
type statusCache struct {
	sem  chan struct{}
	snap *Snapshot
	at   time.Time
	ttl  time.Duration // statusTTL (tests change it)
}

func newStatusCache() *statusCache {
	return &statusCache{sem: make(chan struct{}, 1), ttl: statusTTL}
}

// CachedSnapshot is Snapshot at most once per statusTTL, one build at a
// time. A request gives up waiting when its context ends; the build itself
// does not depend on the requester that started it (the speaker's part is
// bounded to 5 s).
func (a *Agent) CachedSnapshot(ctx context.Context) (*Snapshot, error) {
	c := a.status
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	if c.snap != nil && time.Since(c.at) < c.ttl {
		return c.snap, nil
	}
	c.snap, c.at = a.Snapshot(context.WithoutCancel(ctx)), time.Now()
	return c.snap, nil
}
