package plan

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// The address guard: the last word on every prefix a driver asks for,
// whatever driver. An announced prefix is also wired (`to prefix lookup
// <bridge table>` ahead of main), so a prefix that covers the host's own
// peers, its OVSDB remotes, its loopback or link-local ranges would steal
// the host's own traffic into br-ex. A refused prefix is a warning naming
// the row and a metric (ovnbgp_plan_invalid_rows_total{reason=...}); the
// rest of the contribution is served.

// rangeScope says which announcements a special-purpose range is refused
// for.
type rangeScope int

const (
	// scopeAll: refused for every kind (provider ports, FIPs, LB VIPs,
	// tenants): never a unicast destination anyone may route to a VM.
	scopeAll rangeScope = iota
	// scopeTenant: refused for tenant prefixes only (tenant subnets,
	// tenant VM and LB VIP addresses routed via a cr-lrp): not forwardable
	// or reserved by IANA, but an operator may have put it on a provider
	// network on purpose.
	scopeTenant
)

// specialRange is one row of the table of refused ranges.
type specialRange struct {
	prefix netip.Prefix
	scope  rangeScope
	name   string // the warning's reason detail
}

func sr(p string, s rangeScope, name string) specialRange {
	return specialRange{prefix: netip.MustParsePrefix(p), scope: s, name: name}
}

// OwnLinkNet6 holds ovnbgp's own IPv6 link addresses on provider bridges
// (dataplane/linux names.go; 169.254.0.0/16 holds the IPv4 ones).
var OwnLinkNet6 = netip.MustParsePrefix("fd53:d91e:400:7f17::/64")

// specialRanges is the one table of ranges ovnbgp never plans. The rows
// cite the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (iana-ipv4-special-registry, iana-ipv6-special-registry) with their
// Forwardable / Globally Reachable columns, and the multicast registries.
// Private (RFC 1918), shared (RFC 6598) and unique local (RFC 4193) space
// is deliberately absent: tenant and provider networks use it, routed in a
// private fabric. So are the documentation ranges (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20; IANA:
// forwardable False), benchmarking (198.18.0.0/15) and 6to4 relays
// (192.88.99.0/24): routing them captures nothing of the host's, and labs
// (devstack's IPv6 public range is 2001:db8::/64) use them.
var specialRanges = []specialRange{
	// IPv4.
	sr("0.0.0.0/8", scopeAll, "this network (RFC 791; IANA: forwardable False)"),
	sr("127.0.0.0/8", scopeAll, "loopback (RFC 1122; IANA: forwardable False)"),
	sr("169.254.0.0/16", scopeAll, "link local (RFC 3927; IANA: forwardable False), and ovnbgp's own link addresses on provider bridges"),
	sr("224.0.0.0/4", scopeAll, "multicast (RFC 5771)"),
	sr("240.0.0.0/4", scopeAll, "reserved (RFC 1112; IANA: forwardable False), with the limited broadcast 255.255.255.255/32 (RFC 919)"),
	sr("192.0.0.0/24", scopeTenant, "IETF protocol assignments (RFC 6890; IANA: forwardable False)"),
	// IPv6.
	sr("::/128", scopeAll, "unspecified (RFC 4291; IANA: forwardable False)"),
	sr("::1/128", scopeAll, "loopback (RFC 4291; IANA: forwardable False)"),
	sr("::ffff:0:0/96", scopeAll, "IPv4-mapped (RFC 4291; IANA: forwardable False)"),
	sr("fe80::/10", scopeAll, "link-local unicast (RFC 4291; IANA: forwardable False)"),
	sr("ff00::/8", scopeAll, "multicast (RFC 4291)"),
	{OwnLinkNet6, scopeAll, "ovnbgp's own link addresses on provider bridges"},
	sr("::/8", scopeTenant, "reserved by IETF, with the IPv4-compatible ::/96 (RFC 4291)"),
	sr("100::/64", scopeTenant, "discard-only (RFC 6666; IANA: globally reachable False)"),
	sr("2001::/23", scopeTenant, "IETF protocol assignments (RFC 2928; IANA: globally reachable False)"),
	sr("5f00::/16", scopeTenant, "segment routing SIDs (RFC 9602; IANA: globally reachable False)"),
}

// specialRange returns the first row of the table p overlaps for scope s
// (a row of scopeAll counts for every scope).
func specialRangeOf(p netip.Prefix, tenant bool) (specialRange, bool) {
	for _, r := range specialRanges {
		if r.scope == scopeTenant && !tenant {
			continue
		}
		if r.prefix.Overlaps(p) {
			return r, true
		}
	}
	return specialRange{}, false
}

