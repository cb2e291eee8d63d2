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
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricAnnounced, metricReconcile, metricReconciles, metricErrors, metricReady}
}

func observe(typ string, start time.Time, err error) {
	metricReconcile.WithLabelValues(typ).Observe(time.Since(start).Seconds())
	res := "ok"
	if err != nil {
		res = "error"
	}
	metricReconciles.WithLabelValues(typ, res).Inc()
}
