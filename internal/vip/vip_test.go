package vip

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// The tests of this package change addresses: they run in a network
// namespace of their own. As root, TestMain runs the test binary again
// under `unshare --net` (lo up); without root every test skips (or fails
// under CI, see lab.NeedRoot).
func TestMain(m *testing.M) {
	if os.Getenv("OVNBGP_VIP_NETNS") == "" && os.Geteuid() == 0 {
		cmd := exec.Command("unshare", append([]string{"--net", "--", os.Args[0]}, os.Args[1:]...)...)
		cmd.Env = append(os.Environ(), "OVNBGP_VIP_NETNS=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			os.Stderr.WriteString("unshare: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("OVNBGP_VIP_NETNS") != "" {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			os.Stderr.WriteString("ip link set lo up: " + string(out) + "\n")
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func inNetns(t *testing.T) {
	t.Helper()
	lab.NeedRoot(t, "the VIP tests (a network namespace of their own)")
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	require.NoError(t, err, "ip %v: %s", args, out)
}

// listener accepts TCP connections on 127.0.0.1 until closed.
func listener(t *testing.T) (port int, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, func() { l.Close() }
}

func vipCfg(name, addr, mode string, port int) config.VIP {
	return config.VIP{Name: name, Address: netip.MustParseAddr(addr), Mode: mode, Device: "lo", Check: config.CheckTCP,
		Target: "127.0.0.1", Port: port, Interval: 20 * time.Millisecond, Timeout: 20 * time.Millisecond, Rise: 2, Fall: 2,
		OnFailure: config.OnFailureWithdraw, DepreferMED: 1000, DepreferPrepend: 3}
}

func run(t *testing.T, vips []config.VIP, o Options) *Source {
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(vips, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func stateOf(s *Source, name string) Status {
	for _, st := range s.Status() {
		if st.Name == name {
			return st
		}
	}
	return Status{}
}

func waitState(t *testing.T, s *Source, name, state, reason string) {
	t.Helper()
	lab.Eventually(t, 10*time.Second, name+" "+state+" "+reason, func() bool {
		st := stateOf(s, name)
		return st.State == state && st.Reason == reason
	})
}

func announced(s *Source) map[string]plan.Announcement {
	out := map[string]plan.Announcement{}
	for _, a := range s.Announcements() {
		out[a.Port] = a
	}
	return out
}

// TestActivePassive: announced only while the address is on a local
// interface and the check passes; the address moving away (IPaddr2's
// ip addr del) withdraws it at once, without a probe.
func TestActivePassive(t *testing.T) {
	inNetns(t)
	port, stop := listener(t)
	defer stop()
	s := run(t, []config.VIP{vipCfg("api", "198.51.100.10", config.VIPActivePassive, port)}, Options{})
	waitState(t, s, "api", Withdrawn, ReasonAbsent)
	assert.Equal(t, 0.0, value(metricPresent.WithLabelValues("api")))
	ip(t, "addr", "add", "198.51.100.10/32", "dev", "lo")
	waitState(t, s, "api", Announced, "")
	a := announced(s)["api"]
	assert.Equal(t, plan.Announcement{Prefix: netip.MustParsePrefix("198.51.100.10/32"), Kind: plan.KindServiceVIP, Port: "api",
		Network: config.VIPActivePassive, Reason: "service VIP api (active-passive) announced"}, a)
	select {
	case <-s.Changed():
	default:
		t.Error("no change signalled")
	}
	ip(t, "addr", "del", "198.51.100.10/32", "dev", "lo")
	waitState(t, s, "api", Withdrawn, ReasonAbsent)
	assert.Empty(t, s.Announcements())
	assert.Equal(t, 1.0, value(metricTransitions.WithLabelValues("api", Withdrawn))) // the move (a VIP starts withdrawn)
}

// TestFailures: a refusing target withdraws after fall probes; with
// on_failure med the VIP stays announced with the MED instead (only when
// the speaker can), and the other VIP is served throughout.
func TestFailures(t *testing.T) {
	inNetns(t)
	port, stop := listener(t)
	ip(t, "addr", "add", "198.51.100.20/32", "dev", "lo")
	ip(t, "addr", "add", "198.51.100.21/32", "dev", "lo")
	ip(t, "addr", "add", "198.51.100.22/32", "dev", "lo")
	good, goodStop := listener(t)
	defer goodStop()
	med := vipCfg("med", "198.51.100.21", config.VIPActivePassive, port)
	med.OnFailure = config.OnFailureMED
	prep := vipCfg("prep", "198.51.100.22", config.VIPActivePassive, port)
	prep.OnFailure = config.OnFailurePrepend
	s := run(t, []config.VIP{vipCfg("w", "198.51.100.20", config.VIPActivePassive, port), med, prep,
		vipCfg("other", "198.51.100.20", config.VIPActivePassive, good)}, Options{CanDeprefer: true})
	for _, n := range []string{"w", "med", "prep", "other"} {
		waitState(t, s, n, Announced, "")
	}
	stop() // the target refuses from now on
	waitState(t, s, "w", Withdrawn, ReasonUnhealthy)
	waitState(t, s, "med", Depreferred, "")
	waitState(t, s, "prep", Depreferred, "")
	a := announced(s)
	assert.Equal(t, plan.PathAttrs{MED: 1000, SetMED: true}, a["med"].Attrs)
	assert.Equal(t, plan.PathAttrs{Prepend: 3}, a["prep"].Attrs)
	assert.NotContains(t, a, "w")
	assert.Contains(t, a, "other")
	assert.Equal(t, Announced, stateOf(s, "other").State)
	st := stateOf(s, "w")
	assert.False(t, st.Last.OK)
	assert.Contains(t, st.Last.Error, "connection refused")
	assert.Positive(t, value(metricProbes.WithLabelValues("w", "fail")))

	// Without a speaker that sets attributes, med and prepend withdraw.
	s2 := run(t, []config.VIP{med}, Options{CanDeprefer: false})
	waitState(t, s2, "med", Withdrawn, ReasonUnhealthy)
}

// TestHangingCheckAndMaintenance: a check that hangs fails at its timeout;
// the maintenance file withdraws whatever the check says.
func TestHangingCheckAndMaintenance(t *testing.T) {
	inNetns(t)
	ip(t, "addr", "add", "198.51.100.30/32", "dev", "lo")
	hang := vipCfg("hang", "198.51.100.30", config.VIPActivePassive, 0)
	hang.Check, hang.Command = config.CheckCommand, []string{"/bin/sleep", "10"}
	maint := vipCfg("maint", "198.51.100.30", config.VIPActivePassive, 0)
	maint.Check = config.CheckNone
	maint.MaintenanceFile = filepath.Join(t.TempDir(), "down")
	s := run(t, []config.VIP{hang, maint}, Options{})
	waitState(t, s, "maint", Announced, "")
	lab.Eventually(t, 10*time.Second, "the hanging check failed", func() bool { return stateOf(s, "hang").Probes >= 2 })
	st := stateOf(s, "hang")
	assert.Equal(t, Withdrawn, st.State)
	assert.Contains(t, st.Last.Error, "timeout after 20ms")
	require.NoError(t, os.WriteFile(maint.MaintenanceFile, nil, 0o600))
	waitState(t, s, "maint", Withdrawn, ReasonMaintenance)
	require.NoError(t, os.Remove(maint.MaintenanceFile))
	waitState(t, s, "maint", Announced, "")
}

// TestAnycast: ovnbgp puts the address on its device and puts it back when
// someone removes it; a device that does not exist is device_missing, a
// log line and a metric.
func TestAnycast(t *testing.T) {
	inNetns(t)
	port, stop := listener(t)
	defer stop()
	bad := vipCfg("nodev", "198.51.100.41", config.VIPAnycast, port)
	bad.Device = "nope0"
	s := run(t, []config.VIP{vipCfg("any", "198.51.100.40", config.VIPAnycast, port), bad}, Options{})
	waitState(t, s, "any", Announced, "")
	waitState(t, s, "nodev", Withdrawn, ReasonDevice)
	assert.Contains(t, stateOf(s, "nodev").Error, "nope0")
	assert.Positive(t, value(metricDeviceErrors.WithLabelValues("nodev")))
	out, err := exec.Command("ip", "-o", "addr", "show", "dev", "lo").CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), "198.51.100.40/32")
	ip(t, "addr", "del", "198.51.100.40/32", "dev", "lo")
	lab.Eventually(t, 10*time.Second, "the anycast address back on lo", func() bool {
		out, _ := exec.Command("ip", "-o", "addr", "show", "dev", "lo").CombinedOutput()
		return strings.Contains(string(out), "198.51.100.40/32")
	})
	waitState(t, s, "any", Announced, "")
}

// value reads a gauge or counter.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return m.Counter.GetValue()
}
