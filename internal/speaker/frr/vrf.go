package frr

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// VRF is one per-VRF BGP instance ovnbgp renders, in a shape that is not
// tied to one driver: EVPN (exposing_method = vrf: a VNI, type-5 routes over
// the default instance's l2vpn evpn session) fills Name, VNI, RD, the route
// targets and Redistribute; a driver that peers inside the VRF (OVN dynamic
// routing) fills Neighbors and leaves VNI at 0. Every field but Name is
// optional.
type VRF struct {
	Name     string // kernel VRF device, e.g. vrf-100 (`router bgp <AS> vrf <Name>`)
	Table    int    // its routing table; not rendered (the kernel device holds it), kept so one value describes the VRF
	VNI      uint32 // L3VNI: `vrf <Name>` / `vni <VNI>` and `address-family l2vpn evpn`; 0 for none
	AS       uint32 // AS of the instance; 0 = bgp_AS
	RouterID string // `bgp router-id`; "" for FRR's choice
	// RD is the route distinguisher of the EVPN routes (`rd`); "" leaves
	// FRR's automatic one (<router-id>:<n>).
	RD string
	// ImportRT and ExportRT are the route targets (`route-target import` /
	// `export`); none leaves FRR's automatic <AS>:<VNI>.
	ImportRT, ExportRT []string
	// Redistribute lists what the instance originates, in both unicast
	// families (e.g. connected, kernel, static).
	Redistribute []Redistribute
	// Families the instance's unicast address families and, with a VNI,
	// the type-5 `advertise <family> unicast` lines cover: "ipv4", "ipv6".
	// Empty means both.
	Families []string
	// Neighbors are BGP peers inside the VRF.
	Neighbors []VRFNeighbor
}

// Redistribute is one `redistribute <Source> [route-map <RouteMap>]` line.
type Redistribute struct {
	Source   string // connected, kernel, static, ospf, ... (bgpd takes `table <n>` only in the default instance)
	RouteMap string // optional
}

// VRFNeighbor is a BGP peer inside a VRF.
type VRFNeighbor struct {
	Address   string // IP address, or an interface name with Interface (BGP unnumbered)
	Interface bool
	RemoteAS  string // number, internal or external; "" = external
}

