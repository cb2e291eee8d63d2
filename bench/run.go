package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is what one size measured.
type result struct {
	ports, local int
	northd       bool
	fill         time.Duration

	coldKernel, coldPeer, coldBoth time.Duration
	coldSpeaker                    time.Duration // all paths in the embedded speaker (its gauge)
	coldCPU                        float64       // agent CPU seconds from start to convergence
	steadyHeap                     float64       // go_memstats_heap_inuse_bytes
	startupFull                    time.Duration // the agent's own first full reconcile (plan + apply)
	kernelRoutes, kernelRules      int
	hwmConverged                   int64
	sbBytesConverged               int64

	steadyRSS   int64
	steadyCPU   float64 // fraction of one core
	steadyBytes int64   // bytes from the SB during the steady window
	steadyWin   time.Duration

	alone         lat
	aloneDel      lat
	burst         lat
	burstCommit   lat             // from the SB's reply to the transaction (its commit), excluding the SB's queue
	burstRates    []float64       // changes per second accepted by the SB, per burst
	burstApplied  []float64       // changes per second the agent applied, per burst (see lastIn)
	burstP99      []time.Duration // p99 from the commit (kernel and speaker), per burst
	burstP99Write []time.Duration // p99 from the write, per burst
	burstAgent    []string        // p50 / p99 inside the agent (ovnbgp_change_latency_seconds bucket bounds), per burst
	burstDrain    time.Duration
	eventsCPU     float64            // agent CPU seconds during the alone events
	burstCPU      []float64          // agent CPU seconds per change of each burst (until its measured events are in)
	burstProcCPU  map[string]float64 // CPU seconds of each process of the run over the bursts (same window)
	burstWall     time.Duration      // the bursts' windows added up
	burstMachine  []machineLoad      // the whole machine's CPU in each burst's window

	periodic     []time.Duration
	periodicErr  bool          // a full pass of the restarted agent reported a speaker error
	restartReady time.Duration // restart of the agent on a converged host until /readyz
	finalHWM     int64
	sbBytes      int64
	netlinkLost  int64
}

// lat are latency samples of one kind: in the kernel, in the embedded
// speaker's RIB, at the BGP peer; both is the later of kernel and speaker
// (the event's latency, the target), e2e the later of kernel and peer.
type lat struct {
	kernel, speaker, peer, both, e2e []time.Duration
}

// addSince adds the kernel, speaker and peer times at (waitAll's order)
// measured from since.
func (l *lat) addSince(at []time.Time, since time.Time) {
	l.add(max(0, at[0].Sub(since)), max(0, at[1].Sub(since)), max(0, at[2].Sub(since)))
}

func (l *lat) add(k, s, p time.Duration) {
	l.kernel = append(l.kernel, k)
	l.speaker = append(l.speaker, s)
	l.peer = append(l.peer, p)
	l.both = append(l.both, max(k, s))
	l.e2e = append(l.e2e, max(k, p))
}

func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

type agentProc struct {
	cmd  *exec.Cmd
	pid  int
	log  string
	conf string
	done chan error
}

func writeConfig(e *env, o *options, path string, interval int) error {
	conf := fmt.Sprintf(`[DEFAULT]
driver = ovn_bgp_driver
ovsdb_connection = unix:%s
bgp_AS = %d
bgp_router_id = %s
expose_tenant_networks = False
reconcile_interval = %d
debug = %t
log_file = %s

[ovnbgp]
announce_method = table
speaker = gobgp
peers = %s:%d
bfd = false
metrics_address = 127.0.0.1:%s
gobgp_api_address = %s
state_dir = %s
debug_pprof = %t
`, e.ovs.sock, localAS, chassisAddr, interval, os.Getenv("BENCH_DEBUG") != "", filepath.Join(e.dir, "ovnbgp.log"), peerAddr, peerAS, metricsPort,
		speakerAPI, filepath.Join(e.dir, "state"), o.pprofDir != "")
	return os.WriteFile(path, []byte(conf), 0o644)
}

func startAgent(e *env, o *options) (*agentProc, time.Time, error) {
	return startAgentInterval(e, o, 300)
}

