package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vishvananda/netns"
)

// sysctl is one /proc/sys/net setting.
type sysctl struct{ path, value string }

// applySysctls writes the settings that differ from the wanted value, in
// the network namespace ns (the /proc/sys/net view depends on the netns of
// the thread that opens the file). It returns how many were written.
func applySysctls(ns netns.NsHandle, want []sysctl) (int, error) {
	sort.Slice(want, func(i, j int) bool { return want[i].path < want[j].path })
	written := 0
	var errs []error
	err := inNetns(ns, func() error {
		for _, s := range want {
			p := filepath.Join("/proc/sys", s.path)
			cur, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("sysctl %s: %w", s.path, err))
				continue
			}
			if strings.TrimSpace(string(cur)) == s.value {
				continue
			}
			if err := os.WriteFile(p, []byte(s.value), 0o644); err != nil {
				errs = append(errs, fmt.Errorf("sysctl %s=%s: %w", s.path, s.value, err))
				continue
			}
			written++
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return written, errors.Join(errs...)
}

// deviceSysctls are the settings of one provider device: answer ARP and
// NDP for what is routed through other devices, immediately.
func deviceSysctls(dev string) []sysctl {
	return []sysctl{
		{"net/ipv4/conf/" + dev + "/proxy_arp", "1"},
		{"net/ipv4/neigh/" + dev + "/proxy_delay", "0"},
		{"net/ipv6/conf/" + dev + "/proxy_ndp", "1"},
	}
}

// globalSysctls turn on forwarding.
func globalSysctls() []sysctl {
	return []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
	}
}
