package plan

import "net/netip"

// Gateway is a router gateway port hosted on this chassis, as every driver
// resolves it: the port (a chassisredirect port in the southbound, a
// Logical_Router_Port in the northbound), its MAC and networks, and the
// provider network it is on with that network's wiring here.
type Gateway struct {
	Port    string
	MAC     string
	Nets    []netip.Prefix // the port's networks, e.g. 172.24.4.100/24
	Bridge  string
	VLAN    int
	Network string
}

// Via returns the gateway's address of a's family: the next hop of what
// lives behind the router.
func (g *Gateway) Via(a netip.Addr) (netip.Addr, bool) {
	for _, n := range g.Nets {
		if n.Addr().Is4() == a.Is4() {
			return n.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// Contains reports whether a is on one of the gateway's networks, that is
// on the provider network the gateway sits on. A host-length network
// (a /32 or /128 on the port) names only the port's own address and
// contains nothing else.
func (g *Gateway) Contains(a netip.Addr) bool {
	for _, n := range g.Nets {
		if n.Bits() < n.Addr().BitLen() && n.Masked().Contains(a) {
			return true
		}
	}
	return false
}
