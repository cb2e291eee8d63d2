package lab

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NeutronServer is a real neutron-server (Debian's package, ML2 with the
// ovn mechanism driver, the ovn-router and port_forwarding service plugins,
// auth_strategy = noauth) with its own MariaDB in a private directory,
// pointed at the NB and SB of a Central, its API on 127.0.0.1.
//
// It is started once per test package (SharedNeutron) because the database
// migration and the server's start take tens of seconds: tests share its
// Central (one test at a time, as go test runs a package's tests) and
// remove what they created through the API (NeutronAPI's cleanup).
type NeutronServer struct {
	Central *Central
	URL     string // http://127.0.0.1:<port>/
	Dir     string
	Conf    string        // neutron.conf
	Version string        // dpkg version of neutron-server
	Startup time.Duration // MariaDB, migration and server start, measured
	lab     *Lab
}

// neutronPackages are the Debian packages the Neutron lab needs
// (scripts/install-deps.sh installs them).
var neutronPackages = []string{"neutron-server", "python3-neutron", "mariadb-server", "python3-pymysql"}

var shared struct {
	sync.Mutex
	srv *NeutronServer
	err error
	lab *Lab
	dvr bool // enable_distributed_floating_ip of the running server
}

// SharedNeutron returns the package's neutron-server, starting it (and the
// Central it writes into) on the first call. A start that failed fails
// every test asking for it with the same reason; nothing skips. The package
// must stop it with NeutronMain (TestMain).
func SharedNeutron(t testing.TB) *NeutronServer {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = startNeutron(t)
	}
	if shared.err != nil {
		t.Fatalf("lab: neutron-server: %v", shared.err)
	}
	return shared.srv.For(t)
}

// NeutronMain runs the package's tests and then stops the shared
// neutron-server, its database and its Central: call it from TestMain.
func NeutronMain(m *testing.M) {
	code := m.Run()
	shared.Lock()
	if shared.lab != nil && !shared.lab.kept {
		destroy(shared.lab.Prefix, shared.lab.Dir)
	}
	shared.Unlock()
	os.Exit(code)
}

// For returns the server with its Central's helpers reporting to t.
func (s *NeutronServer) For(t testing.TB) *NeutronServer {
	l := *s.lab
	l.T = t
	c := *s.Central
	c.lab = &l
	s2 := *s
	s2.lab, s2.Central = &l, &c
	return &s2
}

// Keep makes the server, its database and its Central outlive the test
// process (make demo): NeutronMain leaves them, DestroyKept removes them
// with the tag.
func (s *NeutronServer) Keep(tag string) {
	shared.Lock()
	defer shared.Unlock()
	s.lab.Keep(tag)
	shared.lab.kept = true
}

// Lab is the shared lab the server and its Central live in, reporting to
// the test of For; chassis, VMs and peers of a test belong in that test's
// own lab (New), with the shared Central.
func (s *NeutronServer) Lab() *Lab { return s.lab }

// fatalTB turns the helpers' Fatalf during the start into an error.
type fatalTB struct {
	testing.TB
	err error
}

type startAbort struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.err = fmt.Errorf(format, args...)
	panic(startAbort{})
}
func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fatalTB) Helper()           {}

func startNeutron(t testing.TB) (srv *NeutronServer, err error) {
	for _, p := range neutronPackages {
		if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p).Output(); err != nil || !strings.Contains(string(out), "install ok installed") {
			return nil, fmt.Errorf("the Debian package %s is not installed (scripts/install-deps.sh installs it)", p)
		}
	}
	start := time.Now()
	ftb := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(startAbort); !ok {
				panic(r)
			}
			err = ftb.err
		}
		if err != nil && shared.lab != nil {
			destroy(shared.lab.Prefix, shared.lab.Dir)
			shared.lab = nil
		}
	}()
	l := newLab(ftb)
	shared.lab = l
	c := l.StartCentral()
	s := &NeutronServer{Central: c, Dir: l.Subdir("neutron"), lab: l}
	s.Version, _ = tryRun("dpkg-query", "-W", "-f=${Version}", "neutron-server")
	sock := filepath.Join(s.Dir, "mysql.sock")
	if err := s.startMariaDB(sock); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", port)
	s.Conf = filepath.Join(s.Dir, "neutron.conf")
	if err := os.WriteFile(s.Conf, []byte(neutronConf(s.Dir, sock, port, c, false)), 0o644); err != nil {
		return nil, err
	}
	if out, err := s.command("neutron-db-manage", "--config-file", s.Conf, "upgrade", "heads").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("neutron-db-manage upgrade heads: %v: %s", err, tail(out))
	}
	if err := s.startServer(); err != nil {
		return nil, err
	}
	s.Startup = time.Since(start)
	t.Logf("lab: neutron-server %s up at %s in %s (MariaDB, migration and start)", s.Version, s.URL, s.Startup.Round(100*time.Millisecond))
	return s, nil
}

func (s *NeutronServer) command(prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(prog, args...)
	cmd.Dir = s.Dir
	return cmd
}

