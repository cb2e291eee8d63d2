package frr

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// Names of the objects ovnbgp creates in FRR. The "ovnbgp" prefix marks
// them as ovnbgp's; operator config must not use these names.
const (
	PrefixList4 = "ovnbgp-host4"
	PrefixList6 = "ovnbgp-host6"
	// Kernel6 is the prefix list and route-map that pick ovnbgp's IPv6
	// announce routes out of the main table (table method).
	Kernel6 = "ovnbgp-kernel6"
)

// ConnectRetrySeconds is the connect-retry timer of the peers ovnbgp
// configures.
const ConnectRetrySeconds = 2

// Node is one configuration line with the lines nested under it (a context
// such as `router bgp 64999` or `address-family ipv4 unicast`).
type Node struct {
	Line     string
	Children []*Node
	// Owned marks a context that belongs to ovnbgp as a whole: when it
	// disappears from the rendering, it is removed with one `no <Line>`.
	// Shared contexts (the default `router bgp AS`, its address families,
	// `bfd`) are never removed; only ovnbgp's lines inside them are.
	Owned bool
}

// Input is everything the rendering depends on.
type Input struct {
	Config *config.Config
	// RouterID is the router id for the bgp_vrf instance (connected
	// method): bgp_router_id, else the one bgpd chose; "" renders none.
	// The default instance gets `bgp router-id` only when the
	// configuration sets bgp_router_id and ovnbgp configures the peers.
	RouterID string
	// VRFs are the per-VRF instances (vrf.go) the drivers ask for.
	VRFs []VRF
	// Networks are the service VIPs announced now (issue 19): a `network`
	// statement each in the default instance. The address is local (on an
	// interface, or on lo for anycast), so the import check passes and
	// bgpd originates it; a table-imported route would lose to the
	// connected one in zebra and never be redistributed. A de-preferred
	// VIP's statement names a route-map ovnbgp renders (vipnet.go).
	Networks []Network
	// Dynamic are the VRFs of exposing_method = dynamic (dynamic.go). In
	// that mode the underlay's announce pieces (the announce table import,
	// the bgp_vrf instance) are not rendered.
	Dynamic []DynamicVRF
}

