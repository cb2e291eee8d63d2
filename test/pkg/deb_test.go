// Package pkg tests the Debian package `make deb` builds by installing it
// with dpkg on this machine and purging it again.
package pkg

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// watched are the trees the package or the agent write to besides the
// package's own files; the test compares them, and every path the package
// ships, before the install and after the purge. (Not all of /usr/bin:
// other engineers' apt runs on this machine may change it meanwhile.)
var watched = []string{"/etc/ovn-bgp-agent", "/etc/iproute2", "/etc/systemd/system", "/usr/share/doc/ovnbgp", "/var/lib/ovnbgp"}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dpkg runs dpkg, waiting for the dpkg lock while another engineer's apt
// holds it (up to 15 minutes, like the project's apt-get calls).
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return string(out)
		}
		if bytes.Contains(out, []byte("lock")) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			continue
		}
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func installed(t *testing.T) bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "ovnbgp").Output()
	return strings.Contains(string(out), "installed") || strings.Contains(string(out), "config-files")
}

// listing is every path under the watched trees with its mode and, for
// regular files, size: the package must leave nothing behind, nor change
// a file it did not install.
func listing(t *testing.T, paths []string) []string {
	var out []string
	for _, root := range paths {
		if _, err := os.Lstat(root); err != nil {
			out = append(out, root+" absent")
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			e := p + " " + info.Mode().String()
			if info.Mode().IsRegular() {
				e += fmt.Sprintf(" %d", info.Size())
			}
			out = append(out, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// TestDebInstallPurge builds the package, checks its metadata, installs it
// with dpkg, checks what it installed (a binary that runs, a unit whose
// ExecStart exists, the configuration as a conffile kept by a remove and
// removed by a purge) and purges it, leaving the machine as it was.
func TestDebInstallPurge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("installing a package needs root (the project's tests run as root)")
	}
	if installed(t) {
		t.Fatal("a package named ovnbgp is installed on this machine: this test would replace and purge it; remove it first (dpkg --purge ovnbgp)")
	}
	if _, err := os.Stat("/etc/ovn-bgp-agent"); err == nil {
		t.Fatal("/etc/ovn-bgp-agent exists (upstream's agent or a manual install): this test installs and purges that directory; move it away first")
	}
	out := filepath.Join(t.TempDir(), "out")
	deb := strings.TrimSpace(run(t, filepath.Join(repoRoot(t), "scripts", "build-deb.sh"), out))
	if !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("build-deb.sh printed %q, not a .deb", deb)
	}
	for field, want := range map[string]string{"Package": "ovnbgp", "Conflicts": "ovn-bgp-agent", "Replaces": "ovn-bgp-agent"} {
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if got := run(t, "dpkg-deb", "--ctrl-tarfile", deb); got == "" {
		t.Fatal("no control archive")
	}
	contents := run(t, "dpkg-deb", "-c", deb)
	for _, f := range []string{"./usr/bin/ovnbgp", "./lib/systemd/system/ovnbgp.service", "./etc/ovn-bgp-agent/bgp-agent.conf",
		"./usr/share/doc/ovnbgp/docs/operations.md", "./usr/share/doc/ovnbgp/copyright",
		"./usr/share/doc/ovnbgp/contrib/prometheus/alerts.yml", "./usr/share/doc/ovnbgp/contrib/grafana/ovnbgp.json"} {
		if !strings.Contains(contents, f+"\n") {
			t.Errorf("package lacks %s:\n%s", f, contents)
		}
	}

	paths := append([]string(nil), watched...)
	for _, l := range strings.Split(contents, "\n") {
		if f := strings.Fields(l); len(f) >= 6 && strings.HasPrefix(f[5], "./") && !strings.HasSuffix(f[5], "/") {
			paths = append(paths, strings.TrimPrefix(f[5], "."))
		}
	}
	before := listing(t, paths)
	purged := false
	t.Cleanup(func() {
		if !purged && installed(t) {
			_, _ = exec.Command("dpkg", "--purge", "ovnbgp").CombinedOutput()
		}
	})
	dpkg(t, "-i", deb)

	if v := run(t, "/usr/bin/ovnbgp", "--help"); !strings.Contains(v, "doctor") {
		t.Errorf("installed ovnbgp --help does not list doctor:\n%s", v)
	}
	unit, err := os.ReadFile("/lib/systemd/system/ovnbgp.service")
	if err != nil {
		t.Fatal(err)
	}
	exe := ""
	for _, l := range strings.Split(string(unit), "\n") {
		if strings.HasPrefix(l, "ExecStart=") {
			exe = strings.Fields(strings.TrimPrefix(l, "ExecStart="))[0]
		}
	}
	if exe != "/usr/bin/ovnbgp" {
		t.Errorf("unit ExecStart runs %q, want the packaged /usr/bin/ovnbgp", exe)
	}
	conff := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "ovnbgp")
	if !strings.Contains(conff, "/etc/ovn-bgp-agent/bgp-agent.conf") {
		t.Errorf("bgp-agent.conf is not a conffile: %q", conff)
	}
	if _, err := os.Stat("/etc/systemd/system/multi-user.target.wants/ovnbgp.service"); err == nil {
		t.Error("the package enabled the unit; it must wait for the operator (doctor first)")
	}

	// An operator's edit survives a remove (conffile); a purge removes it.
	f, err := os.OpenFile("/etc/ovn-bgp-agent/bgp-agent.conf", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("\n# edited by TestDebInstallPurge\n")
	f.Close()
	dpkg(t, "-r", "ovnbgp")
	if _, err := os.Stat("/usr/bin/ovnbgp"); err == nil {
		t.Error("/usr/bin/ovnbgp left after dpkg -r")
	}
	if b, err := os.ReadFile("/etc/ovn-bgp-agent/bgp-agent.conf"); err != nil || !strings.Contains(string(b), "edited by TestDebInstallPurge") {
		t.Errorf("dpkg -r did not keep the edited conffile: %v", err)
	}
	dpkg(t, "--purge", "ovnbgp")
	purged = true
	if installed(t) {
		t.Error("ovnbgp still known to dpkg after --purge")
	}
	after := listing(t, paths)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("the machine differs after install and purge:\n%s", diff(before, after))
	}
}

func diff(a, b []string) string {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, x := range a {
		if !mb[x] {
			out = append(out, "- "+x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			out = append(out, "+ "+x)
		}
	}
	return strings.Join(out, "\n")
}
