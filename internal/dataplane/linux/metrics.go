package linux

import "github.com/prometheus/client_golang/prometheus"

var (
	metricObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_dataplane_linux_objects",
		Help: "Kernel objects owned by ovnbgp, by kind (rule, route, neighbour, ndp_proxy, address), as last indexed.",
	}, []string{"kind"})
	metricErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_dataplane_linux_errors_total",
		Help: "Failures to wire or unwire, by cause (device_missing, bridge_unknown, table_conflict, vlan_conflict, invalid, netlink, sysctl, link, rt_tables, dump, vrf).",
	}, []string{"cause"})
	metricRepairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_dataplane_linux_repairs_total",
		Help: "Owned objects restored after they were changed or deleted behind ovnbgp's back, by kind.",
	}, []string{"kind"})
	metricRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_dataplane_linux_netlink_requests_total",
		Help: "Netlink requests sent (each change or dump is one request; requests are sent in batches).",
	})
	metricResyncs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ovnbgp_dataplane_linux_resyncs_total",
		Help: "Full re-reads of the kernel state (start, full Wire, link changes, lost notifications).",
	})
	metricApply = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ovnbgp_dataplane_linux_apply_seconds",
		Help:    "Duration of Wire, Unwire, WireDelta, UnwireDelta and repairs.",
		Buckets: []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5},
	}, []string{"op"})
)

// Collectors returns the package's metrics, for the caller to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricObjects, metricErrors, metricRepairs, metricRequests, metricResyncs, metricApply}
}