// Render returns the configuration ovnbgp owns, as a tree of stanzas in
// the order they must be applied.
func Render(in Input) ([]*Node, error) {
	c := in.Config
	o := &c.OVNBGP
	if c.BGPAS == 0 {
		return nil, fmt.Errorf("frr: bgp_AS is 0")
	}
	for _, id := range []string{in.RouterID, c.BGPRouterID} {
		if id != "" {
			if a, err := netip.ParseAddr(id); err != nil || !a.Is4() {
				return nil, fmt.Errorf("frr: bgp_router_id %q is not an IPv4 address", id)
			}
		}
	}
	fabric := len(o.Peers) > 0
	if strings.ContainsAny(o.PeerPassword, "\n\r") || strings.TrimSpace(o.PeerPassword) != o.PeerPassword {
		return nil, fmt.Errorf("frr: peer_password has a line break or leading/trailing spaces")
	}
	var top []*Node

	if fabric && o.OnlyHostPrefixes {
		top = append(top,
			&Node{Line: "ip prefix-list " + PrefixList4 + " seq 5 permit 0.0.0.0/0 ge 32"},
			&Node{Line: "ipv6 prefix-list " + PrefixList6 + " seq 5 permit ::/0 ge 128"})
	}

	dynamic := c.ExposingMethod == config.ExposingDynamic
	var table int
	switch {
	case dynamic:
	case o.AnnounceMethod == config.AnnounceTable:
		table = c.AnnounceTable()
		if table < 1 || table > 252 {
			return nil, fmt.Errorf("frr: announce table %d: FRR imports tables 1-252 only", table)
		}
		// IPv4: zebra imports the announce table. IPv6: FRR 8.4 has no
		// `ipv6 import-table`, so the kernel reconciler puts IPv6 announce
		// routes (/128, protocol route_protocol) in the main table, where
		// zebra sees them as kernel routes; bgpd redistributes the host
		// routes among them. One path for every FRR version.
		top = append(top, &Node{Line: fmt.Sprintf("ip import-table %d", table)},
			&Node{Line: "ipv6 prefix-list " + Kernel6 + " seq 5 permit ::/0 ge 128"},
			&Node{Line: "route-map " + Kernel6 + " permit 10", Owned: true, Children: []*Node{
				{Line: "match ipv6 address prefix-list " + Kernel6}}})
	case o.AnnounceMethod == config.AnnounceConnected, o.AnnounceMethod == "":
		if c.BGPVRF == "" {
			return nil, fmt.Errorf("frr: announce method connected needs bgp_vrf")
		}
	default:
		return nil, fmt.Errorf("frr: unknown announce_method %q", o.AnnounceMethod)
	}

	if fabric && o.BFD {
		if err := validName(o.BFDProfile); err != nil {
			return nil, fmt.Errorf("frr: bfd_profile: %w", err)
		}
		prof := &Node{Line: "profile " + o.BFDProfile, Owned: true, Children: []*Node{
			{Line: fmt.Sprintf("transmit-interval %d", o.BFDTransmitMs)},
			{Line: fmt.Sprintf("receive-interval %d", o.BFDReceiveMs)},
			{Line: fmt.Sprintf("detect-multiplier %d", o.BFDMultiplier)},
		}}
		top = append(top, &Node{Line: "bfd", Children: []*Node{prof}})
	}
	// before the statements that name them: a statement whose route-map
	// does not exist yet is not announced
	top = append(top, vipRouteMapNodes(in.Networks, c.BGPAS)...)

	router := &Node{Line: fmt.Sprintf("router bgp %d", c.BGPAS)}
	af4 := &Node{Line: "address-family ipv4 unicast"}
	af6 := &Node{Line: "address-family ipv6 unicast"}
	if fabric {
		if c.BGPRouterID != "" {
			router.Children = append(router.Children, &Node{Line: "bgp router-id " + c.BGPRouterID})
		}
		if err := renderPeers(c, router, af4, af6); err != nil {
			return nil, err
		}
	}
	switch {
	case c.TenantVRFsOnly():
		// Everything is announced from the VRFs (RenderVRFs): no leak.
	case dynamic:
	case o.AnnounceMethod == config.AnnounceTable:
		af4.Children = append(af4.Children, &Node{Line: fmt.Sprintf("redistribute table %d", table)})
		af6.Children = append(af6.Children, &Node{Line: "redistribute kernel route-map " + Kernel6})
	default:
		af4.Children = append(af4.Children, &Node{Line: "import vrf " + c.BGPVRF})
		af6.Children = append(af6.Children, &Node{Line: "import vrf " + c.BGPVRF})
	}
	for _, n := range in.Networks {
		af := af4
		if n.Prefix.Addr().Is6() {
			af = af6
		}
		af.Children = append(af.Children, &Node{Line: networkLine(n)})
	}
	if fabric && o.MaximumPaths > 0 {
		for _, af := range []*Node{af4, af6} {
			af.Children = append(af.Children,
				&Node{Line: fmt.Sprintf("maximum-paths %d", o.MaximumPaths)},
				&Node{Line: fmt.Sprintf("maximum-paths ibgp %d", o.MaximumPaths)})
		}
	}
	for _, af := range []*Node{af4, af6} {
		if len(af.Children) > 0 {
			router.Children = append(router.Children, af)
		}
	}
	vrfs, err := RenderVRFs(c.BGPAS, in.VRFs)
	if err != nil {
		return nil, err
	}
	if hasVNI(in.VRFs) {
		// EVPN type-5 routes of the VRFs travel over the default
		// instance's l2vpn evpn sessions.
		evpn := &Node{Line: "address-family l2vpn evpn"}
		if fabric {
			for _, name := range fabricNames(o) {
				evpn.Children = append(evpn.Children, &Node{Line: "neighbor " + name + " activate"})
			}
		}
		evpn.Children = append(evpn.Children, &Node{Line: "advertise-all-vni"})
		router.Children = append(router.Children, evpn)
	}
	if !dynamic || fabric || len(router.Children) > 0 {
		top = append(top, router)
	}
	top = append(top, vrfs...)

	if !dynamic && o.AnnounceMethod != config.AnnounceTable && !c.TenantVRFsOnly() {
		vrf := &Node{Line: fmt.Sprintf("router bgp %d vrf %s", c.BGPAS, c.BGPVRF), Owned: true}
		if in.RouterID != "" {
			vrf.Children = append(vrf.Children, &Node{Line: "bgp router-id " + in.RouterID})
		}
		for _, af := range []string{"ipv4", "ipv6"} {
			vrf.Children = append(vrf.Children, &Node{Line: "address-family " + af + " unicast",
				Children: []*Node{{Line: "redistribute connected"}}})
		}
		top = append(top, vrf)
	}
	if dynamic {
		dyn, err := renderDynamic(c, in.Dynamic, fabric && o.BFD)
		if err != nil {
			return nil, err
		}
		top = append(top, dyn...)
	}
	return top, nil
}

