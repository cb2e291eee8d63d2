// Command bench measures the ovnbgp agent at scale: it builds a synthetic
// OVN southbound (rows shaped like ovn-northd's) in a real ovsdb-server,
// runs the real agent binary on one chassis (its own network namespace,
// a real local Open_vSwitch database and ovs-vswitchd, the `table` announce
// method and the embedded GoBGP speaker peering with gobgpd in a second
// namespace), and measures cold start, event latency alone and during a
// burst, steady-state RSS and CPU, bytes received from the southbound and
// the cost of a full periodic pass. It writes bench/results/RESULTS.md and
// bench/results/latency.png and prints the table.
//
//	go run ./bench [-sizes 1000,10000,100000] [-events 1000] [-burst 5000]
//
// It must run as root (network namespaces). See bench/README.md.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	sizes     []int
	events    int
	burst     int
	bursts    int
	agent     string
	out       string
	interval  int
	protocol  int
	perfDir   string
	pprofDir  string
	northdMax int
	agentEnv  []string
}

func main() {
	var o options
	sizes := flag.String("sizes", "1000,10000,100000", "comma-separated numbers of southbound VM ports (10% are local)")
	flag.IntVar(&o.events, "events", 1000, "measured port bindings, alone and during the burst")
	flag.IntVar(&o.burst, "burst", 5000, "changes in the burst")
	flag.IntVar(&o.bursts, "bursts", 3, "bursts per size (their events are pooled; each burst's p99 is reported too)")
	flag.StringVar(&o.agent, "agent", "bin/ovnbgp", "agent binary (built with `go build ./cmd/ovnbgp` when missing)")
	flag.StringVar(&o.out, "out", "bench/results", "directory of RESULTS.md and latency.png")
	flag.IntVar(&o.interval, "periodic-interval", 5, "reconcile_interval (s) of the restarted agent whose periodic full passes are measured")
	flag.StringVar(&o.perfDir, "perf", "", "record the agent with perf during the event phases into this directory")
	flag.StringVar(&o.pprofDir, "pprof", "", "save the agent's Go heap profiles (steady, after the burst), allocation profiles (before the first burst, after it, after its restore), CPU profile and execution trace of the first burst, and the bench's own CPU profile, into this directory (debug_pprof)")
	flag.IntVar(&o.northdMax, "northd-max", 10000, "sizes up to this are built through the northbound and ovn-northd; larger ones are written to the southbound directly")
	agentEnv := flag.String("agent-env", "", "comma-separated KEY=VALUE added to the agent's environment (e.g. GOMEMLIMIT=150MiB)")
	fleet := flag.Bool("fleet", false, "measure what K monitors of each kind cost the southbound server instead (bench/README.md, Fleet)")
	var fo fleetOptions
	flag.IntVar(&fo.chassis, "fleet-chassis", 1000, "fleet: chassis registered in the southbound")
	flag.IntVar(&fo.ports, "fleet-ports", 50000, "fleet: VM ports")
	flag.IntVar(&fo.burst, "fleet-burst", 500, "fleet: port bindings in the burst")
	fleetK := flag.String("fleet-k", "10,100,500", "fleet: numbers of concurrent clients")
	fleetKinds := flag.String("fleet-kinds", "ovnbgp,upstream,ovn-controller", "fleet: monitor kinds")
	fleetModes := flag.String("fleet-modes", "standalone,relay", "fleet: clients on the southbound server itself, or on an OVSDB relay in front of it")
	fleetMem := flag.Int64("fleet-mem-limit-mb", 6144, "fleet: stop a step when a server's RSS passes this")
	flag.DurationVar(&fo.probe, "fleet-probe", 60*time.Second, "fleet: echo probe interval of the ovnbgp-kind clients (the agent's ovsdb_probe_interval default)")
	flag.DurationVar(&fo.timeout, "fleet-timeout", 180*time.Second, "fleet: connection attempt timeout of the ovnbgp-kind clients, initial download included (the agent's ovsdb_connection_timeout default)")
	flag.StringVar(&fo.section, "fleet-section", "fleet", "fleet: name of the section of RESULTS.md the rows go to (a second run beside the first gets its own)")
	fleetKindMax := flag.String("fleet-kind-max", "upstream=100", "fleet: comma-separated kind=K, the largest K run for that kind (larger ones are listed as not run)")
	flag.Parse()
	if *fleet {
		if os.Geteuid() != 0 {
			fatalf("bench -fleet needs root (/proc/<pid>/io of the servers)")
		}
		for _, s := range strings.Split(*fleetK, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > fo.chassis {
				fatalf("bad -fleet-k %q (1..-fleet-chassis)", *fleetK)
			}
			fo.ks = append(fo.ks, n)
		}
		fo.kinds = strings.Split(*fleetKinds, ",")
		fo.modes = strings.Split(*fleetModes, ",")
		for _, k := range fo.kinds {
			if k != "ovnbgp" && k != "upstream" && k != "ovn-controller" {
				fatalf("bad -fleet-kinds %q (ovnbgp, upstream, ovn-controller)", *fleetKinds)
			}
		}
		for _, m := range fo.modes {
			if m != "standalone" && m != "relay" {
				fatalf("bad -fleet-modes %q (standalone, relay)", *fleetModes)
			}
		}
		fo.memLimit = *fleetMem << 20
		fo.kindMax = map[string]int{}
		for _, kv := range strings.Split(*fleetKindMax, ",") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				fatalf("bad -fleet-kind-max %q (kind=K,...)", *fleetKindMax)
			}
			fo.kindMax[k] = n
		}
		fo.out = o.out
		if err := runFleet(&fo); err != nil {
			fatalf("fleet: %v", err)
		}
		return
	}
	if *agentEnv != "" {
		o.agentEnv = strings.Split(*agentEnv, ",")
	}
	o.protocol = 201
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			fatalf("bad -sizes %q", *sizes)
		}
		o.sizes = append(o.sizes, n)
	}
	if os.Geteuid() != 0 {
		fatalf("bench needs root (network namespaces, ovs-vswitchd)")
	}
	if _, err := os.Stat(o.agent); err != nil {
		fmt.Println("building", o.agent)
		if out, err := exec.Command("go", "build", "-o", o.agent, "./cmd/ovnbgp").CombinedOutput(); err != nil {
			fatalf("go build: %v: %s", err, out)
		}
	}
	abs, err := filepath.Abs(o.agent)
	if err != nil {
		fatalf("%v", err)
	}
	o.agent = abs

	var cur *env
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		if cur != nil {
			cur.close()
		}
		os.Exit(130)
	}()

	var results []*result
	for _, n := range o.sizes {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		e, err := newEnv(hex.EncodeToString(b))
		if err != nil {
			fatalf("environment: %v", err)
		}
		cur = e
		fmt.Printf("== %d southbound ports (%d local), work dir %s\n", n, (n+9)/10, e.dir)
		r, err := runSize(e, &o, n)
		e.close()
		cur = nil
		if err != nil {
			fatalf("%d ports: %v", n, err)
		}
		results = append(results, r)
	}
	md := report(results, &o)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fatalf("%v", err)
	}
	old, _ := os.ReadFile(filepath.Join(o.out, "RESULTS.md"))
	md = keepSections(string(old), md)
	if err := os.WriteFile(filepath.Join(o.out, "RESULTS.md"), []byte(md), 0o644); err != nil {
		fatalf("%v", err)
	}
	if err := plotLatency(filepath.Join(o.out, "latency.png"), results); err != nil {
		fatalf("plot: %v", err)
	}
	fmt.Print(md)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
