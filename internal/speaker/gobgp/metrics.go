package gobgp

import (
	"context"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	metricPeers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_gobgp_peers", Help: "Configured BGP peers of the embedded speaker, by session state.",
	}, []string{"state"})
	metricPaths = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ovnbgp_gobgp_paths_announced", Help: "Prefixes the embedded speaker announces.",
	})
	metricChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_gobgp_path_changes_total", Help: "Paths added (announce) and deleted (withdraw) by Sync and Stop.",
	}, []string{"op"})
	metricSyncErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_gobgp_sync_errors_total", Help: "Sync calls that did not fully apply.",
	})
	metricSkipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_gobgp_skipped_announcements_total", Help: "Announcements the embedded speaker cannot make, by reason (vrf, invalid).",
	}, []string{"reason"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricPeers, metricPaths, metricChanges, metricSyncErrors, metricSkipped}
}

// metrics are the handles one speaker uses (package-level: one speaker per
// process).
type metrics struct {
	paths      prometheus.Gauge
	changes    *prometheus.CounterVec
	syncErrors prometheus.Counter
	skipped    *prometheus.CounterVec
}

func newMetrics(*Speaker) *metrics {
	return &metrics{paths: metricPaths, changes: metricChanges, syncErrors: metricSyncErrors, skipped: metricSkipped}
}

// updatePeerMetric recomputes ovnbgp_gobgp_peers from ListPeer.
func (s *Speaker) updatePeerMetric() {
	s.mu.Lock()
	srv, running := s.srv, s.running
	s.mu.Unlock()
	if !running {
		metricPeers.Reset()
		return
	}
	peers, err := listPeers(context.Background(), srv)
	if err != nil {
		return
	}
	counts := map[string]float64{}
	for _, p := range peers {
		counts[p.State]++
	}
	metricPeers.Reset()
	for st, n := range counts {
		metricPeers.WithLabelValues(st).Set(n)
	}
}

// quietHandler is GoBGP's log handler. It drops GoBGP's debug messages,
// even when the agent logs at debug level: GoBGP logs one per UPDATE sent
// and per withdrawal, with every prefix in it (at 10,000 prefixes, tens of
// thousands of long lines in a burst, and the time to format them), while
// its session messages are at info level and above. It also drops the one
// error GoBGP logs when Stop follows StopBgp ("failed to stop BGP server:
// BGP server is not running").
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return nil
	}
	if r.Level == slog.LevelError && strings.HasPrefix(r.Message, "failed to stop BGP server") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a)}
}

func (h quietHandler) WithGroup(n string) slog.Handler { return quietHandler{h.Handler.WithGroup(n)} }
