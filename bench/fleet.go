package main

// The fleet mode (-fleet): what K agents on K chassis cost the southbound
// ovsdb-server, for three kinds of monitor (ovnbgp's, upstream
// ovn-bgp-agent's, ovn-controller's), standalone and behind an OVSDB relay.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
)

type fleetOptions struct {
	chassis, ports, burst int
	ks                    []int
	kinds, modes          []string
	memLimit              int64          // bytes of server RSS at which a step is stopped
	kindMax               map[string]int // largest K run per kind
	section               string         // name of the RESULTS.md section
	commit                string         // ovnbgp commit the bench was started at
	probe                 time.Duration  // ProbeInterval of the ovnbgp-kind clients
	timeout               time.Duration  // their Timeout (one connection attempt with its initial download)
	out                   string
}

const sbSchema = "/usr/share/ovn/ovn-sb.ovsschema"

// fleetStep is one measured (mode, kind, K).
type fleetStep struct {
	mode, kind string
	k          int
	done       int // clients whose initial rows arrived
	stopped    string

	initWall                time.Duration
	initCPU, initRelayCPU   float64 // seconds, during the initial downloads
	initBytes               int64   // written by the server the clients use
	peakRSS, peakRelayRSS   int64   // during the step
	baseRSS, steadyRSS      int64   // the server the clients use, before and after
	baseSBRSS, steadySBRSS  int64   // the source server (relay mode)
	burstCPU, burstRelayCPU float64
	burstBytes              int64
	burstWall               time.Duration
	updatesPerClient        float64
	reconnects              float64 // ovnbgp kind: connections lost or failed (ovsdb metrics) during the step
	reasons                 string  // why, from the clients' log
	clientBytes             int64   // raw kinds: bytes read by all clients
	clientCPU               float64
	baselineBurstCPU        float64 // a burst of the same size with no client, just before
	baselineBurstRelayCPU   float64
}

// fleetMetrics holds the ovsdb package's metrics of the ovnbgp-kind clients.
var fleetMetrics = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(ovsdb.Collectors()...)
	return r
}()

