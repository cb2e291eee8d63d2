package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// Service VIPs end to end (issue 19): two controller namespaces without
// OVN, each with Debian's HAProxy in front of an HTTP backend and ovnbgp
// announcing the VIPs, a ToR running FRR, an external client with a curl
// loop through each VIP.

const (
	vipAP       = "203.0.113.10" // active-passive: moved by ip addr del/add, as IPaddr2 does
	vipAnycast  = "203.0.113.20" // anycast: ovnbgp keeps it on lo of both controllers
	vipInterval = 200 * time.Millisecond
	vipFall     = 2
)

// vipLab is the scenario's lab.
type vipLab struct {
	l      *lab.Lab
	tor    *lab.NetNS
	ext    *lab.NetNS
	torFRR *lab.FRR
	ctl    map[string]*vipCtl
}

type vipCtl struct {
	name    string
	ns      *lab.NetNS
	ip      string // on the link to the ToR
	torIP   string
	frr     *lab.FRR // speaker = frr
	haproxy *exec.Cmd
	agent   *exec.Cmd
	conf    string
	log     string
	dir     string
	extra   string // more of the agent's configuration; @DIR@ is dir
}

// bg starts a long-running program in ns in its own session, output to a
// file; the test's cleanup kills its process group.
func bg(t *testing.T, ns *lab.NetNS, logPath string, argv ...string) *exec.Cmd {
	t.Helper()
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name}, argv...)...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start(), argv)
	go func() { _ = cmd.Wait(); lf.Close() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

func haproxyConf(dir string) string {
	p := filepath.Join(dir, "haproxy.cfg")
	_ = os.WriteFile(p, []byte(`global
  maxconn 256
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend api
  bind :80
  default_backend app
backend app
  server app1 127.0.0.1:8080
`), 0o644)
	return p
}

func newVIPLab(t *testing.T, speaker string, extraConf ...string) *vipLab {
	t.Helper()
	for _, p := range []string{"/usr/sbin/haproxy", "/usr/bin/python3", "/usr/bin/curl"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (scripts/install-deps.sh installs it): %v", p, err)
		}
	}
	v := &vipLab{l: lab.New(t), ctl: map[string]*vipCtl{}}
	v.tor = v.l.NetNS("tor", true)
	// ECMP by ports too: the client's requests spread over both paths.
	v.tor.Sysctl("net.ipv4.fib_multipath_hash_policy", "1")
	v.ext = v.l.NetNS("ext", false)
	v.l.Veth(v.tor, "tor-ext", []string{"198.51.100.1/24"}, v.ext, "ext-tor", []string{"198.51.100.10/24"})
	v.ext.IP("route", "add", "default", "via", "198.51.100.1")
	var neighbors strings.Builder
	for i, name := range []string{"ctl1", "ctl2"} {
		c := &vipCtl{name: name, ns: v.l.NetNS(name, false), torIP: fmt.Sprintf("10.1.%d.1", i+1), ip: fmt.Sprintf("10.1.%d.2", i+1),
			dir: v.l.Subdir(name), extra: strings.Join(extraConf, "")}
		v.l.Veth(v.tor, "tor-"+name, []string{c.torIP + "/30"}, c.ns, name+"-tor", []string{c.ip + "/30"})
		c.ns.IP("route", "add", "default", "via", c.torIP)
		fmt.Fprintf(&neighbors, " neighbor %s remote-as 64999\n", c.ip)
		v.ctl[name] = c
	}
	v.torFRR = v.l.StartFRR(v.tor, `hostname tor
router bgp 65000
 bgp router-id 10.1.0.1
 no bgp ebgp-requires-policy
 timers bgp 3 9
`+neighbors.String()+` address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
exit
`)
	for _, name := range []string{"ctl1", "ctl2"} {
		c := v.ctl[name]
		www := filepath.Join(c.dir, "www")
		require.NoError(t, os.MkdirAll(www, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(www, "index.html"), []byte(name+"\n"), 0o644))
		bg(t, c.ns, filepath.Join(c.dir, "backend.log"), "/usr/bin/python3", "-m", "http.server", "8080", "--bind", "127.0.0.1", "--directory", www)
		c.startHAProxy(t)
		switch speaker {
		case "frr":
			c.frr = v.l.StartFRR(c.ns, "hostname "+name+"\n")
		case "exabgp":
			c.startExaBGP(t)
			continue
		}
		c.startAgent(t, speaker)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range []string{"ctl1", "ctl2"} {
			b, _ := os.ReadFile(v.ctl[name].log)
			if len(b) > 15000 {
				b = b[len(b)-15000:]
			}
			t.Logf("=== ovnbgp log of %s (tail):\n%s", name, b)
			c := v.ctl[name]
			out, _ := c.ns.Try("ip", "route", "show", "table", "all", "proto", "201")
			t.Logf("=== routes of ovnbgp on %s:\n%s", name, out)
			if c.frr != nil {
				out, _ = c.frr.TryVtysh("show ip route table 10", "show ip route", "show bgp ipv4 unicast")
				t.Logf("=== FRR of %s:\n%s", name, out)
			}
		}
		out, _ := v.torFRR.TryVtysh("show bgp ipv4 unicast")
		t.Logf("=== ToR:\n%s", out)
	})
	return v
}