// hasVNI reports whether a VRF has an L3VNI.
func hasVNI(vrfs []VRF) bool {
	for _, v := range vrfs {
		if v.VNI != 0 {
			return true
		}
	}
	return false
}

// fabricNames are the names the fabric peers are activated by: the peer
// group, else each peer.
func fabricNames(o *config.OVNBGP) []string {
	if o.PeerGroup != "" {
		return []string{o.PeerGroup}
	}
	var out []string
	for _, p := range o.Peers {
		if a, err := netip.ParseAddr(p.Address); err == nil && !p.Interface {
			out = append(out, a.String())
		} else {
			out = append(out, p.Address)
		}
	}
	return out
}

// renderPeers adds the fabric neighbours to the default instance.
func renderPeers(c *config.Config, router, af4, af6 *Node) error {
	o := &c.OVNBGP
	add := func(n *Node, line string) { n.Children = append(n.Children, &Node{Line: line}) }
	router.Children = append(router.Children, &Node{Line: "no bgp ebgp-requires-policy"})
	if o.GracefulRestart {
		add(router, "bgp graceful-restart")
	}
	group := o.PeerGroup
	// settings are the per-neighbour lines, put on the group when there is one.
	settings := func(name string) {
		// Retry a refused connection after 2 s, not FRR's 10 s: a peer
		// still in its idle hold after our restart refuses the first try.
		add(router, fmt.Sprintf("neighbor %s timers connect %d", name, ConnectRetrySeconds))
		if o.PeerPassword != "" {
			add(router, fmt.Sprintf("neighbor %s password %s", name, o.PeerPassword))
		}
		if o.BFD {
			add(router, fmt.Sprintf("neighbor %s bfd profile %s", name, o.BFDProfile))
		}
	}
	if group != "" {
		if err := validName(group); err != nil {
			return fmt.Errorf("frr: peer_group: %w", err)
		}
		add(router, fmt.Sprintf("neighbor %s peer-group", group))
		if as := commonRemoteAS(o.Peers); as != "" {
			add(router, fmt.Sprintf("neighbor %s remote-as %s", group, as))
		}
		settings(group)
	}
	v4, v6 := false, false
	var names []string
	for _, p := range o.Peers {
		as := p.RemoteAS
		if as == "" {
			as = "external"
		}
		if err := validRemoteAS(as); err != nil {
			return fmt.Errorf("frr: peer %s: %w", p.Address, err)
		}
		name := p.Address
		if p.Interface {
			if err := validName(name); err != nil {
				return fmt.Errorf("frr: peer interface: %w", err)
			}
			v4, v6 = true, true
			if group != "" {
				add(router, fmt.Sprintf("neighbor %s interface peer-group %s", name, group))
				if commonRemoteAS(o.Peers) == "" {
					add(router, fmt.Sprintf("neighbor %s remote-as %s", name, as))
				}
			} else {
				add(router, fmt.Sprintf("neighbor %s interface remote-as %s", name, as))
			}
		} else {
			a, err := netip.ParseAddr(p.Address)
			if err != nil {
				return fmt.Errorf("frr: peer address %q: %w", p.Address, err)
			}
			name = a.String()
			if a.Is4() {
				v4 = true
			} else {
				v6 = true
			}
			if group != "" {
				if commonRemoteAS(o.Peers) == "" {
					// remote-as first: FRR refuses to bind a new neighbour to a
					// group that has none.
					add(router, fmt.Sprintf("neighbor %s remote-as %s", name, as))
				}
				add(router, fmt.Sprintf("neighbor %s peer-group %s", name, group))
			} else {
				add(router, fmt.Sprintf("neighbor %s remote-as %s", name, as))
			}
		}
		if group == "" {
			settings(name)
		}
		names = append(names, name)
	}
	perAF := func(af *Node, list string, families func(name string) bool) {
		targets := names
		if group != "" {
			targets = []string{group}
		}
		for _, t := range targets {
			if group == "" && !families(t) {
				continue
			}
			add(af, fmt.Sprintf("neighbor %s activate", t))
			if o.OnlyHostPrefixes {
				add(af, fmt.Sprintf("neighbor %s prefix-list %s out", t, list))
			}
		}
	}
	isV6 := map[string]bool{}
	isIf := map[string]bool{}
	for _, p := range o.Peers {
		if p.Interface {
			isIf[p.Address] = true
		} else if a, err := netip.ParseAddr(p.Address); err == nil && !a.Is4() {
			isV6[a.String()] = true
		}
	}
	if v4 {
		perAF(af4, PrefixList4, func(n string) bool { return isIf[n] || !isV6[n] })
	}
	if v6 {
		perAF(af6, PrefixList6, func(n string) bool { return isIf[n] || isV6[n] })
	}
	return nil
}

