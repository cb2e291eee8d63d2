package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FRR is an FRR instance (zebra, bgpd, bfdd) running in one namespace under
// its own pathspace, so that `vtysh -N <pathspace>` and
// `frr-reload.py -N <pathspace>` reach it: configuration in
// /etc/frr/<pathspace>/, sockets and pid files in /var/run/frr/<pathspace>/.
// The pathspace is the namespace's name.
type FRR struct {
	lab       *Lab
	NS        *NetNS
	Pathspace string
	ConfDir   string
	RunDir    string
}

// FRRDaemons are the daemons the lab starts, in order.
var FRRDaemons = []string{"zebra", "bgpd", "bfdd"}

// StartFRR writes the configuration (plain FRR syntax, as in frr.conf) and
// starts zebra, bgpd and bfdd in ns with it. The configuration is read at
// daemon start: configuring BGP through vtysh afterwards holds new peers
// for ~3 s (lab-host-recipe.md, failure 6). The `bfd` block goes to bfdd,
// everything else to bgpd and zebra (an integrated file read by every daemon
// confuses bgpd after the bfd block).
func (l *Lab) StartFRR(ns *NetNS, config string) *FRR {
	l.T.Helper()
	f := &FRR{lab: l, NS: ns, Pathspace: ns.Name,
		ConfDir: filepath.Join("/etc/frr", ns.Name), RunDir: filepath.Join("/var/run/frr", ns.Name)}
	for _, d := range []string{f.ConfDir, f.RunDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			l.T.Fatalf("lab: %v", err)
		}
	}
	// The lab's teardown removes these (see destroy).
	_ = os.WriteFile(filepath.Join(l.Dir, "frr-"+ns.Name+".pathspace"), []byte(ns.Name), 0o644)
	bgp, bfd := splitBFD(config)
	files := map[string]string{
		// zebra takes the whole file too: it needs `ip import-table`,
		// route-maps and prefix-lists, and skips the commands it lacks.
		"zebra.conf": bgp,
		"bgpd.conf":  bgp,
		"bfdd.conf":  bfd,
		// frr-reload.py and vtysh expect these.
		"vtysh.conf": "service integrated-vtysh-config\n",
		"frr.conf":   config,
		"daemons":    "zebra=yes\nbgpd=yes\nbfdd=yes\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(f.ConfDir, name), []byte(content), 0o640); err != nil {
			l.T.Fatalf("lab: %v", err)
		}
	}
	if frrHasMgmtd() {
		l.startFRR10(f)
		return f
	}
	l.Run("chown", "-R", "frr:frr", f.ConfDir, f.RunDir)
	for _, d := range FRRDaemons {
		args := []string{"netns", "exec", ns.Name, "/usr/lib/frr/" + d, "-d", "-N", f.Pathspace, "-F", "datacenter",
			"-f", filepath.Join(f.ConfDir, d+".conf"), "-i", filepath.Join(f.RunDir, d+".pid"),
			"--log", "file:" + filepath.Join(f.RunDir, d+".log")}
		l.Run("ip", args...)
		_ = os.Symlink(filepath.Join(f.RunDir, d+".pid"), filepath.Join(l.Dir, "frr-"+ns.Name+"-"+d+".pid"))
		if d == "zebra" {
			l.Eventually(10*time.Second, "zebra of "+ns.Name+" listening", func() bool {
				_, err := os.Stat(filepath.Join(f.RunDir, "zserv.api"))
				return err == nil
			})
		}
	}
	l.Eventually(10*time.Second, "bgpd of "+ns.Name+" answering vtysh", func() bool {
		_, err := f.TryVtysh("show bgp summary json")
		return err == nil
	})
	return f
}

// frrHasMgmtd: FRR 9 and later (Debian 13's 10.3) run mgmtd, and their
// daemons take no -f: they start empty and `vtysh -b` loads frr.conf.
func frrHasMgmtd() bool {
	_, err := os.Stat("/usr/lib/frr/mgmtd")
	return err == nil
}