// reconnects is how often the ovnbgp-kind clients lost a connection or
// failed to connect, so far.
func reconnects() float64 {
	mfs, err := fleetMetrics.Gather()
	if err != nil {
		return 0
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "ovnbgp_ovsdb_disconnects_total" && mf.GetName() != "ovnbgp_ovsdb_connect_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// reasons counts the ovnbgp-kind clients' warnings by kind, and truncates
// the log for the next step.
func (f *fleetRun) reasons() string {
	b, _ := os.ReadFile(f.logPath)
	lost := strings.Count(string(b), "ovsdb connection lost")
	probe := strings.Count(string(b), "echo probe failed")
	failed := strings.Count(string(b), "connection failed, retrying")
	deadline := strings.Count(string(b), "deadline exceeded")
	_ = os.Truncate(f.logPath, 0)
	if lost+probe+failed == 0 {
		return ""
	}
	return fmt.Sprintf("%d connections lost (%d after an echo probe of the client failed), %d attempts failed (%d past their timeout)", lost, probe, failed, deadline)
}

// procWchar is the bytes pid has written (all writes: sockets, its log,
// its database file), from /proc/<pid>/io.
func procWchar(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func selfCPU() float64 {
	_, _, cpu, _ := procStats(os.Getpid())
	return cpu
}

// fleetClient is one monitor of any kind.
type fleetClient struct {
	raw *rawMonitor
	go_ *ovsdb.Client
	ev  *atomic.Int64
}

func (c *fleetClient) close() {
	if c.raw != nil {
		c.raw.close()
	}
	if c.go_ != nil {
		c.go_.Close()
	}
}

func (c *fleetClient) updates() int64 {
	if c.raw != nil {
		return c.raw.updates.Load()
	}
	return c.ev.Load()
}

type fleetRun struct {
	port      int // TCP port of the server the clients use (127.0.0.1)
	o         *fleetOptions
	e         *env
	t         *fleetTopo
	sb        *ovsdbServer
	relay     *ovsdbServer
	writer    *rpc
	tables    []string
	seed      uint64
	started   time.Time
	deadCPU   float64      // CPU of the servers restarted so far
	clientLog *slog.Logger // the ovnbgp-kind clients' warnings (why they reconnected), in the work dir
	logPath   string
	fillCPU   float64 // the source server's CPU while it was filled
}

// fresh restarts the server the clients of mode will use, so that every
// step starts from a server that has never had a client (its RSS and peak
// are then the step's own): in standalone mode the southbound server
// (same database file) and the bench's writer connection; in relay mode
// the relay (which downloads the source again).
func (f *fleetRun) fresh(mode string, sbPort int) error {
	f.stopRelay()
	if mode == "standalone" {
		_, _, c, _ := procStats(f.sb.pid)
		f.deadCPU += c - f.fillCPU
		f.fillCPU = 0
		f.writer.close()
		killWait(f.sb.pid)
		var err error
		if f.sb, err = launchOVSDB(f.e, "", f.sb.dir, filepath.Join(f.sb.dir, "db.db"), fmt.Sprintf("--remote=ptcp:%d:127.0.0.1", sbPort)); err != nil {
			return err
		}
		if f.writer, err = dialRPC(f.sb.sock); err != nil {
			return err
		}
		f.port = sbPort
	} else {
		var err error
		if f.port, err = freePort(); err != nil {
			return err
		}
		if f.relay, err = startRelay(f.e, filepath.Join(f.e.dir, "relay"), f.sb.sock, f.port); err != nil {
			return err
		}
		// The relay is usable once it has the source's data.
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(relayStatus(f.relay), "connected: true") && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
	}
	settle(f.pids(), 2*time.Minute)
	return nil
}

// runCPU is the CPU the run's processes used since the southbound was
// filled: the bench itself (from its start), the servers.
func (f *fleetRun) runCPU() float64 {
	cpu := selfCPU() + f.deadCPU
	_, _, c, _ := procStats(f.sb.pid)
	cpu += c - f.fillCPU
	if f.relay != nil {
		_, _, r, _ := procStats(f.relay.pid)
		cpu += r
	}
	return cpu
}

func (f *fleetRun) stopRelay() {
	if f.relay != nil {
		_, _, c, _ := procStats(f.relay.pid)
		f.deadCPU += c
		killWait(f.relay.pid)
		f.relay = nil
	}
}

// relayStatus is the relay's view of its source (ovsdb-server/sync-status
// does not apply to relays; the database's _Server row does, through
// ovsdb-client).
func relayStatus(r *ovsdbServer) string {
	out, _ := run("ovsdb-client", "dump", "unix:"+r.sock, "_Server", "Database", "name", "connected")
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "OVN_Southbound") && strings.Contains(l, "true") {
			return "connected: true"
		}
	}
	return out
}

func runFleet(o *fleetOptions) error {
	tag := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	o.commit = version("git", "rev-parse", "--short", "HEAD")
	dir, err := os.MkdirTemp("", "ovnbgp-fleet-")
	if err != nil {
		return err
	}
	e := &env{dir: dir}
	defer e.close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		e.close() // the servers; the rows written so far are in RESULTS.md
		os.Exit(130)
	}()
	f := &fleetRun{o: o, e: e, started: time.Now()}
	lf, err := os.Create(filepath.Join(dir, "ovnbgp-clients.log"))
	if err != nil {
		return err
	}
	defer lf.Close()
	f.clientLog = slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f.logPath = lf.Name()
	fmt.Printf("fleet %s: work dir %s\n", tag, dir)
	sbPort, err := freePort()
	if err != nil {
		return err
	}
	if f.sb, err = startOVSDB(e, "", filepath.Join(dir, "sb"), sbSchema, fmt.Sprintf("--remote=ptcp:%d:127.0.0.1", sbPort)); err != nil {
		return err
	}
	if f.tables, err = schemaTables(sbSchema); err != nil {
		return err
	}
	if f.writer, err = dialRPC(f.sb.sock); err != nil {
		return err
	}
	defer func() { f.writer.close() }()
	t0 := time.Now()
	if f.t, err = fillFleetSB(f.writer, o.chassis, o.ports); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	fmt.Printf("southbound: %d chassis, %d VM ports, %d localnet, %d patch, %d cr-lrp, in %s\n",
		o.chassis, o.ports, f.t.localnets, f.t.patches, f.t.crlrps, time.Since(t0).Round(time.Millisecond))
	_, _ = run("ovs-appctl", "-t", filepath.Join(f.sb.dir, "db.ctl"), "ovsdb-server/compact")
	_, _, f.fillCPU, _ = procStats(f.sb.pid)
	mt0, self0 := machineCPU(), selfCPU()
	var steps []*fleetStep
	// Smallest K first, over every mode and kind: a run cut short has
	// complete rows for the smaller fleets.
	for _, k := range o.ks {
		for _, mode := range o.modes {
			for _, kind := range o.kinds {
				if m, ok := o.kindMax[kind]; ok && k > m {
					steps = append(steps, &fleetStep{mode: mode, kind: kind, k: k,
						stopped: fmt.Sprintf("not run: -fleet-kind-max %s=%d", kind, m)})
					continue
				}
				if err := f.fresh(mode, sbPort); err != nil {
					return err
				}
				s := f.step(mode, kind, k)
				steps = append(steps, s)
				fmt.Println(s.summary())
				// Written after every step, so that a run cut short keeps its rows.
				md := fleetReport(o, f.t, steps, newMachineLoad(mt0, machineCPU(), f.runCPU()-self0, time.Since(f.started)), time.Since(f.started))
				if err := writeSection(filepath.Join(o.out, "RESULTS.md"), o.section, md); err != nil {
					return err
				}
			}
		}
	}
	f.stopRelay()
	wall := time.Since(f.started)
	md := fleetReport(o, f.t, steps, newMachineLoad(mt0, machineCPU(), f.runCPU()-self0, wall), wall)
	fmt.Print(md)
	return writeSection(filepath.Join(o.out, "RESULTS.md"), o.section, md)
}

