package ovsdb

import dto "github.com/prometheus/client_model/go"

// LimitExceeded reads ovnbgp_ovsdb_limit_exceeded_total{db, limit}.
func LimitExceeded(db, limit string) float64 {
	var m dto.Metric
	if err := metricLimits.WithLabelValues(db, limit).Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
