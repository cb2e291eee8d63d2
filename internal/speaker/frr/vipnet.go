package frr

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Service VIPs in FRR (issue 19): a `network P` statement in the default
// instance, and, when the VIP is de-preferred (on_failure = med|prepend
// and its check failed), `network P route-map <VIPRouteMapPrefix>...`
// with a route-map ovnbgp owns that sets the attributes. The route-map's
// name says what it sets, so one route-map serves every VIP with the same
// attributes and its content never changes under a name.

// VIPRouteMapPrefix starts the names of the VIPs' route-maps:
// ovnbgp-vip-med-<N>, ovnbgp-vip-prepend-<N>, ovnbgp-vip-med-<N>-prepend-<M>.
const VIPRouteMapPrefix = "ovnbgp-vip"

// Network is a service VIP's `network` statement.
type Network struct {
	Prefix netip.Prefix
	Attrs  plan.PathAttrs // zero: announced plainly; else through vipRouteMap
}

// String is the statement without `network` (for logs).
func (n Network) String() string { return strings.TrimPrefix(networkLine(n), "network ") }

// vipRouteMap is the name of the route-map that sets a, "" for none.
func vipRouteMap(a plan.PathAttrs) string {
	name := VIPRouteMapPrefix
	if a.SetMED {
		name += fmt.Sprintf("-med-%d", a.MED)
	}
	if a.Prepend > 0 {
		name += fmt.Sprintf("-prepend-%d", a.Prepend)
	}
	if name == VIPRouteMapPrefix {
		return ""
	}
	return name
}

// parseVIPRouteMap is the inverse of vipRouteMap.
func parseVIPRouteMap(name string) (plan.PathAttrs, bool) {
	var a plan.PathAttrs
	rest, ok := strings.CutPrefix(name, VIPRouteMapPrefix)
	if !ok || rest == "" {
		return a, false
	}
	f := strings.Split(strings.TrimPrefix(rest, "-"), "-")
	if len(f)%2 != 0 || !strings.HasPrefix(rest, "-") {
		return a, false
	}
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseUint(f[i+1], 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != f[i+1] {
			return a, false
		}
		switch {
		case f[i] == "med" && i == 0:
			a.MED, a.SetMED = uint32(n), true
		case f[i] == "prepend" && a.Prepend == 0 && n > 0:
			a.Prepend = int(n)
		default:
			return a, false
		}
	}
	return a, vipRouteMap(a) == name
}

// vipRouteMapNode renders the route-map that sets a (prepending the local
// AS).
func vipRouteMapNode(a plan.PathAttrs, as uint32) *Node {
	n := &Node{Line: "route-map " + vipRouteMap(a) + " permit 10", Owned: true}
	if a.SetMED {
		n.Children = append(n.Children, &Node{Line: fmt.Sprintf("set metric %d", a.MED)})
	}
	if a.Prepend > 0 {
		n.Children = append(n.Children, &Node{Line: "set as-path prepend" + strings.Repeat(" "+strconv.FormatUint(uint64(as), 10), a.Prepend)})
	}
	return n
}

// networkLine is the statement of n.
func networkLine(n Network) string {
	l := "network " + n.Prefix.Masked().String()
	if rm := vipRouteMap(n.Attrs); rm != "" {
		l += " route-map " + rm
	}
	return l
}

// vipRouteMapNodes renders the route-maps the networks use, once each, by
// name.
func vipRouteMapNodes(nets []Network, as uint32) []*Node {
	seen := map[string]bool{}
	var out []*Node
	for _, n := range nets {
		if rm := vipRouteMap(n.Attrs); rm != "" && !seen[rm] {
			seen[rm] = true
			out = append(out, vipRouteMapNode(n.Attrs, as))
		}
	}
	slices.SortFunc(out, func(a, b *Node) int { return strings.Compare(a.Line, b.Line) })
	return out
}

// sortNetworks orders networks by prefix, as plan keys are ordered.
func sortNetworks(nets []Network) {
	slices.SortFunc(nets, func(a, b Network) int {
		return plan.CompareKey(plan.Key{Prefix: a.Prefix}, plan.Key{Prefix: b.Prefix})
	})
}

// networksOf returns the `network` lines of the default instance in a
// rendering: the service VIPs it announced, with the attributes their
// route-map sets.
func networksOf(nodes []*Node, as uint32) []Network {
	var out []Network
	for _, n := range nodes {
		if n.Line != fmt.Sprintf("router bgp %d", as) {
			continue
		}
		for _, af := range n.Children {
			if !strings.HasPrefix(af.Line, "address-family ") {
				continue
			}
			for _, l := range af.Children {
				v, ok := strings.CutPrefix(l.Line, "network ")
				if !ok {
					continue
				}
				f := strings.Fields(v)
				p, err := netip.ParsePrefix(f[0])
				if err != nil {
					continue
				}
				nw := Network{Prefix: p}
				if len(f) == 3 && f[1] == "route-map" {
					if a, ok := parseVIPRouteMap(f[2]); ok {
						nw.Attrs = a
					}
				}
				out = append(out, nw)
			}
		}
	}
	sortNetworks(out)
	return out
}

// vipScript is the script of a VIP change from old to nets, prev being the
// last applied rendering and cur the new one: the new route-maps, the
// changed `network` statements entered again (FRR changes a static
// network's route-map in place when the statement is entered again with
// another or none: no withdrawal at the peers), the removals, and last the
// route-maps no VIP uses any more (removing one before its statement moved
// off it would leave bgpd a statement whose route-map is missing, which
// bgpd treats as deny: a withdrawal).
func vipScript(prev, cur []*Node, old, nets []Network, as uint32, protected map[string]bool) string {
	var changed []Network
	for _, n := range nets {
		if !slices.Contains(old, n) {
			changed = append(changed, n)
		}
	}
	add := vipRouteMapNodes(changed, as)
	for _, n := range changed {
		af := "address-family ipv4 unicast"
		if n.Prefix.Addr().Is6() {
			af = "address-family ipv6 unicast"
		}
		add = append(add, &Node{Line: fmt.Sprintf("router bgp %d", as), Children: []*Node{
			{Line: af, Children: []*Node{{Line: networkLine(n)}}}}})
	}
	early, late := splitLate(Removals(prev, cur, protected))
	return Text(early) + Text(add) + Text(late)
}

// splitLate takes out of removals the VIP route-maps, which go after the
// statements that used them have been entered again (see vipScript).
func splitLate(removals []*Node) (early, late []*Node) {
	for _, n := range removals {
		if strings.HasPrefix(n.Line, "no route-map "+VIPRouteMapPrefix+"-") {
			late = append(late, n)
		} else {
			early = append(early, n)
		}
	}
	return early, late
}