func (f *fleetRun) pids() []int {
	p := []int{f.sb.pid}
	if f.relay != nil {
		p = append(p, f.relay.pid)
	}
	return p
}

// target is the server the clients use and its socket.
func (f *fleetRun) target() *ovsdbServer {
	if f.relay != nil {
		return f.relay
	}
	return f.sb
}

// startRelay starts `ovsdb-server relay:OVN_Southbound:unix:<source>`.
func startRelay(e *env, dir, source string, port int) (*ovsdbServer, error) {
	return launchOVSDB(e, "", dir, "relay:OVN_Southbound:unix:"+source, fmt.Sprintf("--remote=ptcp:%d:127.0.0.1", port))
}

// schemaTables lists the tables of a schema file.
func schemaTables(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s struct {
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	var out []string
	for t := range s.Tables {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// burst commits the burst (pipelined, one transaction per binding) and
// waits until the servers are quiet; it returns the servers' CPU and bytes
// written, and the wall time.
func (f *fleetRun) burst() (cpu, relayCPU float64, bytes, relayBytes int64, wall time.Duration) {
	f.seed++
	txns := f.t.burstOps(f.o.burst, f.seed)
	_, _, c0, _ := procStats(f.sb.pid)
	w0 := procWchar(f.sb.pid)
	var rc0 float64
	var rw0 int64
	if f.relay != nil {
		_, _, rc0, _ = procStats(f.relay.pid)
		rw0 = procWchar(f.relay.pid)
	}
	start := time.Now()
	var chs []<-chan reply
	for _, ops := range txns {
		ch, _, err := f.writer.start("OVN_Southbound", ops)
		if err != nil {
			fmt.Fprintln(os.Stderr, "burst:", err)
			break
		}
		chs = append(chs, ch)
	}
	for _, ch := range chs {
		if r := <-ch; r.err != nil {
			fmt.Fprintln(os.Stderr, "burst:", r.err)
		}
	}
	wall = time.Since(start) + settle(f.pids(), 5*time.Minute)
	_, _, c1, _ := procStats(f.sb.pid)
	cpu, bytes = c1-c0, procWchar(f.sb.pid)-w0
	if f.relay != nil {
		_, _, rc1, _ := procStats(f.relay.pid)
		relayCPU, relayBytes = rc1-rc0, procWchar(f.relay.pid)-rw0
	}
	return cpu, relayCPU, bytes, relayBytes, wall
}

func (f *fleetRun) burstOnly() (cpu, relayCPU float64) {
	cpu, relayCPU, _, _, _ = f.burst()
	return
}

// freePort is a TCP port free on 127.0.0.1 now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sentBytes is what the server listening on port has sent on its open
// connections (the kernel's bytes_acked of each, ss -ti): TCP payload,
// exactly the OVSDB messages.
func sentBytes(port int) int64 {
	out, err := run("ss", "-tinH", "state", "established", fmt.Sprintf("( sport = :%d )", port))
	if err != nil {
		return 0
	}
	return sumCounter(out, bytesAcked)
}

var bytesAcked = regexp.MustCompile(`bytes_acked:(\d+)`)

// step connects k clients of kind at once (each a different chassis),
// waits for their initial rows, measures, runs one burst, closes them.
func (f *fleetRun) step(mode, kind string, k int) *fleetStep {
	s := &fleetStep{mode: mode, kind: kind, k: k}
	tgt := f.target()
	s.baselineBurstCPU, s.baselineBurstRelayCPU = f.burstOnly()
	settle(f.pids(), 2*time.Minute)
	s.baseRSS, _, _, _ = procStats(tgt.pid)
	s.baseSBRSS, _, _, _ = procStats(f.sb.pid)
	_, _, c0, _ := procStats(f.sb.pid)
	var rc0 float64
	if f.relay != nil {
		_, _, rc0, _ = procStats(f.relay.pid)
	}
	self0 := selfCPU()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var peak, peakRelay atomic.Int64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			rss, _, _, _ := procStats(f.sb.pid)
			if rss > peak.Load() {
				peak.Store(rss)
			}
			over := rss > f.o.memLimit
			if f.relay != nil {
				r, _, _, _ := procStats(f.relay.pid)
				if r > peakRelay.Load() {
					peakRelay.Store(r)
				}
				over = over || r > f.o.memLimit
			}
			if over {
				s.stopped = fmt.Sprintf("stopped: server RSS over %d MB", f.o.memLimit>>20)
				cancel()
				return
			}
		}
	}()

	r0 := reconnects()
	clients := make([]*fleetClient, k)
	var wg sync.WaitGroup
	var doneN atomic.Int64
	var errOnce sync.Once
	start := time.Now()
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := f.connect(ctx, kind, tgt, i)
			if err != nil {
				errOnce.Do(func() {
					if s.stopped == "" {
						s.stopped = "error: " + err.Error()
					}
				})
				return
			}
			clients[i] = c
			doneN.Add(1)
		}(i)
	}
	wg.Wait()
	s.initWall = time.Since(start)
	s.done = int(doneN.Load())
	_, _, c1, _ := procStats(f.sb.pid)
	s.initCPU = c1 - c0
	if f.relay != nil {
		_, _, rc1, _ := procStats(f.relay.pid)
		s.initRelayCPU = rc1 - rc0
	}
	s.initBytes = sentBytes(f.port)
	if s.stopped == "" {
		settle(f.pids(), 2*time.Minute)
		s.steadyRSS, _, _, _ = procStats(tgt.pid)
		s.steadySBRSS, _, _, _ = procStats(f.sb.pid)
		u0 := int64(0)
		for _, c := range clients {
			u0 += c.updates()
		}
		b0 := sentBytes(f.port)
		s.burstCPU, s.burstRelayCPU, _, _, s.burstWall = f.burst()
		s.burstBytes = sentBytes(f.port) - b0
		u1 := int64(0)
		for _, c := range clients {
			u1 += c.updates()
		}
		s.updatesPerClient = float64(u1-u0) / float64(k)
	}
	s.reconnects = reconnects() - r0
	s.reasons = f.reasons()
	close(stopSampling)
	sampler.Wait()
	s.peakRSS, s.peakRelayRSS = peak.Load(), peakRelay.Load()
	for _, c := range clients {
		if c != nil {
			if c.raw != nil {
				s.clientBytes += c.raw.bytes.Load()
			}
			c.close()
		}
	}
	s.clientCPU = selfCPU() - self0
	return s
}

