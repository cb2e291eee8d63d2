package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
	"github.com/ovnbgp/ovnbgp/test/lab"
	dto "github.com/prometheus/client_model/go"
)

// recorder stands in for the kernel, the flows and the speaker to check
// the order the controller calls them in (the real ones run in test/e2e).
type recorder struct {
	calls      []string
	speakerErr error
}

func (r *recorder) Wire(context.Context, *plan.State) error   { r.add("kernel.Wire"); return nil }
func (r *recorder) Unwire(context.Context, *plan.State) error { r.add("kernel.Unwire"); return nil }
func (r *recorder) WireDelta(context.Context, *plan.Delta) error {
	r.add("kernel.WireDelta")
	return nil
}
func (r *recorder) UnwireDelta(context.Context, *plan.Delta) error {
	r.add("kernel.UnwireDelta")
	return nil
}
func (r *recorder) Run(context.Context) error { return nil }
func (r *recorder) add(s string)              { r.calls = append(r.calls, s) }

type flowRecorder struct{ r *recorder }

func (f flowRecorder) Sync(context.Context, []plan.Flow, []string) error {
	f.r.add("flows.Sync")
	return nil
}
func (f flowRecorder) Run(context.Context) error { return nil }

type speakerRecorder struct{ r *recorder }

func (s speakerRecorder) Name() string                { return "test" }
func (s speakerRecorder) Start(context.Context) error { return nil }
func (s speakerRecorder) Sync(context.Context, []plan.Announcement) error {
	s.r.add("speaker.Sync")
	return s.r.speakerErr
}
func (s speakerRecorder) SyncDelta(context.Context, []plan.Announcement, []plan.Announcement) error {
	s.r.add("speaker.SyncDelta")
	return s.r.speakerErr
}
func (s speakerRecorder) Status(context.Context) (*speaker.Status, error) {
	return &speaker.Status{}, nil
}
func (s speakerRecorder) Stop(context.Context, bool) error { s.r.add("speaker.Stop"); return nil }

func testAgent(r *recorder) *Agent {
	return New(config.Default(), slog.New(slog.DiscardHandler), Deps{
		Source: NewSource(config.Default(), slog.New(slog.DiscardHandler), Identity{}),
		Kernel: r, Flows: flowRecorder{r}, Speaker: speakerRecorder{r},
	})
}

func TestApplyOrder(t *testing.T) {
	ann := plan.Announcement{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Kind: plan.KindProviderPort}
	st := &plan.State{Announcements: []plan.Announcement{ann}}
	cases := []struct {
		name       string
		st         *plan.State
		d          *plan.Delta
		speakerErr error
		want       []string
	}{
		{"full: wire, flows, announce, then unwire", st, nil, nil,
			[]string{"kernel.Wire", "flows.Sync", "speaker.Sync", "kernel.Unwire"}},
		{"delta without flow change: no flows, the speaker takes the delta", nil,
			&plan.Delta{Announce: []plan.Announcement{ann}}, nil,
			[]string{"kernel.WireDelta", "speaker.SyncDelta", "kernel.UnwireDelta"}},
		{"delta changing the flows", st, &plan.Delta{FlowsChanged: true}, nil,
			[]string{"kernel.WireDelta", "flows.Sync", "kernel.UnwireDelta"}},
		{"speaker failed: nothing is unwired", st, nil, errors.New("bgpd down"),
			[]string{"kernel.Wire", "flows.Sync", "speaker.Sync"}},
		{"speaker failed on a delta: nothing is unwired", nil, &plan.Delta{Withdraw: []plan.Announcement{ann}},
			errors.New("bgpd down"), []string{"kernel.WireDelta", "speaker.SyncDelta"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{speakerErr: c.speakerErr}
			err := testAgent(r).apply(context.Background(), c.st, c.d, nil)
			if (err != nil) != (c.speakerErr != nil) {
				t.Errorf("err = %v", err)
			}
			if !reflect.DeepEqual(r.calls, c.want) {
				t.Errorf("calls %v, want %v", r.calls, c.want)
			}
		})
	}
}

