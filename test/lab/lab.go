// Package lab builds test labs from the real programs operators run: OVN
// central (NB and SB ovsdb-server, ovn-northd), chassis in network namespaces
// (their own ovsdb-server, ovs-vswitchd with the userspace datapath,
// ovn-controller), VMs bound to logical ports, and plain routers and hosts
// around them. It follows ../shared/docs/lab-host-recipe.md.
//
// Every lab has a short unique prefix: its namespaces are "<prefix>-<name>"
// and its files live in /tmp/ovnbgp-lab/<prefix>, with the owning process id
// in owner.pid. Teardown (t.Cleanup) kills every daemon of the lab and
// deletes its namespaces (a kept lab, Keep, keeps them: its daemons are
// detached from the test process and nothing registered by t.Cleanup kills
// them); New also sweeps the leftovers of labs whose owner
// died (a killed earlier run) and never touches a lab whose owner is alive,
// so test packages can run in parallel.
//
// When a program cannot start the test fails with the reason; nothing skips.
package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// Base is the directory holding every lab's files.
const Base = "/tmp/ovnbgp-lab"

// Lab is one test's set of namespaces and daemons.
type Lab struct {
	T      testing.TB
	Prefix string
	Dir    string
	kept   bool
}

// keepMark in owner.pid marks a lab that outlives its test; keepTagFile
// beside it says who kept it (Keep's tag; none is InspectTag). owner.pid
// holds "keep" alone, so that the Sweep of an older checkout running at the
// same time leaves a tagged lab alone too.
const (
	keepMark    = "keep"
	keepTagFile = "keep.tag"
)

// InspectTag is the tag of a lab kept by OVNBGP_LAB_KEEP after a failure.
const InspectTag = "inspect"

// NeedRoot stops a test that needs root (network namespaces, daemons) when
// it runs without: a skip that says why, or a failure when CI is set (CI
// must not pass by skipping its labs).
func NeedRoot(tb testing.TB, what string) {
	tb.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s needs root, and CI is set: not skipping", what)
	}
	tb.Skipf("%s needs root", what)
}

// New creates an empty lab and registers its teardown.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("lab: needs root (network namespaces, OVS, FRR)")
	}
	l := newLab(t)
	t.Cleanup(l.teardown)
	return l
}

// newLab is New without the teardown registered on the test (the lab of
// SharedNeutron outlives the first test that asks for it).
func newLab(t testing.TB) *Lab {
	Sweep()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l := &Lab{T: t, Prefix: "ob" + hex.EncodeToString(b)}
	l.Dir = filepath.Join(Base, l.Prefix)
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		t.Fatalf("lab: %v", err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return l
}

// Sweep removes labs whose owning process is gone.
func Sweep() {
	entries, _ := os.ReadDir(Base)
	for _, e := range entries {
		dir := filepath.Join(Base, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err == nil {
			if _, kept := keptTag(dir, b); kept {
				continue
			}
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && Alive(pid) {
				continue
			}
		}
		destroy(e.Name(), dir)
	}
}

// keptTag reads the tag of a kept lab from its directory; ok is false when
// owner.pid does not mark the lab kept.
func keptTag(dir string, ownerPid []byte) (tag string, ok bool) {
	if strings.TrimSpace(string(ownerPid)) != keepMark {
		return "", false
	}
	b, _ := os.ReadFile(filepath.Join(dir, keepTagFile))
	if tag = strings.TrimSpace(string(b)); tag == "" {
		tag = InspectTag
	}
	return tag, true
}

// Keep makes the lab outlive its test (`make demo`, tag "demo"): the
// teardown leaves it and its daemons running, Sweep ignores it, and
// DestroyKept removes it.
func (l *Lab) Keep(tag string) {
	l.T.Helper()
	if tag == "" || strings.ContainsAny(tag, " \n/") {
		l.T.Fatalf("lab: bad keep tag %q", tag)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, keepTagFile), []byte(tag), 0o644); err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "owner.pid"), []byte(keepMark), 0o644); err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	l.kept = true
}

// Kept reports whether Keep was called.
func (l *Lab) Kept() bool { return l.kept }

// KeptLab is a lab that outlives its test.
type KeptLab struct {
	Prefix string
	Tag    string
	Dir    string
}

// ListKept returns the kept labs, by prefix.
func ListKept() []KeptLab { return listKept(Base) }

func listKept(base string) []KeptLab {
	var out []KeptLab
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		dir := filepath.Join(base, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		if tag, ok := keptTag(dir, b); ok {
			out = append(out, KeptLab{Prefix: e.Name(), Tag: tag, Dir: dir})
		}
	}
	return out
}

// DestroyKept removes the kept labs that match (a tag, a prefix, or "all")
// with their daemons and namespaces, and returns them.
func DestroyKept(match string) []KeptLab { return destroyKept(Base, match) }

func destroyKept(base, match string) []KeptLab {
	var out []KeptLab
	for _, k := range listKept(base) {
		if match == "all" || k.Tag == match || k.Prefix == match {
			destroy(k.Prefix, k.Dir)
			out = append(out, k)
		}
	}
	return out
}

func (l *Lab) teardown() {
	if l.kept {
		return
	}
	if os.Getenv("OVNBGP_LAB_KEEP") != "" && l.T.Failed() {
		_ = os.WriteFile(filepath.Join(l.Dir, "owner.pid"), []byte(keepMark), 0o644)
		l.T.Logf("lab %s kept for inspection (OVNBGP_LAB_KEEP; remove it with `go run ./test/labctl down %s`): %s", l.Prefix, l.Prefix, l.Dir)
		return
	}
	destroy(l.Prefix, l.Dir)
}