func startAgentInterval(e *env, o *options, interval int) (*agentProc, time.Time, error) {
	a := &agentProc{conf: filepath.Join(e.dir, "bgp-agent.conf"), log: filepath.Join(e.dir, "ovnbgp.log"), done: make(chan error, 1)}
	if err := writeConfig(e, o, a.conf, interval); err != nil {
		return nil, time.Time{}, err
	}
	// Appended: the output of every agent process of the run is kept.
	out, err := os.OpenFile(filepath.Join(e.dir, "ovnbgp.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, time.Time{}, err
	}
	a.cmd = exec.Command("ip", "netns", "exec", e.chNS, o.agent, "agent", "--config-file", a.conf)
	a.cmd.Env = append(append(os.Environ(), "OVS_RUNDIR="+e.ovsDir), o.agentEnv...)
	a.cmd.Stdout, a.cmd.Stderr = out, out
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t0 := time.Now()
	if err := a.cmd.Start(); err != nil {
		return nil, t0, err
	}
	a.pid = a.cmd.Process.Pid // ip netns exec execs the agent: same pid
	e.addPid(a.pid)
	go func() { a.done <- a.cmd.Wait(); out.Close() }()
	return a, t0, nil
}

func (a *agentProc) tail() string {
	b, _ := os.ReadFile(a.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	s, _ := os.ReadFile(filepath.Join(filepath.Dir(a.log), "ovnbgp.stderr"))
	return string(b) + string(s)
}

var fullRe = regexp.MustCompile(`msg="full reconcile" reason=("[^"]*"|\S+) .*duration=(\S+)`)

// fullPasses returns the durations of the agent's full reconciles whose
// reason starts with prefix, from its log.
func fullPasses(log, prefix string) []time.Duration {
	b, _ := os.ReadFile(log)
	var out []time.Duration
	for _, m := range fullRe.FindAllStringSubmatch(string(b), -1) {
		if !strings.HasPrefix(strings.Trim(m[1], `"`), prefix) {
			continue
		}
		if d, err := time.ParseDuration(m[2]); err == nil {
			out = append(out, d)
		}
	}
	return out
}

func runSize(e *env, o *options, n int) (*result, error) {
	r := &result{ports: n}
	kt, st, pt := newTracker("kernel"), newTracker("embedded speaker"), newTracker("gobgpd peer")
	all := []*tracker{kt, st, pt}
	stop := make(chan struct{})
	defer close(stop)
	follow(e.chNS, st, stop, followSpeaker)
	if err := watchKernel(e.chNS, o.protocol, kt, stop); err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	if err := startPeer(e, pt, stop); err != nil {
		return nil, err
	}
	sb, err := dialRPC(e.sb.sock)
	if err != nil {
		return nil, err
	}
	defer sb.close()
	start := time.Now()
	var tp *topo
	if n <= o.northdMax {
		if err := e.startNorthd(); err != nil {
			return nil, err
		}
		nb, err := dialRPC(e.nb.sock)
		if err != nil {
			return nil, err
		}
		defer nb.close()
		tp, err = fillNB(nb, sb, n)
		if err != nil {
			return nil, fmt.Errorf("fill through northd: %w", err)
		}
	} else {
		tp, err = fillSB(sb, n)
		if err != nil {
			return nil, fmt.Errorf("fill: %w", err)
		}
	}
	r.fill, r.northd = time.Since(start), tp.northd
	r.local = len(tp.local)
	fmt.Printf("   southbound filled in %.1fs (through northd: %v)\n", r.fill.Seconds(), tp.northd)

	// Cold start.
	a, t0, err := startAgent(e, o)
	if err != nil {
		return nil, err
	}
	defer func() { _ = syscall.Kill(a.pid, syscall.SIGTERM) }()
	stopPerf := perfRecord(o, a.pid, fmt.Sprintf("cold-%d", n))
	hc := nsHTTP(e.chNS)
	tk, err := kt.waitCount(r.local, 20*time.Second)
	if err != nil {
		out, _ := run("sh", "-c", "ip -n "+e.chNS+" route show table all proto 201 | head -5; ip -n "+e.chNS+" rule | head -5")
		return nil, fmt.Errorf("%w\n%s\n%s", err, out, a.tail())
	}
	tpeer, err := pt.waitCount(r.local, 180*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, a.tail())
	}
	ts, err := st.waitCount(r.local, 60*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, a.tail())
	}
	stopPerf()
	r.coldKernel, r.coldPeer, r.coldSpeaker = tk.Sub(t0), tpeer.Sub(t0), ts.Sub(t0)
	r.coldBoth = max(r.coldKernel, r.coldSpeaker)
	r.sbBytesConverged = e.sbBytes()
	_, r.hwmConverged, r.coldCPU, _ = procStats(a.pid)
	if r.kernelRoutes, r.kernelRules, err = kernelCounts(e.chNS, o.protocol); err != nil {
		return nil, err
	}
	if s := fullPasses(a.log, "startup"); len(s) > 0 {
		r.startupFull = s[0]
	}
	fmt.Printf("   converged: kernel %.2fs, speaker %.2fs, peer %.2fs (%d routes, %d rules), peak RSS %d MB, %d MB from the SB\n",
		r.coldKernel.Seconds(), r.coldSpeaker.Seconds(), r.coldPeer.Seconds(), r.kernelRoutes, r.kernelRules, r.hwmConverged>>20, r.sbBytesConverged>>20)

	// Steady state.
	time.Sleep(3 * time.Second)
	r.steadyWin = 10 * time.Second
	_, _, c0, _ := procStats(a.pid)
	b0 := e.sbBytes()
	time.Sleep(r.steadyWin)
	rss, _, c1, _ := procStats(a.pid)
	r.steadyRSS, r.steadyCPU, r.steadyBytes = rss, (c1-c0)/r.steadyWin.Seconds(), e.sbBytes()-b0
	r.steadyHeap, _ = scrape(hc, "go_memstats_heap_inuse_bytes")
	fmt.Printf("   steady: RSS %d MB, CPU %.1f%%\n", rss>>20, 100*r.steadyCPU)
	saveProfile(o, hc, "heap", fmt.Sprintf("heap-steady-%d", n))
	saveMetrics(o, hc, fmt.Sprintf("metrics-steady-%d", n))

	// Events alone: bind a remote port here, wait for the kernel route and
	// the peer's route; move it back, wait for both withdrawals.
	_, _, ce0, _ := procStats(a.pid)
	stopPerf = perfRecord(o, a.pid, fmt.Sprintf("alone-%d", n))
	for k := 0; k < o.events; k++ {
		i := tp.remote[k%len(tp.remote)]
		p := netip.PrefixFrom(portIP(i), 32)
		_, ts, err := sb.start("OVN_Southbound", []any{tp.bindOp(i, 0, true)})
		if err != nil {
			return nil, err
		}
		at, err := waitAll(all, p, true, ts, 10*time.Second)
		if err != nil {
			return nil, err
		}
		r.alone.addSince(at, ts)
		_, ts, err = sb.start("OVN_Southbound", []any{tp.bindOp(i, portChassis(i), true)})
		if err != nil {
			return nil, err
		}
		if at, err = waitAll(all, p, false, ts, 10*time.Second); err != nil {
			return nil, err
		}
		r.aloneDel.addSince(at, ts)
	}
	_, _, ce1, _ := procStats(a.pid)
	stopPerf()
	r.eventsCPU = ce1 - ce0
	fmt.Printf("   alone: %d events, p50 %v p99 %v (kernel p99 %v, speaker p99 %v, peer p99 %v)\n", len(r.alone.both),
		pct(r.alone.both, .5), pct(r.alone.both, .99), pct(r.alone.kernel, .99), pct(r.alone.speaker, .99), pct(r.alone.peer, .99))

	// Burst: o.burst changes of local ports (up toggled: withdraw, then
	// announce again) with the measured bindings interleaved (one after
	// every burst/events changes), pipelined with up to 32 transactions in
	// flight.
	measured := min(o.events, len(tp.remote))
	burst := func(rep int) error {
		type ev struct {
			i    int
			ts   time.Time
			done chan time.Time // the reply's arrival
		}
		var evs []ev
		total := o.burst + measured
		every := float64(total) / float64(measured)
		sem := make(chan struct{}, 32)
		errc := make(chan error, total)
		if rep == 0 {
			saveProfile(o, hc, "allocs", fmt.Sprintf("allocs-before-burst-%d", n))
			stopPerf = perfRecord(o, a.pid, fmt.Sprintf("burst-%d", n))
			// The agent's CPU profile over the burst (3 s: a burst
			// and its settling take 3-8 s), and the bench's own.
			cpuDone := saveFromAgentAsync(o, hc, "/debug/pprof/profile?seconds=3", fmt.Sprintf("cpu-burst-%d.pb.gz", n))
			traceDone := saveFromAgentAsync(o, hc, "/debug/pprof/trace?seconds=2", fmt.Sprintf("trace-burst-%d.out", n))
			stopSelf := profileSelf(o, fmt.Sprintf("bench-cpu-burst-%d", n))
			stop := stopPerf
			stopPerf = func() { stop(); stopSelf(); <-cpuDone; <-traceDone }
		}
		agentBefore := scrapeHistogram(hc, changeLatency)
		_, _, cpu0, _ := procStats(a.pid)
		procs0 := e.cpuByProcess()
		mach0 := machineCPU()
		bstart := time.Now()
		nextEv, j := 0.0, 0
		for k := 0; k < total; k++ {
			var op map[string]any
			var measure = -1
			if float64(k) >= nextEv && len(evs) < measured {
				measure = tp.remote[len(evs)]
				op = tp.bindOp(measure, 0, true)
				nextEv += every
			} else {
				li := tp.local[j%len(tp.local)]
				op = tp.upOp(li, (j/len(tp.local))%2 == 1)
				j++
			}
			sem <- struct{}{}
			ch, ts, err := sb.start("OVN_Southbound", []any{op})
			if err != nil {
				return err
			}
			var done chan time.Time
			if measure >= 0 {
				done = make(chan time.Time, 1)
				evs = append(evs, ev{measure, ts, done})
			}
			go func() {
				rep := <-ch
				<-sem
				if done != nil {
					done <- rep.at
				}
				errc <- rep.err
			}()
		}
		for k := 0; k < total; k++ {
			if err := <-errc; err != nil {
				return fmt.Errorf("burst: %w", err)
			}
		}
		bdur := time.Since(bstart)
		rate := float64(total) / bdur.Seconds()
		r.burstRates = append(r.burstRates, rate)
		var one, oneCommit lat
		var lastIn time.Time // the last measured binding in the kernel and the speaker
		for _, x := range evs {
			p := netip.PrefixFrom(portIP(x.i), 32)
			at, err := waitAll(all, p, true, x.ts, 120*time.Second)
			if err != nil {
				out, _ := run("ip", "-n", e.chNS, "route", "show", "table", "all", p.String())
				return fmt.Errorf("burst %d: %w\nkernel now: %q\n%s\n%s", rep+1, err, out, portRow(sb, tp, x.i), a.tail())
			}
			ak, as, ap := at[0], at[1], at[2]
			for _, in := range []time.Time{ak, as} {
				if in.After(lastIn) {
					lastIn = in
				}
			}
			tc := <-x.done
			for _, l := range []*lat{&r.burst, &one} {
				l.addSince(at, x.ts)
			}
			for _, l := range []*lat{&r.burstCommit, &oneCommit} {
				l.addSince(at, tc)
			}
			if os.Getenv("BENCH_DEBUG") != "" && (ak.Sub(tc) > 50*time.Millisecond || as.Sub(tc) > 50*time.Millisecond) {
				fmt.Printf("   slow event at +%v: commit +%v, kernel +%v, speaker +%v, peer +%v\n", x.ts.Sub(bstart).Round(time.Millisecond),
					tc.Sub(x.ts).Round(100*time.Microsecond), ak.Sub(tc).Round(100*time.Microsecond), as.Sub(tc).Round(100*time.Microsecond),
					ap.Sub(tc).Round(100*time.Microsecond))
			}
		}
		// The measured bindings are spread evenly over the burst, so the
		// last one is in once the agent has applied about every change.
		r.burstApplied = append(r.burstApplied, float64(total)/lastIn.Sub(bstart).Seconds())
		_, _, cpu1, _ := procStats(a.pid)
		r.burstCPU = append(r.burstCPU, (cpu1-cpu0)/float64(total))
		mach1 := machineCPU()
		win := time.Since(bstart)
		r.burstWall += win
		if r.burstProcCPU == nil {
			r.burstProcCPU = map[string]float64{}
		}
		runCPU := 0.0
		for name, c := range e.cpuByProcess() {
			r.burstProcCPU[name] += c - procs0[name]
			runCPU += c - procs0[name]
		}
		r.burstMachine = append(r.burstMachine, newMachineLoad(mach0, mach1, runCPU, win))
		inAgent := histRange(agentBefore, scrapeHistogram(hc, changeLatency))
		r.burstAgent = append(r.burstAgent, inAgent)
		if rep == 0 && o.pprofDir != "" {
			// What the burst allocated, without the restore below (compare
			// with allocs-before-burst: go tool pprof -diff_base).
			saveProfile(o, hc, "allocs", fmt.Sprintf("allocs-burst-%d", n))
		}
		// Restore: every local port up, the measured ports back where they were.
		var ops []any
		for _, li := range tp.local {
			ops = append(ops, tp.upOp(li, true))
		}
		for _, x := range evs {
			ops = append(ops, tp.bindOp(x.i, portChassis(x.i), true))
		}
		rt := time.Now()
		if _, err := sb.transact("OVN_Southbound", ops); err != nil {
			return err
		}
		// Settled: every measured prefix withdrawn everywhere, then the
		// counts. (The counts alone can match while the agent is half-way
		// through the restore, and a next burst binding a port whose
		// withdrawal is still pending leaves its route in place: the agent
		// takes the key's last state, and nothing is added again.)
		for _, x := range evs {
			if _, err := waitAll(all, netip.PrefixFrom(portIP(x.i), 32), false, rt, 120*time.Second); err != nil {
				return fmt.Errorf("restore after burst %d: %w", rep+1, err)
			}
		}
		for _, t := range all {
			if _, err := t.waitCount(r.local, 120*time.Second); err != nil {
				return fmt.Errorf("restore after burst %d: %w", rep+1, err)
			}
		}
		r.burstDrain = time.Since(bstart)
		// The next burst starts from an idle agent, as the first one: the
		// restore (one transaction of 11,000 changes) can leave work
		// behind the state the bench sees (garbage to collect, UPDATEs
		// being sent).
		quiet(a.pid)
		r.burstP99 = append(r.burstP99, pct(oneCommit.both, .99))
		r.burstP99Write = append(r.burstP99Write, pct(one.both, .99))
		if rep == 0 {
			stopPerf()
			saveProfile(o, hc, "heap", fmt.Sprintf("heap-burst-%d", n))
			saveProfile(o, hc, "allocs", fmt.Sprintf("allocs-%d", n))
			saveMetrics(o, hc, fmt.Sprintf("metrics-burst-%d", n))
		}
		fmt.Printf("   burst %d: %d changes + %d bindings in %.2fs (%.0f/s; applied by the agent at %.0f/s), p50 %v p99 %v; all settled after %.2fs\n",
			rep+1, o.burst, measured, bdur.Seconds(), rate, r.burstApplied[rep], pct(one.both, .5), pct(one.both, .99), r.burstDrain.Seconds())
		fmt.Printf("   burst %d from the SB commit: p50 %v p99 %v; inside the agent (p50 / p99 of every change, bucket bounds) %s; agent CPU %.0f us per change\n",
			rep+1, pct(oneCommit.both, .5), pct(oneCommit.both, .99), inAgent, 1e6*r.burstCPU[rep])
		return nil
	}
	for rep := 0; rep < o.bursts; rep++ {
		if err := burst(rep); err != nil {
			return nil, err
		}
	}
	r.sbBytes = e.sbBytes()

	// Periodic full passes: restart the agent with reconcile_interval =
	// o.interval, measure the restart, then wait for passes.
	_, r.finalHWM, _, _ = procStats(a.pid)
	_ = syscall.Kill(a.pid, syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("agent did not stop on SIGTERM\n%s", a.tail())
	}
	a, t0, err = startAgentInterval(e, o, o.interval)
	if err != nil {
		return nil, err
	}
	if t := waitMetric(hc, "ovnbgp_ready", 1, 120*time.Second); !t.IsZero() {
		r.restartReady = t.Sub(t0)
	}
	deadline := time.Now().Add(time.Duration(4*o.interval+30) * time.Second)
	for len(fullPasses(a.log, "periodic")) < 3 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	r.periodic = fullPasses(a.log, "periodic")
	if len(r.periodic) == 0 {
		return nil, fmt.Errorf("no periodic full reconcile logged\n%s", a.tail())
	}
	if out, _ := os.ReadFile(a.log); strings.Contains(string(out), "error=\"speaker") {
		r.periodicErr = true
	}
	r.netlinkLost = kt.lost.Load()
	fmt.Printf("   periodic full passes: %v\n", r.periodic)

	_ = syscall.Kill(a.pid, syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(a.pid, syscall.SIGKILL)
	}
	if os.Getenv("BENCH_KEEP") != "" {
		b, err := os.ReadFile(a.log)
		if err == nil {
			err = os.MkdirAll(o.out, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(o.out, fmt.Sprintf("ovnbgp-%d.log", n)), b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: keeping the agent's log: %v\n", err)
		}
	}
	return r, nil
}

// perfRecord samples the agent's stacks with perf while a phase runs
// (-perf DIR); the returned function stops it and writes a text report.
func perfRecord(o *options, pid int, name string) func() {
	if o.perfDir == "" {
		return func() {}
	}
	_ = os.MkdirAll(o.perfDir, 0o755)
	data := filepath.Join(o.perfDir, name+".data")
	cmd := exec.Command("perf", "record", "-F", "2000", "-g", "-p", fmt.Sprint(pid), "-o", data)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: perf: %v\n", err)
		return func() {}
	}
	if !strings.HasPrefix(name, "cold") {
		time.Sleep(300 * time.Millisecond)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		out, _ := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--percent-limit", "1.5", "-g", "none").CombinedOutput()
		_ = os.WriteFile(filepath.Join(o.perfDir, name+".txt"), out, 0o644)
		out, _ = exec.Command("perf", "report", "-i", data, "--stdio", "--children", "--percent-limit", "3", "-g", "none").CombinedOutput()
		_ = os.WriteFile(filepath.Join(o.perfDir, name+"-children.txt"), out, 0o644)
	}
}

