package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Remote AS keywords of a peer.
const (
	RemoteASExternal = "external" // any AS other than bgp_AS (eBGP)
	RemoteASInternal = "internal" // bgp_AS itself (iBGP)
)

// ParsePeer parses one entry of the [ovnbgp] peers option:
//
//	ADDRESS[:REMOTE_AS]     192.0.2.1:65000, 192.0.2.1, 2001:db8::1:external
//	[IPV6]:REMOTE_AS        [2001:db8::1]:65000
//	INTERFACE[:REMOTE_AS]   eth1:external (BGP unnumbered on that interface)
//
// REMOTE_AS is an AS number (asplain or asdot), "internal" or "external"
// (the default when omitted). An unbracketed IPv6 address followed by a
// number is ambiguous (2001:db8::1:2) and refused: write [2001:db8::1]:2.
func ParsePeer(s string) (Peer, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Peer{}, errors.New("empty peer")
	}
	var addr, as string
	var hasAS bool
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return Peer{}, fmt.Errorf("peer %q: missing ']'", s)
		}
		addr = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return Peer{}, fmt.Errorf("peer %q: expected ':' and a remote AS after ']'", s)
			}
			as, hasAS = rest[1:], true
		}
		a, err := parsePeerAddr(addr)
		if err != nil {
			return Peer{}, fmt.Errorf("peer %q: %w", s, err)
		}
		if !a.Is6() {
			return Peer{}, fmt.Errorf("peer %q: brackets are for IPv6 addresses", s)
		}
	default:
		if a, err := netip.ParseAddr(s); err == nil {
			// The whole entry is an address; refuse 2001:db8::1:2, which
			// could also be [2001:db8::1]:2.
			if i := strings.LastIndex(s, ":"); i > 0 && a.Zone() == "" {
				if _, err := netip.ParseAddr(s[:i]); err == nil {
					if _, err := parseAS(s[i+1:]); err == nil {
						return Peer{}, fmt.Errorf("peer %q is ambiguous: write [%s] for the address alone or [%s]:%s for an address and a remote AS", s, s, s[:i], s[i+1:])
					}
				}
			}
			addr = s
		} else if i := strings.LastIndex(s, ":"); i >= 0 {
			addr, as, hasAS = s[:i], s[i+1:], true
		} else {
			addr = s
		}
	}
	p := Peer{RemoteAS: RemoteASExternal}
	if hasAS {
		ras, err := parseRemoteAS(as)
		if err != nil {
			return Peer{}, fmt.Errorf("peer %q: %w", s, err)
		}
		p.RemoteAS = ras
	}
	if a, err := parsePeerAddr(addr); err == nil {
		p.Address = a.String()
		return p, nil
	} else if looksLikeIP(addr) {
		return Peer{}, fmt.Errorf("peer %q: %w", s, err)
	}
	if !validIfName(addr) {
		return Peer{}, fmt.Errorf("peer %q: %q is neither an IP address nor an interface name", s, addr)
	}
	p.Address, p.Interface = addr, true
	return p, nil
}

func parsePeerAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not a valid IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: zones are not supported; for link-local peering name the interface instead (BGP unnumbered)", s)
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("%q is not a unicast address", s)
	}
	return a.Unmap(), nil
}

// looksLikeIP tells whether a string that failed to parse as an address was
// meant to be one (only digits and dots, or containing a colon or %), so the
// error says "bad address" instead of "bad interface".
func looksLikeIP(s string) bool {
	if strings.ContainsAny(s, ":%") {
		return true
	}
	return s != "" && strings.Trim(s, "0123456789.") == "" && strings.Contains(s, ".")
}

func parseRemoteAS(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case RemoteASExternal:
		return RemoteASExternal, nil
	case RemoteASInternal:
		return RemoteASInternal, nil
	}
	as, err := parseAS(s)
	if err != nil {
		return "", fmt.Errorf("remote AS %q: must be internal, external or an AS number 1..4294967295 (or asdot X.Y)", s)
	}
	return formatAS(as), nil
}

// String formats a peer so that ParsePeer reads it back.
func (p Peer) String() string {
	if a, err := netip.ParseAddr(p.Address); err == nil && a.Is6() && !p.Interface {
		return "[" + p.Address + "]:" + p.RemoteAS
	}
	return p.Address + ":" + p.RemoteAS
}

// ParsePeers parses the peers option: a comma-separated list of ParsePeer
// entries; the same address or interface may appear only once.
func ParsePeers(s string) ([]Peer, error) {
	items, err := parseList(s)
	if err != nil {
		return nil, err
	}
	var peers []Peer
	for _, it := range items {
		p, err := ParsePeer(it)
		if err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}
	if err := checkPeers(peers); err != nil {
		return nil, err
	}
	return peers, nil
}

func formatPeers(peers []Peer) string {
	s := make([]string, len(peers))
	for i, p := range peers {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// checkPeers validates peers built in code (not parsed): addresses,
// remote AS values and duplicates.
func checkPeers(peers []Peer) error {
	seen := map[string]bool{}
	for _, p := range peers {
		if p.Interface {
			if !validIfName(p.Address) {
				return fmt.Errorf("peer %q: not a valid interface name", p.Address)
			}
		} else if _, err := parsePeerAddr(p.Address); err != nil {
			return fmt.Errorf("peer %q: %w", p.Address, err)
		}
		if _, err := parseRemoteAS(p.RemoteAS); err != nil {
			return fmt.Errorf("peer %q: %w", p.Address, err)
		}
		if seen[p.Address] {
			return fmt.Errorf("peer %q is listed twice", p.Address)
		}
		seen[p.Address] = true
	}
	return nil
}
