package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestDemoOutlivesItsProcess runs the demo (TestDemo) as a subprocess, as
// `make demo` does, and after that process has exited runs the commands
// the demo's closing text suggests, the very strings it prints: a new VM
// port written through the NB and bound on c1 is announced at the ToR
// (every daemon of the kept lab outlived the test process: issue 24), a
// killed agent moves no route, the restarted agent reports the new port,
// and `ovnbgp plan` computes it.
func TestDemoOutlivesItsProcess(t *testing.T) {
	lab.NeedRoot(t, "the demo")
	if os.Getenv("OVNBGP_DEMO") == "1" {
		t.Skip("inside the demo's own run")
	}
	state := filepath.Join(t.TempDir(), "demo.json")
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestDemo$", "-test.count=1", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), "OVNBGP_DEMO=1", "OVNBGP_DEMO_TAG=demo-test", "OVNBGP_DEMO_STATE="+state)
	cmd.Stdout, cmd.Stderr = &out, &out
	// A daemon that kept the demo's stdout or stderr open (a pipe to a
	// dead parent) would hold Wait: it gives up after WaitDelay.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var d demoLab
	if b, rerr := os.ReadFile(state); rerr == nil && json.Unmarshal(b, &d) == nil && d.Prefix != "" {
		t.Cleanup(func() { lab.DestroyKept(d.Prefix) })
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("a daemon of the demo kept its output open after it exited:\n%s", out.String())
	}
	if err != nil || d.Prefix == "" {
		t.Fatalf("the demo failed: %v\n%s", err, out.String())
	}
	cmds := d.commands()
	if !strings.Contains(out.String(), cmds.text()) {
		t.Fatalf("the demo's output lacks the commands it should suggest:\n%s\nwant:\n%s", out.String(), cmds.text())
	}
	if lab.Alive(cmd.Process.Pid) {
		t.Fatalf("the demo's process %d still runs", cmd.Process.Pid)
	}

	// 1. A new VM port, through the NB, bound on c1: announced at the ToR.
	for _, c := range cmds.AddPort {
		sh(t, c)
	}
	eventuallySh(t, cmds.WatchPort, func(out string) bool {
		return strings.Contains(out, demoNewPrefix) && !strings.Contains(out, "not in table")
	})
	eventuallySh(t, cmds.ToRRoutes, func(out string) bool { return hasAll(out, append(demoPrefixes, demoNewPrefix)) })
	before := bgpPaths(sh(t, cmds.ToRRoutes))

	// 2. The agent killed: no route moves. Restarted: it reports the port.
	oldPid := readPid(t, d.AgentPid)
	sh(t, cmds.KillAgent)
	lab.Eventually(t, 10*time.Second, "the killed agent gone", func() bool { return !lab.Alive(oldPid) })
	if after := bgpPaths(sh(t, cmds.ToRRoutes)); after != before {
		t.Fatalf("the ToR's routes moved when the agent died:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	sh(t, cmds.RestartAgent)
	eventuallySh(t, cmds.Status, func(out string) bool { return hasAll(out, append(demoPrefixes, demoNewPrefix)) })
	if newPid := readPid(t, d.AgentPid); newPid == oldPid || !lab.Alive(newPid) {
		t.Fatalf("the restarted agent's pid file holds %d (killed: %d), not a running agent", newPid, oldPid)
	}
	if after := bgpPaths(sh(t, cmds.ToRRoutes)); after != before {
		t.Fatalf("the ToR's routes moved when the agent restarted:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// 3. plan.
	if out := sh(t, cmds.Plan); !hasAll(out, append(demoPrefixes, demoNewPrefix)) {
		t.Fatalf("%s: want every prefix of %v:\n%s", cmds.Plan, append(demoPrefixes, demoNewPrefix), out)
	}
}

// sh runs one suggested command as a user pastes it into a root shell.
func sh(t *testing.T, c string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", c).CombinedOutput()
	if err != nil {
		t.Fatalf("$ %s\n%v: %s", c, err, out)
	}
	return string(out)
}

// eventuallySh runs a command until its output satisfies ok (the daemons
// need a moment), and fails with the last output after 30 s.
func eventuallySh(t *testing.T, c string, ok func(string) bool) {
	t.Helper()
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("sh", "-c", c).CombinedOutput()
		last = fmt.Sprintf("%v: %s", err, out)
		if err == nil && ok(string(out)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("$ %s\nnot as expected after 30 s; last output:\n%s", c, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hasAll(out string, subs []string) bool {
	for _, s := range subs {
		if !strings.Contains(out, s) {
			return false
		}
	}
	return true
}

// bgpPaths keeps the path lines of `show bgp ipv4 unicast` (status,
// prefix, next hop, ...), without the header whose table version counts
// every change.
func bgpPaths(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "*") {
			keep = append(keep, strings.TrimRight(l, " "))
		}
	}
	return strings.Join(keep, "\n")
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}
