package ovs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// testOVS is a real ovsdb-server and ovs-vswitchd (userspace datapath) in a
// throwaway network namespace, with br-int and provider bridges.
type testOVS struct {
	t   testing.TB
	l   *lab.Lab
	ns  *lab.NetNS
	db  *ovsdbserver.Server
	dir string
	env []string
}

func needRoot(t testing.TB) {
	t.Helper()
	lab.NeedRoot(t, "the OVS lab (network namespace, ovs-vswitchd)")
}

func startOVS(t testing.TB, bridges ...string) *testOVS {
	t.Helper()
	needRoot(t)
	l := lab.New(t)
	o := &testOVS{t: t, l: l, ns: l.NetNS("ovs", false), dir: l.Subdir("ovs")}
	o.env = []string{"OVS_RUNDIR=" + o.dir, "OVS_LOGDIR=" + o.dir, "OVS_DBDIR=" + o.dir}
	o.db = ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.VSwitchSchema, Dir: o.dir})
	o.vsctl("--no-wait", "init")
	o.startVSwitchd()
	args := []string{"--", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev", "fail_mode=secure"}
	for _, br := range bridges {
		args = append(args, "--", "add-br", br, "--", "set", "Bridge", br, "datapath_type=netdev")
	}
	o.vsctl(args...)
	return o
}

func (o *testOVS) vsctl(args ...string) string {
	o.t.Helper()
	return ovsdbserver.Run(o.t, "ovs-vsctl", append([]string{"--timeout=20", "--db=" + o.db.Remote()}, args...)...)
}

func (o *testOVS) pidFile() string { return filepath.Join(o.dir, "ovs-vswitchd.pid") }

func (o *testOVS) startVSwitchd() {
	o.t.Helper()
	o.l.RunEnv(o.env, "ip", "netns", "exec", o.ns.Name, "ovs-vswitchd", o.db.Remote(), "--detach", "--no-chdir",
		"--pidfile="+o.pidFile(), "--log-file="+filepath.Join(o.dir, "ovs-vswitchd.log"),
		"--unixctl="+filepath.Join(o.dir, "ovs-vswitchd.ctl"))
}

