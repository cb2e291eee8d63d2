package ovsdb

import "github.com/prometheus/client_golang/prometheus"

var (
	metricConnected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ovnbgp_ovsdb_connected", Help: "1 while the database connection is up with its monitor in place.",
	}, []string{"db"})
	metricDisconnects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_disconnects_total", Help: "Connections lost.",
	}, []string{"db"})
	metricConnectErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_connect_errors_total", Help: "Failed connection attempts.",
	}, []string{"db"})
	metricResyncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_resyncs_total", Help: "New monitor generations, by reason (connect, reconnect, conditions).",
	}, []string{"db", "reason"})
	metricMemberRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_member_refused_total", Help: "Database members left or not used because of their _Server state, by reason (no_database, not_joined, disconnected, not_leader, stale_index).",
	}, []string{"db", "reason"})
	metricMalformed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_malformed_rows_total", Help: "Rows whose cells could not be read into the model; skipped.",
	}, []string{"db", "table"})
	metricLimits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ovnbgp_ovsdb_limit_exceeded_total", Help: "Connections dropped because the server sent more than a limit allows, by limit (message, queue).",
	}, []string{"db", "limit"})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricConnected, metricDisconnects, metricConnectErrors, metricResyncs, metricMalformed, metricMemberRefused, metricLimits}
}