func (c *vipCtl) startHAProxy(t *testing.T) {
	c.haproxy = bg(t, c.ns, filepath.Join(c.dir, "haproxy.log"), "/usr/sbin/haproxy", "-db", "-f", haproxyConf(c.dir))
}

func (c *vipCtl) startAgent(t *testing.T, speaker string) {
	extra := "gobgp_listen_port = -1\n"
	if speaker == "frr" {
		extra = "frr_pathspace = " + c.frr.Pathspace + "\n"
	}
	c.conf = filepath.Join(c.dir, "bgp-agent.conf")
	c.log = filepath.Join(c.dir, "ovnbgp.log")
	check := fmt.Sprintf("check = http\ntarget = 127.0.0.1\nport = 80\ninterval = %s\ntimeout = 150ms\nrise = 2\nfall = %d\n", vipInterval, vipFall)
	conf := fmt.Sprintf(`[DEFAULT]
bgp_AS = 64999
bgp_router_id = %s
debug = True
# no OVS here: [ovnbgp] ovn = auto runs without OVN
ovsdb_connection = unix:%s/no-ovs.sock
[ovnbgp]
speaker = %s
announce_method = table
%speers = %s:65000
metrics_address = 127.0.0.1:9469
state_dir = %s

[ovnbgp_vip:api]
address = %s
mode = active-passive
%s
[ovnbgp_vip:web]
address = %s
mode = anycast
device = lo
%s
%s`, c.ip, c.dir, speaker, extra, c.torIP, filepath.Join(c.dir, "state"), vipAP, check, vipAnycast, check, strings.ReplaceAll(c.extra, "@DIR@", c.dir))
	require.NoError(t, os.WriteFile(c.conf, []byte(conf), 0o644))
	c.agent = bg(t, c.ns, c.log, agentBinary(t), "agent", "--config-file", c.conf)
}

// hops lists the controllers the ToR's kernel routes prefix to.
func (v *vipLab) hops(addr string) []string {
	out, err := v.tor.Try("ip", "-o", "route", "show", addr)
	if err != nil {
		return nil
	}
	var hs []string
	for _, f := range strings.Fields(out) {
		if n, ok := strings.CutPrefix(f, "tor-"); ok {
			hs = append(hs, n)
		}
	}
	return hs
}

func (v *vipLab) waitHops(t *testing.T, addr string, want ...string) time.Duration {
	t.Helper()
	return v.l.Eventually(30*time.Second, fmt.Sprintf("the ToR routes %s via %v", addr, want), func() bool {
		return sameSet(v.hops(addr), want)
	})
}

// curlLoop runs `curl` through addr from the external client in a loop,
// one line per request: "<unix time> ok|fail".
func (v *vipLab) curlLoop(t *testing.T, addr string) string {
	out := filepath.Join(v.l.Dir, "curl-"+addr+".log")
	script := fmt.Sprintf(`while :; do if curl -s -o /dev/null -m 0.3 http://%s/; then r=ok; else r=fail; fi; echo "$(date +%%s.%%N) $r"; sleep 0.02; done`, addr)
	bg(t, v.ext, out, "/bin/sh", "-c", script)
	return out
}

// loopStats reads a curl loop's log: requests, failures, and the longest
// gap between two successful requests that had failures between them.
func loopStats(t *testing.T, path string) (n, fails int, gap time.Duration) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lastOK float64
	inGap := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 {
			continue
		}
		ts, err := strconv.ParseFloat(fs[0], 64)
		if err != nil {
			continue
		}
		n++
		if fs[1] != "ok" {
			fails++
			inGap = true
			continue
		}
		if inGap && lastOK > 0 {
			if g := time.Duration((ts - lastOK) * float64(time.Second)); g > gap {
				gap = g
			}
		}
		inGap = false
		lastOK = ts
	}
	return n, fails, gap
}

