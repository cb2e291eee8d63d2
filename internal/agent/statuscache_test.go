package agent

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
)

// countingSpeaker counts Status calls and the most that ran at once; each
// call waits for release.
type countingSpeaker struct {
	speakerRecorder
	calls, running, most atomic.Int32
	release              chan struct{}
}

func (s *countingSpeaker) Status(ctx context.Context) (*speaker.Status, error) {
	s.calls.Add(1)
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-s.release:
		return &speaker.Status{Speaker: "counting"}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestCachedSnapshot: 20 concurrent /status requests build one snapshot
// (one speaker status, so one set of vtysh runs with FRR) and share it;
// one build runs at a time; once the snapshot is older than the TTL the
// next request builds a new one; a request whose context ends while it
// waits gives up without a build.
func TestCachedSnapshot(t *testing.T) {
	sp := &countingSpeaker{speakerRecorder: speakerRecorder{&recorder{}}, release: make(chan struct{})}
	a := New(config.Default(), slog.New(slog.DiscardHandler), Deps{
		Source: NewSource(config.Default(), slog.New(slog.DiscardHandler), Identity{SystemID: "c1"}), Speaker: sp,
	})
	a.status.ttl = time.Hour
	var wg sync.WaitGroup
	snaps := make([]*Snapshot, 20)
	for i := range snaps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := a.CachedSnapshot(context.Background())
			if err != nil {
				t.Error(err)
			}
			snaps[i] = s
		}()
	}
	// A request that gives up while the build runs.
	for sp.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.CachedSnapshot(ctx); err == nil {
		t.Error("a cancelled request waiting for the build got a snapshot")
	}
	close(sp.release)
	wg.Wait()
	if n := sp.calls.Load(); n != 1 {
		t.Errorf("%d speaker status calls for 20 concurrent requests, want 1", n)
	}
	if m := sp.most.Load(); m != 1 {
		t.Errorf("%d builds ran at once, want 1", m)
	}
	for i, s := range snaps {
		if s != snaps[0] || s == nil || s.Speaker == nil || s.Chassis != "c1" {
			t.Fatalf("request %d got %+v, want the shared snapshot", i, s)
		}
	}
	a.status.ttl = 0
	if _, err := a.CachedSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := sp.calls.Load(); n != 2 {
		t.Errorf("%d speaker status calls after the TTL, want 2", n)
	}
}