// Protected is what the host must keep reaching itself, computed by the
// agent (netlink, config): no announcement may capture it.
type Protected struct {
	// Addrs: the host's own addresses (outside ovnbgp's devices), its BGP
	// peers, its OVSDB remotes. No prefix of any kind may contain one.
	Addrs []netip.Addr
	// Nets: the host's connected networks. No tenant prefix may overlap
	// one (a provider network's VM addresses legitimately lie in the
	// provider network the host may have an address on).
	Nets []netip.Prefix
}

// Guard refuses the prefixes ovnbgp must never plan. Safe for concurrent
// use; the zero of Protected protects nothing beyond the table.
type Guard struct {
	minBits4, minBits6 int
	allowed            []netip.Prefix

	mu        sync.RWMutex
	protected Protected
}

// NewGuard returns the guard of a configuration.
func NewGuard(cfg *config.Config) *Guard {
	g := &Guard{minBits4: cfg.OVNBGP.TenantMinPrefixLen4, minBits6: cfg.OVNBGP.TenantMinPrefixLen6}
	for _, s := range cfg.OVNBGP.TenantAllowedPrefixes {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			g.allowed = append(g.allowed, p.Masked())
		}
	}
	return g
}

// SetProtected replaces the protected facts; the caller re-plans when they
// changed.
func (g *Guard) SetProtected(p Protected) {
	g.mu.Lock()
	g.protected = p
	g.mu.Unlock()
}

// isTenant: the announcement is a tenant's (a tenant subnet or port, or a
// VIP routed via a cr-lrp into a tenant network).
func isTenant(a Announcement, e Exposure) bool {
	return a.Kind == KindTenantPort || a.Kind == KindTenantSubnet || e.Via.IsValid()
}

// check returns why prefix p (of a tenant, or not) must not be planned:
// a stable reason (the metric label) and a detail; ok when it may be.
func (g *Guard) check(p netip.Prefix, tenant bool) (reason, detail string, ok bool) {
	if b := unmapBits(p); b > 0 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-b)
	}
	if r, bad := specialRangeOf(p, tenant); bad {
		return "special-prefix", fmt.Sprintf("%s overlaps %s: %s", p, r.prefix, r.name), false
	}
	if tenant {
		min := g.minBits4
		if p.Addr().Is6() {
			min = g.minBits6
		}
		if p.Bits() < min {
			return "short-prefix", fmt.Sprintf("tenant prefix %s is shorter than /%d (tenant_networks_min_prefix_length_v%d)", p, min, map[bool]int{true: 6, false: 4}[p.Addr().Is6()]), false
		}
		if len(g.allowed) > 0 && !within(g.allowed, p) {
			return "prefix-not-allowed", fmt.Sprintf("tenant prefix %s is outside tenant_networks_allowed_prefixes", p), false
		}
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, a := range g.protected.Addrs {
		if p.Contains(a.Unmap()) {
			return "protected-prefix", fmt.Sprintf("%s contains %s, a host address, BGP peer or OVSDB remote", p, a), false
		}
	}
	if tenant {
		for _, n := range g.protected.Nets {
			if n.Overlaps(p) {
				return "protected-prefix", fmt.Sprintf("tenant prefix %s overlaps %s, a network connected to the host", p, n), false
			}
		}
	}
	return "", "", true
}

// unmapBits is how many bits an IPv4-mapped prefix loses when unmapped.
func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return 96
	}
	return 0
}

func within(nets []netip.Prefix, p netip.Prefix) bool {
	for _, n := range nets {
		if n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Filter drops from c every announcement the guard refuses, reporting each
// through warn with the row's table (the announcement's Port names it).
// A nil guard filters nothing.
func (g *Guard) Filter(table string, c *Contribution, warn func(table, row, reason, detail string)) {
	if g == nil || len(c.Announcements) == 0 {
		return
	}
	n := 0
	for i, a := range c.Announcements {
		var e Exposure
		if i < len(c.Exposures) {
			e = c.Exposures[i]
		}
		if reason, detail, ok := g.check(a.Prefix, isTenant(a, e)); !ok {
			warn(table, a.Port, reason, string(a.Kind)+" "+detail)
			continue
		}
		c.Announcements[n] = a
		if i < len(c.Exposures) {
			c.Exposures[n] = e
		}
		n++
	}
	c.Announcements = c.Announcements[:n]
	if len(c.Exposures) > n {
		c.Exposures = c.Exposures[:n]
	}
}

// ValidVLAN: an 802.1Q VLAN id a localnet may carry (0 and 4095 are
// reserved, and the kernel truncates anything wider into another VLAN).
func ValidVLAN(tag int) bool { return tag >= 1 && tag <= 4094 }
