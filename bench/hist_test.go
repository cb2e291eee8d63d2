package main

import (
	"math"
	"testing"
	"time"
)

// TestHistRange: the buckets of the median and the 99th percentile of the
// observations between two scrapes.
func TestHistRange(t *testing.T) {
	b := func(counts ...float64) []bucket {
		les := []float64{.01, .05, .1, math.Inf(1)}
		out := make([]bucket, len(counts))
		for i, c := range counts {
			out[i] = bucket{le: les[i], count: c}
		}
		return out
	}
	for _, c := range []struct {
		name          string
		before, after []bucket
		want          string
	}{
		{"most fast, tail in the 100 ms bucket", b(10, 10, 10, 10), b(110, 190, 210, 210), "<=10 / <=100 ms, 200 changes"},
		{"tail above the last bound", b(0, 0, 0, 0), b(60, 60, 60, 100), "<=10 / >100 ms, 100 changes"},
		{"nothing new", b(5, 5, 5, 5), b(5, 5, 5, 5), "no changes"},
		{"not scraped", nil, nil, "n/a"},
		{"scrapes differ", b(1, 1, 1, 1), b(1, 1), "n/a"},
	} {
		if got := histRange(c.before, c.after); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestParseHistogram reads the buckets of one histogram from /metrics text.
func TestParseHistogram(t *testing.T) {
	lines := []string{
		`# HELP ovnbgp_change_latency_seconds From an OVSDB row change ...`,
		`# TYPE ovnbgp_change_latency_seconds histogram`,
		`ovnbgp_change_latency_seconds_bucket{le="0.001"} 3`,
		`ovnbgp_change_latency_seconds_bucket{le="0.1"} 7`,
		`ovnbgp_change_latency_seconds_bucket{le="+Inf"} 9`,
		`ovnbgp_change_latency_seconds_sum 0.5`,
		`ovnbgp_change_latency_seconds_count 9`,
		`ovnbgp_reconcile_duration_seconds_bucket{type="full",le="0.001"} 1`,
	}
	got := parseHistogram(lines, "ovnbgp_change_latency_seconds")
	want := []bucket{{.001, 3}, {.1, 7}, {math.Inf(1), 9}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("bucket %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCPUShares(t *testing.T) {
	got := cpuShares(map[string]float64{"ovnbgp": 1.5, "ovn-northd": 2.5, "idle": 0.01}, 5*time.Second)
	if want := "ovn-northd 50, ovnbgp 30"; got != want {
		t.Fatalf("cpuShares = %q, want %q", got, want)
	}
	if got := cpuShares(map[string]float64{"x": 1}, 0); got != "" {
		t.Fatalf("no window: %q", got)
	}
}

// TestParseProcStat: busy is user+nice+system+irq+softirq, steal its own
// column, both in seconds of USER_HZ (100) ticks; a line that is not the
// cpu line is an error.
func TestParseProcStat(t *testing.T) {
	got, err := parseProcStat("cpu  22456 10 7545 67991 286 5 301 14 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (machineTimes{busy: (22456 + 10 + 7545 + 5 + 301) / 100.0, steal: 0.14}); math.Abs(got.busy-want.busy) > 1e-9 || math.Abs(got.steal-want.steal) > 1e-9 {
		t.Fatalf("parseProcStat = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 x 4 5 6 7 8"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
}

// TestMachineLoad: shares of one core over the window; the part outside
// the run never goes below zero; no reading is n/a.
func TestMachineLoad(t *testing.T) {
	before, after := machineTimes{busy: 100, steal: 1}, machineTimes{busy: 109, steal: 1.5}
	if got, want := newMachineLoad(before, after, 8, 5*time.Second).String(), "180 / 20 / 10"; got != want {
		t.Fatalf("load = %q, want %q", got, want)
	}
	if got, want := newMachineLoad(before, after, 9.1, 5*time.Second).String(), "180 / 0 / 10"; got != want {
		t.Fatalf("run's processes above the machine's busy time: %q, want %q", got, want)
	}
	if got := newMachineLoad(before, machineTimes{}, 1, time.Second).String(); got != "n/a" {
		t.Fatalf("unreadable /proc/stat: %q", got)
	}
}
