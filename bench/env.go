package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"

	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// env is everything one run needs: three network namespaces (the chassis,
// its BGP peer, and the southbound server's), the southbound ovsdb-server
// (which the agent reaches over TCP, as a chassis reaches a remote
// southbound, and everything else over its unix socket), the chassis'
// Open_vSwitch ovsdb-server and ovs-vswitchd (netdev datapath: br-ex is a
// tap device in the chassis namespace), and gobgpd as the fabric peer.
type env struct {
	dir    string
	chNS   string
	peerNS string
	sbNS   string
	sb     *ovsdbServer
	nb     *ovsdbServer // with ovn-northd, for the sizes built through the northbound
	ovs    *ovsdbServer
	ovsDir string

	mu    sync.Mutex
	pids  []int
	dirty bool
}

const (
	chassisAddr = "172.31.255.1"
	peerAddr    = "172.31.255.2"
	localAS     = 64999
	peerAS      = 65000
	metricsPort = "9469"
	speakerAPI  = "127.0.0.1:50051" // the embedded speaker's GoBGP API (gobgp_api_address)
	peerAPI     = "127.0.0.1:50051" // gobgpd's API, in the peer namespace
	chassisName = "c0"
	sbAddr      = "172.31.254.1" // the southbound's TCP remote (its namespace)
	sbChassis   = "172.31.254.2" // the chassis end of that link
	sbRemote    = "tcp:" + sbAddr + ":6642"
)

