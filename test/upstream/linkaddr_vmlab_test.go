//go:build vmlab && upstream

package upstream

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/linux"
)

func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestUpstreamInstalled: the guest runs the upstream release the
// comparison is about.
func TestUpstreamInstalled(t *testing.T) {
	v := run(t, "python3", "-c", `import importlib.metadata as m; print(m.version("ovn-bgp-agent"))`)
	t.Logf("upstream ovn-bgp-agent %s", v)
	if !strings.HasPrefix(v, "4.0.") {
		t.Fatalf("ovn-bgp-agent %s, the 4.0 link address scheme is checked against 4.0.x", v)
	}
}

// TestLinkAddressesMatchUpstream runs upstream's own
// ensure_arp_ndp_enabled_for_bridge (ovn_bgp_agent.utils.linux_net, its
// privileged calls in-process: privsep client mode off, as root) on a
// dummy bridge in a namespace, for bridge indexes 1, 2 and 300, and checks
// that the addresses it puts there are exactly ovnbgp's
// LinkAddresses(link_addresses = 4.0).
func TestLinkAddressesMatchUpstream(t *testing.T) {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	ns := "ovnbgp-up-" + hex.EncodeToString(b)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, idx := range []int{1, 2, 300} {
		br := fmt.Sprintf("br-t%d", idx)
		run(t, "ip", "-n", ns, "link", "add", "name", br, "type", "dummy")
		run(t, "ip", "-n", ns, "link", "set", br, "up")
		script := fmt.Sprintf(`
import ovn_bgp_agent.privileged as p
for c in (p.default, p.ovs_vsctl_cmd, p.vtysh_cmd):
    c.set_client_mode(False)
from ovn_bgp_agent.utils import linux_net
linux_net.ensure_arp_ndp_enabled_for_bridge(%q, %d)
`, br, idx)
		run(t, "ip", "netns", "exec", ns, "python3", "-c", script)
		var got []string
		for _, fam := range []string{"-4", "-6"} {
			for _, l := range strings.Split(run(t, "ip", "-n", ns, "-o", fam, "addr", "show", "dev", br), "\n") {
				f := strings.Fields(l)
				if len(f) > 3 && !strings.HasPrefix(f[3], "fe80:") {
					got = append(got, f[3])
				}
			}
		}
		a4, a6 := linux.LinkAddresses(config.LinkAddresses40, idx, 0)
		want := []string{a4.String(), a6.String()}
		for i, g := range got {
			if p, err := netip.ParsePrefix(g); err == nil {
				got[i] = p.String()
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("bridge index %d: upstream 4.0 put %v, ovnbgp (link_addresses = 4.0) puts %v", idx, got, want)
		} else {
			t.Logf("bridge index %d: upstream and ovnbgp both %v", idx, got)
		}
	}
}
