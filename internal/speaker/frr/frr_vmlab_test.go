//go:build vmlab

package frr

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// TestVMLabConnected runs upstream's layout, which needs the vrf and dummy
// kernel modules (only in the QEMU lab): bgp-nic, a dummy in VRF bgp-vrf
// (table 10); the speaker renders the leak (import vrf in the default
// instance, redistribute connected in the VRF instance); an address on
// bgp-nic reaches gobgpd, Status lists it as advertised, and removing the
// address withdraws it. Timing is not checked (software emulation).
func TestVMLabConnected(t *testing.T) {
	needLabFRR(t)
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	tgb := l.NetNS("tgb", false)
	l.Veth(tgb, "tgb-c1", []string{"10.0.3.1/30"}, c1, "c1-tgb", []string{"10.0.3.2/30"})
	c1.IP("link", "add", "bgp-vrf", "type", "vrf", "table", "10")
	c1.IP("link", "add", "bgp-nic", "type", "dummy")
	c1.IP("link", "set", "bgp-nic", "master", "bgp-vrf")
	c1.IP("link", "set", "bgp-vrf", "up")
	c1.IP("link", "set", "bgp-nic", "up")
	f := l.StartFRR(c1, operatorFor("c1"))
	g := l.StartGoBGP(tgb, 65001, "10.0.3.1", []lab.GoBGPNeighbor{{Address: "10.0.3.2", AS: 64999}})

	cfg := config.Default() // announce_method connected, bgp-vrf, bgp-nic
	cfg.OVNBGP.Peers = []config.Peer{{Address: "10.0.3.1", RemoteAS: "65001"}}
	s := speakerFor(t, f, cfg, "-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("FRR %s, rendered:\n%s", parseVersion(f.Vtysh("show version")), s.Rendered())
	l.Eventually(60*time.Second, "gobgpd session", func() bool { return g.NeighborEstablished("10.0.3.2") })

	const vip = "172.24.4.10/32"
	if err := s.Sync(ctx, []plan.Announcement{{Prefix: netip.MustParsePrefix(vip)}}); err != nil {
		t.Fatal(err)
	}
	c1.IP("addr", "add", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" at gobgpd", func() bool { return ribHas(g, vip) })
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Prefixes, vip) {
		t.Errorf("status prefixes %v lack %s", st.Prefixes, vip)
	}
	if m, e := s.Drift(); len(m) != 0 || len(e) != 0 {
		t.Errorf("drift missing %v extra %v, want none", m, e)
	}
	c1.IP("addr", "del", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" withdrawn at gobgpd", func() bool { return !ribHas(g, vip) })

	// bgpd restarted: the leak is re-applied and the address is back.
	c1.IP("addr", "add", vip, "dev", "bgp-nic")
	l.Eventually(60*time.Second, vip+" at gobgpd again", func() bool { return ribHas(g, vip) })
	f.Kill("bgpd")
	f.StartDaemon("bgpd")
	l.Eventually(120*time.Second, vip+" back at gobgpd after the bgpd restart", func() bool { return ribHas(g, vip) })
}

// TestVMLabFRR10Apply applies the variants to FRR 10 (Debian 13), started
// here with mgmtd, zebra and bgpd (test/lab cannot start FRR 10 yet):
// every apply is accepted and every rendered line shows in
// running-config at its place, including the IPv6 table import.
func TestVMLabFRR10Apply(t *testing.T) {
	if m := frrMajor(); m < 10 {
		t.Skipf("FRR %d: TestLabApplyVariants covers it", m)
	}
	l := newLab(t)
	ns := l.NetNS("c1", true)
	ps := ns.Name
	conf, run := filepath.Join("/etc/frr", ps), filepath.Join("/var/run/frr", ps)
	for _, d := range []string{conf, run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, d := range []string{"bfdd", "bgpd", "zebra", "mgmtd"} {
			if b, err := os.ReadFile(filepath.Join(run, d+".pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		_ = os.RemoveAll(conf)
		_ = os.RemoveAll(run)
	})
	for name, content := range map[string]string{
		"mgmtd.conf": "", "zebra.conf": "hostname c1\n", "bgpd.conf": operatorFor("c1"), "frr.conf": operatorFor("c1"),
		"vtysh.conf": "service integrated-vtysh-config\n", "daemons": "zebra=yes\nbgpd=yes\nmgmtd=yes\nbfdd=yes\n",
	} {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "-R", "frr:frr", conf, run).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	// FRR 10 daemons have no -f: they start empty and `vtysh -b` loads the
	// integrated frr.conf (as frrinit.sh does).
	for _, d := range []string{"mgmtd", "zebra", "bgpd", "bfdd"} {
		logf, err := os.Create(filepath.Join(t.TempDir(), d+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", ps, "/usr/lib/frr/"+d, "-d", "-N", ps, "-F", "datacenter",
			"-i", filepath.Join(run, d+".pid"), "--log", "file:"+filepath.Join(run, d+".log"))
		// A file, not a pipe: a daemonized FRR 10 keeps its stdio open.
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Run()
		logf.Close()
		if err != nil {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("start %s: %v: %s", d, err, b)
		}
		time.Sleep(2 * time.Second)
	}
	if out, err := exec.Command("vtysh", "-N", ps, "-b").CombinedOutput(); err != nil {
		t.Logf("vtysh -b: %v: %s", err, out)
	}
	vtysh := func(c string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, "vtysh", "-N", ps, "-H", "/dev/null", "-c", c).CombinedOutput()
		return string(out)
	}
	l.Eventually(120*time.Second, "bgpd answering", func() bool { return strings.Contains(vtysh("show daemons"), "bgpd") })
	ver := parseVersion(vtysh("show version"))
	t.Logf("FRR %s, daemons: %s", ver, vtysh("show daemons"))
	state := filepath.Join(t.TempDir(), "frr-applied.conf")
	for _, v := range append(slices.Clone(variants), variants[0]) {
		cfg := v.config()
		cfg.OVNBGP.FRRPathspace = ps
		s, err := NewWithOptions(cfg, testLogger(t), Options{StateFile: state})
		if err != nil {
			t.Fatal(err)
		}
		s.SetVRFs(v.vrfs)
		s.dynamic = v.dynamic
		s.vipNets = v.nets
		if err := s.Apply(context.Background(), "test"); err != nil {
			t.Errorf("%s: %v\nrunning-config:\n%s", v.name, err, vtysh("show running-config"))
			continue
		}
		runCfg := parseRunning(vtysh("show running-config"))
		cur, _ := Render(v.input(cfg))
		for _, p := range paths(cur) {
			if !runCfg[p] && !hiddenDefault(p) {
				t.Errorf("%s: rendered line not in running-config: %q", v.name, strings.ReplaceAll(p, "\x00", " / "))
			}
		}
		t.Logf("%s applied", v.name)
	}
}
