package frr

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// newLab starts a lab, or skips when not root outside CI.
func newLab(t *testing.T) *lab.Lab {
	t.Helper()
	lab.NeedRoot(t, "the FRR lab (network namespaces, FRR)")
	return lab.New(t)
}

// frrMajor returns the major version of the installed FRR (0 if unknown).
func frrMajor() int {
	out, _ := exec.Command("/usr/lib/frr/zebra", "--version").CombinedOutput()
	f := strings.Fields(string(out))
	if len(f) >= 3 && f[1] == "version" {
		major, _, _ := strings.Cut(f[2], ".")
		n, _ := strconv.Atoi(major)
		return n
	}
	return 0
}

// needLabFRR skips when test/lab cannot start this FRR: its StartFRR
// hangs with FRR 10 (zebra -d keeps Lab.Run's output pipe open; mgmtd is
// not started). TestVMLabFRR10Apply covers FRR 10 with its own starter.
func needLabFRR(t *testing.T) {
	t.Helper()
	if m := frrMajor(); m >= 10 {
		t.Skipf("test/lab.StartFRR does not work with FRR %d yet", m)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// operatorConf is what an operator wrote: it must survive every apply.
const operatorConf = `hostname %s
ip prefix-list operator-list seq 5 permit 10.0.0.0/8
route-map operator-rm permit 10
exit
router bgp 64999
 neighbor 192.0.2.99 remote-as 65099
 neighbor 192.0.2.99 description operator-peer
exit
`

func operatorFor(name string) string { return strings.Replace(operatorConf, "%s", name, 1) }

// speakerFor makes a speaker for an FRR of the lab.
func speakerFor(t *testing.T, f *lab.FRR, cfg *config.Config, state string) *Speaker {
	t.Helper()
	cfg.OVNBGP.FRRPathspace = f.Pathspace
	cfg.FRRReconcileInterval = 2 * time.Second
	s, err := NewWithOptions(cfg, testLogger(t), Options{StateFile: state, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func running(t *testing.T, f *lab.FRR) map[string]bool {
	t.Helper()
	return parseRunning(f.Vtysh("show running-config"))
}

// TestLabApplyVariants applies every golden variant to a real FRR (Debian
// 12: 8.4), one after the other with the state file carried over: each
// apply is accepted with no error line, leaves running-config with the
// variant's visible lines and none of the lines the previous variant had
// and this one lacks, never touches the operator's lines, and applying it
// again changes nothing.
func TestLabApplyVariants(t *testing.T) {
	needLabFRR(t)
	l := newLab(t)
	ns := l.NetNS("c1", true)
	f := l.StartFRR(ns, operatorFor("c1"))
	state := filepath.Join(t.TempDir(), "frr-applied.conf")
	ver := parseVersion(f.Vtysh("show version"))
	operator := parseRunning(operatorFor("c1"))
	var prev []*Node
	var times []time.Duration
	order := append(slices.Clone(variants), variants[0]) // end where we began: undo the last
	for _, v := range order {
		cfg := v.config()
		cfg.BGPRouterID = v.routerID
		s := speakerFor(t, f, cfg, state)
		s.SetVRFs(v.vrfs)
		s.dynamic = v.dynamic
		s.vipNets = v.nets
		start := time.Now()
		if err := s.Apply(context.Background(), "test"); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		times = append(times, time.Since(start))
		run := running(t, f)
		cur, _ := Render(v.input(cfg))
		// Every rendered line shows in running-config at its place, except
		// the ones equal to FRR's defaults. This catches a line vtysh
		// applied in a parent node because the intended node lacks it.
		for _, p := range paths(cur) {
			if !run[p] && !hiddenDefault(p) {
				t.Errorf("%s: rendered line not in running-config: %q", v.name, strings.ReplaceAll(p, "\x00", " / "))
			}
		}
		curPaths := map[string]bool{}
		for _, p := range paths(cur) {
			curPaths[p] = true
		}
		for _, p := range paths(prev) {
			if !curPaths[p] && run[p] && !operator[p] && !isContextPath(p) {
				t.Errorf("%s: line of the previous variant left behind: %q", v.name, strings.ReplaceAll(p, "\x00", " / "))
			}
		}
		for p := range operator {
			if !run[p] && !strings.HasPrefix(p, "hostname") {
				t.Errorf("%s: operator line lost: %q", v.name, strings.ReplaceAll(p, "\x00", " / "))
			}
		}
		before := f.Vtysh("show running-config")
		if err := s.Apply(context.Background(), "test"); err != nil {
			t.Fatalf("%s again: %v", v.name, err)
		}
		if after := f.Vtysh("show running-config"); after != before {
			t.Errorf("%s: a second apply changed running-config:\n%s\n---\n%s", v.name, before, after)
		}
		prev = cur
	}
	slices.Sort(times)
	t.Logf("FRR %s: %d applies (removals + full rendering, one vtysh session), median %s, max %s",
		ver, len(times), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
}

// hiddenDefault reports whether running-config omits a line because it is
// FRR's default (datacenter profile).
func hiddenDefault(p string) bool {
	f := strings.Split(p, "\x00")
	last := f[len(f)-1]
	switch {
	case strings.HasSuffix(last, " activate") && strings.Contains(p, "address-family ipv4 unicast"):
		return true // ipv4 unicast is active by default
	case last == "no bgp ebgp-requires-policy", last == "transmit-interval 300", last == "receive-interval 300",
		last == "detect-multiplier 3":
		return true
	}
	return false
}

func isContextPath(p string) bool {
	f := strings.Split(p, "\x00")
	return isContext(f[len(f)-1])
}

// ribHas reports whether gobgpd has prefix in its RIB.
func ribHas(g *lab.GoBGP, prefix string) bool {
	rib, err := g.RIB("ipv4")
	return err == nil && len(rib[prefix]) > 0
}

// parseVersion returns "8.4.4" from `show version`'s "FRRouting 8.4.4 (host) on Linux...".
func parseVersion(out string) string {
	f := strings.Fields(out)
	for i, w := range f {
		if w == "FRRouting" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}