// vrfSpeakerRecorder is a speaker with tenant VRFs (FRR's SyncVRFs).
type vrfSpeakerRecorder struct{ speakerRecorder }

func (s vrfSpeakerRecorder) SyncVRFs(_ context.Context, vrfs []plan.VRF) error {
	s.r.add(fmt.Sprintf("speaker.SyncVRFs(%d)", len(vrfs)))
	return nil
}

// TestApplyOrderVRFs: a speaker with tenant VRFs gets them after the
// kernel wire and before the announcements, on a full pass and on a delta
// that changes them, not on other deltas.
func TestApplyOrderVRFs(t *testing.T) {
	st := &plan.State{Wiring: plan.Wiring{VRFs: []plan.VRF{{Name: "vrf-100", VNI: 100, Table: 100}}}}
	for _, c := range []struct {
		name string
		st   *plan.State
		d    *plan.Delta
		want []string
	}{
		{"full", st, nil, []string{"kernel.Wire", "flows.Sync", "speaker.SyncVRFs(1)", "speaker.Sync", "kernel.Unwire"}},
		{"delta changing the VRFs", nil, &plan.Delta{VRFsChanged: true},
			[]string{"kernel.WireDelta", "speaker.SyncVRFs(0)", "kernel.UnwireDelta"}},
		{"other delta", nil, &plan.Delta{Announce: []plan.Announcement{{Prefix: netip.MustParsePrefix("10.0.0.5/32"), VRF: "vrf-100"}}},
			[]string{"kernel.WireDelta", "speaker.SyncDelta", "kernel.UnwireDelta"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			a := New(config.Default(), slog.New(slog.DiscardHandler), Deps{
				Source: NewSource(config.Default(), slog.New(slog.DiscardHandler), Identity{}),
				Kernel: r, Flows: flowRecorder{r}, Speaker: vrfSpeakerRecorder{speakerRecorder{r}},
			})
			if err := a.apply(context.Background(), c.st, c.d, nil); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.calls, c.want) {
				t.Errorf("calls %v, want %v", r.calls, c.want)
			}
		})
	}
}

// TestShutdown: by default a stop leaves everything announced and wired;
// withdraw_on_stop withdraws first, then unwires and removes the flows.
func TestShutdown(t *testing.T) {
	r := &recorder{}
	a := testAgent(r)
	a.state = &plan.State{Wiring: plan.Wiring{Bridges: []plan.BridgeWiring{{Bridge: "br-ex"}}}}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"speaker.Stop"}; !reflect.DeepEqual(r.calls, want) {
		t.Errorf("default stop: calls %v, want %v", r.calls, want)
	}
	r.calls = nil
	a.cfg.OVNBGP.WithdrawOnStop = true
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"speaker.Stop", "kernel.Unwire", "flows.Sync"}; !reflect.DeepEqual(r.calls, want) {
		t.Errorf("withdraw_on_stop: calls %v, want %v", r.calls, want)
	}
}

// TestDirtySet: keys marked several times are processed once, with their
// last state and the time of their first mark, and a kick is pending after
// any mark.
func TestDirtySet(t *testing.T) {
	d := newDirtySet()
	var first [2]time.Time // around the first mark of key a
	for i := 0; i < 3; i++ {
		before := time.Now()
		d.add(change{row: i}, key{db: dbOVN, table: "Port_Binding", uuid: "a"})
		if i == 0 {
			first = [2]time.Time{before, time.Now()}
		}
		time.Sleep(2 * time.Millisecond)
	}
	d.add(change{gone: true}, key{db: dbOVS, table: "Interface", uuid: "b"})
	if !d.pending() {
		t.Error("nothing pending after add")
	}
	select {
	case <-d.kick:
	default:
		t.Fatal("no kick after add")
	}
	got := d.take()
	if len(got) != 2 {
		t.Errorf("took %v, want 2 keys", got)
	}
	if c := got[key{db: dbOVN, table: "Port_Binding", uuid: "a"}]; c.row != 2 {
		t.Errorf("key a has %+v, want its last row (2)", c)
	} else if c.at.Before(first[0]) || c.at.After(first[1]) {
		t.Errorf("key a marked at %v, want the first mark's time (%v-%v)", c.at, first[0], first[1])
	}
	if d.pending() {
		t.Error("pending after take")
	}
	if got := d.take(); got != nil {
		t.Errorf("second take %v, want nothing", got)
	}
}

