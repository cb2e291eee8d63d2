package doctor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// moduleState says how the running kernel provides a module: "loaded"
// (/sys/module/<name>), "built in" (modules.builtin), "available"
// (modules.dep: the kernel loads it on first use, e.g. when the agent
// creates the first link of that kind), or "" (not at all).
func moduleState(name string) string {
	if exists(filepath.Join("/sys/module", name)) {
		return "loaded"
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	dir := filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	if listsModule(filepath.Join(dir, "modules.builtin"), name) {
		return "built in"
	}
	if listsModule(filepath.Join(dir, "modules.dep"), name) {
		return "available"
	}
	return ""
}

// listsModule tells whether a modules.builtin or modules.dep file lists
// <name>.ko (compressed or not) as a module of its own.
func listsModule(file, name string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path, _, _ := strings.Cut(sc.Text(), ":")
		base := filepath.Base(path)
		for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
			if base == name+ext {
				return true
			}
		}
	}
	return false
}

// kernelFeature is one module the configuration may need.
type kernelFeature struct {
	module, what string
	needed       bool // the agent cannot work without it
}

// checkKernel: the link types of the announce method (connected: a vrf
// and a dummy device; table: policy routing only), 802.1Q for VLAN
// provider networks, and existing devices of the wrong kind.
func checkKernel(_ context.Context, e *Env) []Result {
	cfg := e.Config
	connected := cfg.OVNBGP.AnnounceMethod == config.AnnounceConnected
	features := []kernelFeature{
		{"vrf", "the " + cfg.BGPVRF + " VRF of announce_method = connected", connected},
		{"dummy", "the " + cfg.BGPNic + " dummy device of announce_method = connected", connected},
		{"8021q", "VLAN provider networks (the <bridge>.<tag> devices)", false},
	}
	var out []Result
	for _, f := range features {
		name := "kernel/" + f.module
		st := moduleState(f.module)
		switch {
		case st != "":
			out = append(out, ok(name, fmt.Sprintf("%s: %s", f.what, st)))
		case f.needed:
			out = append(out, fail(name, fmt.Sprintf("%s needs the %s kernel module, which this kernel (%s) has neither loaded, built in nor installed", f.what, f.module, release()),
				"boot a kernel with it (Debian's linux-image-amd64 has it; install the kernel's modules package), or set [ovnbgp] announce_method = table, which needs neither vrf nor dummy"))
		case !connected && f.module != "8021q":
			out = append(out, ok(name, fmt.Sprintf("not needed with announce_method = %s (the kernel lacks it)", cfg.OVNBGP.AnnounceMethod)))
		default:
			out = append(out, warn(name, fmt.Sprintf("%s need the %s kernel module, which this kernel (%s) lacks: a VLAN provider network is not served", f.what, f.module, release()),
				"boot a kernel with 802.1Q support (CONFIG_VLAN_8021Q), or use flat provider networks only"))
		}
	}
	if connected {
		out = append(out, existingLink(cfg.BGPVRF, "vrf", "bgp_vrf", cfg.BGPVRFTableID))
		out = append(out, existingLink(cfg.BGPNic, "dummy", "bgp_nic", 0))
	}
	if _, err := netlink.RuleList(netlink.FAMILY_V4); err != nil {
		out = append(out, fail("kernel/rules", fmt.Sprintf("cannot list ip rules: %v", err),
			"the agent routes provider traffic with policy routing (CONFIG_IP_MULTIPLE_TABLES): boot a kernel with it"))
	} else {
		out = append(out, ok("kernel/rules", "policy routing (ip rule) available"))
	}
	if err := unix.Access("/etc/iproute2", unix.W_OK); err != nil && !os.IsNotExist(err) {
		out = append(out, warn("kernel/rt_tables", fmt.Sprintf("/etc/iproute2 is not writable (%v): the agent cannot name its routing tables in rt_tables.d/ovnbgp.conf (routing works, `ip route show table br-ex` does not)", err),
			"make /etc/iproute2 writable for the agent"))
	}
	return out
}

// existingLink: a device the agent would adopt must be of the kind it
// creates (a VRF on bgp_vrf_table_id); the agent refuses any other
// (bgp_nic = eth1 by mistake).
func existingLink(name, kind, option string, table int) Result {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return ok("kernel/"+option, fmt.Sprintf("%s does not exist yet; the agent creates it (%s)", name, kind))
	}
	if l.Type() != kind {
		return fail("kernel/"+option, fmt.Sprintf("%s = %s exists and is a %s device, not a %s: the agent refuses to use it", option, name, l.Type(), kind),
			fmt.Sprintf("set [DEFAULT] %s to a name no other device uses", option))
	}
	if v, isVRF := l.(*netlink.Vrf); isVRF && int(v.Table) != table {
		return fail("kernel/"+option, fmt.Sprintf("VRF %s exists on table %d, not bgp_vrf_table_id %d: the agent refuses to use it", name, v.Table, table),
			fmt.Sprintf("set [DEFAULT] bgp_vrf_table_id = %d, or another bgp_vrf", v.Table))
	}
	return ok("kernel/"+option, fmt.Sprintf("%s exists (%s); the agent adopts it", name, kind))
}

func release() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}
