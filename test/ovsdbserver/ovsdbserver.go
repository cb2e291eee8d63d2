// Package ovsdbserver starts real ovsdb-server processes for tests: a
// standalone server for any schema, optionally on TCP and SSL, or a RAFT
// cluster of several members. Every server lives in its own t.TempDir() and
// is killed by t.Cleanup (unless Options.LeftToCaller); nothing is written
// outside that directory.
package ovsdbserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Schemas installed by Debian 12's packages (OVN 23.03, OVS 3.1).
const (
	SBSchema      = "/usr/share/ovn/ovn-sb.ovsschema"
	NBSchema      = "/usr/share/ovn/ovn-nb.ovsschema"
	VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"
)

// Options configures a standalone server.
type Options struct {
	Schema string // schema file (required)
	TCP    bool   // also listen on ptcp:<free port>:127.0.0.1
	PKI    *PKI   // also listen on pssl:<free port>:127.0.0.1 with these certificates
	Dir    string // directory to use; default t.TempDir()
	// LeftToCaller: no t.Cleanup kills the server; the caller does (a lab
	// kills its daemons by their pid files in its teardown, and a kept lab,
	// `make demo`, must keep its databases after the test process exits).
	LeftToCaller bool
}

// Server is one ovsdb-server process.
type Server struct {
	t       testing.TB
	opts    Options
	Dir     string
	DBFile  string
	Sock    string // unix socket path
	TCPPort int
	SSLPort int
	args    []string
	pid     int
}

// Start creates the database file and starts the server; it fails the test
// with the reason when the server cannot start.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Schema == "" {
		t.Fatal("ovsdbserver: no schema")
	}
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	s := &Server{t: t, opts: o, Dir: dir, DBFile: filepath.Join(dir, "db.db"), Sock: filepath.Join(dir, "db.sock")}
	if out, err := exec.Command("ovsdb-tool", "create", s.DBFile, o.Schema).CombinedOutput(); err != nil {
		t.Fatalf("ovsdbserver: ovsdb-tool create %s: %v: %s", o.Schema, err, out)
	}
	if o.TCP {
		s.TCPPort = FreePort(t)
	}
	if o.PKI != nil {
		s.SSLPort = FreePort(t)
	}
	s.args = s.serverArgs(s.DBFile)
	s.start()
	if !o.LeftToCaller {
		t.Cleanup(s.Kill)
	}
	return s
}

func (s *Server) serverArgs(dbFile string) []string {
	args := []string{dbFile, "--detach", "--no-chdir",
		"--pidfile=" + filepath.Join(s.Dir, "db.pid"),
		"--log-file=" + filepath.Join(s.Dir, "db.log"),
		"--unixctl=" + filepath.Join(s.Dir, "db.ctl"),
		"--remote=punix:" + s.Sock}
	if s.TCPPort != 0 {
		args = append(args, fmt.Sprintf("--remote=ptcp:%d:127.0.0.1", s.TCPPort))
	}
	if p := s.opts.PKI; p != nil {
		args = append(args, fmt.Sprintf("--remote=pssl:%d:127.0.0.1", s.SSLPort),
			"--private-key="+p.ServerKey, "--certificate="+p.ServerCert, "--ca-cert="+p.CACert)
	}
	return args
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command("ovsdb-server", s.args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "db.log"))
		s.t.Fatalf("ovsdbserver: ovsdb-server %s: %v: %s\n%s", strings.Join(s.args, " "), err, out, log)
	}
	pid, err := ReadPid(filepath.Join(s.Dir, "db.pid"), 5*time.Second)
	if err != nil {
		s.t.Fatalf("ovsdbserver: %v", err)
	}
	s.pid = pid
	waitFor(s.t, s.Sock)
}

// Remote is the unix: remote of the server.
func (s *Server) Remote() string { return "unix:" + s.Sock }

// TCPRemote is the tcp: remote (Options.TCP must be set).
func (s *Server) TCPRemote() string { return fmt.Sprintf("tcp:127.0.0.1:%d", s.TCPPort) }

// SSLRemote is the ssl: remote (Options.PKI must be set).
func (s *Server) SSLRemote() string { return fmt.Sprintf("ssl:127.0.0.1:%d", s.SSLPort) }

// Pid is the server's process id (0 when stopped).
func (s *Server) Pid() int { return s.pid }

// Kill stops the server with SIGKILL and waits until it is gone. Safe to call twice.
func (s *Server) Kill() {
	if s.pid == 0 {
		return
	}
	killWait(s.pid)
	s.pid = 0
	_ = os.Remove(s.Sock)
}

// Restart starts the server again on the same database file, socket and ports.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Client runs ovsdb-client against the server and returns its output.
func (s *Server) Client(args ...string) string {
	s.t.Helper()
	return Run(s.t, "ovsdb-client", insertRemote(args, s.Remote())...)
}

// Transact runs one ovsdb-client transact with the given JSON array.
func (s *Server) Transact(txn string) string {
	s.t.Helper()
	return Run(s.t, "ovsdb-client", "transact", s.Remote(), txn)
}

// Ctl runs an ovs-style ctl program (ovn-sbctl, ovn-nbctl, ovs-vsctl) against the server.
func (s *Server) Ctl(prog string, args ...string) string {
	s.t.Helper()
	return Run(s.t, prog, append([]string{"--db=" + s.Remote()}, args...)...)
}

// insertRemote puts the remote after the ovsdb-client command word.
func insertRemote(args []string, remote string) []string {
	if len(args) == 0 {
		return []string{remote}
	}
	return append([]string{args[0], remote}, args[1:]...)
}

// Run runs a program and fails the test if it fails.
func Run(t testing.TB, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ReadPid waits up to timeout for a daemon's pid file and returns the pid.
func ReadPid(path string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFor(t testing.TB, sock string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ovsdbserver: %s not accepting connections: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killWait sends SIGKILL and waits until the process is gone. A zombie
// counts as gone: this machine's PID 1 reaps orphans late.
func killWait(pid int) {
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