// run runs a command and returns its trimmed combined output.
func run(prog string, args ...string) (string, error) {
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func runEnv(envv []string, prog string, args ...string) (string, error) {
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), envv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func newEnv(tag string) (*env, error) {
	dir, err := os.MkdirTemp("", "ovnbgp-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, chNS: "obb-" + tag + "-ch", peerNS: "obb-" + tag + "-pe", sbNS: "obb-" + tag + "-sb"}
	if err := e.setup(); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) addPid(pid int) {
	e.mu.Lock()
	e.pids = append(e.pids, pid)
	e.mu.Unlock()
}

func (e *env) setup() error {
	for _, ns := range []string{e.chNS, e.peerNS, e.sbNS} {
		if _, err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
		e.dirty = true
		if _, err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	steps := [][]string{
		{"-n", e.chNS, "link", "add", "bgp0", "type", "veth", "peer", "name", "bgp0", "netns", e.peerNS},
		{"-n", e.chNS, "addr", "add", chassisAddr + "/30", "dev", "bgp0"},
		{"-n", e.peerNS, "addr", "add", peerAddr + "/30", "dev", "bgp0"},
		{"-n", e.chNS, "link", "set", "bgp0", "up"},
		{"-n", e.peerNS, "link", "set", "bgp0", "up"},
		{"-n", e.chNS, "link", "add", "sb0", "type", "veth", "peer", "name", "sb0", "netns", e.sbNS},
		{"-n", e.chNS, "addr", "add", sbChassis + "/30", "dev", "sb0"},
		{"-n", e.sbNS, "addr", "add", sbAddr + "/30", "dev", "sb0"},
		{"-n", e.chNS, "link", "set", "sb0", "up"},
		{"-n", e.sbNS, "link", "set", "sb0", "up"},
	}
	for _, s := range steps {
		if _, err := run("ip", s...); err != nil {
			return err
		}
	}
	var err error
	if e.sb, err = startOVSDB(e, e.sbNS, filepath.Join(e.dir, "sb"), "/usr/share/ovn/ovn-sb.ovsschema", "--remote=ptcp:6642:"+sbAddr); err != nil {
		return err
	}
	e.ovsDir = filepath.Join(e.dir, "ovs")
	if e.ovs, err = startOVSDB(e, "", e.ovsDir, "/usr/share/openvswitch/vswitch.ovsschema"); err != nil {
		return err
	}
	envv := []string{"OVS_RUNDIR=" + e.ovsDir, "OVS_LOGDIR=" + e.ovsDir, "OVS_DBDIR=" + e.ovsDir}
	vsctl := func(args ...string) error {
		_, err := runEnv(envv, "ovs-vsctl", append([]string{"--db=unix:" + e.ovs.sock, "--timeout=30"}, args...)...)
		return err
	}
	if err := vsctl("--no-wait", "init"); err != nil {
		return err
	}
	if _, err := runEnv(envv, "ip", "netns", "exec", e.chNS, "ovs-vswitchd", "unix:"+e.ovs.sock, "--detach", "--no-chdir",
		"--pidfile="+filepath.Join(e.ovsDir, "ovs-vswitchd.pid"), "--log-file="+filepath.Join(e.ovsDir, "ovs-vswitchd.log"),
		"--unixctl="+filepath.Join(e.ovsDir, "ovs-vswitchd.ctl")); err != nil {
		return err
	}
	pid, err := ovsdbserver.ReadPid(filepath.Join(e.ovsDir, "ovs-vswitchd.pid"), 10*time.Second)
	if err != nil {
		return err
	}
	e.addPid(pid)
	if err := vsctl("add-br", "br-ex", "--", "set", "Bridge", "br-ex", "datapath_type=netdev",
		"--", "set", "Open_vSwitch", ".",
		"external_ids:system-id="+chassisName, "external_ids:hostname=host0",
		"external_ids:ovn-remote="+sbRemote, "external_ids:ovn-bridge-mappings=physnet1:br-ex",
		"external_ids:ovn-encap-type=geneve", "external_ids:ovn-encap-ip=192.0.2.1"); err != nil {
		return err
	}
	if _, err := run("ip", "-n", e.chNS, "link", "set", "br-ex", "up"); err != nil {
		return err
	}
	return nil
}

// startNorthd starts a northbound ovsdb-server and ovn-northd between it
// and the southbound.
func (e *env) startNorthd() error {
	var err error
	dir := filepath.Join(e.dir, "nb")
	if e.nb, err = startOVSDB(e, "", dir, "/usr/share/ovn/ovn-nb.ovsschema"); err != nil {
		return err
	}
	if _, err := runEnv([]string{"OVN_RUNDIR=" + dir, "OVN_LOGDIR=" + dir}, "ovn-northd", "--ovnnb-db=unix:"+e.nb.sock,
		"--ovnsb-db=unix:"+e.sb.sock, "--detach", "--no-chdir", "--pidfile="+filepath.Join(dir, "northd.pid"),
		"--log-file="+filepath.Join(dir, "northd.log"), "--unixctl="+filepath.Join(dir, "northd.ctl")); err != nil {
		return err
	}
	pid, err := ovsdbserver.ReadPid(filepath.Join(dir, "northd.pid"), 10*time.Second)
	if err != nil {
		return err
	}
	e.addPid(pid)
	return nil
}

// close stops every process this run started and removes the namespaces
// and the directory.
func (e *env) close() {
	e.mu.Lock()
	pids := append([]int(nil), e.pids...)
	e.mu.Unlock()
	for i := len(pids) - 1; i >= 0; i-- {
		killWait(pids[i])
	}
	if e.dirty {
		for _, ns := range []string{e.chNS, e.peerNS, e.sbNS} {
			_, _ = run("ip", "netns", "del", ns)
		}
	}
	if os.Getenv("BENCH_KEEP") == "" {
		_ = os.RemoveAll(e.dir)
	}
}

// ovsdbServer is one standalone ovsdb-server.
type ovsdbServer struct {
	dir  string
	sock string
	pid  int
}

// startOVSDB starts an ovsdb-server on a unix socket in dir, in network
// namespace ns ("": the bench's own), with the extra remotes given.
func startOVSDB(e *env, ns, dir, schema string, remotes ...string) (*ovsdbServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := run("ovsdb-tool", "create", filepath.Join(dir, "db.db"), schema); err != nil {
		return nil, err
	}
	return launchOVSDB(e, ns, dir, filepath.Join(dir, "db.db"), remotes...)
}

// launchOVSDB starts an ovsdb-server with its files in dir serving db: a
// database file (dir/db.db made by startOVSDB: launched again, it restarts
// that server with its data) or a relay (relay:DB:REMOTES).
func launchOVSDB(e *env, ns, dir, db string, remotes ...string) (*ovsdbServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &ovsdbServer{dir: dir, sock: filepath.Join(dir, "db.sock")}
	args := append([]string{db, "--detach", "--no-chdir", "--pidfile=" + filepath.Join(dir, "db.pid"),
		"--log-file=" + filepath.Join(dir, "db.log"), "--unixctl=" + filepath.Join(dir, "db.ctl"),
		"--remote=punix:" + s.sock}, remotes...)
	prog := "ovsdb-server"
	if ns != "" {
		args = append([]string{"netns", "exec", ns, prog}, args...)
		prog = "ip"
	}
	if _, err := run(prog, args...); err != nil {
		return nil, err
	}
	pid, err := ovsdbserver.ReadPid(filepath.Join(dir, "db.pid"), 10*time.Second)
	if err != nil {
		return nil, err
	}
	s.pid = pid
	e.addPid(pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", s.sock)
		if err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("ovsdb-server %s: %v", s.sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killWait sends SIGTERM, then SIGKILL, and waits until the process is gone
// (a zombie counts as gone).
func killWait(pid int) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(10 * time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sbBytes is what the agent has received from the southbound: the kernel's
// bytes_received of the chassis' open TCP connections to it (ss -ti), TCP
// payload, so exactly the OVSDB messages. Short connections the agent
// closed (its schema probe and chassis lookup at start) are not counted.
func (e *env) sbBytes() int64 {
	out, err := run("ip", "netns", "exec", e.chNS, "ss", "-tinH", "state", "established", "dst", sbAddr+":6642")
	if err != nil {
		return 0
	}
	return sumCounter(out, bytesReceived)
}

// sumCounter adds up the counter re captures in every line of ss -ti output.
func sumCounter(out string, re *regexp.Regexp) int64 {
	var n int64
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}

var bytesReceived = regexp.MustCompile(`bytes_received:(\d+)`)

// nsHTTP is an HTTP client whose connections are opened inside a network
// namespace (the agent's metrics endpoint listens on 127.0.0.1 there).
func nsHTTP(ns string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: nsDialer(ns), DisableKeepAlives: true}}
}

// nsDialer dials from inside the network namespace ns.
func nsDialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			return nil, err
		}
		defer orig.Close()
		h, err := netns.GetFromName(ns)
		if err != nil {
			return nil, err
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			return nil, err
		}
		defer func() { _ = netns.Set(orig) }()
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// procStats reads VmRSS, VmHWM (bytes) and utime+stime (seconds) of pid.
func procStats(pid int) (rss, hwm int64, cpu float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v * 1024
		case "VmHWM:":
			hwm = v * 1024
		}
	}
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	str := string(s)
	i := strings.LastIndexByte(str, ')')
	f := strings.Fields(str[i+2:])
	// fields after ")": state(0) ... utime(11) stime(12)
	if len(f) > 12 {
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		cpu = (u + st) / 100 // USER_HZ
	}
	return rss, hwm, cpu, nil
}

// machineTimes are CPU seconds of the whole machine, all CPUs added up,
// from the first line of /proc/stat: busy is user, nice, system, irq and
// softirq (guest time is inside user), steal the time the hypervisor gave
// this machine's CPUs to something else while they had work.
type machineTimes struct{ busy, steal float64 }

// machineCPU returns the machine's CPU times since boot (zero when
// /proc/stat cannot be read: the report then shows n/a).
func machineCPU() machineTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}
	}
	t, err := parseProcStat(string(b))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	}
	return t
}

