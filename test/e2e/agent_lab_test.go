package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// The agent end-to-end tests run the real ovnbgp binary in each chassis
// namespace against the lab's OVN, OVS and FRR, with a ToR running FRR and
// an external host behind it, and prove with ping (checking the TTL: the VM
// itself answers) that what the agent announces is reachable.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// agentBinary builds cmd/ovnbgp once per test run.
func agentBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// bin/ of the repository (ignored by git); `make demo` prints this
		// path for the commands it suggests.
		dir, err := filepath.Abs("../../bin")
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ovnbgp-lab")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/ovnbgp").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// node is a chassis with its FRR and its agent.
type node struct {
	idx     int
	ch      *lab.Chassis
	frr     *lab.FRR
	torIP   string // the ToR's address on the link to this chassis
	ip      string // this chassis' address on that link
	conf    string
	log     string
	extra   string // extra [DEFAULT] lines
	tail    string // sections after [ovnbgp] (service VIPs)
	speaker string // frr (default) or gobgp
	tenants bool   // expose_tenant_networks
	agent   *exec.Cmd
	waitErr chan error
}

// cloud is the lab of the agent tests: central, a ToR (FRR, AS 65000), an
// external host 198.51.100.10, an underlay switch, and chassis.
type cloud struct {
	l       *lab.Lab
	central *lab.Central
	neutron *lab.Neutron       // the NB builders
	srv     *lab.NeutronServer // newNeutronCloud only: the real Neutron
	api     *lab.NeutronAPI    // and its API client
	tor     *lab.NetNS
	torFRR  *lab.FRR
	ext     *lab.NetNS
	ul      *lab.NetNS
	nodes   map[string]*node
	names   []string
}

type nodeSpec struct {
	name    string
	gateway bool
	extra   string
	tail    string // sections after [ovnbgp]
	speaker string // "" = frr
}

// newCloud builds the cloud with its own OVN central, written by test/lab's
// builders (c.neutron).
func newCloud(t *testing.T, specs ...nodeSpec) *cloud { return newCloudOf(t, false, specs...) }

// newNeutronCloud builds the cloud on the package's real neutron-server
// (lab.SharedNeutron) and its central: the workload is created through
// Neutron's API (c.api), the chassis register in the shared SB and are
// removed from it when the test ends (after their ovn-controller stopped).
func newNeutronCloud(t *testing.T, specs ...nodeSpec) *cloud { return newCloudOf(t, true, specs...) }

func newCloudOf(t *testing.T, real bool, specs ...nodeSpec) *cloud {
	t.Helper()
	var srv *lab.NeutronServer
	if real {
		srv = lab.SharedNeutron(t)
		// Registered before lab.New, so it runs after the lab's teardown.
		t.Cleanup(func() {
			if srv.Lab().Kept() {
				return // make demo: the chassis keep running
			}
			for _, s := range specs {
				srv.Central.SBCtl("--if-exists", "chassis-del", s.name)
			}
		})
	}
	c := &cloud{l: lab.New(t), nodes: map[string]*node{}, srv: srv}
	if real {
		c.central, c.api = srv.Central, srv.API(t)
	} else {
		c.central = c.l.StartCentral()
	}
	c.neutron = c.central.Neutron()
	c.tor = c.l.NetNS("tor", true)
	c.ext = c.l.NetNS("ext", false)
	c.ul = c.l.NetNS("ul", false)
	c.ul.IP("link", "add", "sw", "type", "bridge")
	c.ul.IP("link", "set", "sw", "up")
	c.l.Veth(c.tor, "tor-ext", []string{"198.51.100.1/24", "2001:db8:100::1/64"}, c.ext, "ext-tor", []string{"198.51.100.10/24", "2001:db8:100::10/64"})
	c.ext.IP("route", "add", "default", "via", "198.51.100.1")
	c.ext.IP("-6", "route", "add", "default", "via", "2001:db8:100::1")
	var torNeighbors strings.Builder
	for i, s := range specs {
		n := &node{idx: i + 1, torIP: fmt.Sprintf("10.0.%d.1", i+1), ip: fmt.Sprintf("10.0.%d.2", i+1), extra: s.extra, tail: s.tail,
			speaker: s.speaker, tenants: true}
		if n.speaker == "" {
			n.speaker = "frr"
		}
		n.ch = c.l.AddChassis(c.central, s.name, lab.ChassisOptions{EncapIP: fmt.Sprintf("192.0.2.%d", i+1), Gateway: s.gateway})
		// Underlay: br-ul of every chassis on one switch.
		c.l.Veth(n.ch.NS, s.name+"-ul", nil, c.ul, "ul-"+s.name, nil)
		c.ul.IP("link", "set", "ul-"+s.name, "master", "sw")
		n.ch.VSCtl("add-port", "br-ul", s.name+"-ul")
		c.l.Veth(c.tor, "tor-"+s.name, []string{n.torIP + "/30", fmt.Sprintf("fd00:%d::1/64", n.idx)},
			n.ch.NS, s.name+"-tor", []string{n.ip + "/30", fmt.Sprintf("fd00:%d::2/64", n.idx)})
		fmt.Fprintf(&torNeighbors, " neighbor %s peer-group chassis\n neighbor fd00:%d::2 peer-group chassis6\n", n.ip, n.idx)
		c.nodes[s.name] = n
		c.names = append(c.names, s.name)
	}
	c.torFRR = c.l.StartFRR(c.tor, `hostname tor
router bgp 65000
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 neighbor chassis peer-group
 neighbor chassis remote-as 64999
 neighbor chassis6 peer-group
 neighbor chassis6 remote-as 64999
`+torNeighbors.String()+` address-family ipv4 unicast
  redistribute connected
  neighbor chassis default-originate
  no neighbor chassis6 activate
  maximum-paths 8
 exit-address-family
 address-family ipv6 unicast
  redistribute connected
  neighbor chassis6 activate
  neighbor chassis6 default-originate
  maximum-paths 8
 exit-address-family
exit
`)
	for _, name := range c.names {
		n := c.nodes[name]
		n.frr = c.l.StartFRR(n.ch.NS, "hostname "+name+"\n")
	}
	return c
}

