package ovs

import "github.com/prometheus/client_golang/prometheus"

var (
	metricFlows = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_ovs_flows",
		Help: "Flows with ovnbgp's cookie installed on a bridge after the last successful reconcile.",
	}, []string{"bridge"})
	metricBlocked = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_ovs_blocked_flows",
		Help: "Desired flows not installed because a flow with another cookie has the same match and priority.",
	}, []string{"bridge"})
	metricSyncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovs_reconciles_total",
		Help: "Per-bridge flow reconciles by trigger (sync, repair) and result (ok, error; a failure because the bridge or ovs-vswitchd is missing also counts as missing_bridge).",
	}, []string{"bridge", "trigger", "result"})
	metricChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovs_flow_changes_total",
		Help: "Flows added or deleted on a bridge (op=add|delete), by trigger (sync, repair).",
	}, []string{"bridge", "op", "trigger"})
	metricOFCtl = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovs_ofctl_runs_total",
		Help: "ovs-ofctl invocations by command and result.",
	}, []string{"cmd", "result"})
	metricInvalid = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovs_invalid_flows_total",
		Help: "Planned flows that were not installed (no ofport, bad MAC, conflicting MAC) and dumped lines that could not be parsed.",
	}, []string{"reason"})
	metricMonitors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovs_monitor_restarts_total",
		Help: "Restarts of the per-bridge `ovs-ofctl monitor` drift watcher.",
	}, []string{"bridge"})
	metricDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ovnbgp_ovs_reconcile_duration_seconds",
		Help:    "Duration of one bridge reconcile (dump, diff, apply).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"bridge"})
)

// Collectors returns the package's metrics, for the caller to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricFlows, metricBlocked, metricSyncs, metricChanges, metricOFCtl, metricInvalid,
		metricMonitors, metricDuration}
}