func TestServiceVIPs(t *testing.T) {
	for _, speaker := range []string{"gobgp", "frr"} {
		t.Run(speaker, func(t *testing.T) { testServiceVIPs(t, speaker) })
	}
}

func testServiceVIPs(t *testing.T, speaker string) {
	v := newVIPLab(t, speaker)
	c1, c2 := v.ctl["ctl1"], v.ctl["ctl2"]

	// Anycast: both nodes put the address on lo and announce it: ECMP.
	v.waitHops(t, vipAnycast, "ctl1", "ctl2")
	// Active-passive: configured on both, present on none: not announced.
	assert.Empty(t, v.hops(vipAP))
	// Pacemaker (IPaddr2) starts the VIP on ctl1.
	c1.ns.IP("addr", "add", vipAP+"/32", "dev", "ctl1-tor")
	took := v.waitHops(t, vipAP, "ctl1")
	t.Logf("%s: active-passive VIP announced %s after ip addr add", speaker, took)

	// ctl2 has it configured but absent: withdrawn, reason absent, in its
	// status and metrics.
	st := vipStatus(t, c2, "api")
	assert.Equal(t, "withdrawn", st["state"])
	assert.Equal(t, "absent", st["reason"])
	assert.Equal(t, "up", st["health"])
	metrics, err := c2.ns.Try("curl", "-s", "http://127.0.0.1:9469/metrics")
	require.NoError(t, err)
	assert.Contains(t, metrics, `ovnbgp_vip_state{state="withdrawn",vip="api"} 1`)
	assert.Contains(t, metrics, `ovnbgp_vip_present{vip="api"} 0`)
	assert.Contains(t, metrics, `ovnbgp_vip_state{state="announced",vip="web"} 1`)

	apLog, anyLog := v.curlLoop(t, vipAP), v.curlLoop(t, vipAnycast)
	v.l.Eventually(10*time.Second, "both curl loops succeeding", func() bool {
		_, f1, _ := loopStats(t, apLog)
		n1, _, _ := loopStats(t, apLog)
		n2, _, _ := loopStats(t, anyLog)
		return n1 > 5 && n2 > 5 && f1 < n1
	})
	time.Sleep(time.Second)

	// HAProxy dies on ctl1: ctl1 withdraws both VIPs within fall x interval
	// + 0.5 s; the anycast VIP stays on ctl2.
	killed := time.Now()
	require.NoError(t, syscall.Kill(-c1.haproxy.Process.Pid, syscall.SIGKILL))
	v.l.Eventually(10*time.Second, "the active-passive VIP withdrawn", func() bool { return len(v.hops(vipAP)) == 0 })
	apGone := time.Since(killed)
	v.waitHops(t, vipAnycast, "ctl2")
	anyGone := time.Since(killed)
	bound := time.Duration(vipFall)*vipInterval + 500*time.Millisecond
	t.Logf("%s: HAProxy killed on ctl1: active-passive VIP withdrawn at the ToR after %s, anycast ctl1 path after %s (bound %s)", speaker, apGone, anyGone, bound)
	assert.LessOrEqual(t, apGone, bound, "withdrawn within fall x interval + 0.5 s")
	assert.LessOrEqual(t, anyGone, bound, "anycast path withdrawn within fall x interval + 0.5 s")
	assert.Equal(t, "withdrawn", vipStatus(t, c1, "api")["state"])
	assert.Equal(t, "unhealthy", vipStatus(t, c1, "api")["reason"])

	// Pacemaker moves the VIP to ctl2 exactly as IPaddr2 does.
	c1.ns.IP("addr", "del", vipAP+"/32", "dev", "ctl1-tor")
	c2.ns.IP("addr", "add", vipAP+"/32", "dev", "ctl2-tor")
	moved := v.waitHops(t, vipAP, "ctl2")
	t.Logf("%s: VIP moved to ctl2: announced %s after ip addr add", speaker, moved)
	v.l.Eventually(10*time.Second, "requests through the VIP succeed again", func() bool {
		out, err := v.ext.Try("curl", "-s", "-m", "1", "http://"+vipAP+"/")
		return err == nil && strings.TrimSpace(out) == "ctl2"
	})
	time.Sleep(500 * time.Millisecond)
	n, fails, gap := loopStats(t, apLog)
	t.Logf("%s: active-passive curl loop: %d requests, %d failed, longest gap %s (HAProxy death to VIP served by ctl2, the move done by the test once withdrawn)", speaker, n, fails, gap)
	n, fails, gap = loopStats(t, anyLog)
	t.Logf("%s: anycast curl loop: %d requests, %d failed, longest gap %s", speaker, n, fails, gap)
	assert.LessOrEqual(t, gap, bound, "anycast: requests keep succeeding through ctl2 (failures only until ctl1 is withdrawn)")

	// HAProxy back on ctl1: the anycast VIP is announced by both again
	// after rise passes.
	c1.startHAProxy(t)
	v.waitHops(t, vipAnycast, "ctl1", "ctl2")

	if speaker == "frr" {
		// An agent restart withdraws no healthy VIP (FRR keeps announcing;
		// the new agent's first reconcile waits for the first checks).
		// GoBGP's sessions restart with the agent (graceful restart).
		require.NoError(t, syscall.Kill(-c2.agent.Process.Pid, syscall.SIGTERM))
		time.Sleep(500 * time.Millisecond)
		c2.startAgent(t, speaker)
		deadline := time.Now().Add(4 * time.Second)
		for time.Now().Before(deadline) {
			if !contains(v.hops(vipAnycast), "ctl2") || !contains(v.hops(vipAP), "ctl2") {
				t.Fatalf("the restart of ctl2's agent withdrew a VIP: anycast via %v, active-passive via %v", v.hops(vipAnycast), v.hops(vipAP))
			}
			time.Sleep(20 * time.Millisecond)
		}
		st := vipStatus(t, c2, "web")
		assert.Equal(t, "announced", st["state"])
	}
}