// restartVSwitchd kills ovs-vswitchd (flows are lost; bridges and ports
// stay in the database), waits until it is gone and starts it again.
func (o *testOVS) restartVSwitchd() {
	o.t.Helper()
	b, err := os.ReadFile(o.pidFile())
	if err != nil {
		o.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		o.t.Fatal(err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	lab.Eventually(o.t, 10*time.Second, "ovs-vswitchd gone", func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Fields(string(st))[2] == "Z"
	})
	o.startVSwitchd()
}

func (o *testOVS) target(br string) string { return "unix:" + filepath.Join(o.dir, br+".mgmt") }

// ofctl runs ovs-ofctl CMD <bridge target> args... (extra leading options
// in opts, e.g. -O OpenFlow13).
func (o *testOVS) ofctl(opts []string, cmd, br string, args ...string) string {
	o.t.Helper()
	return ovsdbserver.Run(o.t, "ovs-ofctl", append(append(append([]string{}, opts...), cmd, o.target(br)), args...)...)
}

// patch adds a patch port pair br:name <-> br-int with the requested ofport.
func (o *testOVS) patch(br, name string, ofport int) {
	o.t.Helper()
	peer := name + "-peer"
	o.vsctl("--", "add-port", br, name, "--", "set", "Interface", name, "type=patch", "options:peer="+peer,
		fmt.Sprintf("ofport_request=%d", ofport),
		"--", "add-port", "br-int", peer, "--", "set", "Interface", peer, "type=patch", "options:peer="+name)
	if got := o.vsctl("get", "Interface", name, "ofport"); got != strconv.Itoa(ofport) {
		o.t.Fatalf("ofport of %s = %s, want %d", name, got, ofport)
	}
}

// flows returns every flow of the bridge (--no-stats), trimmed and sorted.
func (o *testOVS) flows(opts []string, br string) []string {
	o.t.Helper()
	out := o.ofctl(append([]string{"--no-stats", "--no-names"}, opts...), "dump-flows", br)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && strings.Contains(l, "actions=") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// counter is an ovs-ofctl wrapper script that logs each invocation (and
// the stdin of add-flows) before running the real program.
type counter struct{ script, log string }

func newCounter(t testing.TB) *counter {
	d := t.TempDir()
	c := &counter{script: filepath.Join(d, "ovs-ofctl"), log: filepath.Join(d, "calls.log")}
	sh := "#!/bin/sh\nfor a; do if [ \"$a\" = add-flows ]; then\n" +
		"  tmp=$(mktemp); cat > \"$tmp\"; echo \"CALL $*\" >> " + c.log + "; sed 's/^/  /' \"$tmp\" >> " + c.log + "\n" +
		"  ovs-ofctl \"$@\" < \"$tmp\"; rc=$?; rm -f \"$tmp\"; exit $rc; fi; done\n" +
		"echo \"CALL $*\" >> " + c.log + "\nexec ovs-ofctl \"$@\"\n"
	if err := os.WriteFile(c.script, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

// take returns the calls logged since the last take: the command lines and
// the add-flows input lines.
func (c *counter) take(t testing.TB) (calls, input []string) {
	b, err := os.ReadFile(c.log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	_ = os.Remove(c.log)
	for _, l := range strings.Split(string(b), "\n") {
		if s, ok := strings.CutPrefix(l, "CALL "); ok {
			calls = append(calls, s)
		} else if s, ok := strings.CutPrefix(l, "  "); ok {
			input = append(input, s)
		}
	}
	return calls, input
}

// metricValue reads a gauge or counter.
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

func countCmd(calls []string, cmd string) int {
	n := 0
	for _, c := range calls {
		if slices.Contains(strings.Fields(c), cmd) {
			n++
		}
	}
	return n
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (o *testOVS) reconciler(c *counter) *Reconciler {
	opts := Options{Target: o.target, Env: o.env, Logger: testLogger(o.t), ControlDir: o.dir}
	if c != nil {
		opts.OFCtl = c.script
	}
	return New(opts)
}

func ourFlow(proto string, ofport int, mac string) string {
	return fmt.Sprintf("cookie=0x3e7, priority=900,%s,in_port=%d actions=mod_dl_dst:%s,NORMAL", proto, ofport, mac)
}

func cookieFlows(all []string, cookie string) []string {
	var out []string
	for _, l := range all {
		if strings.HasPrefix(l, "cookie="+cookie+",") {
			out = append(out, l)
		}
	}
	return out
}

const (
	macA = "02:00:00:00:00:0a"
	macB = "02:00:00:00:00:0b"
)

// TestSyncLab drives Sync against a real ovs-vswitchd through the cases of
// the issue, in order, on one bridge set: from empty, idempotent, MAC
// change, port removed, upstream leftovers adopted, foreign flows untouched,
// missing bridge, bridge dropped.
func TestSyncLab(t *testing.T) {
	o := startOVS(t, "br-ex", "br-ex2")
	// Ports 1 and 10: a string compare would confuse in_port=1 with in_port=10.
	o.patch("br-ex", "patch-provnet-a", 1)
	o.patch("br-ex", "patch-provnet-b", 10)
	o.patch("br-ex2", "patch-provnet-c", 3)
	foreign := []string{
		"cookie=0x5,priority=900,ip,in_port=1,nw_dst=10.9.9.9,actions=drop",
		"cookie=0x3e6,priority=1000,ip,in_port=10,actions=NORMAL",
	}
	for _, f := range foreign {
		o.ofctl(nil, "add-flow", "br-ex", f)
	}
	foreignWant := []string{
		"cookie=0x3e6, priority=1000,ip,in_port=10 actions=NORMAL",
		"cookie=0x5, priority=900,ip,in_port=1,nw_dst=10.9.9.9 actions=drop",
		"priority=0 actions=NORMAL",
	}
	c := newCounter(t)
	r := o.reconciler(c)
	ctx := context.Background()
	bridges := []string{"br-ex", "br-ex2"}
	flowsAB := []plan.Flow{
		{Bridge: "br-ex", Port: "patch-provnet-a", OFPort: 1, DstMAC: macA},
		{Bridge: "br-ex", Port: "patch-provnet-b", OFPort: 10, DstMAC: macA},
		{Bridge: "br-ex2", Port: "patch-provnet-c", OFPort: 3, DstMAC: macB},
	}
	changed := slices.Clone(flowsAB) // port b rewrites to macB
	changed[1].DstMAC = macB
	check := func(t *testing.T, br string, want ...string) {
		t.Helper()
		all := o.flows(nil, br)
		want = append(slices.Clone(want), "priority=0 actions=NORMAL")
		if br == "br-ex" {
			want = append(want, foreignWant[:2]...)
		}
		sort.Strings(want)
		if !slices.Equal(all, want) {
			t.Fatalf("flows on %s:\n  %s\nwant:\n  %s", br, strings.Join(all, "\n  "), strings.Join(want, "\n  "))
		}
	}

	t.Run("from empty", func(t *testing.T) {
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA))
		check(t, "br-ex2", ourFlow("ip", 3, macB), ourFlow("ipv6", 3, macB))
		calls, input := c.take(t)
		if n := countCmd(calls, "add-flows"); n != 2 {
			t.Fatalf("%d add-flows calls, want one per bridge: %q", n, calls)
		}
		for _, call := range calls {
			if strings.Contains(call, "add-flows") && !strings.Contains(call, "--bundle") {
				t.Fatalf("add-flows without --bundle: %s", call)
			}
		}
		if len(input) != 6 {
			t.Fatalf("bundle input %q, want 6 adds", input)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		calls, _ := c.take(t)
		if n := countCmd(calls, "add-flows"); n != 0 {
			t.Fatalf("second Sync wrote: %q", calls)
		}
		if n := countCmd(calls, "dump-flows"); n != 2 {
			t.Fatalf("second Sync: %d dumps, want 2: %q", n, calls)
		}
	})

	t.Run("MAC change", func(t *testing.T) {
		if err := r.Sync(ctx, changed, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macB), ourFlow("ipv6", 10, macB))
		calls, input := c.take(t)
		if countCmd(calls, "add-flows") != 1 || len(input) != 2 {
			t.Fatalf("MAC change: calls %q input %q", calls, input)
		}
	})

	t.Run("port removed", func(t *testing.T) {
		if err := r.Sync(ctx, changed[1:], bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 10, macB), ourFlow("ipv6", 10, macB))
		check(t, "br-ex2", ourFlow("ip", 3, macB), ourFlow("ipv6", 3, macB))
		_, input := c.take(t)
		want := []string{
			"delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=1",
			"delete_strict cookie=0x3e7/-1,table=0,priority=900,ipv6,in_port=1",
		}
		if !slices.Equal(input, want) {
			t.Fatalf("input %q, want %q", input, want)
		}
	})

	t.Run("upstream leftovers adopted", func(t *testing.T) {
		// What a Python agent left: decimal cookie 999, the desired flow
		// for port 1 (kept, not duplicated), the priority-1000 variant of
		// its "ovn" method and a flow for a port that is gone (both
		// removed), on a bridge we are told about.
		for _, f := range []string{
			"cookie=999,priority=900,ip,in_port=1,actions=mod_dl_dst:" + macA + ",NORMAL",
			"cookie=999,priority=900,ipv6,in_port=1,actions=mod_dl_dst:" + macA + ",NORMAL",
			"cookie=999,priority=1000,ip,in_port=1,actions=mod_dl_dst:" + macA + ",NORMAL",
			"cookie=999,priority=900,ip,in_port=7,actions=mod_dl_dst:" + macA + ",NORMAL",
			"cookie=999,table=5,priority=900,ip,in_port=1,actions=mod_dl_dst:" + macA + ",NORMAL",
		} {
			o.ofctl(nil, "add-flow", "br-ex", f)
		}
		c.take(t)
		if err := r.Sync(ctx, changed, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macB), ourFlow("ipv6", 10, macB))
		_, input := c.take(t)
		want := []string{
			"delete_strict cookie=0x3e7/-1,table=0,priority=1000,ip,in_port=1",
			"delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=7",
			"delete_strict cookie=0x3e7/-1,table=5,priority=900,ip,in_port=1",
		}
		if !slices.Equal(input, want) {
			t.Fatalf("input %q, want only the deletes %q", input, want)
		}
	})

	t.Run("foreign flows untouched by an empty plan", func(t *testing.T) {
		if err := r.Sync(ctx, nil, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex")
		check(t, "br-ex2")
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		c.take(t)
	})

	t.Run("foreign flow with our exact match is left alone", func(t *testing.T) {
		foreignSame := "cookie=0x9,priority=900,ip,in_port=10,actions=drop"
		o.ofctl(nil, "del-flows", "br-ex", "--strict", "cookie=0x3e7/-1,priority=900,ip,in_port=10")
		o.ofctl(nil, "add-flow", "br-ex", foreignSame)
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ipv6", 10, macA),
			"cookie=0x9, priority=900,ip,in_port=10 actions=drop")
		if v := metricValue(t, metricBlocked.WithLabelValues("br-ex")); v != 1 {
			t.Fatalf("ovnbgp_ovs_blocked_flows{bridge=br-ex} = %v, want 1", v)
		}
		o.ofctl(nil, "del-flows", "br-ex", "--strict", "cookie=0x9/-1,priority=900,ip,in_port=10")
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA))
		if v := metricValue(t, metricBlocked.WithLabelValues("br-ex")); v != 0 {
			t.Fatalf("ovnbgp_ovs_blocked_flows{bridge=br-ex} = %v, want 0", v)
		}
		c.take(t)
	})

	t.Run("late patch port", func(t *testing.T) {
		// Not yet an ofport: the flow is skipped with a warning, the rest
		// stays as it is (no write at all).
		late := append(slices.Clone(flowsAB), plan.Flow{Bridge: "br-ex", Port: "patch-provnet-late", DstMAC: macA})
		if err := r.Sync(ctx, late, bridges); err != nil {
			t.Fatal(err)
		}
		if calls, _ := c.take(t); countCmd(calls, "add-flows") != 0 {
			t.Fatalf("wrote for a port without ofport: %q", calls)
		}
		// The port appears; the agent's OVS DB monitor sees the ofport and
		// the planner emits the flow: exactly its two flows are added.
		o.patch("br-ex", "patch-provnet-late", 20)
		late[len(late)-1].OFPort = 20
		if err := r.Sync(ctx, late, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA),
			ourFlow("ip", 20, macA), ourFlow("ipv6", 20, macA))
		_, input := c.take(t)
		want := []string{
			"add cookie=0x3e7,table=0,priority=900,ip,in_port=20,actions=mod_dl_dst:" + macA + ",NORMAL",
			"add cookie=0x3e7,table=0,priority=900,ipv6,in_port=20,actions=mod_dl_dst:" + macA + ",NORMAL",
		}
		if !slices.Equal(input, want) {
			t.Fatalf("input %q, want %q", input, want)
		}
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		c.take(t)
	})

	t.Run("refused delete does not keep the adds out", func(t *testing.T) {
		// A switch that refuses a delete line (here: a wrapper that fails
		// every bundle containing delete_strict, as ovs-ofctl would for a
		// line it cannot encode): the adds are applied on their own.
		refuse := filepath.Join(t.TempDir(), "ovs-ofctl")
		sh := "#!/bin/sh\ntmp=$(mktemp); cat > \"$tmp\"\n" +
			"if grep -q delete_strict \"$tmp\"; then rm -f \"$tmp\"; echo 'ovs-ofctl: -:1: refused' >&2; exit 1; fi\n" +
			"ovs-ofctl \"$@\" < \"$tmp\"; rc=$?; rm -f \"$tmp\"; exit $rc\n"
		if err := os.WriteFile(refuse, []byte(sh), 0o755); err != nil {
			t.Fatal(err)
		}
		r2 := New(Options{OFCtl: refuse, Target: o.target, Env: o.env, Logger: testLogger(t)})
		o.ofctl(nil, "del-flows", "br-ex", "--strict", "cookie=0x3e7/-1,priority=900,ip,in_port=1")
		o.ofctl(nil, "add-flow", "br-ex", "cookie=0x3e7,priority=900,ip,in_port=7,actions=NORMAL")
		err := r2.Sync(ctx, flowsAB, []string{"br-ex"})
		if err == nil || !strings.Contains(err.Error(), "deletes refused (adds applied)") {
			t.Fatalf("err = %v", err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA),
			"cookie=0x3e7, priority=900,ip,in_port=7 actions=NORMAL")
		if err := r.Sync(ctx, flowsAB, bridges); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA))
		c.take(t)
	})

	t.Run("missing bridge", func(t *testing.T) {
		before := metricValue(t, metricSyncs.WithLabelValues("br-nope", "sync", "missing_bridge"))
		err := r.Sync(ctx, flowsAB, []string{"br-ex", "br-ex2", "br-nope"})
		if !errors.Is(err, ErrBridgeNotFound) || !strings.Contains(err.Error(), "br-nope") {
			t.Fatalf("err = %v, want ErrBridgeNotFound naming br-nope", err)
		}
		t.Logf("Sync error: %v", err)
		if strings.Contains(err.Error(), "bridge br-ex:") {
			t.Fatalf("healthy bridges reported: %v", err)
		}
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA))
		calls, _ := c.take(t)
		if n := countCmd(calls, "dump-flows"); n != 3 {
			t.Fatalf("missing bridge retried needlessly: %q", calls)
		}
		if after := metricValue(t, metricSyncs.WithLabelValues("br-nope", "sync", "missing_bridge")); after != before+1 {
			t.Fatalf("missing_bridge metric %v -> %v", before, after)
		}
	})

	t.Run("bridge dropped from the plan loses our flows", func(t *testing.T) {
		if err := r.Sync(ctx, flowsAB[:2], []string{"br-ex"}); err != nil {
			t.Fatal(err)
		}
		check(t, "br-ex2")
		check(t, "br-ex", ourFlow("ip", 1, macA), ourFlow("ipv6", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 10, macA))
	})
}