// portRow is VM port i's southbound row, for a failure's diagnosis.
func portRow(sb *rpc, tp *topo, i int) string {
	res, err := sb.transact("OVN_Southbound", []any{map[string]any{"op": "select", "table": "Port_Binding",
		"where":   []any{[]any{"_uuid", "==", []any{"uuid", tp.pbs[i]}}},
		"columns": []string{"logical_port", "chassis", "requested_chassis", "up", "options", "type"}}})
	if err != nil {
		return fmt.Sprintf("port %d: %v", i, err)
	}
	return fmt.Sprintf("port %d (chassis c0 = %s): %s", i, tp.chassis[0], res)
}

// quiet waits until the agent used under 5 % of a core over two 250 ms
// windows in a row, at most 15 s.
func quiet(pid int) {
	deadline := time.Now().Add(15 * time.Second)
	calm := 0
	_, _, last, _ := procStats(pid)
	for calm < 2 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		_, _, cpu, _ := procStats(pid)
		if cpu-last < 0.0125 {
			calm++
		} else {
			calm = 0
		}
		last = cpu
	}
}

// changeLatency is the agent's histogram of the time from an OVSDB update
// reaching it to the end of the reconcile that applied it.
const changeLatency = "ovnbgp_change_latency_seconds"

// saveFromAgentAsync is saveFromAgent in the background (for profiles that
// last seconds); the channel is closed when it is done.
func saveFromAgentAsync(o *options, hc *http.Client, path, file string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		saveFromAgent(o, hc, path, file)
	}()
	return done
}

