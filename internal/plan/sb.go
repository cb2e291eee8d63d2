package plan

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

var metricInvalid = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ovnbgp_plan_invalid_rows_total",
	Help: "Rows the planner skipped because a value could not be parsed, by table and reason.",
}, []string{"table", "reason"})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{metricInvalid} }

// Warning is a row the planner skipped or could only partly use.
type Warning struct {
	Table  string
	Row    string // logical port or other name
	Reason string // short, stable: the metric label
	Detail string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s %s: %s: %s", w.Table, w.Row, w.Reason, w.Detail)
}

// Planner computes desired states. It holds no state of its own beyond the
// configuration: the same topology always gives the same plan.
type Planner struct {
	cfg *config.Config
}

// New returns a planner for the configuration.
func New(cfg *config.Config) *Planner { return &Planner{cfg: cfg} }

// sbPlan is the working state of one southbound plan.
type sbPlan struct {
	cfg      *config.Config
	t        *topology.Topology
	self     string // own Chassis uuid
	physnets map[string]topology.BridgeMapping
	ann      map[Key]Announcement
	exp      map[Key]Exposure
	warnings []Warning
}

// FullSB computes the whole desired state of chassis (its system-id) with the
// southbound driver (ovn_bgp_driver). The caller holds t's read lock.
func (p *Planner) FullSB(t *topology.Topology, chassis string) (*State, []Warning) {
	s := &sbPlan{cfg: p.cfg, t: t, self: t.ChassisUUID(chassis), physnets: map[string]topology.BridgeMapping{},
		ann: map[Key]Announcement{}, exp: map[Key]Exposure{}}
	mappings, mw := t.BridgeMappings()
	for _, w := range mw {
		s.warn("Open_vSwitch", ".", "bridge-mappings", w)
	}
	for _, m := range mappings {
		if _, dup := s.physnets[m.Physnet]; !dup {
			s.physnets[m.Physnet] = m
		}
	}
	st := &State{Chassis: chassis}
	if s.self != "" {
		t.PortBindings(s.port)
	}
	st.Wiring.Bridges = s.bridges(mappings)
	st.Wiring.Flows = s.flows(mappings)
	for _, a := range s.ann {
		st.Announcements = append(st.Announcements, a)
	}
	for _, e := range s.exp {
		st.Wiring.Exposures = append(st.Wiring.Exposures, e)
	}
	st.Sort()
	sort.Slice(s.warnings, func(i, j int) bool { return s.warnings[i].String() < s.warnings[j].String() })
	return st, s.warnings
}

func (s *sbPlan) warn(table, row, reason, detail string) {
	metricInvalid.WithLabelValues(table, reason).Inc()
	s.warnings = append(s.warnings, Warning{Table: table, Row: row, Reason: reason, Detail: detail})
}

// port plans one Port_Binding.
func (s *sbPlan) port(pb *sbdb.PortBinding) {
	switch pb.Type {
	case "", "virtual":
		if !s.boundHere(pb) {
			return
		}
		prefixes := s.portPrefixes(pb)
		br, vlan, ok := s.provider(pb.Datapath)
		if !ok {
			return // tenant network: announced through the cr-lrp chassis, if at all
		}
		var ndp []netip.Addr
		if pb.Type == "virtual" {
			ndp = ndpProxies(prefixesFromCIDRs(pb.ExternalIDs["neutron:cidrs"]))
		}
		for _, pfx := range prefixes {
			s.add(Announcement{Prefix: hostPrefix(pfx), Kind: KindProviderPort, Port: pb.LogicalPort,
				Network: s.networkName(pb.Datapath), Reason: "bound to this chassis on a provider network"},
				Exposure{Bridge: br, VLAN: vlan, ProxyNDP: ndpFor(pfx, ndp)})
		}
	case "chassisredirect":
		if !s.boundHere(pb) {
			return
		}
		s.crlrp(pb)
	case "patch":
		s.natAddresses(pb)
	}
}

// boundHere: the port is active on this chassis. During a live migration
// OVN lists the destination in additional_chassis (or requested_chassis)
// while `chassis` stays the active one, so only `chassis` counts: a port is
// announced by exactly one chassis. A port that is down is not announced.
func (s *sbPlan) boundHere(pb *sbdb.PortBinding) bool {
	if pb.Chassis == nil || *pb.Chassis != s.self {
		return false
	}
	return pb.Up == nil || *pb.Up
}