// TestSyncOpenFlowVersions: a bridge limited to OpenFlow 1.3 (ovs-ofctl's
// default OpenFlow 1.0 reads and 1.4 bundles are refused), one limited to
// OpenFlow 1.0 (no bundles at all) and one limited to OpenFlow 1.5 are
// still reconciled and repaired, and the version that works is remembered.
func TestSyncOpenFlowVersions(t *testing.T) {
	o := startOVS(t, "br-13", "br-10", "br-15")
	o.vsctl("set", "Bridge", "br-13", "protocols=OpenFlow13")
	o.vsctl("set", "Bridge", "br-10", "protocols=OpenFlow10")
	o.vsctl("set", "Bridge", "br-15", "protocols=OpenFlow15")
	o.patch("br-13", "patch-provnet-a", 2)
	o.patch("br-10", "patch-provnet-b", 2)
	o.patch("br-15", "patch-provnet-c", 2)
	c := newCounter(t)
	r := o.reconciler(c)
	flows := []plan.Flow{
		{Bridge: "br-13", Port: "patch-provnet-a", OFPort: 2, DstMAC: macA},
		{Bridge: "br-10", Port: "patch-provnet-b", OFPort: 2, DstMAC: macA},
		{Bridge: "br-15", Port: "patch-provnet-c", OFPort: 2, DstMAC: macA},
	}
	bridges := []string{"br-13", "br-10", "br-15"}
	of15 := []string{"-O", "OpenFlow15"}
	if err := r.Sync(context.Background(), flows, bridges); err != nil {
		t.Fatal(err)
	}
	got13 := cookieFlows(o.flows([]string{"-O", "OpenFlow13"}, "br-13"), "0x3e7")
	want13 := []string{
		"cookie=0x3e7, priority=900,ip,in_port=2 actions=set_field:" + macA + "->eth_dst,NORMAL",
		"cookie=0x3e7, priority=900,ipv6,in_port=2 actions=set_field:" + macA + "->eth_dst,NORMAL",
	}
	for i := range got13 {
		got13[i] = strings.Replace(got13[i], "reset_counts ", "", 1)
	}
	if !slices.Equal(got13, want13) {
		t.Fatalf("br-13: %q, want %q", got13, want13)
	}
	got15 := cookieFlows(o.flows(of15, "br-15"), "0x3e7")
	for i := range got15 {
		got15[i] = strings.Replace(got15[i], "reset_counts ", "", 1)
	}
	if !slices.Equal(got15, want13) {
		t.Fatalf("br-15: %q, want %q", got15, want13)
	}
	got10 := cookieFlows(o.flows(nil, "br-10"), "0x3e7")
	if want := []string{ourFlow("ip", 2, macA), ourFlow("ipv6", 2, macA)}; !slices.Equal(got10, want) {
		t.Fatalf("br-10: %q, want %q", got10, want)
	}
	c.take(t)
	// Second round: in sync, and the remembered versions are used at once.
	if err := r.Sync(context.Background(), flows, bridges); err != nil {
		t.Fatal(err)
	}
	calls, _ := c.take(t)
	if len(calls) != 3 || countCmd(calls, "add-flows") != 0 {
		t.Fatalf("second Sync: %q, want exactly three dumps", calls)
	}
	for _, call := range calls {
		if strings.Contains(call, "br-13") && !strings.Contains(call, "OpenFlow13") {
			t.Fatalf("br-13 not dumped with -O OpenFlow13: %q", call)
		}
	}
	// A drift is repaired on both (OpenFlow 1.3 monitor on br-13).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	lab.Eventually(t, 5*time.Second, "monitors connected", func() bool { return r.connects.Load() >= 3 })
	o.ofctl([]string{"-O", "OpenFlow13"}, "del-flows", "br-13", "cookie=0x3e7/-1")
	o.ofctl(nil, "del-flows", "br-10", "cookie=0x3e7/-1")
	o.ofctl(of15, "del-flows", "br-15", "cookie=0x3e7/-1")
	took := lab.Eventually(t, 5*time.Second, "flows restored on br-13, br-10 and br-15", func() bool {
		return len(cookieFlows(o.flows([]string{"-O", "OpenFlow13"}, "br-13"), "0x3e7")) == 2 &&
			len(cookieFlows(o.flows(nil, "br-10"), "0x3e7")) == 2 &&
			len(cookieFlows(o.flows(of15, "br-15"), "0x3e7")) == 2
	})
	t.Logf("restored after %s", took)
}