// startMariaDB initialises a private data directory and runs mariadbd on
// a unix socket only, tuned for a throw-away database.
func (s *NeutronServer) startMariaDB(sock string) error {
	data := filepath.Join(s.Dir, "mysql")
	if out, err := s.command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve").CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %v: %s", err, tail(out))
	}
	cmd := s.command("mariadbd", "--no-defaults", "--datadir="+data, "--socket="+sock, "--skip-networking",
		"--pid-file="+filepath.Join(s.Dir, "mariadbd.pid"), "--user=root", "--log-error="+filepath.Join(s.Dir, "mariadb.err"),
		"--innodb-buffer-pool-size=64M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
		"--max-connections=500")
	if err := s.spawn(cmd, "mariadb"); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := s.command("mariadb", "--no-defaults", "-S", sock, "-uroot", "-e", "CREATE DATABASE IF NOT EXISTS neutron").CombinedOutput()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || !Alive(cmd.Process.Pid) {
			b, _ := os.ReadFile(filepath.Join(s.Dir, "mariadb.err"))
			return fmt.Errorf("mariadbd did not start: %s; %s", tail(out), tail(b))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// spawn starts a daemon in its own process group, recorded in
// <name>.pgid so that the lab's teardown (and a later Sweep, when this
// process died) kills it with its workers.
func (s *NeutronServer) spawn(cmd *exec.Cmd, name string) error {
	log, err := os.Create(filepath.Join(s.Dir, name+".out"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	go func() { _ = cmd.Wait() }()
	// <name>.pid too: the Sweep of an older checkout knows only .pid files;
	// killing neutron-server's main process ends its workers (oslo.service
	// workers exit when their parent does).
	pid := []byte(strconv.Itoa(cmd.Process.Pid))
	if err := os.WriteFile(filepath.Join(s.Dir, name+".pid"), pid, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Dir, name+".pgid"), pid, 0o644)
}

// DistributedFIP reports the running server's enable_distributed_floating_ip.
func (s *NeutronServer) DistributedFIP() bool {
	shared.Lock()
	defer shared.Unlock()
	return shared.dvr
}

// SetDistributedFIP restarts neutron-server with
// enable_distributed_floating_ip = on, unless it already runs so. Existing
// floating IPs keep their NAT rows until they are updated (as in a real
// deployment).
func (s *NeutronServer) SetDistributedFIP(t testing.TB, on bool) {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.dvr == on {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, "neutron-server.pgid"))
	if err != nil {
		t.Fatalf("lab: neutron-server: %v", err)
	}
	pgid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	for i := 0; groupAlive(pgid) && i < 200; i++ {
		if i == 100 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, port, _ := strings.Cut(strings.TrimSuffix(s.URL, "/"), "127.0.0.1:")
	p, _ := strconv.Atoi(port)
	if err := os.WriteFile(s.Conf, []byte(neutronConf(s.Dir, filepath.Join(s.Dir, "mysql.sock"), p, s.Central, on)), 0o644); err != nil {
		t.Fatalf("lab: neutron-server: %v", err)
	}
	start := time.Now()
	if err := s.startServer(); err != nil {
		t.Fatalf("lab: neutron-server restart: %v", err)
	}
	shared.dvr = on
	t.Logf("lab: neutron-server restarted with enable_distributed_floating_ip = %t in %s", on, time.Since(start).Round(100*time.Millisecond))
}

func (s *NeutronServer) startServer() error {
	cmd := s.command("neutron-server", "--config-file", s.Conf)
	if err := s.spawn(cmd, "neutron-server"); err != nil {
		return err
	}
	deadline := time.Now().Add(180 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.URL + "v2.0/networks")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || !Alive(cmd.Process.Pid) {
			b, _ := os.ReadFile(filepath.Join(s.Dir, "neutron-server.log"))
			return fmt.Errorf("neutron-server did not answer on %s (last: %v); its log ends: %s", s.URL, err, tail(b))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// neutronConf renders neutron.conf. api_workers must be at least 1: the
// ML2/OVN hash ring has no node without an API worker, and every write
// then waits forever.
func neutronConf(dir, sock string, port int, c *Central, dvr bool) string {
	return fmt.Sprintf(`[DEFAULT]
core_plugin = ml2
service_plugins = ovn-router,port_forwarding
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = %d
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
state_path = %[2]s/state
log_file = %[2]s/neutron-server.log
transport_url = fake:/
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = mysql+pymysql://root@localhost/neutron?unix_socket=%[3]s
[oslo_concurrency]
lock_path = %[2]s/lock
[ml2]
mechanism_drivers = ovn
type_drivers = local,flat,vlan,geneve
tenant_network_types = geneve
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:1:4094,physnet2:1:4094
[ml2_type_geneve]
vni_ranges = 1:65536
max_header_size = 38
[ovn]
ovn_nb_connection = %[4]s
ovn_sb_connection = %[5]s
ovn_l3_scheduler = leastloaded
enable_distributed_floating_ip = %[6]t
ovn_metadata_enabled = false
`, port, dir, sock, c.NBRemote(), c.SBRemote(), dvr)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// groupAlive reports whether a process of the group runs (zombies, which
// PID 1 reaps late here, do not count).
func groupAlive(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && Alive(pid) {
			return true
		}
	}
	return false
}