// RenderVRFs returns the stanzas of the per-VRF instances, in name order:
// for each VRF with a VNI the `vrf <name>` / `vni <vni>` stanza (shared:
// removal takes only its `vni` line out, because FRR refuses to delete a
// VRF whose kernel device still exists), then the `router bgp <AS> vrf
// <name>` instance (owned: removed with one `no router bgp ...`).
func RenderVRFs(defaultAS uint32, vrfs []VRF) ([]*Node, error) {
	sorted := slices.Clone(vrfs)
	slices.SortFunc(sorted, func(a, b VRF) int { return strings.Compare(a.Name, b.Name) })
	var out []*Node
	seen := map[string]bool{}
	vnis := map[uint32]string{}
	for _, v := range sorted {
		if err := validName(v.Name); err != nil {
			return nil, fmt.Errorf("frr: vrf: %w", err)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("frr: vrf %s listed twice", v.Name)
		}
		seen[v.Name] = true
		if v.VNI != 0 {
			if v.VNI > plan.MaxVNI {
				return nil, fmt.Errorf("frr: vrf %s: vni %d outside 1..%d", v.Name, v.VNI, plan.MaxVNI)
			}
			if o, dup := vnis[v.VNI]; dup {
				return nil, fmt.Errorf("frr: vni %d on both vrf %s and vrf %s", v.VNI, o, v.Name)
			}
			vnis[v.VNI] = v.Name
			out = append(out, &Node{Line: "vrf " + v.Name, Children: []*Node{{Line: fmt.Sprintf("vni %d", v.VNI)}}})
		}
		n, err := renderVRF(defaultAS, v)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func renderVRF(defaultAS uint32, v VRF) (*Node, error) {
	as := v.AS
	if as == 0 {
		as = defaultAS
	}
	if as == 0 {
		return nil, fmt.Errorf("frr: vrf %s: no AS", v.Name)
	}
	r := &Node{Line: fmt.Sprintf("router bgp %d vrf %s", as, v.Name), Owned: true}
	add := func(n *Node, line string) { n.Children = append(n.Children, &Node{Line: line}) }
	if v.RouterID != "" {
		if a, err := netip.ParseAddr(v.RouterID); err != nil || !a.Is4() {
			return nil, fmt.Errorf("frr: vrf %s: router id %q is not an IPv4 address", v.Name, v.RouterID)
		}
		add(r, "bgp router-id "+v.RouterID)
	}
	fams := v.Families
	if len(fams) == 0 {
		fams = []string{"ipv4", "ipv6"}
	}
	for _, f := range fams {
		if f != "ipv4" && f != "ipv6" {
			return nil, fmt.Errorf("frr: vrf %s: family %q is not ipv4 or ipv6", v.Name, f)
		}
	}
	has := func(f string) bool { return slices.Contains(fams, f) }
	isV6 := map[string]bool{}
	if len(v.Neighbors) > 0 {
		add(r, "no bgp ebgp-requires-policy")
	}
	for _, nb := range v.Neighbors {
		as := nb.RemoteAS
		if as == "" {
			as = "external"
		}
		if err := validRemoteAS(as); err != nil {
			return nil, fmt.Errorf("frr: vrf %s: neighbor %s: %w", v.Name, nb.Address, err)
		}
		if nb.Interface {
			if err := validName(nb.Address); err != nil {
				return nil, fmt.Errorf("frr: vrf %s: neighbor interface: %w", v.Name, err)
			}
			add(r, fmt.Sprintf("neighbor %s interface remote-as %s", nb.Address, as))
			continue
		}
		a, err := netip.ParseAddr(nb.Address)
		if err != nil {
			return nil, fmt.Errorf("frr: vrf %s: neighbor address %q: %w", v.Name, nb.Address, err)
		}
		isV6[a.String()] = !a.Is4()
		add(r, fmt.Sprintf("neighbor %s remote-as %s", a, as))
		add(r, fmt.Sprintf("neighbor %s timers connect %d", a, ConnectRetrySeconds))
	}
	for _, f := range []string{"ipv4", "ipv6"} {
		if !has(f) {
			continue
		}
		af := &Node{Line: "address-family " + f + " unicast"}
		for _, rd := range v.Redistribute {
			if err := validRedistribute(rd); err != nil {
				return nil, fmt.Errorf("frr: vrf %s: %w", v.Name, err)
			}
			line := "redistribute " + rd.Source
			if rd.RouteMap != "" {
				line += " route-map " + rd.RouteMap
			}
			add(af, line)
		}
		for _, nb := range v.Neighbors {
			name := nb.Address
			if !nb.Interface {
				a, _ := netip.ParseAddr(nb.Address)
				name = a.String()
				if isV6[name] != (f == "ipv6") {
					continue
				}
			}
			add(af, fmt.Sprintf("neighbor %s activate", name))
		}
		if len(af.Children) > 0 {
			r.Children = append(r.Children, af)
		}
	}
	if v.VNI != 0 {
		evpn := &Node{Line: "address-family l2vpn evpn"}
		for _, f := range fams {
			add(evpn, "advertise "+f+" unicast")
		}
		if v.RD != "" {
			if err := plan.ValidRouteDistinguisher(v.RD); err != nil {
				return nil, fmt.Errorf("frr: vrf %s: rd: %w", v.Name, err)
			}
			add(evpn, "rd "+v.RD)
		}
		for _, rt := range []struct {
			dir  string
			list []string
		}{{"import", v.ImportRT}, {"export", v.ExportRT}} {
			for _, t := range rt.list {
				if err := plan.ValidRouteTarget(t); err != nil {
					return nil, fmt.Errorf("frr: vrf %s: route-target %s: %w", v.Name, rt.dir, err)
				}
				add(evpn, "route-target "+rt.dir+" "+t)
			}
		}
		r.Children = append(r.Children, evpn)
	}
	return r, nil
}

func validRedistribute(rd Redistribute) error {
	// `redistribute table` is refused by bgpd outside the default instance.
	if !slices.Contains([]string{"connected", "kernel", "static", "ospf", "ospf6", "isis", "rip", "ripng", "babel", "openfabric", "sharp"}, rd.Source) {
		return fmt.Errorf("redistribute %q: not a route source FRR redistributes into a VRF instance", rd.Source)
	}
	if rd.RouteMap != "" {
		if err := validName(rd.RouteMap); err != nil {
			return fmt.Errorf("redistribute route-map: %w", err)
		}
	}
	return nil
}

func vrfEqual(a, b VRF) bool {
	return a.Name == b.Name && a.Table == b.Table && a.VNI == b.VNI && a.AS == b.AS && a.RouterID == b.RouterID &&
		a.RD == b.RD && slices.Equal(a.ImportRT, b.ImportRT) && slices.Equal(a.ExportRT, b.ExportRT) &&
		slices.Equal(a.Redistribute, b.Redistribute) && slices.Equal(a.Families, b.Families) &&
		slices.Equal(a.Neighbors, b.Neighbors)
}

// TenantVRFs are the instances of the plan's tenant VRFs: the EVPN shape
// of exposing_method = vrf, as upstream renders it (redistribute connected
// and kernel in both families, type-5 for both, the VRF's RD and route
// targets).
func TenantVRFs(vrfs []plan.VRF) []VRF {
	out := make([]VRF, 0, len(vrfs))
	for _, v := range vrfs {
		out = append(out, VRF{Name: v.Name, Table: v.Table, VNI: v.VNI, AS: v.AS, RD: v.RD,
			ImportRT: slices.Clone(v.ImportRT), ExportRT: slices.Clone(v.ExportRT),
			Redistribute: []Redistribute{{Source: "connected"}, {Source: "kernel"}}})
	}
	return out
}

// SyncVRFs renders the plan's tenant VRFs (speaker.VRFSyncer): applied at
// once when they changed, nothing otherwise.
func (s *Speaker) SyncVRFs(ctx context.Context, vrfs []plan.VRF) error {
	if !s.SetVRFs(TenantVRFs(vrfs)) {
		return nil
	}
	return s.Apply(ctx, "vrfs")
}

// render is the rendering to apply. Until the drivers said which VRFs
// they want (SetVRFs), the per-VRF stanzas of the saved rendering are kept
// as they are: the start apply runs before the first plan, and removing
// them there would withdraw every tenant's routes for the seconds until
// the first full reconcile (an agent restart would send UPDATEs).
func (s *Speaker) render() ([]*Node, error) {
	cur, err := Render(Input{Config: s.cfg, RouterID: s.routerID, VRFs: s.vrfs, Networks: s.vipNets, Dynamic: s.dynamic})
	if err != nil || s.vrfsSet {
		return cur, err
	}
	return keepVRFs(cur, s.prev, s.cfg.BGPVRF), nil
}

// keepVRFs adds to cur the per-VRF pieces of prev: the `vrf X` stanzas,
// the `router bgp N vrf X` instances (X not bgp_vrf) and the l2vpn evpn
// family of the default instance.
func keepVRFs(cur, prev []*Node, bgpVRF string) []*Node {
	have := map[string]bool{}
	for _, n := range cur {
		have[n.Line] = true
	}
	var router *Node
	for _, n := range cur {
		if strings.HasPrefix(n.Line, "router bgp ") && !strings.Contains(n.Line, " vrf ") {
			router = n
		}
	}
	for _, p := range prev {
		switch {
		case have[p.Line]:
			if router != nil && p.Line == router.Line {
				for _, c := range p.Children {
					if c.Line == "address-family l2vpn evpn" && !hasChild(router, c.Line) {
						router.Children = append(router.Children, c)
					}
				}
			}
		case strings.HasPrefix(p.Line, "vrf "),
			strings.HasPrefix(p.Line, "router bgp ") && strings.Contains(p.Line, " vrf ") && !strings.HasSuffix(p.Line, " vrf "+bgpVRF):
			cur = append(cur, p)
		}
	}
	return cur
}

func hasChild(n *Node, line string) bool {
	for _, c := range n.Children {
		if c.Line == line {
			return true
		}
	}
	return false
}