// TestRunRepairsDrift: with Run active (and no periodic pass, so only the
// flow monitor can repair), a hand-deleted or hand-modified flow comes back
// (the time it took is logged, not asserted: a loaded machine is slower), a stray flow with our cookie goes, a foreign
// flow stays, and after an ovs-vswitchd restart (all flows lost) ours are
// back.
func TestRunRepairsDrift(t *testing.T) {
	o := startOVS(t, "br-ex", "br-ex2")
	o.patch("br-ex", "patch-provnet-a", 1)
	o.patch("br-ex", "patch-provnet-b", 10)
	o.patch("br-ex2", "patch-provnet-c", 3)
	r := o.reconciler(nil)
	flows := []plan.Flow{
		{Bridge: "br-ex", Port: "patch-provnet-a", OFPort: 1, DstMAC: macA},
		{Bridge: "br-ex", Port: "patch-provnet-b", OFPort: 10, DstMAC: macA},
	}
	want := []string{ourFlow("ip", 1, macA), ourFlow("ip", 10, macA), ourFlow("ipv6", 1, macA), ourFlow("ipv6", 10, macA)}
	sort.Strings(want)
	ours := func() []string { return cookieFlows(o.flows(nil, "br-ex"), "0x3e7") }
	inSync := func() bool { return slices.Equal(ours(), want) }

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }() // Run before the first Sync: it picks the bridges up
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { _ = stop() })
	if err := r.Sync(ctx, flows, []string{"br-ex"}); err != nil {
		t.Fatal(err)
	}
	if !inSync() {
		t.Fatalf("after Sync: %q", ours())
	}
	// Give the monitor time to connect before drifting.
	lab.Eventually(t, 5*time.Second, "monitor connected", func() bool { return r.connects.Load() >= 1 })

	o.ofctl(nil, "add-flow", "br-ex", "cookie=0x77,priority=500,ip,actions=NORMAL")
	for _, tc := range []struct {
		name  string
		drift func()
	}{
		{"deleted by hand", func() {
			o.ofctl(nil, "del-flows", "br-ex", "--strict", "cookie=0x3e7/-1,priority=900,ip,in_port=10")
		}},
		{"all ours deleted by hand", func() { o.ofctl(nil, "del-flows", "br-ex", "cookie=0x3e7/-1") }},
		{"modified by hand", func() {
			o.ofctl(nil, "mod-flows", "br-ex", "--strict", "cookie=0x3e7/-1,priority=900,ipv6,in_port=1,actions=drop")
		}},
		{"stray flow with our cookie", func() {
			o.ofctl(nil, "add-flow", "br-ex", "cookie=0x3e7,priority=900,ip,in_port=7,actions=NORMAL")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.drift()
			took := lab.Eventually(t, 10*time.Second, "flows repaired ("+tc.name+")", inSync)
			t.Logf("repaired after %s", took)
		})
	}
	if !slices.Contains(o.flows(nil, "br-ex"), "cookie=0x77, priority=500,ip actions=NORMAL") {
		t.Fatal("foreign flow was removed")
	}

	t.Run("bridge added and dropped while running", func(t *testing.T) {
		flows2 := append(slices.Clone(flows), plan.Flow{Bridge: "br-ex2", Port: "patch-provnet-c", OFPort: 3, DstMAC: macB})
		if err := r.Sync(ctx, flows2, []string{"br-ex", "br-ex2"}); err != nil {
			t.Fatal(err)
		}
		want2 := []string{ourFlow("ip", 3, macB), ourFlow("ipv6", 3, macB)}
		lab.Eventually(t, 5*time.Second, "monitor on br-ex2", func() bool { return r.connects.Load() >= 2 })
		o.ofctl(nil, "del-flows", "br-ex2", "cookie=0x3e7/-1")
		took := lab.Eventually(t, 10*time.Second, "br-ex2 repaired", func() bool {
			return slices.Equal(cookieFlows(o.flows(nil, "br-ex2"), "0x3e7"), want2)
		})
		t.Logf("br-ex2 repaired after %s", took)
		if err := r.Sync(ctx, flows, []string{"br-ex"}); err != nil {
			t.Fatal(err)
		}
		if got := cookieFlows(o.flows(nil, "br-ex2"), "0x3e7"); len(got) != 0 {
			t.Fatalf("br-ex2 still has our flows: %q", got)
		}
		// No longer ours to watch: a flow added by hand stays.
		o.ofctl(nil, "add-flow", "br-ex2", "cookie=0x3e7,priority=900,ip,in_port=3,actions=NORMAL")
		time.Sleep(500 * time.Millisecond)
		if got := cookieFlows(o.flows(nil, "br-ex2"), "0x3e7"); len(got) != 1 {
			t.Fatalf("unmanaged br-ex2 was touched: %q", got)
		}
		if !inSync() {
			t.Fatalf("br-ex: %q", ours())
		}
	})

	t.Run("ovs-vswitchd restart", func(t *testing.T) {
		start := time.Now()
		o.restartVSwitchd()
		restarted := time.Since(start)
		took := lab.Eventually(t, 15*time.Second, "flows back after ovs-vswitchd restart", func() bool {
			out, err := exec.Command("ovs-ofctl", "--no-stats", "--no-names", "dump-flows", o.target("br-ex"), "cookie=0x3e7/-1").Output()
			if err != nil {
				return false
			}
			flows, _ := parseDump(string(out))
			return len(flows) == 4 && inSync()
		})
		t.Logf("ovs-vswitchd restarted in %s; flows back %s later", restarted, took)
	})

	t.Run("Run returns and cleans up", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		left, _ := filepath.Glob(filepath.Join(o.dir, "ovnbgp-ofmon-*"))
		if len(left) > 0 {
			t.Fatalf("monitor sockets left: %q", left)
		}
		out, _ := exec.Command("pgrep", "-f", "monitor "+o.target("br-ex")).Output()
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Fatalf("monitor processes left: %s", s)
		}
	})
}

