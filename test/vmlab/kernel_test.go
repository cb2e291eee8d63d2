//go:build vmlab

package vmlab

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestVRFWithDummy creates the layout upstream's agent uses: a VRF with a
// dummy device enslaved, and an address on it routed in the VRF's table.
func TestVRFWithDummy(t *testing.T) {
	run(t, "ip", "link", "add", "bgp-vrf", "type", "vrf", "table", "10")
	defer exec.Command("ip", "link", "del", "bgp-vrf").Run()
	run(t, "ip", "link", "add", "name", "bgp-nic", "type", "dummy")
	defer exec.Command("ip", "link", "del", "bgp-nic").Run()
	run(t, "ip", "link", "set", "bgp-nic", "master", "bgp-vrf")
	run(t, "ip", "link", "set", "bgp-vrf", "up")
	run(t, "ip", "link", "set", "bgp-nic", "up")
	run(t, "ip", "addr", "add", "172.24.4.10/32", "dev", "bgp-nic")
	if out := run(t, "ip", "-d", "link", "show", "bgp-nic"); !strings.Contains(out, "master bgp-vrf") || !strings.Contains(out, "dummy") {
		t.Fatalf("bgp-nic is not a dummy in bgp-vrf: %s", out)
	}
	if out := run(t, "ip", "route", "show", "table", "10"); !strings.Contains(out, "172.24.4.10") {
		t.Fatalf("the address is not routed in the VRF table: %s", out)
	}
	run(t, "ip", "link", "add", "link", "bgp-nic", "name", "vl100", "type", "vlan", "id", "100")
	run(t, "ip", "link", "del", "vl100")
}

// TestOVSKernelDatapath starts ovs-vswitchd on the openvswitch kernel
// module and creates a bridge with the system datapath.
func TestOVSKernelDatapath(t *testing.T) {
	run(t, "modprobe", "openvswitch")
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.VSwitchSchema})
	run(t, "ovs-vsctl", "--db="+s.Remote(), "--no-wait", "init")
	dir := t.TempDir()
	run(t, "ovs-vswitchd", s.Remote(), "--detach", "--no-chdir", "--pidfile="+filepath.Join(dir, "vswitchd.pid"),
		"--log-file="+filepath.Join(dir, "vswitchd.log"), "--unixctl="+filepath.Join(dir, "vswitchd.ctl"))
	defer exec.Command("ovs-appctl", "-t", filepath.Join(dir, "vswitchd.ctl"), "exit").Run()
	run(t, "ovs-vsctl", "--db="+s.Remote(), "add-br", "br-ex")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := exec.Command("ovs-dpctl", "show").CombinedOutput()
		if strings.Contains(string(out), "system@ovs-system") && strings.Contains(string(out), "br-ex") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no kernel datapath with br-ex: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := run(t, "ip", "-d", "link", "show", "br-ex"); !strings.Contains(out, "openvswitch") {
		t.Fatalf("br-ex is not an openvswitch device: %s", out)
	}
}
