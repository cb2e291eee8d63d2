package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/prometheus/client_golang/prometheus"
)

type dynKernel struct{}

func (dynKernel) Wire(*dynamic.State) error   { return nil }
func (dynKernel) Unwire(*dynamic.State) error { return nil }

type dynSpeaker struct{ err error }

func (s *dynSpeaker) SetDynamic(context.Context, *dynamic.State) error { return s.err }

// TestServeDynamicReady: with exposing_method = dynamic the endpoints ask
// the dynamic controller: /readyz is 503 until a reconcile succeeded (FRR
// refusing is not ready), 200 after; /status names the chassis and the
// last error.
func TestServeDynamicReady(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp := &dynSpeaker{err: errors.New("frr: vtysh refused")}
	d := NewDynamic(config.Default(), log, DynamicDeps{
		Source:  NewSource(config.Default(), log, Identity{SystemID: "c1"}),
		Plan:    func() (*dynamic.State, []plan.Warning) { return &dynamic.State{}, nil },
		Kernel:  dynKernel{},
		Speaker: sp,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = Serve(ctx, addr, prometheus.NewRegistry(), func() Controller { return d }, false, log) }()
	get := func(path string) int {
		for i := 0; i < 100; i++ {
			r, err := http.Get("http://" + addr + path)
			if err == nil {
				r.Body.Close()
				return r.StatusCode
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("GET %s: no answer", path)
		return 0
	}
	if c := get("/readyz"); c != http.StatusServiceUnavailable {
		t.Errorf("/readyz before any reconcile: %d, want 503", c)
	}
	if err := d.reconcile(ctx, "test"); err == nil {
		t.Fatal("reconcile with FRR refusing: no error")
	}
	if c := get("/readyz"); c != http.StatusServiceUnavailable {
		t.Errorf("/readyz after a failed reconcile: %d, want 503", c)
	}
	s, _ := d.CachedSnapshot(ctx)
	if s.Chassis != "c1" || s.Ready || s.LastError == "" {
		t.Errorf("status after a failed reconcile: %+v", s)
	}
	sp.err = nil
	if err := d.reconcile(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if c := get("/readyz"); c != http.StatusOK {
		t.Errorf("/readyz after a reconcile: %d, want 200", c)
	}
	if c := get("/healthz"); c != http.StatusOK {
		t.Errorf("/healthz: %d", c)
	}
	if c := get("/status"); c != http.StatusOK {
		t.Errorf("/status: %d", c)
	}
}
