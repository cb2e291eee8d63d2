package plan

import (
	"fmt"
	"net/netip"
	"strings"
)

// Address helpers shared by the drivers.

// ParseAddr parses "IP" or "IP/len" (a router port's network) into a prefix
// that keeps the address and length.
func ParseAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func PrefixesFromCIDRs(s string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(s) {
		if p, err := ParseAddr(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// HostPrefix is the /32 or /128 of an address.
func HostPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// NDPProxies are the addresses to answer NDP for on behalf of IPv6
// networks: each network's subnet-router anycast address (upstream proxies
// the network address of each IPv6 CIDR).
func NDPProxies(nets []netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, n := range nets {
		if n.Addr().Is6() && !n.Addr().Is4In6() && n.Bits() < 128 {
			out = append(out, n.Masked().Addr())
		}
	}
	return out
}

// NDPFor attaches the NDP proxies to IPv6 exposures only.
func NDPFor(p netip.Prefix, ndp []netip.Addr) []netip.Addr {
	if !p.Addr().Is6() {
		return nil
	}
	return ndp
}

func InAny(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func HasFamily(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Addr().Is4() == a.Is4() {
			return true
		}
	}
	return false
}

// notGlobal6 are the blocks of the IANA IPv6 Special-Purpose Address
// Registry (iana-ipv6-special-registry, as of 2025) that are not globally
// reachable ("Globally Reachable: False"), plus the two whose reachability
// the registry leaves open ("N/A": Teredo 2001::/32, inside 2001::/23, and
// 6to4 2002::/16), which are tunnelling forms derived from IPv4 addresses,
// never a tenant's own global prefix. Loopback, unspecified, link-local and
// multicast are refused by IsGlobalUnicast already.
var notGlobal6 = []netip.Prefix{
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped
	netip.MustParsePrefix("64:ff9b:1::/48"), // IPv4-IPv6 translation, local use
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("100:0:0:1::/64"), // dummy IPv6 prefix
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (see globalIn2001)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("2002::/16"),      // 6to4 (N/A)
	netip.MustParsePrefix("3fff::/20"),      // documentation
	netip.MustParsePrefix("5f00::/16"),      // segment routing (SRv6) SIDs
	netip.MustParsePrefix("fc00::/7"),       // unique local
}

// globalIn2001 are the registry's globally reachable blocks inside
// 2001::/23: they are global although the enclosing block is not.
var globalIn2001 = []netip.Prefix{
	netip.MustParsePrefix("2001:1::1/128"),   // port control protocol anycast
	netip.MustParsePrefix("2001:1::2/128"),   // traversal using relays around NAT anycast
	netip.MustParsePrefix("2001:1::3/128"),   // DNS-SD service registration protocol anycast
	netip.MustParsePrefix("2001:3::/32"),     // AMT
	netip.MustParsePrefix("2001:4:112::/48"), // AS112-v6
	netip.MustParsePrefix("2001:20::/28"),    // ORCHIDv2
	netip.MustParsePrefix("2001:30::/28"),    // drone remote ID protocol entity tags
}

// IsGlobal6 reports whether a is a globally reachable IPv6 unicast address
// by the IANA IPv6 special-purpose registry (see notGlobal6): the one rule
// both drivers use for "global unicast" tenant networks (upstream's
// expose_ipv6_gua_tenant_networks, Python's ipaddress.is_global).
func IsGlobal6(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range globalIn2001 {
		if p.Contains(a) {
			return true
		}
	}
	for _, p := range notGlobal6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ParseVIP parses a load balancer VIP key: IP, IP:port or [IP]:port.
func ParseVIP(k string) (netip.Addr, error) {
	k = strings.TrimSpace(k)
	if ap, err := netip.ParseAddrPort(k); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(k, "[]"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vip %q: not IP, IP:port or [IP]:port", k)
	}
	return a.Unmap(), nil
}
