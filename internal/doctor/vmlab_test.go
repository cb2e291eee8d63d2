//go:build vmlab

package doctor

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// These tests need a full Debian kernel (vrf, dummy, 8021q): they run in
// the QEMU guests (scripts/test-vm.sh), whose stock kernels have them; the
// host lab's TestDoctor (test/e2e) sees this host's kernel without them.

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func level(t *testing.T, rs []Result, check string) Level {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r.Level
		}
	}
	t.Fatalf("no %s result in %+v", check, rs)
	return 0
}

// TestVMDoctorKernel: with announce_method = connected, the kernel checks
// pass on a kernel that has vrf, dummy and 8021q; an existing bgp_nic that
// is not a dummy and a bgp_vrf on another table fail (the agent refuses
// both); a VRF on the right table is adopted.
func TestVMDoctorKernel(t *testing.T) {
	cfg := config.Default()
	cfg.OVNBGP.AnnounceMethod = config.AnnounceConnected
	cfg.BGPNic, cfg.BGPVRF, cfg.BGPVRFTableID = "docnic", "docvrf", 10
	e := &Env{Config: cfg}
	run := func() []Result { return checkKernel(context.Background(), e) }

	rs := run()
	for _, c := range []string{"kernel/vrf", "kernel/dummy", "kernel/8021q", "kernel/rules", "kernel/bgp_vrf", "kernel/bgp_nic"} {
		if l := level(t, rs, c); l != OK {
			t.Errorf("%s: %s on a full Debian kernel: %+v", c, l, rs)
		}
	}
	if !CanStart(rs) {
		t.Fatalf("kernel checks fail on a full kernel: %+v", rs)
	}

	sh(t, "ip", "link", "add", "docnic", "type", "bridge")
	defer exec.Command("ip", "link", "del", "docnic").Run()
	sh(t, "ip", "link", "add", "docvrf", "type", "vrf", "table", "11")
	defer exec.Command("ip", "link", "del", "docvrf").Run()
	rs = run()
	if level(t, rs, "kernel/bgp_nic") != Fail || level(t, rs, "kernel/bgp_vrf") != Fail || CanStart(rs) {
		t.Fatalf("a bridge as bgp_nic and a VRF on table 11 must fail: %+v", rs)
	}

	sh(t, "ip", "link", "del", "docnic")
	sh(t, "ip", "link", "add", "name", "docnic", "type", "dummy")
	sh(t, "ip", "link", "del", "docvrf")
	sh(t, "ip", "link", "add", "docvrf", "type", "vrf", "table", "10")
	rs = run()
	if level(t, rs, "kernel/bgp_nic") != OK || level(t, rs, "kernel/bgp_vrf") != OK || !CanStart(rs) {
		t.Fatalf("a dummy bgp_nic and a VRF on table 10 are adopted: %+v", rs)
	}
}