// startFRR10 starts mgmtd, zebra, bgpd and bfdd of FRR 9+ and loads
// frr.conf with `vtysh -b`, as frrinit.sh does. A daemonized FRR 10 keeps
// its stdio open, so its output goes to a file, not to Run's pipe.
func (l *Lab) startFRR10(f *FRR) {
	l.T.Helper()
	_ = os.WriteFile(filepath.Join(f.ConfDir, "mgmtd.conf"), nil, 0o640)
	_ = os.WriteFile(filepath.Join(f.ConfDir, "daemons"), []byte("mgmtd=yes\nzebra=yes\nbgpd=yes\nbfdd=yes\n"), 0o640)
	l.Run("chown", "-R", "frr:frr", f.ConfDir, f.RunDir)
	for _, d := range append([]string{"mgmtd"}, FRRDaemons...) {
		out := filepath.Join(f.RunDir, d+".out")
		lf, err := os.Create(out)
		if err != nil {
			l.T.Fatalf("lab: %v", err)
		}
		cmd := exec.Command("ip", "netns", "exec", f.NS.Name, "/usr/lib/frr/"+d, "-d", "-N", f.Pathspace, "-F", "datacenter",
			"-i", filepath.Join(f.RunDir, d+".pid"), "--log", "file:"+filepath.Join(f.RunDir, d+".log"))
		cmd.Stdout, cmd.Stderr = lf, lf
		err = cmd.Run()
		lf.Close()
		if err != nil {
			b, _ := os.ReadFile(out)
			l.T.Fatalf("lab: start %s of %s: %v: %s", d, f.Pathspace, err, b)
		}
		_ = os.Symlink(filepath.Join(f.RunDir, d+".pid"), filepath.Join(l.Dir, "frr-"+f.NS.Name+"-"+d+".pid"))
		l.Eventually(30*time.Second, d+" of "+f.Pathspace+" running", func() bool {
			return f.Pid(d) > 1 && Alive(f.Pid(d))
		})
	}
	l.Eventually(60*time.Second, "FRR 10 of "+f.Pathspace+" answering vtysh", func() bool {
		_, err := f.TryVtysh("show daemons")
		return err == nil
	})
	if out, err := exec.Command("vtysh", "-N", f.Pathspace, "-b").CombinedOutput(); err != nil {
		l.T.Logf("lab: vtysh -b of %s: %v: %s", f.Pathspace, err, out)
	}
	l.Eventually(60*time.Second, "bgpd of "+f.Pathspace+" answering vtysh", func() bool {
		_, err := f.TryVtysh("show bgp summary json")
		return err == nil
	})
}

// splitBFD separates the top-level `bfd` block from the rest.
func splitBFD(config string) (rest, bfd string) {
	var r, b strings.Builder
	in := false
	for _, line := range strings.Split(config, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "bfd" && !strings.HasPrefix(line, " "):
			in = true
			b.WriteString(line + "\n")
		case in:
			b.WriteString(line + "\n")
			if strings.TrimSpace(line) == "exit" && !strings.HasPrefix(line, " ") {
				in = false
			} else if line != "" && !strings.HasPrefix(line, " ") && strings.TrimSpace(line) != "bfd" {
				// a new top-level statement ends the block
				in = false
			}
		default:
			r.WriteString(line + "\n")
		}
	}
	return r.String(), b.String()
}

// TryVtysh runs vtysh commands against this instance.
func (f *FRR) TryVtysh(cmds ...string) (string, error) {
	args := []string{"-N", f.Pathspace, "-H", "/dev/null"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.Command("vtysh", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Vtysh runs vtysh commands and fails the test on error.
func (f *FRR) Vtysh(cmds ...string) string {
	f.lab.T.Helper()
	out, err := f.TryVtysh(cmds...)
	if err != nil {
		f.lab.T.Fatalf("lab: vtysh -N %s %v: %v: %s", f.Pathspace, cmds, err, out)
	}
	return out
}

// VtyshJSON runs one `show ... json` command and decodes its output.
func (f *FRR) VtyshJSON(cmd string, v any) error {
	out, err := f.TryVtysh(cmd)
	if err != nil {
		return fmt.Errorf("vtysh %s: %v: %s", cmd, err, out)
	}
	return json.Unmarshal([]byte(out), v)
}

// Established returns the number of BGP peers in state Established.
func (f *FRR) Established() int {
	var s map[string]struct {
		Peers map[string]struct {
			State string `json:"state"`
		} `json:"peers"`
	}
	if err := f.VtyshJSON("show bgp summary json", &s); err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, af := range s {
		for p, st := range af.Peers {
			if st.State == "Established" {
				seen[p] = true
			}
		}
	}
	return len(seen)
}

// Pid returns the pid of one of the daemons, 0 if it has none.
func (f *FRR) Pid(daemon string) int {
	b, err := os.ReadFile(filepath.Join(f.RunDir, daemon+".pid"))
	if err != nil {
		return 0
	}
	var pid int
	_, _ = fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &pid)
	return pid
}

// Kill kills a daemon with SIGKILL (to test restarts).
func (f *FRR) Kill(daemon string) {
	if pid := f.Pid(daemon); pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 500 && Alive(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// removeFRRPathspaces deletes the FRR directories of a lab.
func removeFRRPathspaces(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "frr-*.pathspace"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 || strings.ContainsAny(string(b), "/.") {
			continue
		}
		_ = os.RemoveAll(filepath.Join("/etc/frr", string(b)))
		_ = os.RemoveAll(filepath.Join("/var/run/frr", string(b)))
	}
}

// StartDaemon starts one daemon of the instance again with the arguments
// StartFRR used (as watchfrr or systemd would after a crash); it does not
// wait for the daemon to answer. The daemon reads its own file
// (<daemon>.conf): configuration added at runtime is gone.
func (f *FRR) StartDaemon(daemon string) {
	f.lab.T.Helper()
	if pid := f.Pid(daemon); pid > 1 && Alive(pid) {
		f.lab.T.Fatalf("lab: %s of %s is still running (pid %d)", daemon, f.Pathspace, pid)
	}
	f.lab.Run("ip", "netns", "exec", f.NS.Name, "/usr/lib/frr/"+daemon, "-d", "-N", f.Pathspace, "-F", "datacenter",
		"-f", filepath.Join(f.ConfDir, daemon+".conf"), "-i", filepath.Join(f.RunDir, daemon+".pid"),
		"--log", "file:"+filepath.Join(f.RunDir, daemon+".log"))
}