// BenchmarkSync3000 measures Sync of 3,000 flows (IPv4+IPv6 for 1,500
// patch ports, spread over 3 bridges or all on one) against a real
// ovs-vswitchd: installing them all, a no-op Sync, a 10 % MAC change and
// removing them all.
func BenchmarkSync3000(b *testing.B) {
	for _, layout := range []struct {
		name    string
		bridges []string
	}{
		{"3-bridges", []string{"br-a", "br-b", "br-c"}},
		{"1-bridge", []string{"br-a"}},
	} {
		b.Run(layout.name, func(b *testing.B) { benchSync(b, layout.bridges, 1500/len(layout.bridges)) })
	}
}

func benchSync(b *testing.B, bridges []string, ports int) {
	o := startOVS(b, bridges...)
	r := o.reconciler(nil)
	ctx := context.Background()
	mk := func(changed bool) []plan.Flow {
		var flows []plan.Flow
		for _, br := range bridges {
			for p := 1; p <= ports; p++ {
				mac := macA
				if changed && p%10 == 0 {
					mac = macB
				}
				flows = append(flows, plan.Flow{Bridge: br, Port: fmt.Sprintf("patch-provnet-%d", p), OFPort: p, DstMAC: mac})
			}
		}
		return flows
	}
	flows, flows10 := mk(false), mk(true)
	sync := func(b *testing.B, f []plan.Flow) {
		if err := r.Sync(ctx, f, bridges); err != nil {
			b.Fatal(err)
		}
	}
	count := func(b *testing.B) int {
		n := 0
		for _, br := range bridges {
			n += len(cookieFlows(o.flows(nil, br), "0x3e7"))
		}
		return n
	}
	b.Run("install", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			sync(b, nil)
			b.StartTimer()
			sync(b, flows)
		}
		if n := count(b); n != 3000 {
			b.Fatalf("%d flows installed, want 3000", n)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		sync(b, flows)
		for b.Loop() {
			sync(b, flows)
		}
	})
	b.Run("change-10pct", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if i++; i%2 == 0 {
				sync(b, flows)
			} else {
				sync(b, flows10)
			}
		}
		if n := count(b); n != 3000 {
			b.Fatalf("%d flows, want 3000", n)
		}
	})
	b.Run("remove", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			sync(b, flows)
			b.StartTimer()
			sync(b, nil)
		}
		if n := count(b); n != 0 {
			b.Fatalf("%d flows left, want 0", n)
		}
	})
}