func vipStatus(t *testing.T, c *vipCtl, name string) map[string]any {
	t.Helper()
	out, err := c.ns.Try(agentBinary(t), "status", "--address", "127.0.0.1:9469", "-o", "json")
	require.NoError(t, err, out)
	var s struct {
		VIPs []map[string]any `json:"vips"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)
	for _, v := range s.VIPs {
		if v["name"] == name {
			return v
		}
	}
	t.Fatalf("no VIP %s in the status of %s: %s", name, c.name, out)
	return nil
}

// TestAgentVIPBesideOVN: on a chassis with the southbound driver, a service
// VIP is announced beside the OVN routes; its check failing withdraws it
// and nothing else (the provider VM stays announced and reachable).
func TestAgentVIPBesideOVN(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "healthy")
	require.NoError(t, os.WriteFile(flag, nil, 0o644))
	c := newCloud(t, nodeSpec{name: "c1", tail: `
[ovnbgp_vip:api]
address = 203.0.113.50
mode = anycast
check = command
command = /usr/bin/test -e ` + flag + `
interval = 100ms
rise = 1
fall = 1
`})
	defer c.dumpLogs()
	n := c.neutron
	public := n.ProviderNetwork("public", "physnet1", 0)
	p := n.Port(public, "fa:16:3e:00:01:50", []string{"172.24.4.50/24"}, lab.PortOptions{Host: "c1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p.ID, p.MAC, p.CIDRs, []string{"172.24.4.1"})
	c.startAgent("c1")
	c.waitAnnounced("172.24.4.50/32", "c1")
	c.waitAnnounced("203.0.113.50/32", "c1")
	if ttl := pingTTL(c.l, c.ext, "203.0.113.50"); ttl != 63 {
		t.Errorf("the VIP answers with TTL %d, want 63 (the chassis itself, one hop behind the ToR)", ttl)
	}
	require.NoError(t, os.Remove(flag))
	c.waitGone("203.0.113.50/32")
	assert.Equal(t, []string{"c1"}, c.torNextHops("172.24.4.50/32"), "the OVN route stays")
	if ttl := pingTTL(c.l, c.ext, "172.24.4.50"); ttl != 62 {
		t.Errorf("provider VM: TTL %d, want 62", ttl)
	}
	st, err := c.agentStatus("c1")
	require.NoError(t, err)
	assert.Equal(t, "ovn_bgp_driver", st["driver"])
	vips, _ := st["vips"].([]any)
	require.Len(t, vips, 1)
	assert.Equal(t, "withdrawn", vips[0].(map[string]any)["state"])
	require.NoError(t, os.WriteFile(flag, nil, 0o644))
	c.waitAnnounced("203.0.113.50/32", "c1")
}
