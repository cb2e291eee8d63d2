package plan

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

var metricInvalid = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ovnbgp_plan_invalid_rows_total",
	Help: "Rows the planner skipped because a value could not be parsed, by table and reason.",
}, []string{"table", "reason"})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{metricInvalid} }

// Warning is a row the planner skipped or could only partly use.
type Warning struct {
	Table  string
	Row    string // logical port or other name
	Reason string // short, stable: the metric label
	Detail string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s %s: %s: %s", w.Table, w.Row, w.Reason, w.Detail)
}

// Warn counts a skipped row in the invalid-rows metric and appends its
// Warning to ws (the drivers collect their warnings this way).
func Warn(ws []Warning, table, row, reason, detail string) []Warning {
	metricInvalid.WithLabelValues(table, reason).Inc()
	return append(ws, Warning{Table: table, Row: row, Reason: reason, Detail: detail})
}
