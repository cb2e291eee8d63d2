package main

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// fleetReport renders the fleet section of RESULTS.md.
func fleetReport(o *fleetOptions, t *fleetTopo, steps []*fleetStep, load machineLoad, wall time.Duration) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("## Fleet cost on the southbound (%s)\n\n", o.section)
	w("Produced by `make bench-fleet` (`go run ./bench -fleet -fleet-chassis %d -fleet-ports %d -fleet-k %s -fleet-kinds %s -fleet-modes %s -fleet-burst %d`) on %s, in %s.\n\n",
		o.chassis, o.ports, joinInts(o.ks), strings.Join(o.kinds, ","), strings.Join(o.modes, ","), o.burst, time.Now().UTC().Format("2006-01-02 15:04 UTC"), wall.Round(time.Second))
	cpu, mem := cpuAndMem()
	w("- machine: %s, %d CPUs, %s RAM, kernel %s; bench at ovnbgp commit %s, %s\n", cpu, runtime.NumCPU(), mem,
		version("uname", "-r"), o.commit, runtime.Version())
	w("- %s\n", version("ovsdb-server", "--version"))
	w("- the whole machine's CPU during the run, busy / outside this run's processes (other engineers' work on the shared machine) / steal, %% of one core: %s\n\n", load)
	w("Setup: one standalone ovsdb-server holds a southbound of %d chassis (Chassis, Encap, Chassis_Private) and %d VM ports "+
		"(100 per logical switch, each bound and up on chassis i mod %d: %d per chassis), %d provider switches with a localnet port, "+
		"%d routers joining a tenant switch to a provider switch (%d patch ports, %d cr-lrps with nat_addresses on the last 10 chassis). "+
		"K clients connect at once over TCP on 127.0.0.1, client i as chassis fc<i>, and each opens the monitor of its kind:\n\n",
		o.chassis, o.ports, o.chassis, o.ports/max(o.chassis, 1), t.localnets, t.crlrps, t.patches, t.crlrps)
	w("- **ovnbgp**: ovnbgp's own OVSDB client (internal/ovsdb, the agent's code: `_Server` check, get_schema, monitor_cond with the agent's "+
		"columns and `SouthboundConditions` of a compute chassis: its bound/requested/migrating ports, every patch, localnet, chassisredirect, "+
		"virtual and l3gateway port, its Chassis_Private row; Chassis, Datapath_Binding, Load_Balancer, Logical_DP_Group whole), caching the rows "+
		"(the agent's one `select` of its own Chassis row at start, a single small transaction, is left out), echo probe every %s "+
		"and a connection attempt timeout (initial download included) of %s "+
		"(reconnects: the connections these clients lost or failed to open during the step);\n", o.probe, o.timeout)
	w("- **upstream**: what ovn-bgp-agent's SB driver monitors through ovsdbapp: Port_Binding, Chassis, Datapath_Binding, Load_Balancer, " +
		"Logical_DP_Group whole with every column, Chassis_Private on its name (get_schema, monitor_cond_since); a raw client that reads and discards;\n")
	w("- **ovn-controller**: ovn-controller's monitor with ovn-monitor-all = false, approximated: every table and column, Port_Binding of types " +
		"patch, chassisredirect, external, bound/requested here, its l2/l3 gateways, its 50 logical ports and every port of its local datapaths " +
		"(its switches, and the router and provider switch behind a tenant switch: about 5,000 Port_Binding rows), per-datapath tables on those " +
		"datapaths. There are no Logical_Flow rows (no northd), ovn-controller's largest table, so this kind is a lower bound of the real one.\n\n")
	w("Measured on the server the clients use (the relay in relay mode; the source server then serves only the relay), restarted "+
		"before every step: its CPU (utime+stime) from the first connect until every initial download is in, the bytes it sent (the "+
		"kernel's bytes_acked of its TCP connections, ss -ti), its RSS before, after (quiet) and at its peak (sampled every 50 ms); "+
		"then a burst of %d port bindings (one transaction each, pipelined, random ports over the whole cloud moved to a random chassis) "+
		"until the servers are quiet, against the same burst with no client just before. Per client: (step − the burst with no client) / K "+
		"for the burst, step / K otherwise; peak per client = (peak − before) / K, what the downloads held at once. A step is stopped when "+
		"a server's RSS passes %d MB (the machine is shared).\n\n", o.burst, o.memLimit>>20)
	for _, mode := range o.modes {
		w("### %s\n\n", mode)
		w("| kind | K | initial: wall s | initial: server CPU s | CPU per client ms | bytes per client | RSS before MB | RSS after MB | peak MB | memory per client (after − before) KB | peak per client KB | burst: server CPU s | burst CPU per client ms | burst bytes per client | updates per client | reconnects |")
		if mode == "relay" {
			w(" source SB: initial CPU s | source SB: burst CPU s | source SB RSS MB |")
		}
		w("\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		if mode == "relay" {
			w("---|---|---|")
		}
		w("\n")
		for _, kind := range o.kinds {
			for _, s := range steps {
				if s.mode != mode || s.kind != kind {
					continue
				}
				cpu, burstCPU, baseBurst := s.initCPU, s.burstCPU, s.baselineBurstCPU
				peak := s.peakRSS
				if mode == "relay" {
					cpu, burstCPU, baseBurst = s.initRelayCPU, s.burstRelayCPU, s.baselineBurstRelayCPU
					peak = s.peakRelayRSS
				}
				kk := float64(s.k)
				note := ""
				if s.stopped != "" {
					note = fmt.Sprintf(" (%s; %d of %d in)", s.stopped, s.done, s.k)
				}
				if strings.HasPrefix(s.stopped, "not run") {
					w("| %s | %d (%s) | – | – | – | – | – | – | – | – | – | – | – | – | – |\n", s.kind, s.k, s.stopped)
					continue
				}
				if s.stopped != "" {
					w("| %s | %d%s | %.1f | %.2f | %.1f | %s | %s | – | %s | – | – | – | – | – | – |", s.kind, s.k, note, s.initWall.Seconds(), cpu,
						1000*cpu/float64(max(s.done, 1)), human(s.initBytes/int64(max(s.done, 1))), mb(s.baseRSS), mb(peak))
				} else {
					w("| %s | %d | %.1f | %.2f | %.1f | %s | %s | %s | %s | %.0f | %.0f | %.2f | %.2f | %s | %.1f | %s |", s.kind, s.k, s.initWall.Seconds(), cpu,
						1000*cpu/kk, human(s.initBytes/int64(s.k)), mb(s.baseRSS), mb(s.steadyRSS), mb(peak),
						float64(s.steadyRSS-s.baseRSS)/1024/kk, float64(peak-s.baseRSS)/1024/kk, burstCPU, 1000*(burstCPU-baseBurst)/kk,
						human(s.burstBytes/int64(s.k)), s.updatesPerClient, reconnectCell(s))
				}
				if mode == "relay" {
					w(" %.2f | %.2f | %s |", s.initCPU, s.burstCPU, mb(s.steadySBRSS))
				}
				w("\n")
			}
		}
		w("\n")
	}
	w("%s\n", fleetClosing(o, steps))
	return b.String()
}

