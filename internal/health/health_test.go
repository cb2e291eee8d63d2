package health_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/health"
)

// TestRiseFall replays probe results and checks the state after each one.
func TestRiseFall(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rise, fall int
		probes     string // p = pass, f = fail
		states     string // U = up, D = down after each probe
		changes    int
	}{
		{"a first passing probe is up at once", 3, 2, "p", "U", 1},
		{"rise 1", 1, 1, "pfp", "UDU", 3},
		{"fall holds a single failure", 2, 2, "pfpfp", "UUUUU", 1},
		{"fall reached", 2, 2, "pff", "UUD", 2},
		{"flapping never rises", 3, 3, "fpfpfpfppf", "DDDDDDDDDD", 0},
		{"flapping never falls once up", 2, 3, "pfpffpf", "UUUUUUU", 1},
		{"fail first stays down", 2, 2, "fff", "DDD", 0},
		{"rise counts in a row after a failure", 3, 1, "fppfppp", "DDDDDDU", 1},
		{"after a fall, rise again", 2, 1, "pfpp", "UDDU", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := health.NewChecker(health.None{}, health.Options{Rise: tc.rise, Fall: tc.fall})
			var got strings.Builder
			changes := 0
			for _, p := range tc.probes {
				st, changed := c.Observe(health.Result{OK: p == 'p'})
				if changed {
					changes++
				}
				got.WriteByte(map[health.State]byte{health.Up: 'U', health.Down: 'D'}[st])
			}
			assert.Equal(t, tc.states, got.String())
			assert.Equal(t, tc.changes, changes)
			assert.Equal(t, tc.changes, c.Status().Transitions)
			assert.Equal(t, uint64(len(tc.probes)), c.Status().Probes)
		})
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestProbes runs every prober against real listeners and programs.
func TestProbes(t *testing.T) {
	hang := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/hang", func(http.ResponseWriter, *http.Request) { <-hang })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tls := httptest.NewTLSServer(mux)
	t.Cleanup(tls.Close)
	t.Cleanup(func() { close(hang) }) // first: the servers' Close waits for the hanging handler
	tcp := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name    string
		p       health.Prober
		timeout time.Duration
		want    string // "" = healthy, else a part of the error
	}{
		{"tcp open", health.TCP{Addr: tcp}, time.Second, ""},
		{"tcp refused", health.TCP{Addr: closedPort(t)}, time.Second, "connection refused"},
		{"http 200", health.NewHTTP(srv.URL+"/ok", 200, false), time.Second, ""},
		{"http 503", health.NewHTTP(srv.URL+"/down", 200, false), time.Second, "status 503, expected 200"},
		{"http expects 503", health.NewHTTP(srv.URL+"/down", 503, false), time.Second, ""},
		{"http redirect not followed", health.NewHTTP(srv.URL+"/moved", 200, false), time.Second, "status 302"},
		{"http refused", health.NewHTTP("http://"+closedPort(t)+"/", 200, false), time.Second, "connection refused"},
		{"http hangs", health.NewHTTP(srv.URL+"/hang", 200, false), 100 * time.Millisecond, "timeout after 100ms"},
		{"https unverified", health.NewHTTP(tls.URL+"/ok", 200, false), time.Second, ""},
		{"https verified fails on a self-signed cert", health.NewHTTP(tls.URL+"/ok", 200, true), time.Second, "certificate"},
		{"command true", health.Command{Argv: []string{"/bin/true"}}, time.Second, ""},
		{"command false", health.Command{Argv: []string{"/bin/false"}}, time.Second, "exit status 1"},
		{"command missing", health.Command{Argv: []string{"/nonexistent/check"}}, time.Second, "no such file"},
		{"command hangs", health.Command{Argv: []string{"/bin/sleep", "30"}}, 100 * time.Millisecond, "timeout after 100ms"},
		{"command no shell", health.Command{Argv: []string{"/bin/echo", "$(false)", ";", "exit", "1"}}, time.Second, ""},
		{"none", health.None{}, time.Second, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lat, err := health.Run(context.Background(), tc.p, tc.timeout)
			assert.Positive(t, lat)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestCommandKillsItsGroup: a command that forked a child is killed with
// the child at the timeout (the child would otherwise hold the pipe and
// keep running).
func TestCommandKillsItsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := health.Command{Argv: []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; wait"}}
	_, err := health.Run(context.Background(), p, 200*time.Millisecond)
	require.Error(t, err)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid := strings.TrimSpace(string(b))
	require.Eventually(t, func() bool {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		// gone, or a zombie waiting for init
		return err != nil || strings.Contains(string(st), ") Z ")
	}, 5*time.Second, 20*time.Millisecond, "the child %s outlived the probe", pid)
}

// TestMaintenanceFile: the file takes the check to maintenance without a
// probe; removing it starts from down, and rise passes bring it up.
func TestMaintenanceFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "maint")
	c := health.NewChecker(health.None{}, health.Options{Timeout: time.Second, Rise: 2, Fall: 2, MaintenanceFile: file})
	ctx := context.Background()
	step := func() health.State { st, _, _ := c.Step(ctx); return st }
	assert.Equal(t, health.Up, step(), "the first passing probe")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	probes := c.Status().Probes
	assert.Equal(t, health.Maintenance, step())
	assert.Equal(t, health.Maintenance, step())
	assert.Equal(t, probes, c.Status().Probes, "no probe in maintenance")
	require.NoError(t, os.Remove(file))
	assert.Equal(t, health.Down, step())
	assert.Equal(t, health.Up, step())
	assert.Equal(t, 4, c.Status().Transitions)
	assert.Equal(t, health.Maintenance, func() health.State {
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		return step()
	}())
}

// TestRunReports: Run probes at once and reports every round until ctx ends.
func TestRunReports(t *testing.T) {
	c := health.NewChecker(health.TCP{Addr: closedPort(t)}, health.Options{Interval: 10 * time.Millisecond, Timeout: 10 * time.Millisecond, Rise: 1, Fall: 1})
	ctx, cancel := context.WithCancel(context.Background())
	rounds := 0
	c.Run(ctx, func(st health.State, r health.Result, _ bool) {
		assert.Equal(t, health.Down, st)
		assert.False(t, r.OK)
		if rounds++; rounds == 3 {
			cancel()
		}
	})
	assert.Equal(t, 3, rounds)
}