// gatePlanner reports the size of each Replan's batch and holds the
// controller inside Replan until the test releases it.
type gatePlanner struct {
	calls   chan int
	release chan struct{}
	stop    chan struct{} // closed at the end of the test
}

func (p *gatePlanner) Full() (*plan.State, []plan.Warning) { return &plan.State{}, nil }
func (p *gatePlanner) State() *plan.State                  { return &plan.State{} }
func (p *gatePlanner) Replan(d []plan.RowRef) (*plan.Delta, []plan.Warning) {
	select {
	case p.calls <- len(d):
	case <-p.stop:
		return &plan.Delta{}, nil
	}
	select {
	case <-p.release:
	case <-p.stop:
	}
	return &plan.Delta{}, nil
}

// TestRunBatches: a lone change gets a reconcile of its own; changes that
// arrive while a reconcile runs are taken together by the next one; and once
// the changes stream in (a batch of 4 or more with more waiting), the next
// reconcile waits to take the changes that follow as well, unless the last
// one took longer than that wait. Each applied change is observed in
// ovnbgp_change_latency_seconds.
func TestRunBatches(t *testing.T) {
	p := &gatePlanner{calls: make(chan int), release: make(chan struct{}), stop: make(chan struct{})}
	src := NewSource(config.Default(), slog.New(slog.DiscardHandler), Identity{})
	a := New(config.Default(), slog.New(slog.DiscardHandler), Deps{Source: src, Planner: p})
	a.coalesce = time.Second // far above the test's own delays
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		close(p.stop)
		cancel()
		<-done
	}()
	var m0 dto.Metric
	_ = metricChangeLatency.Write(&m0)
	before := m0.GetHistogram().GetSampleCount()
	n := 0
	// mark marks count keys at once: an idle controller woken by the first
	// one must not drain before the last (a loaded machine preempts the
	// test between two keys).
	mark := func(count int) {
		ks := make([]key, count)
		for i := range ks {
			n++
			ks[i] = key{db: dbOVN, table: "Port_Binding", uuid: fmt.Sprint(n)}
		}
		src.dirty.add(change{gone: true}, ks...)
	}
	next := func() int {
		select {
		case got := <-p.calls:
			return got
		case <-time.After(10 * time.Second):
			return 0 // no reconcile: the sizes below differ
		}
	}
	release := func() {
		select {
		case p.release <- struct{}{}:
		case <-time.After(10 * time.Second):
		}
	}
	var got []int
	mark(1) // alone
	got = append(got, next())
	release()
	mark(1)
	got = append(got, next())
	mark(5) // while that reconcile runs
	release()
	got = append(got, next())
	mark(1) // more waiting when the batch of 5 ends: busy
	release()
	// Without the wait the controller would take that one key alone by now.
	time.Sleep(50 * time.Millisecond)
	mark(3) // taken by the same, delayed reconcile
	got = append(got, next())
	release()
	// Nothing was waiting at the end of the last one: not busy any more.
	mark(1)
	got = append(got, next())
	release()
	// Busy again, but the batch of 5 took longer than the wait: the key
	// marked meanwhile is taken at once when it ends, and the 3 marked
	// 300 ms later (well within a wait, were one wrongly made) by the
	// reconcile after.
	mark(5)
	got = append(got, next())
	mark(1)
	time.Sleep(a.coalesce + 100*time.Millisecond)
	release()
	time.Sleep(300 * time.Millisecond)
	mark(3)
	got = append(got, next())
	release()
	got = append(got, next())
	release()
	if want := []int{1, 1, 5, 4, 1, 5, 1, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("batch sizes %v, want %v", got, want)
	}
	// Every key applied was observed in ovnbgp_change_latency_seconds.
	var m dto.Metric
	lab.Eventually(t, 5*time.Second, "21 changes observed", func() bool {
		_ = metricChangeLatency.Write(&m)
		return m.GetHistogram().GetSampleCount()-before == uint64(n)
	})
}
