package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	metricAnnounced = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_announced_prefixes", Help: "Prefixes this chassis announces, by kind.",
	}, []string{"kind"})
	metricReconcile = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ovnbgp_reconcile_duration_seconds", Help: "Duration of a reconcile (plan and apply), by type (full, incremental).",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
	}, []string{"type"})
	metricReconciles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_reconciles_total", Help: "Reconciles, by type and result (ok, error).",
	}, []string{"type", "result"})
	metricErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_errors_total", Help: "Errors, by component (kernel, flows, speaker, ...) and cause.",
	}, []string{"component", "cause"})
	metricReady = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ovnbgp_ready", Help: "1 once the first full reconcile succeeded.",
	})
	metricChangeLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ovnbgp_change_latency_seconds",
		Help:    "From an OVSDB row change reaching the agent to the end of the incremental reconcile that applied it (kernel, flows, speaker), per changed row.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .25, .5, 1, 2.5, 10},
	})
	metricProtected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_protected_facts", Help: "The address guard's protected facts, by kind (addrs: host addresses, BGP peers, OVSDB remotes; nets: networks connected to the host), as of the last change.",
	}, []string{"kind"})
	metricProtectedChanges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_protected_changes_total", Help: "Changes of the protected facts after start-up (host addresses or connected networks added or removed), each followed by a full reconcile.",
	})
)

// The reconcile counters exist from the start at 0, so an alert on the
// increase of failures sees the first one (docs/operations.md, "Alerts").
func init() {
	for _, typ := range []string{"full", "incremental"} {
		for _, res := range []string{"ok", "error"} {
			metricReconciles.WithLabelValues(typ, res)
		}
	}
}

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricAnnounced, metricReconcile, metricReconciles, metricErrors, metricReady, metricChangeLatency, metricProtected, metricProtectedChanges}
}

func observe(typ string, start time.Time, err error) {
	metricReconcile.WithLabelValues(typ).Observe(time.Since(start).Seconds())
	res := "ok"
	if err != nil {
		res = "error"
	}
	metricReconciles.WithLabelValues(typ, res).Inc()
}

// observeChanges records, for each row of a successful incremental
// reconcile, how long ago it was marked dirty. A failed reconcile is
// retried by a full one; its rows are not counted.
func observeChanges(marked []time.Time, err error) {
	if err != nil {
		return
	}
	now := time.Now()
	for _, t := range marked {
		metricChangeLatency.Observe(now.Sub(t).Seconds())
	}
}
