package linux

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors of one pass, aggregated by cause.

// errSet aggregates errors by cause: a count and the first few messages.
type errSet struct {
	count map[string]int
	first []error
}

func (e *errSet) add(cause string, err error) {
	if e.count == nil {
		e.count = map[string]int{}
	}
	e.count[cause]++
	if len(e.first) < 5 {
		e.first = append(e.first, err)
	}
}

func (e *errSet) err() error {
	if len(e.count) == 0 {
		return nil
	}
	causes := make([]string, 0, len(e.count))
	total := 0
	for c, n := range e.count {
		causes = append(causes, fmt.Sprintf("%s=%d", c, n))
		total += n
	}
	sort.Strings(causes)
	return fmt.Errorf("dataplane: %d errors (%s): %w", total, strings.Join(causes, " "), errors.Join(e.first...))
}

func (r *Reconciler) noteErr(es *errSet) error {
	err := es.err()
	if err != nil {
		for c, n := range es.count {
			r.stats.Errors += n
			metricErrors.WithLabelValues(c).Add(float64(n))
		}
		r.stats.LastError = err.Error()
	}
	return err
}
