package agent

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// The protected facts (plan.Protected): what the host must keep reaching
// itself, so that no announcement captures it. The planner is pure; the
// agent computes them here.

// ProtectedFacts gathers the host's own addresses and connected networks
// (every interface but bgp_nic, which carries ovnbgp's announced
// addresses, and the devices enslaved to bgp_vrf), the configured BGP
// peers, and the IP addresses of the OVSDB remotes (remotes are the
// configuration's, else the local OVS row's ovn-remote / ovn-nb-remote in
// id). An interface that cannot be read is skipped.
func ProtectedFacts(cfg *config.Config, id Identity) plan.Protected {
	var p plan.Protected
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Name == cfg.BGPNic || ifc.Name == cfg.BGPVRF || masterOf(ifc.Name) == cfg.BGPVRF && cfg.BGPVRF != "" {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			ones, _ := ipn.Mask.Size()
			p.Addrs = append(p.Addrs, ip)
			if ones < ip.BitLen() {
				p.Nets = append(p.Nets, netip.PrefixFrom(ip, ones).Masked())
			}
		}
	}
	for _, peer := range cfg.OVNBGP.Peers {
		if a, err := netip.ParseAddr(peer.Address); err == nil && !peer.Interface {
			p.Addrs = append(p.Addrs, a.Unmap())
		}
	}
	for _, r := range []string{cfg.OVSDBConnection, firstNonEmpty(cfg.OVN.SBConnection, id.SBRemote),
		firstNonEmpty(cfg.OVN.NBConnection, id.NBRemote), cfg.LocalOVNCluster.NBConnection} {
		p.Addrs = append(p.Addrs, RemoteAddrs(r)...)
	}
	for _, s := range cfg.LocalOVNCluster.PeerIPs {
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			p.Addrs = append(p.Addrs, a.Unmap())
		}
	}
	return p
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// masterOf is the name of the device ifname is enslaved to, "" for none.
func masterOf(ifname string) string {
	l, err := os.Readlink(filepath.Join("/sys/class/net", ifname, "master"))
	if err != nil {
		return ""
	}
	return filepath.Base(l)
}

// RemoteAddrs lists the literal IP addresses of an OVSDB remote list
// ("tcp:10.0.0.1:6642,ssl:[fd00::1]:6642,unix:/run/x"); unix sockets and
// host names give none.
func RemoteAddrs(remotes string) []netip.Addr {
	var out []netip.Addr
	for _, r := range config.SplitRemotes(remotes) {
		proto, rest, ok := strings.Cut(r, ":")
		if !ok || (proto != "tcp" && proto != "ssl") {
			continue
		}
		host := rest
		if h, _, err := net.SplitHostPort(rest); err == nil {
			host = h
		}
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// UnguardedTenantExposure is the start-up warning when tenant networks are
// exposed with neither address_scopes nor tenant_networks_allowed_prefixes:
// any tenant may then have its subnets announced (only the built-in
// guards apply). "" when there is nothing to say.
func UnguardedTenantExposure(cfg *config.Config) string {
	if !cfg.ExposeTenantNetworks && !cfg.ExposeIPv6GUATenantNetworks {
		return ""
	}
	if len(cfg.AddressScopes) > 0 || len(cfg.OVNBGP.TenantAllowedPrefixes) > 0 {
		return ""
	}
	return "tenant networks are exposed with neither [DEFAULT] address_scopes nor [ovnbgp] tenant_networks_allowed_prefixes: " +
		"every tenant's subnets are announced into the fabric (only the special-purpose, minimum-length and host-protection guards apply); see docs/operations.md, \"Tenant prefixes\""
}