// commonRemoteAS returns the remote AS every peer shares, "" if they differ.
func commonRemoteAS(peers []config.Peer) string {
	as := ""
	for i, p := range peers {
		r := p.RemoteAS
		if r == "" {
			r = "external"
		}
		if i == 0 {
			as = r
		} else if r != as {
			return ""
		}
	}
	return as
}

func validRemoteAS(as string) error {
	if as == "internal" || as == "external" {
		return nil
	}
	if n, err := strconv.ParseUint(as, 10, 32); err != nil || n == 0 {
		return fmt.Errorf("remote AS %q is not a number, internal or external", as)
	}
	return nil
}

// validName accepts names that cannot break the configuration syntax.
func validName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	for _, r := range s {
		if r <= ' ' || r == '!' || r == '#' || r > '~' {
			return fmt.Errorf("name %q has a space, a comment character or a non-ASCII character", s)
		}
	}
	return nil
}

// Text renders a tree in frr.conf syntax (what `vtysh -f` reads).
func Text(nodes []*Node) string {
	var b strings.Builder
	var walk func(ns []*Node, depth int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			ind := strings.Repeat(" ", depth)
			b.WriteString(ind + n.Line + "\n")
			if len(n.Children) > 0 || isContext(n.Line) {
				walk(n.Children, depth+1)
				b.WriteString(ind + exitFor(n.Line) + "\n")
			}
		}
	}
	walk(nodes, 0)
	return b.String()
}

func isContext(line string) bool {
	for _, p := range []string{"router ", "address-family ", "bfd", "profile ", "interface ", "route-map ", "vrf "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

func exitFor(line string) string {
	if strings.HasPrefix(line, "address-family ") {
		return "exit-address-family"
	}
	if strings.HasPrefix(line, "vrf ") {
		return "exit-vrf"
	}
	return "exit"
}