// parseProcStat reads the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal ..., in USER_HZ (100) ticks.
func parseProcStat(s string) (machineTimes, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineTimes{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var v [8]float64
	for i := range v {
		x, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return machineTimes{}, fmt.Errorf("/proc/stat: field %d of %q: %w", i+1, line, err)
		}
		v[i] = float64(x) / 100
	}
	return machineTimes{busy: v[0] + v[1] + v[2] + v[5] + v[6], steal: v[7]}, nil
}

// cpuByProcess returns the CPU seconds (user + system) each process of the
// run has used so far, and the bench's own, keyed by a label: the command
// name, with the database's directory for an ovsdb-server (sb, nb, ovs).
// Processes that have exited are left out.
func (e *env) cpuByProcess() map[string]float64 {
	e.mu.Lock()
	pids := append([]int{os.Getpid()}, e.pids...)
	e.mu.Unlock()
	out := map[string]float64{}
	for _, pid := range pids {
		_, _, cpu, err := procStats(pid)
		if err != nil {
			continue
		}
		out[procLabel(pid)] += cpu
	}
	return out
}

// procLabel names a process for the CPU table.
func procLabel(pid int) string {
	if pid == os.Getpid() {
		return "bench"
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	name := strings.TrimSpace(string(comm))
	if name == "ovsdb-server" {
		// The first argument is the database file, in its own directory.
		if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			if args := strings.Split(string(cl), "\x00"); len(args) > 1 {
				name += " (" + filepath.Base(filepath.Dir(args[1])) + ")"
			}
		}
	}
	return name
}