// saveProfile writes the agent's Go profile kind (heap, allocs) to
// DIR/name.pb.gz (-pprof DIR); read it with go tool pprof.
func saveProfile(o *options, hc *http.Client, kind, name string) {
	saveFromAgent(o, hc, "/debug/pprof/"+kind, name+".pb.gz")
}

// profileSelf records the bench's own CPU profile into DIR/name.pb.gz
// (-pprof DIR) until the returned function is called: what measuring
// costs the 2 cores.
func profileSelf(o *options, name string) func() {
	if o.pprofDir == "" {
		return func() {}
	}
	_ = os.MkdirAll(o.pprofDir, 0o755)
	f, err := os.Create(filepath.Join(o.pprofDir, name+".pb.gz"))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: own CPU profile: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// saveMetrics writes the agent's /metrics to DIR/name.txt (-pprof DIR).
func saveMetrics(o *options, hc *http.Client, name string) {
	saveFromAgent(o, hc, "/metrics", name+".txt")
}

// saveFromAgent writes what the agent's HTTP path serves to DIR/file
// (-pprof DIR).
func saveFromAgent(o *options, hc *http.Client, path, file string) {
	if o.pprofDir == "" {
		return
	}
	_ = os.MkdirAll(o.pprofDir, 0o755)
	resp, err := hc.Get("http://127.0.0.1:" + metricsPort + path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", path, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "bench: %s: status %s, %v\n", path, resp.Status, err)
		return
	}
	_ = os.WriteFile(filepath.Join(o.pprofDir, file), b, 0o644)
}

// waitMetric scrapes the agent's /metrics until the unlabelled gauge name
// equals want and returns when it was seen (zero on timeout).
func waitMetric(hc *http.Client, name string, want float64, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if v, ok := scrape(hc, name); ok && v == want {
			return time.Now()
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Time{}
}

func scrape(hc *http.Client, name string) (float64, bool) {
	for _, l := range metricLines(hc) {
		if strings.HasPrefix(l, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(l[len(name):]), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// metricLines is the agent's /metrics, one line per element (nil when it
// cannot be read).
func metricLines(hc *http.Client) []string {
	resp, err := hc.Get("http://127.0.0.1:" + metricsPort + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// bucket is one cumulative histogram bucket: observations <= le.
type bucket struct {
	le    float64
	count float64
}

// scrapeHistogram reads the cumulative buckets of an unlabelled histogram,
// in the order /metrics lists them (ascending le, +Inf last).
func scrapeHistogram(hc *http.Client, name string) []bucket {
	return parseHistogram(metricLines(hc), name)
}

// parseHistogram reads the cumulative buckets of the unlabelled histogram
// name from lines of the Prometheus text format.
func parseHistogram(lines []string, name string) []bucket {
	var out []bucket
	prefix := name + `_bucket{le="`
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		b := bucket{}
		var err1, err2 error
		b.le, err1 = strconv.ParseFloat(le, 64)
		b.count, err2 = strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 == nil && err2 == nil {
			out = append(out, b)
		}
	}
	return out
}

// histRange summarizes the observations between two scrapes of a
// histogram: their number and the upper bounds of the buckets holding the
// median and the 99th percentile ("<=25 / <=150 ms", 6000 changes).
func histRange(before, after []bucket) string {
	if len(after) == 0 || len(before) != len(after) {
		return "n/a"
	}
	total := after[len(after)-1].count - before[len(before)-1].count
	if total <= 0 {
		return "no changes"
	}
	upper := func(q float64) string {
		for i := range after {
			if after[i].count-before[i].count >= q*total {
				if math.IsInf(after[i].le, 1) && i > 0 {
					return fmt.Sprintf(">%g", 1000*after[i-1].le)
				}
				return fmt.Sprintf("<=%g", 1000*after[i].le)
			}
		}
		return "?"
	}
	return fmt.Sprintf("%s / %s ms, %.0f changes", upper(.5), upper(.99), total)
}