// connect opens client i of kind on chassis i.
func (f *fleetRun) connect(ctx context.Context, kind string, tgt *ovsdbServer, i int) (*fleetClient, error) {
	name, uuid := fleetChassisName(i), f.t.chassis[i]
	switch kind {
	case "ovnbgp":
		ev := &atomic.Int64{}
		c, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{
			Remote:        fmt.Sprintf("tcp:127.0.0.1:%d", f.port),
			Logger:        f.clientLog,
			Conditions:    ovsdb.SouthboundConditions(ovsdb.SouthboundNeed{Chassis: name, ChassisUUID: uuid}),
			ProbeInterval: f.o.probe,
			Timeout:       f.o.timeout,
			OnEvent:       func(ovsdb.Event) { ev.Add(1) },
		})
		if err != nil {
			return nil, err
		}
		return &fleetClient{go_: c, ev: ev}, nil
	case "upstream":
		return rawClient(ctx, f.port, upstreamRequests(name))
	case "ovn-controller":
		return rawClient(ctx, f.port, ovnControllerRequests(f.tables, uuid, name, f.t.localPorts(i), f.t.localDatapaths(i)))
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

// rawClient opens a raw monitor and waits for its initial rows.
func rawClient(ctx context.Context, port int, reqs map[string][]rawRequest) (*fleetClient, error) {
	m, err := dialRaw(ctx, port, reqs)
	if err != nil {
		return nil, err
	}
	if err := m.waitInitial(ctx); err != nil {
		m.close()
		return nil, err
	}
	return &fleetClient{raw: m}, nil
}

func (s *fleetStep) summary() string {
	st := ""
	if s.stopped != "" {
		st = " (" + s.stopped + ")"
	}
	return fmt.Sprintf("%s %s K=%d: %.0f reconnects (%s), %d initial in %.1f s, server CPU %.2f s (relay %.2f), %s MB written, RSS %s→%s MB (peak %s, relay peak %s); burst CPU %.2f s (relay %.2f), %s MB, %.1f updates/client%s",
		s.mode, s.kind, s.k, s.reconnects, s.reasons, s.done, s.initWall.Seconds(), s.initCPU, s.initRelayCPU, mb(s.initBytes), mb(s.baseRSS), mb(s.steadyRSS),
		mb(s.peakRSS), mb(s.peakRelayRSS), s.burstCPU, s.burstRelayCPU, mb(s.burstBytes), s.updatesPerClient, st)
}