// portPrefixes returns the addresses of a VM port: from its mac column
// ("MAC IP..."), or from neutron:cidrs when OVN does not know the addresses
// (config-drive ports have mac "unknown").
func (s *sbPlan) portPrefixes(pb *sbdb.PortBinding) []netip.Prefix {
	var out []netip.Prefix
	for _, m := range pb.MAC {
		f := strings.Fields(m)
		if len(f) == 0 || f[0] == "unknown" {
			continue
		}
		for _, a := range f[1:] {
			pfx, err := parseAddr(a)
			if err != nil {
				s.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
				continue
			}
			out = append(out, pfx)
		}
	}
	if len(out) == 0 {
		if c := pb.ExternalIDs["neutron:cidrs"]; c != "" {
			for _, a := range strings.Fields(c) {
				pfx, err := parseAddr(a)
				if err != nil {
					s.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-cidr", err.Error())
					continue
				}
				out = append(out, pfx)
			}
		}
	}
	return out
}

// provider returns the bridge and VLAN of a datapath that is a provider
// network mapped on this chassis: it has a localnet port whose network_name
// is in ovn-bridge-mappings.
func (s *sbPlan) provider(datapath string) (bridge string, vlan int, ok bool) {
	for _, ln := range s.t.Localnets(datapath) {
		m, ok := s.physnets[ln.Options["network_name"]]
		if !ok {
			continue
		}
		if ln.Tag != nil {
			vlan = *ln.Tag
		}
		return m.Bridge, vlan, true
	}
	return "", 0, false
}

// networkName is the Neutron network name of a datapath, else its name.
func (s *sbPlan) networkName(datapath string) string {
	for _, ln := range s.t.Localnets(datapath) {
		if n := ln.Options["network_name"]; n != "" {
			return n
		}
	}
	return ""
}

// crlrp plans a router gateway port hosted here: its IPs, wired with a
// permanent neighbour for its MAC (OVN does not answer ARP for it from
// outside its L2) and NDP proxies for its IPv6 networks.
func (s *sbPlan) crlrp(pb *sbdb.PortBinding) {
	if len(pb.MAC) == 0 {
		return
	}
	f := strings.Fields(pb.MAC[0])
	if len(f) < 2 {
		return
	}
	mac := f[0]
	dp, ok := s.gatewayProviderDatapath(pb)
	if !ok {
		return
	}
	br, vlan, ok := s.provider(dp)
	if !ok {
		return
	}
	var nets []netip.Prefix
	for _, a := range f[1:] {
		pfx, err := parseAddr(a)
		if err != nil {
			s.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
			continue
		}
		nets = append(nets, pfx)
	}
	ndp := ndpProxies(nets)
	for _, pfx := range nets {
		s.add(Announcement{Prefix: hostPrefix(pfx), Kind: KindCRLRP, Port: pb.LogicalPort,
			Network: s.networkName(dp), Reason: "router gateway hosted on this chassis"},
			Exposure{Bridge: br, VLAN: vlan, MAC: mac, ProxyNDP: ndpFor(pfx, ndp)})
	}
}

// gatewayProviderDatapath finds the provider switch of a cr-lrp: the peer
// of the router port it redirects ("cr-lrp-X" redirects "lrp-X", whose
// peer is the switch-side port), else the port named after the part after
// "cr-lrp-" (upstream's rule, for rows without a peer yet).
func (s *sbPlan) gatewayProviderDatapath(pb *sbdb.PortBinding) (string, bool) {
	lrp := strings.TrimPrefix(pb.LogicalPort, "cr-")
	if r := s.t.PortBinding(lrp); r != nil {
		if peer := s.t.PortBinding(r.Options["peer"]); peer != nil {
			return peer.Datapath, true
		}
	}
	if r := s.t.PortBinding(strings.TrimPrefix(pb.LogicalPort, "cr-lrp-")); r != nil {
		return r.Datapath, true
	}
	return "", false
}

// natAddresses plans the floating IPs OVN advertises on a router gateway's
// switch-side patch port: entries "MAC IP... is_chassis_resident("X")".
// The IPs are announced where X is: the VM's chassis for distributed FIPs,
// the cr-lrp's chassis for centralized ones.
func (s *sbPlan) natAddresses(pb *sbdb.PortBinding) {
	if len(pb.NatAddresses) == 0 {
		return
	}
	br, vlan, ok := s.provider(pb.Datapath)
	if !ok {
		return
	}
	for _, entry := range pb.NatAddresses {
		resident, ok := residentPort(entry)
		if !ok {
			s.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", fmt.Sprintf("no is_chassis_resident in %q", entry))
			continue
		}
		rp := s.t.PortBinding(resident)
		if rp == nil || !s.boundHere(rp) {
			continue
		}
		f := strings.Fields(entry)
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "is_chassis_resident") {
				break
			}
			pfx, err := parseAddr(a)
			if err != nil {
				s.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", err.Error())
				continue
			}
			s.add(Announcement{Prefix: hostPrefix(pfx), Kind: KindFIP, Port: resident,
				Network: s.networkName(pb.Datapath), Reason: "floating IP resident on " + resident},
				Exposure{Bridge: br, VLAN: vlan})
		}
	}
}

