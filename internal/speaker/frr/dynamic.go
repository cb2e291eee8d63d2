package frr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// DynamicVRF is one VRF of exposing_method = dynamic as FRR sees it: OVN
// writes the router's routes into the VRF's table (blackhole routes of
// protocol ovn), FRR announces them to the peers on the VRF's routing
// interfaces and installs what it learns there, where OVN learns it back.
// A plain struct (see dynamic.Plan's VRF), so that it can be folded into
// a generic per-VRF configuration.
type DynamicVRF struct {
	Name       string
	Interfaces []string // BGP unnumbered peers, one per interface
}

// DynamicRouteMap picks OVN's routes among a VRF's kernel routes. FRR
// sees OVN's routes (protocol ovn, 84) as kernel routes and cannot match
// the protocol number; OVN writes them with the metric 1000, or 100 for a
// route whose tracked port is bound here (controller/route.c), which bgpd
// carries as the MED, so the route-map matches those metrics (bgpd's
// `match ip next-hop type blackhole` is not relied on: it tests for a
// next hop without an interface, which says nothing of the protocol).
const DynamicRouteMap = "ovnbgp-ovn-routes"

// OVNRouteMetrics are the metrics ovn-controller writes its routes with.
var OVNRouteMetrics = []int{1000, 100}

// renderDynamic returns the FRR configuration of the dynamic VRFs: the
// route-map, the BFD profile when BFD is on and Render does not already
// have it, and one `router bgp AS vrf NAME` per VRF (an ovnbgp-owned
// context, removed whole when its VRF goes).
func renderDynamic(c *config.Config, vrfs []DynamicVRF, bfdRendered bool) ([]*Node, error) {
	if len(vrfs) == 0 {
		return nil, nil
	}
	o := &c.OVNBGP
	var top []*Node
	for i, m := range OVNRouteMetrics {
		top = append(top, &Node{Line: fmt.Sprintf("route-map %s permit %d", DynamicRouteMap, 10*(i+1)), Owned: true,
			Children: []*Node{{Line: fmt.Sprintf("match metric %d", m)}}})
	}
	anyPeer := false
	for _, v := range vrfs {
		anyPeer = anyPeer || len(v.Interfaces) > 0
	}
	if o.BFD && anyPeer && !bfdRendered {
		if err := validName(o.BFDProfile); err != nil {
			return nil, fmt.Errorf("frr: bfd_profile: %w", err)
		}
		top = append(top, &Node{Line: "bfd", Children: []*Node{{Line: "profile " + o.BFDProfile, Owned: true, Children: []*Node{
			{Line: fmt.Sprintf("transmit-interval %d", o.BFDTransmitMs)},
			{Line: fmt.Sprintf("receive-interval %d", o.BFDReceiveMs)},
			{Line: fmt.Sprintf("detect-multiplier %d", o.BFDMultiplier)},
		}}}})
	}
	remoteAS := "external"
	if len(o.Peers) > 0 {
		if as := commonRemoteAS(o.Peers); as != "" {
			remoteAS = as
		}
	}
	if err := validRemoteAS(remoteAS); err != nil {
		return nil, fmt.Errorf("frr: dynamic peers: %w", err)
	}
	vs := normalDynamic(vrfs)
	for i, v := range vs {
		if i > 0 && vs[i-1].Name == v.Name {
			return nil, fmt.Errorf("frr: dynamic VRF %s listed twice", v.Name)
		}
		if err := validName(v.Name); err != nil {
			return nil, fmt.Errorf("frr: dynamic VRF: %w", err)
		}
		r := &Node{Line: fmt.Sprintf("router bgp %d vrf %s", c.BGPAS, v.Name), Owned: true}
		add := func(n *Node, line string) { n.Children = append(n.Children, &Node{Line: line}) }
		if c.BGPRouterID != "" {
			add(r, "bgp router-id "+c.BGPRouterID)
		}
		add(r, "no bgp ebgp-requires-policy")
		ifaces := v.Interfaces
		for _, ifn := range ifaces {
			if err := validName(ifn); err != nil {
				return nil, fmt.Errorf("frr: dynamic VRF %s interface: %w", v.Name, err)
			}
			add(r, fmt.Sprintf("neighbor %s interface remote-as %s", ifn, remoteAS))
			add(r, fmt.Sprintf("neighbor %s timers connect %d", ifn, ConnectRetrySeconds))
			if o.PeerPassword != "" {
				add(r, fmt.Sprintf("neighbor %s password %s", ifn, o.PeerPassword))
			}
			if o.BFD {
				add(r, fmt.Sprintf("neighbor %s bfd profile %s", ifn, o.BFDProfile))
			}
		}
		for _, af := range []string{"ipv4", "ipv6"} {
			n := &Node{Line: "address-family " + af + " unicast"}
			add(n, "redistribute kernel route-map "+DynamicRouteMap)
			for _, ifn := range ifaces {
				add(n, fmt.Sprintf("neighbor %s activate", ifn))
			}
			if o.MaximumPaths > 0 {
				add(n, fmt.Sprintf("maximum-paths %d", o.MaximumPaths))
				add(n, fmt.Sprintf("maximum-paths ibgp %d", o.MaximumPaths))
			}
			r.Children = append(r.Children, n)
		}
		top = append(top, r)
	}
	return top, nil
}

// SetDynamic replaces the VRFs of exposing_method = dynamic and, when they
// changed, applies the configuration (a VRF gone is removed with its
// `no router bgp AS vrf NAME`).
func (s *Speaker) SetDynamic(ctx context.Context, vrfs []DynamicVRF) error {
	vs := normalDynamic(vrfs)
	s.mu.Lock()
	// Until the first SetDynamic the saved rendering's VRF instances are
	// kept (render: a restart withdraws nothing before the first plan);
	// from then on they follow the plan, so a VRF gone is removed.
	same := s.vrfsSet && slices.EqualFunc(s.dynamic, vs, func(a, b DynamicVRF) bool {
		return a.Name == b.Name && slices.Equal(a.Interfaces, b.Interfaces)
	})
	s.dynamic, s.vrfsSet = vs, true
	s.mu.Unlock()
	if same {
		return nil
	}
	return s.Apply(ctx, "dynamic")
}

// normalDynamic returns a copy sorted by name, each VRF's interfaces
// sorted and without duplicates.
func normalDynamic(vrfs []DynamicVRF) []DynamicVRF {
	out := make([]DynamicVRF, 0, len(vrfs))
	for _, v := range vrfs {
		ifs := slices.Clone(v.Interfaces)
		slices.Sort(ifs)
		out = append(out, DynamicVRF{Name: v.Name, Interfaces: slices.Compact(ifs)})
	}
	slices.SortFunc(out, func(a, b DynamicVRF) int { return strings.Compare(a.Name, b.Name) })
	return out
}
