//go:build vmlab

package evpn

import (
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

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// icmpInEchos is the echo requests a namespace's kernel received: which
// VM answered a ping.
func icmpInEchos(t *testing.T, ns *lab.NetNS) int {
	t.Helper()
	out := ns.Exec("cat", "/proc/net/snmp")
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "Icmp:" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		for i, n := range names {
			if n == "InEchos" {
				v, _ := strconv.Atoi(f[i+1])
				return v
			}
		}
	}
	t.Fatalf("no Icmp InEchos in /proc/net/snmp of %s", ns.Name)
	return 0
}

type evpnRoute struct {
	Prefix string
	RD     string
	RTs    []string
}

// typeFive reads `show bgp l2vpn evpn route type prefix json` at the ToR:
// every type-5 route with its RD and route targets.
func typeFive(t *testing.T, f *lab.FRR) []evpnRoute {
	t.Helper()
	var m map[string]json.RawMessage
	if err := f.VtyshJSON("show bgp l2vpn evpn route type prefix json", &m); err != nil {
		t.Logf("type-5 json: %v", err)
		return nil
	}
	var out []evpnRoute
	for rd, raw := range m {
		if !strings.Contains(rd, ":") {
			continue // numPrefix, numPaths
		}
		var byPrefix map[string]json.RawMessage
		if json.Unmarshal(raw, &byPrefix) != nil {
			continue
		}
		for key, praw := range byPrefix {
			if key == "rd" {
				continue
			}
			var p struct {
				Paths [][]struct {
					ExtendedCommunity struct {
						String string `json:"string"`
					} `json:"extendedCommunity"`
					IP     string `json:"ip"`
					IPLen  int    `json:"ipLen"`
					Prefix string `json:"prefix"`
				} `json:"paths"`
			}
			if json.Unmarshal(praw, &p) != nil {
				continue
			}
			for _, alt := range p.Paths {
				for _, path := range alt {
					r := evpnRoute{Prefix: key, RD: rd}
					for _, c := range strings.Fields(path.ExtendedCommunity.String) {
						if v, ok := strings.CutPrefix(c, "RT:"); ok {
							r.RTs = append(r.RTs, v)
						}
					}
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// find returns the routes whose key mentions prefix and rd.
func find(rs []evpnRoute, prefix, rd string) []evpnRoute {
	var out []evpnRoute
	for _, r := range rs {
		if r.RD == rd && strings.Contains(r.Prefix, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// updatesRecv is how many UPDATEs the ToR received from the chassis.
func updatesRecv(t *testing.T, f *lab.FRR, peer string) int {
	t.Helper()
	var m map[string]struct {
		MessageStats struct {
			UpdatesRecv int `json:"updatesRecv"`
		} `json:"messageStats"`
	}
	if err := f.VtyshJSON("show bgp neighbors "+peer+" json", &m); err != nil {
		t.Fatalf("neighbors json: %v", err)
	}
	return m[peer].MessageStats.UpdatesRecv
}

// TestVMEVPNTwoTenants is issue 17's proof: two tenant networks, both
// 10.0.0.0/24 with a VM at 10.0.0.5, behind VNIs 100 and 2000 on one
// chassis; a ToR running FRR with l2vpn evpn / advertise-all-vni, a VRF
// per tenant with the same VNI, and a host in each ToR VRF.
// torVRF makes the ToR's L3VNI: VRF vrf (table) with bridge br-<vni> and
// VXLAN device vxlan-<vni> from the ToR's 10.0.1.1.
func torVRF(tor *lab.NetNS, vrf string, table, vni int) {
	tor.IP("link", "add", vrf, "type", "vrf", "table", fmt.Sprint(table))
	tor.IP("link", "set", vrf, "up")
	br, vx := fmt.Sprintf("br-%d", vni), fmt.Sprintf("vxlan-%d", vni)
	tor.IP("link", "add", br, "type", "bridge")
	tor.IP("link", "set", br, "master", vrf)
	tor.IP("link", "set", br, "addrgenmode", "none")
	tor.IP("link", "set", br, "up")
	tor.IP("link", "add", vx, "type", "vxlan", "id", fmt.Sprint(vni), "local", "10.0.1.1", "dstport", "4789", "nolearning")
	tor.IP("link", "set", vx, "master", br)
	tor.IP("link", "set", vx, "up")
}

// restartQuiet SIGKILLs and restarts the agent and checks that the ToR
// received no UPDATE from the chassis by 5 s after its first full pass.
func restartQuiet(t *testing.T, l *lab.Lab, torFRR *lab.FRR, logPath string, start, kill func()) {
	t.Helper()
	fulls := func() int { b, _ := os.ReadFile(logPath); return strings.Count(string(b), "full reconcile") }
	u0, f0 := updatesRecv(t, torFRR, "10.0.1.2"), fulls()
	kill()
	start()
	l.Eventually(90*time.Second, "the restarted agent's first full pass", func() bool { return fulls() > f0 })
	time.Sleep(5 * time.Second)
	if u1 := updatesRecv(t, torFRR, "10.0.1.2"); u1 != u0 {
		t.Errorf("the restart sent %d UPDATEs to the ToR, want 0", u1-u0)
	}
}

// agentProc returns how to start the agent in chassis ch's namespace with
// config conf (its output appended to logPath) and to SIGKILL it (also run
// at cleanup).
func agentProc(t *testing.T, l *lab.Lab, ch *lab.Chassis, conf, logPath string) (start, kill func()) {
	var agent *exec.Cmd
	var waitErr chan error
	start = func() {
		lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		agent = exec.Command("ip", "netns", "exec", ch.NS.Name, lab.AgentBin(t), "agent", "--config-file", conf)
		agent.Env = append(os.Environ(), "OVS_RUNDIR="+l.Subdir(ch.Name, "ovs"))
		agent.Stdout, agent.Stderr = lf, lf
		agent.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		waitErr = make(chan error, 1)
		go func(c *exec.Cmd) { waitErr <- c.Wait(); lf.Close() }(agent)
	}
	kill = func() {
		if agent == nil {
			return
		}
		_ = syscall.Kill(-agent.Process.Pid, syscall.SIGKILL)
		<-waitErr
		agent = nil
	}
	t.Cleanup(kill)
	return start, kill
}

func TestVMEVPNTwoTenants(t *testing.T) {
	// The lab's userspace OVS bridges are tap devices: the guest loads
	// tun only on request.
	if out, err := exec.Command("modprobe", "tun").CombinedOutput(); err != nil {
		t.Fatalf("modprobe tun: %v: %s", err, out)
	}
	l := lab.New(t)
	central := l.StartCentral()
	nt := central.Neutron()
	ch := l.AddChassis(central, "c1", lab.ChassisOptions{EncapIP: "192.0.2.1"})
	tor := l.NetNS("tor", true)
	// The one BGP session and the VXLAN underlay: ToR 10.0.1.1, chassis
	// 10.0.1.2 (its evpn_local_ip).
	l.Veth(tor, "tor-c1", []string{"10.0.1.1/30"}, ch.NS, "c1-tor", []string{"10.0.1.2/30"})
	ch.NS.Sysctl("net.ipv4.ip_forward", "1")

	// ToR: vrf-a (VNI 100) with host ha 192.168.10.10, vrf-b (VNI 2000)
	// with host hb 192.168.20.10.
	type tenant struct {
		name, hostNet, hostIP string
		vni                   int
		host                  *lab.NetNS
	}
	tenants := []*tenant{{name: "a", hostNet: "192.168.10", vni: 100}, {name: "b", hostNet: "192.168.20", vni: 2000}}
	for i, tn := range tenants {
		vrf := "vrf-" + tn.name
		torVRF(tor, vrf, 10+i, tn.vni)
		tn.host = l.NetNS("h"+tn.name, false)
		tn.hostIP = tn.hostNet + ".10"
		l.Veth(tor, "tor-h"+tn.name, []string{tn.hostNet + ".1/24"}, tn.host, "eth0", []string{tn.hostIP + "/24"})
		tor.IP("link", "set", "tor-h"+tn.name, "master", vrf)
		tn.host.IP("route", "add", "default", "via", tn.hostNet+".1")
	}
	torFRR := l.StartFRR(tor, `hostname tor
vrf vrf-a
 vni 100
exit-vrf
vrf vrf-b
 vni 2000
exit-vrf
router bgp 65000
 bgp router-id 10.0.1.1
 no bgp ebgp-requires-policy
 neighbor 10.0.1.2 remote-as 64999
 neighbor 10.0.1.2 timers connect 2
 address-family l2vpn evpn
  neighbor 10.0.1.2 activate
  advertise-all-vni
 exit-address-family
exit
router bgp 65000 vrf vrf-a
 address-family ipv4 unicast
  redistribute connected
 exit-address-family
 address-family l2vpn evpn
  advertise ipv4 unicast
 exit-address-family
exit
router bgp 65000 vrf vrf-b
 address-family ipv4 unicast
  redistribute connected
 exit-address-family
 address-family l2vpn evpn
  advertise ipv4 unicast
 exit-address-family
exit
`)
	chFRR := l.StartFRR(ch.NS, "hostname c1\n")

	// The two tenant provider networks, VLANs 101 and 102 on physnet1,
	// both 10.0.0.0/24, a VM at 10.0.0.5 on each, bound to c1. Tenant a
	// uses the default RD and rt (import and export); tenant b an RD and
	// separate import/export lists.
	nets := map[string]*lab.Network{}
	vms := map[string]*lab.VM{}
	for i, tn := range tenants {
		n := nt.ProviderNetwork("t"+tn.name, "physnet1", 101+i)
		nets[tn.name] = n
		keys := []string{`external_ids:"neutron_bgpvpn:type"=l3`, fmt.Sprintf(`external_ids:"neutron_bgpvpn:vni"=%d`, tn.vni)}
		if tn.name == "a" {
			keys = append(keys, `external_ids:"neutron_bgpvpn:rt"="['65000:100']"`)
		} else {
			keys = append(keys, `external_ids:"neutron_bgpvpn:it"="['65000:2000']"`, `external_ids:"neutron_bgpvpn:et"="['65000:2000']"`,
				`external_ids:"neutron_bgpvpn:rd"="['64999:2000']"`)
		}
		central.NBCtl(append([]string{"set", "Logical_Switch", n.LS}, keys...)...)
		mac := fmt.Sprintf("fa:16:3e:00:0%d:05", i+1)
		p := nt.Port(n, mac, []string{"10.0.0.5/24"}, lab.PortOptions{Host: "c1"})
		vm := l.AddVM(central, ch, p.ID, mac, []string{"10.0.0.5/24"}, nil)
		// No gateway address in the tenant VRF: the VM's route to the
		// hosts is on-link and the VLAN device's proxy ARP answers for
		// what its VRF routes.
		vm.NS.IP("route", "add", "192.168.0.0/16", "dev", "eth0")
		vms[tn.name] = vm
	}

	conf := filepath.Join(l.Subdir("c1"), "bgp-agent.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[DEFAULT]
driver = nb_ovn_bgp_driver
exposing_method = vrf
evpn_local_ip = 10.0.1.2
ovsdb_connection = %s
bgp_AS = 64999
bgp_router_id = 10.0.1.2
reconcile_interval = 60
debug = True
[ovn]
ovn_nb_connection = %s
[ovnbgp]
speaker = frr
frr_pathspace = %s
peers = 10.0.1.1:65000
bfd = false
metrics_address = 127.0.0.1:9469
state_dir = %s
`, ch.OVS.Remote(), central.NBRemote(), chFRR.Pathspace, l.Subdir("c1", "state"))), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(l.Subdir("c1"), "ovnbgp.log")
	start, kill := agentProc(t, l, ch, conf, logPath)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("agent log:\n%s", b)
			t.Logf("c1 running-config:\n%s", chFRR.Vtysh("show running-config"))
			t.Logf("c1 links:\n%s", ch.NS.IP("-d", "link", "show"))
			for _, tb := range []string{"100", "2000"} {
				t.Logf("c1 table %s:\n%s", tb, ch.NS.IP("route", "show", "table", tb))
			}
			t.Logf("tor evpn:\n%s", torFRR.Vtysh("show bgp l2vpn evpn"))
			t.Logf("tor vrf-a routes:\n%s", tor.IP("route", "show", "vrf", "vrf-a"))
		}
	})
	start()

	// One session carries both tenants.
	l.Eventually(120*time.Second, "the BGP session", func() bool { return torFRR.Established() == 1 })
	rdA, rdB := "10.0.1.2:100", "64999:2000"
	var routes []evpnRoute
	took := l.Eventually(180*time.Second, "both tenants' type-5 routes at the ToR", func() bool {
		routes = typeFive(t, torFRR)
		return len(find(routes, "10.0.0.5", rdA)) > 0 && len(find(routes, "10.0.0.5", rdB)) > 0
	})
	t.Logf("type-5 routes of both tenants at the ToR %s after the agent started: %+v", took.Round(time.Millisecond), routes)
	for _, c := range []struct{ rd, rt string }{{rdA, "65000:100"}, {rdB, "65000:2000"}} {
		for _, r := range find(routes, "10.0.0.5", c.rd) {
			if len(r.RTs) != 1 || r.RTs[0] != c.rt {
				t.Errorf("type-5 %s rd %s: route targets %v, want [%s]", r.Prefix, r.RD, r.RTs, c.rt)
			}
		}
	}
	// The chassis announces the VMs only: none of its own addresses (the
	// link addresses of the VLAN devices must not be in the tenant VRFs).
	for _, r := range routes {
		if (r.RD == rdA || r.RD == rdB) && !strings.HasSuffix(r.Prefix, "[10.0.0.5]") {
			t.Errorf("the chassis announces %s (rd %s) to a tenant", r.Prefix, r.RD)
		}
	}
	if n := torFRR.Established(); n != 1 {
		t.Errorf("%d BGP sessions at the ToR, want exactly one", n)
	}

	// Each ToR host reaches its own tenant's VM, and only that one.
	for _, tn := range tenants {
		other := tenants[0]
		if other == tn {
			other = tenants[1]
		}
		before, beforeOther := icmpInEchos(t, vms[tn.name].NS), icmpInEchos(t, vms[other.name].NS)
		l.Eventually(60*time.Second, "h"+tn.name+" pings its 10.0.0.5", func() bool {
			_, err := tn.host.Ping("10.0.0.5")
			return err == nil
		})
		for range 3 {
			if _, err := tn.host.Ping("10.0.0.5"); err != nil {
				t.Errorf("h%s -> 10.0.0.5: %v", tn.name, err)
			}
		}
		got, gotOther := icmpInEchos(t, vms[tn.name].NS)-before, icmpInEchos(t, vms[other.name].NS)-beforeOther
		if got < 3 || gotOther != 0 {
			t.Errorf("h%s's pings: VM of %s got %d echo requests, VM of %s got %d; want >= 3 and 0", tn.name, tn.name, got, other.name, gotOther)
		}
		t.Logf("h%s -> 10.0.0.5: answered by the VM of tenant %s (%d echo requests), the other VM got %d", tn.name, tn.name, got, gotOther)
		// Neither reaches the other tenant's host.
		if _, err := tn.host.Ping(other.hostIP); err == nil {
			t.Errorf("h%s reaches h%s (%s) across tenants", tn.name, other.name, other.hostIP)
		}
		if _, err := vms[tn.name].NS.Ping(other.hostIP); err == nil {
			t.Errorf("the VM of %s reaches h%s", tn.name, other.name)
		}
	}

	// SIGKILL and restart: zero UPDATEs at the ToR.
	restartQuiet(t, l, torFRR, logPath, start, kill)

	// VNI 2000 removed: its type-5 routes withdrawn, its kernel objects
	// and FRR instance gone; tenant a untouched.
	central.NBCtl("remove", "Logical_Switch", nets["b"].LS, "external_ids", `"neutron_bgpvpn:type"`, `"neutron_bgpvpn:vni"`,
		`"neutron_bgpvpn:it"`, `"neutron_bgpvpn:et"`, `"neutron_bgpvpn:rd"`)
	l.Eventually(120*time.Second, "tenant b's type-5 route withdrawn", func() bool {
		return len(find(typeFive(t, torFRR), "10.0.0.5", rdB)) == 0
	})
	l.Eventually(60*time.Second, "vrf-2000, br-2000, vxlan-2000 deleted", func() bool {
		for _, dev := range []string{"vrf-2000", "br-2000", "vxlan-2000"} {
			if _, err := ch.NS.Try("ip", "link", "show", dev); err == nil {
				return false
			}
		}
		return true
	})
	if rc := chFRR.Vtysh("show running-config"); strings.Contains(rc, "vrf vrf-2000") && strings.Contains(rc, "router bgp 64999 vrf vrf-2000") {
		t.Errorf("FRR still has the instance of vrf-2000:\n%s", rc)
	}
	if len(find(typeFive(t, torFRR), "10.0.0.5", rdA)) == 0 {
		t.Error("tenant a's route went with tenant b's VNI")
	}
	if _, err := tenants[0].host.Ping("10.0.0.5"); err != nil {
		t.Errorf("ha lost its VM when VNI 2000 went: %v", err)
	}
}
