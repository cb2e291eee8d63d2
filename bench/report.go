package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

func ms(d time.Duration) string  { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
func sec(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
func mb(b int64) string          { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

func version(prog string, args ...string) string {
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func machine() []string {
	cpu, mem := cpuAndMem()
	commit := version("git", "rev-parse", "--short", "HEAD")
	return []string{
		fmt.Sprintf("- machine: %s, %d CPUs (`nproc`), %s RAM, kernel %s (what else used its CPUs during the bursts: the row \"the machine's CPU in each burst\")",
			cpu, runtime.NumCPU(), mem, version("uname", "-r")),
		fmt.Sprintf("- bench at ovnbgp commit %s (the agent is the binary given by -agent, default bin/ovnbgp built from it), %s", commit, runtime.Version()),
		fmt.Sprintf("- %s; %s; gobgpd %s; %s", version("ovsdb-server", "--version"), version("ovs-vswitchd", "--version"),
			version("gobgpd", "--version"), version("ovn-northd", "--version")),
	}
}

// cpuAndMem are the machine's CPU model and RAM, from /proc.
func cpuAndMem() (cpu, mem string) {
	cpu = "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	mem = "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		if len(f) > 1 {
			mem = f[1] + " kB"
		}
	}
	return cpu, mem
}

func check(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func report(rs []*result, o *options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var hdr []string
	for _, r := range rs {
		hdr = append(hdr, fmt.Sprintf("%d (%d local)", r.ports, r.local))
	}
	w("# ovnbgp benchmark results")
	w("")
	w("Produced by `make bench` (`go run ./bench -sizes %s -events %d -burst %d -bursts %d%s`) on %s.",
		strings.Trim(strings.Join(strings.Fields(fmt.Sprint(o.sizes)), ","), "[]"), o.events, o.burst, o.bursts, envFlag(o), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w("")
	for _, l := range machine() {
		w("%s", l)
	}
	w("")
	w("%s", setupText)
	w("")
	w("| southbound VM ports | %s |", strings.Join(hdr, " | "))
	w("|---|%s", strings.Repeat("---|", len(rs)))
	row := func(name string, f func(r *result) string) {
		var c []string
		for _, r := range rs {
			c = append(c, f(r))
		}
		w("| %s | %s |", name, strings.Join(c, " | "))
	}
	row("southbound built by", func(r *result) string {
		if r.northd {
			return "NB + ovn-northd"
		}
		return "direct SB writes"
	})
	row("southbound fill (s)", func(r *result) string { return sec(r.fill) })
	row("cold start → all routes in the kernel (s)", func(r *result) string { return sec(r.coldKernel) })
	row("cold start → all prefixes in the embedded speaker (s)", func(r *result) string { return sec(r.coldSpeaker) })
	row("cold start → all prefixes at the BGP peer (s)", func(r *result) string { return sec(r.coldPeer) })
	row("agent's first full reconcile, plan + apply (ms)", func(r *result) string { return ms(r.startupFull) })
	row("agent CPU from start to convergence (s)", func(r *result) string { return fmt.Sprintf("%.2f", r.coldCPU) })
	row("kernel objects at convergence (/32 routes, ovnbgp rules)", func(r *result) string { return fmt.Sprintf("%d, %d", r.kernelRoutes, r.kernelRules) })
	row("peak RSS at convergence, VmHWM (MB)", func(r *result) string { return mb(r.hwmConverged) })
	row("bytes from the SB until converged (MB)", func(r *result) string { return fmt.Sprintf("%.1f", float64(r.sbBytesConverged)/(1<<20)) })
	row("steady RSS (MB)", func(r *result) string { return mb(r.steadyRSS) })
	row("Go heap in use, steady (MB)", func(r *result) string { return fmt.Sprintf("%.0f", r.steadyHeap/(1<<20)) })
	row("steady CPU, idle 10 s (% of one core)", func(r *result) string { return fmt.Sprintf("%.2f", 100*r.steadyCPU) })
	row("steady bytes from the SB in 10 s", func(r *result) string { return fmt.Sprint(r.steadyBytes) })
	q := func(d []time.Duration) string { return ms(pct(d, .5)) + " / " + ms(pct(d, .99)) }
	row("event alone: in the kernel and the speaker, p50 / p99 (ms)", func(r *result) string { return q(r.alone.both) })
	row("  kernel only p50 / p99 (ms)", func(r *result) string { return q(r.alone.kernel) })
	row("  speaker only p50 / p99 (ms)", func(r *result) string { return q(r.alone.speaker) })
	row("  in the kernel and at the BGP peer p50 / p99 (ms)", func(r *result) string { return q(r.alone.e2e) })
	row("unbind alone (withdrawn + unwired) p50 / p99 (ms)", func(r *result) string {
		return ms(pct(r.aloneDel.both, .5)) + " / " + ms(pct(r.aloneDel.both, .99))
	})
	row("agent CPU per event pair (bind + unbind, ms)", func(r *result) string {
		return fmt.Sprintf("%.2f", 1000*r.eventsCPU/float64(max(1, len(r.alone.both))))
	})
	list := func(ds []time.Duration) string {
		var out []string
		for _, d := range ds {
			out = append(out, ms(d))
		}
		return strings.Join(out, ", ")
	}
	row("event in burst (all bursts pooled): in the kernel and the speaker, p50 / p99 (ms)", func(r *result) string { return q(r.burst.both) })
	row("  kernel only p50 / p99 (ms)", func(r *result) string { return q(r.burst.kernel) })
	row("  speaker only p50 / p99 (ms)", func(r *result) string { return q(r.burst.speaker) })
	row("  in the kernel and at the BGP peer p50 / p99 (ms)", func(r *result) string { return q(r.burst.e2e) })
	row("event in burst from the SB's commit: kernel and speaker p50 / p99 (ms)", func(r *result) string { return q(r.burstCommit.both) })
	row("  in the kernel and at the BGP peer p50 / p99 (ms)", func(r *result) string { return q(r.burstCommit.e2e) })
	row("p99 of each burst from the commit (ms)", func(r *result) string { return list(r.burstP99) })
	row("p99 of each burst from the write (ms)", func(r *result) string { return list(r.burstP99Write) })
	row("inside the agent, every change of each burst: p50 / p99 (bucket bounds of ovnbgp_change_latency_seconds)", func(r *result) string {
		return strings.Join(r.burstAgent, "; ")
	})
	// whole lists one figure per burst, scaled, without decimals.
	whole := func(xs []float64, scale float64) string {
		var out []string
		for _, x := range xs {
			out = append(out, fmt.Sprintf("%.0f", scale*x))
		}
		return strings.Join(out, ", ")
	}
	row("agent CPU per change in each burst (us)", func(r *result) string { return whole(r.burstCPU, 1e6) })
	row("CPU during the bursts, % of one core (each process of the run, 2 cores = 200 %)", func(r *result) string {
		return cpuShares(r.burstProcCPU, r.burstWall)
	})
	row("the machine's CPU in each burst, % of one core: busy / of it outside the run's processes / stolen by the hypervisor", func(r *result) string {
		var out []string
		for _, m := range r.burstMachine {
			out = append(out, m.String())
		}
		return strings.Join(out, "; ")
	})
	row("rate accepted by the SB in each burst (changes/s)", func(r *result) string { return whole(r.burstRates, 1) })
	row("rate applied by the agent in each burst (changes/s: every change of the burst, over the time until its last measured binding was in the kernel and the speaker)", func(r *result) string {
		return whole(r.burstApplied, 1)
	})
	row("measured events in the bursts", func(r *result) string { return fmt.Sprint(len(r.burst.both)) })
	row("full periodic pass, median / max (ms)", func(r *result) string {
		return ms(pct(r.periodic, .5)) + " / " + ms(pct(r.periodic, 1))
	})
	row("agent restart on the converged host → ready (s)", func(r *result) string { return sec(r.restartReady) })
	row("peak RSS over the run, first agent process (MB)", func(r *result) string { return mb(r.finalHWM) })
	row("bytes from the SB, first agent process (MB)", func(r *result) string { return fmt.Sprintf("%.1f", float64(r.sbBytes)/(1<<20)) })
	w("")
	w("Targets (2-core machine):")
	w("")
	for _, r := range rs {
		if r.ports != 100000 {
			continue
		}
		w("- 100,000 ports converge in under 5 s (kernel and speaker): %s (%s s to the kernel, %s s to the speaker; %s s until the peer has them all, BGP session set-up included)",
			check(r.coldBoth < 5*time.Second), sec(r.coldKernel), sec(r.coldSpeaker), sec(r.coldPeer))
		after := "under 200 MB too"
		if r.finalHWM >= 200<<20 {
			after = "over 200 MB"
		}
		w("- converged with under 200 MB RSS (the issue ties the RSS to convergence): %s (VmHWM at convergence %s MB, steady %s MB; peak over the whole run, after the events and the bursts: %s MB, %s)",
			check(r.hwmConverged < 200<<20), mb(r.hwmConverged), mb(r.steadyRSS), mb(r.finalHWM), after)
		w("- full periodic pass under 500 ms: %s (median %s ms, max %s ms%s)", check(pct(r.periodic, 1) < 500*time.Millisecond), ms(pct(r.periodic, .5)), ms(pct(r.periodic, 1)),
			map[bool]string{true: "; a pass reported a speaker error", false: ""}[r.periodicErr])
	}
	var worstA, worstAP, worstB, worstC, worstBP, worstOne time.Duration
	for _, r := range rs {
		for _, d := range r.burstP99 {
			worstOne = max(worstOne, d)
		}
		worstA = max(worstA, pct(r.alone.both, .99))
		worstAP = max(worstAP, pct(r.alone.e2e, .99))
		worstB = max(worstB, pct(r.burst.both, .99))
		worstC = max(worstC, pct(r.burstCommit.both, .99))
		worstBP = max(worstBP, pct(r.burst.e2e, .99))
	}
	w("- event p99 under 10 ms alone (in the kernel and the speaker): %s (worst size %s ms; %s ms until the BGP peer has it too)",
		check(worstA < 10*time.Millisecond), ms(worstA), ms(worstAP))
	w("- event p99 under 100 ms in the burst (in the kernel and the speaker, from the SB's commit, when the port is bound; the events of all bursts of a size): %s (worst size %s ms; the worst single burst %s ms). "+
		"From the write of the transaction, which adds the wait behind up to 31 transactions queued in the SB server: %s (worst size %s ms; %s ms until the BGP peer has it too)",
		check(worstC < 100*time.Millisecond), ms(worstC), ms(worstOne), check(worstB < 100*time.Millisecond), ms(worstB), ms(worstBP))
	w("")
	w("![event latency against size](latency.png)")
	w("")
	w("%s", notesText)
	return b.String()
}

const setupText = `Setup: a real ovsdb-server holds the southbound: 100 chassis (Chassis, Encap), one flat provider network
on physnet1 per 100 VM ports (logical switch with its localnet port), every VM port bound (chassis) and up, with
Neutron's external_ids; 10% of the ports are on the benchmarked chassis c0. Sizes up to 10,000 ports are built
through a northbound ovsdb-server and a real ovn-northd (which keeps running during the measurements), the chassis
registered and the ports claimed in the southbound as ovn-controller does; 100,000 ports are written directly into
the southbound with the rows northd would write. The real agent binary runs in its own network namespace with a
real local Open_vSwitch database and ovs-vswitchd (netdev datapath; br-ex is its tap device), announce_method =
table, speaker = gobgp (embedded GoBGP) peering over a veth with gobgpd in a second namespace. "Kernel" is the /32
route of protocol 201 seen by a netlink route subscription in the chassis namespace; "speaker" is the prefix
becoming a best path in the embedded GoBGP speaker's RIB, seen through its gRPC API (gobgp_api_address, a
WatchEvent stream); "peer" is the prefix arriving in gobgpd's RIB (a WatchEvent stream of gobgpd's own gRPC
API), i.e. announced and received over BGP. An event's latency (the issue's definition) runs from the moment its southbound
transaction is written to the socket until the later of kernel and speaker; the rows "at the BGP peer" go on
until gobgpd has it too, through one more process (gobgpd) on the same 2 cores. "Inside the agent" is the
agent's own ovnbgp_change_latency_seconds: from an OVSDB update reaching its callback (decoded, in the
client's cache) to the end of the reconcile that applied it; the rest of an event's latency is the SB server,
the socket and the agent's decoding. Bytes from
the SB are the kernel's TCP counters (ss -ti bytes_received) of the agent's connection: the agent reaches the
southbound over TCP on a veth, as a chassis reaches a remote southbound (the bench and ovn-northd use its unix
socket).`

const notesText = `Notes:

- Event alone: a VM port bound on another chassis is moved to c0 (chassis, requested_chassis, up) in one
  transaction; the next event starts once its route is in the kernel, the speaker and at the peer and it has been moved back
  (the withdrawal is measured too). Ports are reused cyclically.
- Bursts: each size runs -bursts (3) bursts one after the other, each followed by a restore (one transaction) and a pause until the agent is idle (under 5 % of a core for 0.5 s); the event rows pool
  the measured events of all of them, and each burst's own p99 is listed (the rate the SB accepts, and with it the
  tail, varies from burst to burst). A burst's changes toggle up on c0's own ports (so each one is a withdrawal or an
  announcement for the agent, the worst case: changes on other chassis are filtered out by the server-side
  conditions and cost the agent nothing); the measured bindings are interleaved evenly, all pipelined with up to 32
  transactions in flight, as fast as ovsdb-server accepts them. With 1,000 ports only 900 ports are remote, so 900
  bindings per burst are measured.
  Latency "from the write" includes the wait in the southbound server's queue (up to 31 transactions ahead, and
  ovn-northd competes for the same 2 cores at the sizes built through it); "from the SB's commit" starts when the
  reply to the transaction arrives (the server sends it with the monitor updates, after the commit).
- Full periodic pass: after the events the agent is restarted (SIGTERM, then started again: it adopts everything)
  with reconcile_interval = 5 s; the durations are the agent's own "full reconcile" log lines of reason periodic
  (plan + kernel Wire/Unwire + flows + speaker Sync, with nothing to change).
- ovs-vswitchd is real but without ovn-controller there are no patch ports, so no MAC-rewrite flows are planned;
  the flows reconciler still syncs br-ex (empty) on every full pass. ovs-vswitchd 3.1 re-reads the whole routing
  table on every route notification (perf: socket, ioctl and close per route, glibc's if_indextoname), so with
  10,000 routes it takes 35-80 % of a core while the events run: a real cost on a chassis with Debian 12's OVS
  3.1.0, and one more process on the 2 cores. Open vSwitch fixed it in 3.1.5, 3.2.3, 3.3.1 and 3.4 (changes
  outside the main and local tables, where ovnbgp's routes are, no longer trigger the re-read).
- The machine's CPU in each burst comes from /proc/stat (all CPUs, USER_HZ ticks): busy is user, nice, system,
  irq and softirq; "outside the run's processes" is busy less the CPU of every process of the run (agent,
  ovsdb-servers, ovn-northd, ovs-vswitchd, gobgpd, the bench): kernel threads and interrupts, and whatever else ran
  on the machine; "stolen" is the steal time, the hypervisor running something else on this machine's CPUs. A
  burst measured while either was large shared the 2 cores with more than the run.
- Steady CPU and RSS are read from /proc/<pid>/status and /proc/<pid>/stat of the agent; "peak RSS over the run"
  is the first agent process's VmHWM after cold start, events and burst.
- Profiles of the missed targets, a measured fix and before/after figures: [PROFILE.md](PROFILE.md).`

func envFlag(o *options) string {
	if len(o.agentEnv) == 0 {
		return ""
	}
	return " -agent-env " + strings.Join(o.agentEnv, ",")
}

// machineLoad is the whole machine's CPU over one window, in % of one core
// (2 cores = 200 %): busy (every process and the kernel), the part of it
// outside the run's processes (kernel threads and interrupts, and anything
// else running on the machine), and the time the hypervisor stole.
type machineLoad struct {
	busy, outside, steal float64
	ok                   bool
}

// newMachineLoad compares two readings of /proc/stat around a window in
// which the run's processes used runCPU seconds.
func newMachineLoad(before, after machineTimes, runCPU float64, wall time.Duration) machineLoad {
	if wall <= 0 || after.busy == 0 {
		return machineLoad{}
	}
	scale := 100 / wall.Seconds()
	busy := after.busy - before.busy
	// Tick-sampled machine times and the processes' times can differ by a
	// tick or two: a negative remainder is none.
	return machineLoad{busy: scale * busy, outside: scale * max(0, busy-runCPU), steal: scale * (after.steal - before.steal), ok: true}
}

func (m machineLoad) String() string {
	if !m.ok {
		return "n/a"
	}
	return fmt.Sprintf("%.0f / %.0f / %.0f", m.busy, m.outside, m.steal)
}

// cpuShares lists each process's CPU over a window as a share of one core,
// largest first; processes under 1 % are left out.
func cpuShares(cpu map[string]float64, wall time.Duration) string {
	if wall <= 0 {
		return ""
	}
	names := make([]string, 0, len(cpu))
	for n := range cpu {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return cpu[names[i]] > cpu[names[j]] })
	var out []string
	for _, n := range names {
		if share := 100 * cpu[n] / wall.Seconds(); share >= 1 {
			out = append(out, fmt.Sprintf("%s %.0f", n, share))
		}
	}
	return strings.Join(out, ", ")
}
