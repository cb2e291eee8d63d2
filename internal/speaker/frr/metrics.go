package frr

import "github.com/prometheus/client_golang/prometheus"

var (
	metricApplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_frr_applies_total",
		Help: "Successful applies of ovnbgp's FRR configuration, by reason (start, restart, drift, retry, stop).",
	}, []string{"reason"})
	metricApplyErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_frr_apply_errors_total", Help: "Failed applies of ovnbgp's FRR configuration (vtysh errors, FRR down).",
	})
	metricApplySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "ovnbgp_frr_apply_seconds", Help: "Duration of one apply (vtysh -f).",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	})
	metricRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_frr_restarts_detected_total", Help: "FRR daemon restarts detected (followed by a re-apply).",
	}, []string{"daemon"})
	metricUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ovnbgp_frr_up", Help: "1 when bgpd answered the last vtysh query.",
	})
	metricPeers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_frr_peers", Help: "BGP peers by session state.",
	}, []string{"state"})
	metricPrefixes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_frr_prefixes",
		Help: "Prefixes: advertised (local best paths in bgpd), missing (expected, not in bgpd), extra (in bgpd, not expected).",
	}, []string{"state"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricApplies, metricApplyErrors, metricApplySeconds, metricRestarts,
		metricUp, metricPeers, metricPrefixes}
}