// residentPort extracts X from `... is_chassis_resident("X")`.
func residentPort(entry string) (string, bool) {
	i := strings.Index(entry, "is_chassis_resident(")
	if i < 0 {
		return "", false
	}
	rest := entry[i+len("is_chassis_resident("):]
	j := strings.Index(rest, ")")
	if j < 0 {
		return "", false
	}
	name := strings.Trim(strings.TrimSpace(rest[:j]), `"\`)
	return name, name != ""
}

// add records an announcement and its exposure; when two reasons announce
// the same prefix, the kind listed first in Kinds wins, whatever the order
// the rows were seen in.
func (s *sbPlan) add(a Announcement, e Exposure) {
	k := a.Key()
	if old, ok := s.ann[k]; ok && kindRank(old.Kind) <= kindRank(a.Kind) {
		return
	}
	s.ann[k] = a
	e.Prefix, e.VRF, e.Announce = a.Prefix, a.VRF, true
	s.exp[k] = e
}

func kindRank(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}

// bridges lists the per-bridge wiring of every valid mapping, with the VLAN
// tags of the localnet ports on its physnet.
func (s *sbPlan) bridges(mappings []topology.BridgeMapping) []BridgeWiring {
	vlans := map[string]map[int]bool{}
	for _, ln := range s.t.AllLocalnets() {
		if ln.Tag != nil && *ln.Tag > 0 {
			n := ln.Options["network_name"]
			if vlans[n] == nil {
				vlans[n] = map[int]bool{}
			}
			vlans[n][*ln.Tag] = true
		}
	}
	var out []BridgeWiring
	seen := map[string]bool{}
	for _, m := range mappings {
		if seen[m.Bridge] {
			continue
		}
		seen[m.Bridge] = true
		bw := BridgeWiring{Bridge: m.Bridge, Physnet: m.Physnet, Index: m.Index}
		for v := range vlans[m.Physnet] {
			bw.VLANs = append(bw.VLANs, v)
		}
		sort.Ints(bw.VLANs)
		out = append(out, bw)
	}
	return out
}

// flows lists the MAC-rewrite flows: one per patch-provnet-* port of every
// mapped bridge whose OpenFlow port number and bridge MAC are known.
func (s *sbPlan) flows(mappings []topology.BridgeMapping) []Flow {
	var out []Flow
	seen := map[string]bool{}
	for _, m := range mappings {
		if seen[m.Bridge] {
			continue
		}
		seen[m.Bridge] = true
		br := s.t.Interface(m.Bridge)
		if br == nil || br.MACInUse == nil || *br.MACInUse == "" {
			continue
		}
		for _, name := range s.t.BridgePorts(m.Bridge) {
			if !strings.HasPrefix(name, "patch-provnet-") {
				continue
			}
			i := s.t.Interface(name)
			if i == nil || i.Ofport == nil || *i.Ofport <= 0 {
				continue // patch ports get their ofport late
			}
			out = append(out, Flow{Bridge: m.Bridge, Port: name, OFPort: *i.Ofport, DstMAC: *br.MACInUse})
		}
	}
	return out
}

// parseAddr parses "IP" or "IP/len" (a router port's network) into a prefix
// that keeps the address and length.
func parseAddr(s string) (netip.Prefix, error) {
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

func prefixesFromCIDRs(s string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(s) {
		if p, err := parseAddr(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// hostPrefix is the /32 or /128 of an address.
func hostPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// ndpProxies are the addresses to answer NDP for on behalf of IPv6
// networks: each network's subnet-router anycast address (upstream proxies
// the network address of each IPv6 CIDR).
func ndpProxies(nets []netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, n := range nets {
		if n.Addr().Is6() && !n.Addr().Is4In6() && n.Bits() < 128 {
			out = append(out, n.Masked().Addr())
		}
	}
	return out
}

// ndpFor attaches the NDP proxies to IPv6 exposures only.
func ndpFor(p netip.Prefix, ndp []netip.Addr) []netip.Addr {
	if !p.Addr().Is6() {
		return nil
	}
	return ndp
}
