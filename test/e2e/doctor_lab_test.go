package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

var doctorLine = regexp.MustCompile(`(?m)^(ok|warn|FAIL)\s+(\S+)\s+(.*)$`)

// doctorResult is one `ovnbgp doctor` run: its exit status and, per check,
// the levels of its lines.
type doctorResult struct {
	out    string
	code   int
	levels map[string][]string
}

func (r doctorResult) has(check, level string) bool {
	for _, l := range r.levels[check] {
		if l == level {
			return true
		}
	}
	return false
}

// runDoctor runs `ovnbgp doctor` in the chassis namespace, as an operator
// would on the node.
func runDoctor(t *testing.T, ns *lab.NetNS, conf string) doctorResult {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns.Name, agentBinary(t), "doctor", "--config-file", conf, "--timeout", "2s")
	out, err := cmd.CombinedOutput()
	r := doctorResult{out: string(out), levels: map[string][]string{}}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, m := range doctorLine.FindAllStringSubmatch(r.out, -1) {
		r.levels[m[2]] = append(r.levels[m[2]], m[1])
	}
	if !strings.Contains(r.out, "\ndoctor: ") {
		t.Fatalf("doctor printed no summary:\n%s", out)
	}
	return r
}

// TestDoctor runs `ovnbgp doctor` on a real chassis (OVS, ovn-controller,
// the OVN databases, FRR) with a configuration that works, then breaks one
// prerequisite at a time and checks that exactly that one fails, with a fix,
// and that the exit status says the agent cannot start.
func TestDoctor(t *testing.T) {
	lab.NeedRoot(t, "the doctor lab")
	c := newCloud(t, nodeSpec{name: "c1"})
	n := c.nodes["c1"]
	dir := c.l.Subdir("c1")
	write := func(name, conf string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := c.config(n)
	good := write("good.conf", base)

	expect := func(t *testing.T, r doctorResult, code int, check, level string) {
		t.Helper()
		if r.code != code || !r.has(check, level) {
			t.Fatalf("want exit %d and %s %s; got exit %d:\n%s", code, level, check, r.code, r.out)
		}
		if level == "FAIL" && !regexp.MustCompile(`(?m)^FAIL\s+`+regexp.QuoteMeta(check)+`\s.*\n\s+fix: \S`).MatchString(r.out) {
			t.Errorf("the failure of %s has no fix line:\n%s", check, r.out)
		}
	}

	t.Run("healthy", func(t *testing.T) {
		r := runDoctor(t, n.ch.NS, good)
		if r.code != 0 {
			t.Fatalf("exit %d on a working chassis:\n%s", r.code, r.out)
		}
		for _, check := range []string{"ovsdb/local", "ovsdb/identity", "ovsdb/southbound", "bridges/br-ex", "kernel/rules",
			"sysctl/net.ipv4.ip_forward", "frr/version", "frr/zebra", "frr/bgpd", "frr/running-config", "frr/frr.conf",
			"agents", "listen/metrics", "listen/state_dir"} {
			if !r.has(check, "ok") {
				t.Errorf("%s is not ok:\n%s", check, r.out)
			}
		}
		if strings.Contains(r.out, "FAIL") {
			t.Errorf("a failure on a working chassis:\n%s", r.out)
		}
	})

	t.Run("bridge mapping names a missing bridge", func(t *testing.T) {
		n.ch.VSCtl("set", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings=physnet1:br-ex,physnet2:br-missing")
		defer n.ch.VSCtl("set", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings=physnet1:br-ex")
		r := runDoctor(t, n.ch.NS, good)
		expect(t, r, 1, "bridges/br-missing", "FAIL")
		if !r.has("bridges/br-ex", "ok") {
			t.Errorf("br-ex should stay ok:\n%s", r.out)
		}
	})

	t.Run("southbound unreachable", func(t *testing.T) {
		conf := write("sb.conf", base+"[ovn]\novn_sb_connection = unix:"+filepath.Join(dir, "no-such-sb.sock")+"\n")
		expect(t, runDoctor(t, n.ch.NS, conf), 1, "ovsdb/southbound", "FAIL")
	})

	t.Run("local OVS unreachable", func(t *testing.T) {
		conf := write("ovs.conf", strings.Replace(base, "ovsdb_connection = "+n.ch.OVS.Remote(),
			"ovsdb_connection = unix:"+filepath.Join(dir, "no-such-ovs.sock"), 1))
		expect(t, runDoctor(t, n.ch.NS, conf), 1, "ovsdb/local", "FAIL")
	})

	t.Run("southbound schema ovnbgp cannot read", func(t *testing.T) {
		// A real server whose Port_Binding lacks mac: reachable,
		// but no agent could read it.
		raw, err := os.ReadFile(ovsdbserver.SBSchema)
		if err != nil {
			t.Fatal(err)
		}
		var schema map[string]any
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		delete(schema["tables"].(map[string]any)["Port_Binding"].(map[string]any)["columns"].(map[string]any), "mac")
		b, _ := json.Marshal(schema)
		path := write("sb-no-mac.ovsschema", string(b))
		sb := ovsdbserver.Start(t, ovsdbserver.Options{Schema: path})
		conf := write("sb-schema.conf", base+"[ovn]\novn_sb_connection = "+sb.Remote()+"\n")
		r := runDoctor(t, n.ch.NS, conf)
		expect(t, r, 1, "ovsdb/southbound", "FAIL")
		if !strings.Contains(r.out, `table Port_Binding: server schema has no column "mac"`) {
			t.Errorf("the failure does not name the missing column:\n%s", r.out)
		}
	})

	t.Run("forwarding off", func(t *testing.T) {
		n.ch.NS.Sysctl("net.ipv4.ip_forward", "0")
		defer n.ch.NS.Sysctl("net.ipv4.ip_forward", "1")
		r := runDoctor(t, n.ch.NS, good)
		// A warning, not a failure: the agent turns it on.
		expect(t, r, 0, "sysctl/net.ipv4.ip_forward", "warn")
	})

	t.Run("FRR runs another AS", func(t *testing.T) {
		n.frr.Vtysh("configure terminal", "router bgp 65123", "exit")
		defer n.frr.Vtysh("configure terminal", "no router bgp 65123")
		expect(t, runDoctor(t, n.ch.NS, good), 1, "frr/running-config", "FAIL")
	})

	t.Run("bfdd down with bfd", func(t *testing.T) {
		conf := write("bfd.conf", strings.Replace(base, "bfd = false", "bfd = true", 1))
		if r := runDoctor(t, n.ch.NS, conf); !r.has("frr/bfdd", "ok") || r.code != 0 {
			t.Fatalf("bfdd runs: want ok, exit 0:\n%s", r.out)
		}
		n.frr.Kill("bfdd")
		defer n.frr.StartDaemon("bfdd")
		expect(t, runDoctor(t, n.ch.NS, conf), 1, "frr/bfdd", "FAIL")
	})

	t.Run("upstream agent running", func(t *testing.T) {
		// A real process named as upstream's (python3 /usr/bin/ovn-bgp-agent
		// shows the script as argv[1]; here argv[0] is the name).
		fake := filepath.Join(dir, "ovn-bgp-agent")
		b, err := os.ReadFile("/bin/sleep")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fake, b, 0o755); err != nil {
			t.Fatal(err)
		}
		p := exec.Command("ip", "netns", "exec", n.ch.NS.Name, fake, "300")
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = p.Process.Kill(); _ = p.Wait() }()
		lab.Eventually(t, 5*time.Second, "the fake agent execs", func() bool {
			b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.Process.Pid), "cmdline"))
			return strings.Contains(string(b), "ovn-bgp-agent")
		})
		expect(t, runDoctor(t, n.ch.NS, good), 1, "agents/upstream", "FAIL")
	})

	t.Run("embedded speaker's port taken by bgpd", func(t *testing.T) {
		conf := write("gobgp.conf", strings.NewReplacer("speaker = frr", "speaker = gobgp",
			"gobgp_listen_port = -1", "gobgp_listen_port = 179").Replace(base))
		// bgpd listens on 179 once it has an instance.
		n.frr.Vtysh("configure terminal", "router bgp 64999", "exit")
		defer n.frr.Vtysh("configure terminal", "no router bgp 64999")
		lab.Eventually(t, 10*time.Second, "bgpd listening on 179", func() bool {
			out, _ := n.ch.NS.Try("ss", "-Hltn", "sport = :179")
			return strings.TrimSpace(out) != ""
		})
		r := runDoctor(t, n.ch.NS, conf)
		expect(t, r, 1, "agents/bgp-port", "FAIL")
		if !r.has("agents/bgp", "warn") {
			t.Errorf("FRR's bgpd beside the embedded speaker is not warned about:\n%s", r.out)
		}
	})

	t.Run("running agent", func(t *testing.T) {
		c.startAgent("c1")
		waitReady(t, n)
		// The metrics address is the agent's: a second one cannot have it.
		r := runDoctor(t, n.ch.NS, good)
		expect(t, r, 1, "listen/metrics", "FAIL")
		if !r.has("agents/ovnbgp", "warn") {
			t.Errorf("the running agent is not reported:\n%s", r.out)
		}
		c.stopAgent("c1", syscall.SIGTERM)
	})

	t.Run("connected method on this kernel", func(t *testing.T) {
		// The oracle is the kernel itself: can a VRF be created in a
		// scratch namespace?
		probe := c.l.NetNS("probe", false)
		_, err := probe.Try("ip", "link", "add", "vrfprobe", "type", "vrf", "table", "99")
		want, code := "ok", 0
		if err != nil {
			want, code = "FAIL", 1
		}
		conf := write("connected.conf", strings.Replace(base, "announce_method = table", "announce_method = connected", 1))
		r := runDoctor(t, n.ch.NS, conf)
		if !r.has("kernel/vrf", want) || (code == 1 && r.code != 1) {
			t.Fatalf("creating a VRF here: %v; want kernel/vrf %s:\n%s", err, want, r.out)
		}
	})
}

// waitReady waits until the node's agent answers /readyz with 200.
func waitReady(t *testing.T, n *node) {
	t.Helper()
	lab.Eventually(t, 60*time.Second, "agent of "+n.ch.Name+" ready", func() bool {
		_, err := n.ch.NS.Try("curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:9469/readyz")
		return err == nil
	})
}
