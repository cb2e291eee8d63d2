package vip

import "github.com/prometheus/client_golang/prometheus"

var (
	metricState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_vip_state", Help: "Service VIP announce state: 1 for the current one of announced, depreferred, withdrawn.",
	}, []string{"vip", "state"})
	metricUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_vip_healthy", Help: "1 while the VIP's check is up (rise passes reached, fall failures not).",
	}, []string{"vip"})
	metricPresent = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_vip_present", Help: "1 while the VIP's address is on a local interface (anycast: on its device).",
	}, []string{"vip"})
	metricProbes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_vip_checks_total", Help: "Health check probes of a VIP, by result (pass, fail).",
	}, []string{"vip", "result"})
	metricProbeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ovnbgp_vip_check_duration_seconds", Help: "Duration of a VIP's health check probe.",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"vip"})
	metricLastLatency = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_vip_last_check_seconds", Help: "Duration of a VIP's last health check probe.",
	}, []string{"vip"})
	metricTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_vip_transitions_total", Help: "Changes of a VIP's announce state, by the state entered.",
	}, []string{"vip", "state"})
	metricDeviceErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_vip_device_errors_total", Help: "Anycast VIP: failures to put the address on its device.",
	}, []string{"vip"})
	metricWatchErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_vip_address_watch_errors_total", Help: "Failures of the VIPs' netlink address subscription (each followed by a new subscription and list).",
	})
)

// initMetrics makes a VIP's series exist from the start.
func initMetrics(name string) {
	for _, st := range []string{Announced, Depreferred, Withdrawn} {
		metricState.WithLabelValues(name, st).Set(b2f(st == Withdrawn))
	}
	metricUp.WithLabelValues(name).Set(0)
	metricPresent.WithLabelValues(name).Set(0)
	metricProbes.WithLabelValues(name, "pass")
	metricProbes.WithLabelValues(name, "fail")
	metricDeviceErrors.WithLabelValues(name)
}

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricState, metricUp, metricPresent, metricProbes, metricProbeSeconds,
		metricLastLatency, metricTransitions, metricDeviceErrors, metricWatchErrors}
}