// config writes the chassis' bgp-agent.conf: upstream options, the `table`
// announce method (the host kernel has no vrf/dummy), FRR under the lab's
// pathspace, the ToR as peer.
func (c *cloud) config(n *node) string {
	return fmt.Sprintf(`[DEFAULT]
driver = ovn_bgp_driver
ovsdb_connection = %s
bgp_AS = 64999
bgp_router_id = %s
expose_tenant_networks = %t
reconcile_interval = 60
debug = True
%s
[ovnbgp]
announce_method = table
speaker = %s
gobgp_listen_port = -1
frr_pathspace = %s
peers = %s:65000, [fd00:%d::1]:65000
bfd = false
metrics_address = 127.0.0.1:9469
state_dir = %s
%s`, n.ch.OVS.Remote(), n.ip, n.tenants, n.extra, n.speaker, n.frr.Pathspace, n.torIP, n.idx, c.l.Subdir(n.ch.Name, "state"), n.tail)
}

// startAgent runs the agent in the chassis namespace.
func (c *cloud) startAgent(name string) {
	t := c.l.T
	t.Helper()
	n := c.nodes[name]
	n.conf = filepath.Join(c.l.Subdir(name), "bgp-agent.conf")
	if err := os.WriteFile(n.conf, []byte(c.config(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	n.log = filepath.Join(c.l.Subdir(name), "ovnbgp.log")
	lf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", n.ch.NS.Name, agentBinary(t), "agent", "--config-file", n.conf)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+c.l.Subdir(name, "ovs"))
	cmd.Stdout, cmd.Stderr = lf, lf
	// Its own session, output to a file and stdin /dev/null: a kept lab
	// (make demo) keeps the agent running after the test process exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(c.l.Dir, "ovnbgp-"+name+".pid"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644)
	n.agent = cmd
	n.waitErr = make(chan error, 1)
	go func() { n.waitErr <- cmd.Wait(); lf.Close() }()
	t.Cleanup(func() {
		if !c.l.Kept() {
			c.stopAgent(name, syscall.SIGKILL)
		}
	})
}

// stopAgent signals the agent and waits for it.
func (c *cloud) stopAgent(name string, sig syscall.Signal) {
	n := c.nodes[name]
	if n.agent == nil {
		return
	}
	_ = syscall.Kill(-n.agent.Process.Pid, sig)
	select {
	case <-n.waitErr:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-n.agent.Process.Pid, syscall.SIGKILL)
		<-n.waitErr
	}
	n.agent = nil
}

// dumpLogs prints the agents' logs when the test failed.
func (c *cloud) dumpLogs() {
	t := c.l.T
	if !t.Failed() {
		return
	}
	for _, name := range c.names {
		b, _ := os.ReadFile(c.nodes[name].log)
		if len(b) > 20000 {
			b = b[len(b)-20000:]
		}
		t.Logf("=== ovnbgp log of %s (tail):\n%s", name, b)
		n := c.nodes[name]
		if n.conf != "" {
			out, _ := n.ch.NS.Try(agentBinary(t), "plan", "--config-file", n.conf, "--timeout", "20s")
			t.Logf("=== ovnbgp plan on %s:\n%s", name, out)
		}
		var diag []string
		for _, args := range [][]string{{"ip", "-br", "link"}, {"ip", "rule"}, {"ip", "-6", "rule"},
			{"ip", "route", "show", "table", "all", "proto", "201"}, {"ip", "-6", "route", "show", "table", "all", "proto", "201"},
			{"vtysh", "-N", n.frr.Pathspace, "-c", "show running-config"}} {
			out, _ := n.ch.NS.Try(args[0], args[1:]...)
			diag = append(diag, "$ "+strings.Join(args, " ")+"\n"+out)
		}
		diag = append(diag, "$ ovs-ofctl dump-flows br-ex\n"+n.ch.OFCtl("dump-flows", "br-ex"))
		t.Logf("=== host state of %s:\n%s", name, strings.Join(diag, "\n"))
	}
	for _, cmd := range []string{"show bgp ipv4 unicast", "show bgp ipv6 unicast", "show bgp summary"} {
		out, _ := c.torFRR.TryVtysh(cmd)
		t.Logf("=== ToR: %s\n%s", cmd, out)
	}
}

// torNextHops returns the chassis the ToR's kernel routes prefix to, by
// the link the next hop is on (each chassis has its own link "tor-<name>";
// IPv6 next hops are link-local).
func (c *cloud) torNextHops(prefix string) []string {
	fam := "-4"
	if strings.Contains(prefix, ":") {
		fam = "-6"
	}
	out, err := c.tor.Try("ip", "-j", fam, "route", "show", prefix)
	if err != nil || out == "" {
		return nil
	}
	var routes []struct {
		Dev      string `json:"dev"`
		Nexthops []struct {
			Dev string `json:"dev"`
		} `json:"nexthops"`
	}
	if json.Unmarshal([]byte(out), &routes) != nil {
		return nil
	}
	var hops []string
	for _, r := range routes {
		if r.Dev != "" {
			hops = append(hops, strings.TrimPrefix(r.Dev, "tor-"))
		}
		for _, h := range r.Nexthops {
			hops = append(hops, strings.TrimPrefix(h.Dev, "tor-"))
		}
	}
	return hops
}

// waitAnnounced waits until the ToR routes prefix only to the given chassis.
func (c *cloud) waitAnnounced(prefix string, via ...string) time.Duration {
	return c.l.Eventually(30*time.Second, fmt.Sprintf("%s routed by the ToR via %v", prefix, via), func() bool {
		return sameSet(c.torNextHops(prefix), via)
	})
}

// waitGone waits until the ToR has no route for prefix.
func (c *cloud) waitGone(prefix string) time.Duration {
	return c.l.Eventually(30*time.Second, prefix+" withdrawn at the ToR", func() bool {
		return len(c.torNextHops(prefix)) == 0
	})
}

func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[string]int{}
	for _, g := range got {
		m[g]++
	}
	for _, w := range want {
		if m[w] == 0 {
			return false
		}
		m[w]--
	}
	return true
}

// pingTTL pings dst from ns until it answers and returns the reply's TTL.
func pingTTL(l *lab.Lab, ns *lab.NetNS, dst string) int {
	var ttl int
	l.Eventually(20*time.Second, "ping "+ns.Name+" -> "+dst, func() bool {
		var err error
		ttl, err = ns.Ping(dst)
		return err == nil
	})
	return ttl
}

// agentStatus runs `ovnbgp status -o json` in the chassis namespace.
func (c *cloud) agentStatus(name string) (map[string]any, error) {
	n := c.nodes[name]
	out, err := n.ch.NS.Try(agentBinary(c.l.T), "status", "--address", "127.0.0.1:9469", "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader([]byte(out))).Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
