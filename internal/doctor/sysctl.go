package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// checkSysctls: forwarding (the agent turns it on when it wires the host;
// off now means nothing else keeps it on, and a `sysctl --system` with a
// file saying 0 would turn it off behind the agent), that /proc/sys/net is
// writable (a container with a read-only /proc/sys cannot run the agent)
// and IPv6 (disabled: IPv6 prefixes cannot be wired).
func checkSysctls(_ context.Context, e *Env) []Result {
	var out []Result
	for _, s := range []struct{ key, what string }{
		{"net/ipv4/ip_forward", "IPv4 forwarding"},
		{"net/ipv6/conf/all/forwarding", "IPv6 forwarding"},
	} {
		name := "sysctl/" + strings.ReplaceAll(s.key, "/", ".")
		p := filepath.Join(e.Proc, "sys", s.key)
		v, err := os.ReadFile(p)
		if err != nil {
			out = append(out, fail(name, fmt.Sprintf("cannot read %s: %v", p, err), "the agent needs /proc/sys/net of its network namespace"))
			continue
		}
		if err := unix.Access(p, unix.W_OK); err != nil {
			out = append(out, fail(name, fmt.Sprintf("%s is not writable (%v): the agent cannot set forwarding and the provider devices' proxy_arp/proxy_ndp", p, err),
				"run the agent where /proc/sys is writable (a privileged container, or the host)"))
			continue
		}
		if strings.TrimSpace(string(v)) != "1" {
			out = append(out, warn(name, fmt.Sprintf("%s is off; the agent turns it on when it wires the host", s.what),
				fmt.Sprintf("make it persistent: echo '%s = 1' >> /etc/sysctl.d/60-ovnbgp.conf (a sysctl.d file setting 0 would turn it off behind the agent)", strings.ReplaceAll(s.key, "/", "."))))
			continue
		}
		out = append(out, ok(name, s.what+" on"))
	}
	if v, err := os.ReadFile(filepath.Join(e.Proc, "sys/net/ipv6/conf/all/disable_ipv6")); err == nil && strings.TrimSpace(string(v)) == "1" {
		out = append(out, warn("sysctl/net.ipv6.conf.all.disable_ipv6", "IPv6 is disabled: IPv6 prefixes cannot be wired or announced",
			"sysctl -w net.ipv6.conf.all.disable_ipv6=0 (and in /etc/sysctl.d), unless the cloud has no IPv6"))
	}
	return out
}