// fleetClosing is the answer to "what does a 1,000-chassis cloud pay for
// ovnbgp": the largest complete standalone step of each kind, scaled
// linearly to the number of chassis.
func fleetClosing(o *fleetOptions, steps []*fleetStep) string {
	best := map[string]*fleetStep{}
	for _, s := range steps {
		if s.mode != "standalone" || s.stopped != "" {
			continue
		}
		if b := best[s.kind]; b == nil || s.k > b.k {
			best[s.kind] = s
		}
	}
	var b strings.Builder
	b.WriteString("### What a cloud of this size pays\n\n")
	fmt.Fprintf(&b, "Scaled linearly from the largest complete standalone step of each kind to %d chassis (one agent each):\n\n", o.chassis)
	b.WriteString("| kind (from K) | initial downloads: server CPU s | bytes sent | server memory MB | one burst of bindings: server CPU s |\n|---|---|---|---|---|\n")
	for _, kind := range []string{"ovnbgp", "upstream", "ovn-controller"} {
		s := best[kind]
		if s == nil {
			fmt.Fprintf(&b, "| %s | not measured or not complete | | | |\n", kind)
			continue
		}
		f := float64(o.chassis) / float64(s.k)
		fmt.Fprintf(&b, "| %s (K=%d) | %.1f | %s | %.0f | %.2f |\n", kind, s.k, s.initCPU*f, human(int64(float64(s.initBytes)*f)),
			float64(s.steadyRSS-s.baseRSS)*f/(1<<20), (s.burstCPU-s.baselineBurstCPU)*f)
	}
	b.WriteString("\nThe ratios between the kinds are the result; the absolute figures are one shared 2-core machine's.\n")
	return b.String()
}

func reconnectCell(s *fleetStep) string {
	if s.reasons == "" {
		return fmt.Sprintf("%.0f", s.reconnects)
	}
	return fmt.Sprintf("%.0f: %s", s.reconnects, s.reasons)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// human renders a byte count.
func human(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

var sectionRE = regexp.MustCompile(`(?s)<!-- ([a-z0-9-]+):begin -->.*?<!-- ([a-z0-9-]+):end -->\n?`)

// writeSection puts md into path between the markers of name, replacing
// that section if present, else appending it; the rest is kept.
func writeSection(path, name, md string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	block := "<!-- " + name + ":begin -->\n" + md + "<!-- " + name + ":end -->\n"
	s := string(old)
	replaced := false
	s = sectionRE.ReplaceAllStringFunc(s, func(m string) string {
		if sub := sectionRE.FindStringSubmatch(m); sub[1] == name {
			replaced = true
			return block
		}
		return m
	})
	if !replaced {
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			s += "\n"
		}
		s += block
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// keepSections appends to md the marked sections of old (written by the
// other bench modes), so that `make bench` does not erase them.
func keepSections(old, md string) string {
	for _, m := range sectionRE.FindAllString(old, -1) {
		if !strings.HasSuffix(md, "\n\n") {
			md += "\n"
		}
		md += m
	}
	return md
}
