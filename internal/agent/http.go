package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry returns a registry with the Go/process collectors and the given
// package collectors.
func Registry(cs ...[]prometheus.Collector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range cs {
		r.MustRegister(c...)
	}
	return r
}

// Serve runs the HTTP endpoints on addr until ctx ends: /metrics
// (Prometheus), /healthz (the controller loop is alive), /readyz (the first
// full reconcile succeeded), /status (JSON, for `ovnbgp status`) and, when
// pprof is set, Go's /debug/pprof/. It
// serves the whole life of the process; current returns the controller of
// the moment (nil while none runs: starting, or restarting after SIGHUP).
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, current func() Controller, pprof bool, log *slog.Logger) error {
	mux := http.NewServeMux()
	if pprof {
		// Profiles for troubleshooting ([ovnbgp] debug_pprof); the address
		// is 127.0.0.1 by default.
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if a := current(); a != nil && !a.Alive() {
			http.Error(w, "controller loop stalled", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if a := current(); a == nil || !a.Ready() {
			http.Error(w, "not ready: first reconcile not done", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		a := current()
		if a == nil {
			http.Error(w, "starting: the controller is not running yet", http.StatusServiceUnavailable)
			return
		}
		s, err := a.CachedSnapshot(r.Context())
		if err != nil {
			http.Error(w, "status: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("serving metrics, health and status", "address", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// PollSpeaker asks the speaker for its status every interval until ctx
// ends: the FRR speaker refreshes its metrics (peers, prefixes advertised,
// missing, extra) from the state it reads then. The embedded GoBGP speaker
// keeps its metrics current by itself, and its status walks the whole RIB
// through the server loop that also takes announcements: it is not polled.
func (a *Agent) PollSpeaker(ctx context.Context, interval time.Duration) {
	sp := a.deps.Speaker
	if sp == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, interval)
		if _, err := sp.Status(sctx); err != nil {
			a.log.Debug("speaker status", "error", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
