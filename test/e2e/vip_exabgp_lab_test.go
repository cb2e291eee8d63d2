package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The comparison row of issue 19: the same scenario (two controllers with
// HAProxy, the ToR, the active-passive VIP on ctl1, HAProxy killed there)
// with ovnbgp and with ExaBGP's healthcheck program (Debian's exabgp 4.2) in
// ovnbgp's place, in the same run: the failover time at the ToR and the CPU
// per probe. OVNBGP_VIP_RESULTS=<file> appends the rows there.

func TestServiceVIPsVersusExaBGP(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/exabgp"); err != nil {
		t.Fatalf("exabgp is missing (scripts/install-deps.sh installs it): %v", err)
	}
	var rows []string
	for _, who := range []string{"ovnbgp", "exabgp"} {
		t.Run(who, func(t *testing.T) {
			speaker := "gobgp"
			if who == "exabgp" {
				speaker = "exabgp"
			}
			v := newVIPLab(t, speaker)
			rows = append(rows, v.compare(t, who))
		})
	}
	for _, r := range rows {
		t.Log(r)
	}
	if f := os.Getenv("OVNBGP_VIP_RESULTS"); f != "" {
		require.NoError(t, os.WriteFile(f, []byte(strings.Join(rows, "\n")+"\n"), 0o644))
	}
}

// startExaBGP runs ExaBGP with its healthcheck program for the
// active-passive VIP, checking HAProxy as ovnbgp does (HTTP GET through
// curl: the healthcheck runs a shell command per probe), withdraw on
// failure, the same interval, rise and fall.
func (c *vipCtl) startExaBGP(t *testing.T) {
	hc := fmt.Sprintf("/usr/bin/python3 -m exabgp healthcheck --cmd 'curl -sf -o /dev/null -m 1 http://127.0.0.1:80/' --ip %s/32 "+
		"--interval %g --fast-interval %g --timeout 1 --rise 2 --fall %d --withdraw --no-ip-setup --no-syslog",
		vipAP, vipInterval.Seconds(), vipInterval.Seconds(), vipFall)
	conf := fmt.Sprintf(`process healthcheck {
    run %s;
    encoder text;
}
neighbor %s {
    router-id %s;
    local-address %s;
    local-as 64999;
    peer-as 65000;
    api {
        processes [ healthcheck ];
    }
}
`, hc, c.torIP, c.ip, c.ip)
	c.conf = filepath.Join(c.dir, "exabgp.conf")
	c.log = filepath.Join(c.dir, "exabgp.log")
	require.NoError(t, os.WriteFile(c.conf, []byte(conf), 0o644))
	c.agent = bg(t, c.ns, c.log, "/usr/bin/env", "exabgp_daemon_user=root", "exabgp_daemon_drop=false",
		"exabgp_log_destination=stdout", "exabgp_api_cli=false", "/usr/sbin/exabgp", c.conf)
}

// compare runs the measured part of the scenario and returns its row.
func (v *vipLab) compare(t *testing.T, who string) string {
	c1 := v.ctl["ctl1"]
	c1.ns.IP("addr", "add", vipAP+"/32", "dev", "ctl1-tor")
	v.l.Eventually(60*time.Second, "ctl1 announces the VIP", func() bool { return contains(v.hops(vipAP), "ctl1") })
	time.Sleep(2 * time.Second)
	absent := contains(v.hops(vipAP), "ctl2")

	// CPU per probe: the checker's process tree (ovnbgp: the agent; ExaBGP:
	// exabgp, its healthcheck and the curl and shell of every probe) over a
	// steady window, divided by the probes HAProxy's backend logged in it.
	const window = 10 * time.Second
	backend := filepath.Join(c1.dir, "backend.log")
	cpu0, req0 := treeCPU(t, c1.agent.Process.Pid), countRequests(backend)
	time.Sleep(window)
	cpu1, req1 := treeCPU(t, c1.agent.Process.Pid), countRequests(backend)
	probes := req1 - req0
	require.Positive(t, probes)
	perProbe := (cpu1 - cpu0) / time.Duration(probes)

	log := v.curlLoop(t, vipAP)
	v.l.Eventually(10*time.Second, "the curl loop running", func() bool { n, _, _ := loopStats(t, log); return n > 3 })
	killed := time.Now()
	require.NoError(t, syscall.Kill(-c1.haproxy.Process.Pid, syscall.SIGKILL))
	v.l.Eventually(20*time.Second, "ctl1 withdrawn", func() bool { return !contains(v.hops(vipAP), "ctl1") })
	failover := time.Since(killed)
	time.Sleep(time.Second)
	n, fails, _ := loopStats(t, log)
	row := fmt.Sprintf("| %s | %s | %.0f µs (%d probes in %s, %s CPU) | %v | %d of %d |", who, failover.Round(10*time.Millisecond),
		float64(perProbe.Microseconds()), probes, window, (cpu1 - cpu0).Round(time.Millisecond), absent, fails, n)
	t.Logf("%s: failover %s (bound %s), CPU per probe %s, VIP announced by ctl2 while absent there: %v; curl loop: %d of %d failed",
		who, failover, time.Duration(vipFall)*vipInterval+500*time.Millisecond, perProbe, absent, fails, n)
	return row
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// treeCPU is the CPU time (user + system, with that of reaped children) of
// pid and every process below it.
func treeCPU(t *testing.T, root int) time.Duration {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	type proc struct{ ppid, ticks int }
	procs := map[int]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		// fields after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based from pid
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ticks := 0
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.Atoi(f[i])
			ticks += n
		}
		procs[pid] = proc{ppid, ticks}
	}
	in := func(pid int) bool {
		for pid > 1 {
			if pid == root {
				return true
			}
			pid = procs[pid].ppid
		}
		return false
	}
	total := 0
	for pid, p := range procs {
		if in(pid) {
			total += p.ticks
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// countRequests counts the requests python's http.server logged.
func countRequests(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), `"GET `)
}