// destroy kills the daemons of a lab (pid files under dir, then whatever
// still runs in its namespaces), deletes its namespaces and its directory.
func destroy(prefix, dir string) {
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		// <name>.pgid: a daemon started in its own process group, with its
		// workers (neutron-server, mariadbd).
		group := strings.HasSuffix(p, ".pgid")
		if err == nil && !info.IsDir() && (group || strings.HasSuffix(p, ".pid")) && filepath.Base(p) != "owner.pid" {
			if b, err := os.ReadFile(p); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
					if group {
						pid = -pid
					}
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		return nil
	})
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix+"-") {
			continue
		}
		pids, _ := exec.Command("ip", "netns", "pids", f[0]).Output()
		for _, p := range strings.Fields(string(pids)) {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = exec.Command("ip", "netns", "del", f[0]).Run()
	}
	removeFRRPathspaces(dir)
	_ = os.RemoveAll(dir)
}

// Alive reports whether pid runs and is not a zombie (an orphan's zombie
// waits for PID 1, which reaps late on this machine).
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// Subdir creates and returns a directory inside the lab directory.
func (l *Lab) Subdir(elem ...string) string {
	d := filepath.Join(append([]string{l.Dir}, elem...)...)
	if err := os.MkdirAll(d, 0o755); err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	return d
}

// Run runs a program and fails the test if it fails; it returns the
// trimmed combined output.
func (l *Lab) Run(prog string, args ...string) string {
	l.T.Helper()
	return ovsdbserver.Run(l.T, prog, args...)
}

// RunEnv is Run with extra environment variables.
func (l *Lab) RunEnv(env []string, prog string, args ...string) string {
	l.T.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		l.T.Fatalf("lab: %s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Eventually polls fn every 20 ms until it returns true, and fails the test
// after timeout. It returns how long it took.
func (l *Lab) Eventually(timeout time.Duration, what string, fn func() bool) time.Duration {
	l.T.Helper()
	return Eventually(l.T, timeout, what, fn)
}

// Eventually polls fn every 20 ms until it returns true, and fails t after
// timeout. It returns how long it took.
func Eventually(t testing.TB, timeout time.Duration, what string, fn func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !fn() {
		if time.Since(start) > timeout {
			t.Fatalf("lab: timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// NetNS is a network namespace of the lab.
type NetNS struct {
	lab  *Lab
	Name string // full namespace name, "<prefix>-<short>"
}

// NetNS creates a namespace named "<prefix>-<short>" with lo up and IPv4 and
// IPv6 forwarding as given.
func (l *Lab) NetNS(short string, forwarding bool) *NetNS {
	l.T.Helper()
	ns := &NetNS{lab: l, Name: l.Prefix + "-" + short}
	l.Run("ip", "netns", "add", ns.Name)
	ns.IP("link", "set", "lo", "up")
	v := "0"
	if forwarding {
		v = "1"
	}
	ns.Sysctl("net.ipv4.ip_forward", v)
	ns.Sysctl("net.ipv6.conf.all.forwarding", v)
	return ns
}

// IP runs `ip -n NS args...`.
func (n *NetNS) IP(args ...string) string {
	n.lab.T.Helper()
	return n.lab.Run("ip", append([]string{"-n", n.Name}, args...)...)
}

// Exec runs a program inside the namespace and fails the test if it fails.
func (n *NetNS) Exec(prog string, args ...string) string {
	n.lab.T.Helper()
	return n.lab.Run("ip", append([]string{"netns", "exec", n.Name, prog}, args...)...)
}

// Try runs a program inside the namespace and returns its output and error.
func (n *NetNS) Try(prog string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name, prog}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Sysctl writes a sysctl inside the namespace.
func (n *NetNS) Sysctl(key, value string) {
	n.lab.T.Helper()
	n.Exec("sysctl", "-qw", key+"="+value)
}

// Veth connects two namespaces with a veth pair and gives each end its
// addresses (IPv6 addresses without DAD).
func (l *Lab) Veth(a *NetNS, aIf string, aAddrs []string, b *NetNS, bIf string, bAddrs []string) {
	l.T.Helper()
	a.IP("link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	for _, side := range []struct {
		ns    *NetNS
		dev   string
		addrs []string
	}{{a, aIf, aAddrs}, {b, bIf, bAddrs}} {
		for _, addr := range side.addrs {
			args := []string{"addr", "add", addr, "dev", side.dev}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			side.ns.IP(args...)
		}
		side.ns.IP("link", "set", side.dev, "up")
	}
}

// Ping sends one echo request from ns to dst and returns the TTL (hop limit)
// of the reply. The TTL proves who answered: a VM two routers away answers
// with 62, a chassis kernel impersonating it with 63.
func (n *NetNS) Ping(dst string) (ttl int, err error) {
	out, err := n.Try("ping", "-c1", "-W1", "-n", dst)
	if err != nil {
		return 0, fmt.Errorf("ping %s from %s: %v: %s", dst, n.Name, err, out)
	}
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "ttl="); ok {
			return strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(f, "hlim="); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("ping %s: no ttl in %q", dst, out)
}

func tryRun(prog string, args ...string) (string, error) {
	out, err := exec.Command(prog, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
