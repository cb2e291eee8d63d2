package southbound

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// Driver is the southbound driver (`ovn_bgp_driver`): it plans one
// Port_Binding or Load_Balancer row at a time from the row itself and
// indexed lookups in the topology.
//
// What each kind reads (and so what Affected must report when it changes):
//
//   - VM and virtual ports (type "" / virtual) on a provider network: the
//     row, the localnets of its datapath, the Datapath_Binding (name).
//   - tenant VM ports, OVN LB VIP ports (ovn-lb-vip-*): the row, the patch
//     ports of its switch, their peers (router ports), the router's
//     chassisredirect ports and, through them, the gateway (see crlrp).
//   - chassisredirect (cr-lrp): the row, "lrp-X" by name, its peer, the
//     localnets of the peer's datapath (the provider network).
//   - patch ports with nat_addresses (FIPs): the row, the residents named in
//     is_chassis_resident, the localnets of the datapath and, for a cr-lrp
//     resident, its router's tenant subnets.
//   - router ports (tenant subnets, subnet mode): the row, its peer, the
//     router's chassisredirect ports.
//   - Load_Balancer: the row, its datapath groups, the routers found from
//     its datapaths (patch peers) and their chassisredirect ports.
//
// The driver remembers the version of every row other rows may read (all
// Port_Bindings but VM ports, and the VM ports FIPs name) as it last
// planned it, so that Affected can also follow the relations a row had
// before it changed or was deleted. Sources and PlanAll (a full plan)
// start that memory afresh. The topology's rows must therefore never be
// modified in place.
//
// Not knowable from the southbound database, so not done in this driver:
// require_snat_disabled_for_tenant_networks (SNAT rules are NB NAT rows; the
// SB only carries their external IPs), which upstream also implements in the
// NB driver only.
type Driver struct {
	cfg     *config.Config
	t       *topology.Topology
	chassis string

	started     bool
	self        string // own Chassis uuid
	rawMappings string
	mappings    []topology.BridgeMapping
	physnets    map[string]topology.BridgeMapping
	scopes      map[string]bool

	mem      map[string]*sbdb.PortBinding // the row as last planned (rows are never modified in place)
	warnings []plan.Warning

	// Bridges() cache: valid while the localnets and mappings are unchanged
	// (recomputing it sorted every localnet on every re-plan).
	bridgesOK  bool
	bridgesVer uint64
	bridgesRaw string
	bridges    []plan.BridgeWiring

	// Per-batch memo, cleared by Reset: the topology does not change
	// between a Reset and the end of the plan or re-plan that follows.
	swMemo  map[string]*switchInfo
	gwMemo  map[string]*gw
	netMemo map[string][]netip.Prefix // router -> its tenant subnets
}

// switchInfo is what a datapath is for this chassis: a provider network
// (bridge, VLAN), else the router interfaces through which its ports are
// announced here.
type switchInfo struct {
	prov   bool
	bridge string
	vlan   int
	ifs    []routerIf
}

type routerIf struct {
	rif, lrp *sbdb.PortBinding
	g        *gw
}

func (d *Driver) sw(dp string) *switchInfo {
	if si, ok := d.swMemo[dp]; ok {
		return si
	}
	si := &switchInfo{}
	si.bridge, si.vlan, si.prov = d.providerUncached(dp)
	if !si.prov {
		d.t.ForEachPatch(dp, func(rif *sbdb.PortBinding) {
			lrp := d.t.PortBinding(rif.Options["peer"])
			if lrp == nil || lrp.Datapath == dp || lrp.Type != "patch" || d.isGatewayPort(lrp) {
				return
			}
			if g := d.localGateway(lrp.Datapath); g != nil {
				si.ifs = append(si.ifs, routerIf{rif: rif, lrp: lrp, g: g})
			}
		})
	}
	d.swMemo[dp] = si
	return si
}

// pbMem is the part of a Port_Binding that other rows' contributions read
// (nat_addresses, for one, is read only by its own row).
type pbMem struct {
	name, typ, datapath, peer string
	chassis                   string
	up                        bool
	mac0                      string
	scope4, scope6            string
	tag                       int
	networkName, crp          string
}

func summarize(pb *sbdb.PortBinding) pbMem {
	m := pbMem{name: pb.LogicalPort, typ: pb.Type, datapath: pb.Datapath, peer: pb.Options["peer"],
		up: pb.Up == nil || *pb.Up}
	if pb.Chassis != nil {
		m.chassis = *pb.Chassis
	}
	if len(pb.MAC) > 0 {
		m.mac0 = pb.MAC[0]
	}
	if pb.Tag != nil {
		m.tag = *pb.Tag
	}
	m.scope4 = pb.ExternalIDs["neutron:subnet_pool_addr_scope4"]
	m.scope6 = pb.ExternalIDs["neutron:subnet_pool_addr_scope6"]
	m.networkName = pb.Options["network_name"]
	m.crp = pb.Options["chassis-redirect-port"]
	return m
}

// New returns the southbound driver for chassis (the OVS system-id,
// which is the SB Chassis name).
func New(cfg *config.Config, t *topology.Topology, chassis string) *Driver {
	d := &Driver{cfg: cfg, t: t, chassis: chassis, mem: map[string]*sbdb.PortBinding{},
		swMemo: map[string]*switchInfo{}, gwMemo: map[string]*gw{}, netMemo: map[string][]netip.Prefix{}}
	if len(cfg.AddressScopes) > 0 {
		d.scopes = map[string]bool{}
		for _, s := range cfg.AddressScopes {
			d.scopes[strings.TrimSpace(s)] = true
		}
	}
	return d
}

var _ plan.Driver = (*Driver)(nil)

func (d *Driver) warn(table, row, reason, detail string) {
	d.warnings = plan.Warn(d.warnings, table, row, reason, detail)
}

// Warnings returns and clears the collected warnings.
func (d *Driver) Warnings() []plan.Warning {
	w := d.warnings
	d.warnings = nil
	return w
}

// Reset refreshes the own Chassis uuid and the bridge mappings.
func (d *Driver) Reset() bool {
	self := d.t.ChassisUUID(d.chassis)
	raw := ""
	if o := d.t.OpenVSwitch(); o != nil {
		raw = o.ExternalIDs["ovn-bridge-mappings"]
	}
	clear(d.swMemo)
	clear(d.gwMemo)
	clear(d.netMemo)
	changed := !d.started || self != d.self || raw != d.rawMappings
	d.started = true
	if !changed {
		return false
	}
	d.self, d.rawMappings = self, raw
	mappings, mw := topology.ParseBridgeMappings(raw)
	for _, w := range mw {
		d.warn("Open_vSwitch", ".", "bridge-mappings", w)
	}
	d.mappings = mappings
	d.physnets = map[string]topology.BridgeMapping{}
	for _, m := range mappings {
		if _, dup := d.physnets[m.Physnet]; !dup {
			d.physnets[m.Physnet] = m
		}
	}
	return true
}

// Sources lists every Port_Binding and Load_Balancer. It starts a full plan,
// so it also forgets the remembered rows.
func (d *Driver) Sources() []plan.RowRef {
	d.mem = map[string]*sbdb.PortBinding{}
	out := make([]plan.RowRef, 0, d.t.NumPortBindings()+d.t.NumLoadBalancers())
	d.t.PortBindingUUIDs(func(u string) { out = append(out, plan.RowRef{Table: sbdb.PortBindingTable, UUID: u}) })
	d.t.LoadBalancerUUIDs(func(u string) { out = append(out, plan.RowRef{Table: sbdb.LoadBalancerTable, UUID: u}) })
	return out
}

// PlanAll plans every Port_Binding and Load_Balancer (AllPlanner), with
// the result of Sources then Plan for each, but visiting only the rows that
// can contribute: the rows that are not VM ports, the VM ports bound here,
// and the VM ports of the tenant switches attached to routers whose gateway
// is here. Every other VM port contributes nothing (see port).
func (d *Driver) PlanAll(fn func(plan.RowRef, plan.Contribution)) {
	d.mem = map[string]*sbdb.PortBinding{}
	pbSrc := func(pb *sbdb.PortBinding) plan.RowRef {
		return plan.RowRef{Table: sbdb.PortBindingTable, UUID: pb.UUID}
	}
	d.t.ForEachNonVMPort(func(pb *sbdb.PortBinding) { fn(pbSrc(pb), d.planPB(pb)) })
	if d.self == "" {
		return
	}
	isVM := func(pb *sbdb.PortBinding) bool { return pb.Type == "" || pb.Type == "virtual" }
	d.t.ForEachBoundTo(d.self, func(pb *sbdb.PortBinding) {
		if isVM(pb) {
			fn(pbSrc(pb), d.planPB(pb))
		}
	})
	if d.tenantEnabled() {
		seen := map[string]bool{}
		d.t.ForEachChassisRedirectDatapath(func(r string) {
			if d.localGateway(r) == nil {
				return
			}
			d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
				d.t.ForEachPeerOf(lrp.LogicalPort, func(rif *sbdb.PortBinding) {
					s := rif.Datapath
					if seen[s] || s == r {
						return
					}
					seen[s] = true
					if len(d.sw(s).ifs) == 0 {
						return
					}
					d.t.ForEachPortOn(s, func(pb *sbdb.PortBinding) {
						if isVM(pb) && (pb.Chassis == nil || *pb.Chassis != d.self) {
							fn(pbSrc(pb), d.planPB(pb))
						}
					})
				})
			})
		})
	}
	d.t.LoadBalancers(func(lb *sbdb.LoadBalancer) {
		fn(plan.RowRef{Table: sbdb.LoadBalancerTable, UUID: lb.UUID}, d.planLB(lb))
	})
}

func (d *Driver) planPB(pb *sbdb.PortBinding) plan.Contribution {
	var c plan.Contribution
	d.remember(pb)
	if d.self != "" {
		d.port(pb, &c)
	}
	return c
}

func (d *Driver) planLB(lb *sbdb.LoadBalancer) plan.Contribution {
	var c plan.Contribution
	if d.self != "" {
		d.loadBalancer(lb, &c)
	}
	return c
}

// Plan returns what one row contributes.
func (d *Driver) Plan(src plan.RowRef) plan.Contribution {
	var c plan.Contribution
	switch src.Table {
	case sbdb.PortBindingTable:
		pb := d.t.PortBindingByUUID(src.UUID)
		if pb == nil {
			delete(d.mem, src.UUID)
			return c
		}
		return d.planPB(pb)
	case sbdb.LoadBalancerTable:
		if lb := d.t.LoadBalancer(src.UUID); lb != nil {
			return d.planLB(lb)
		}
	}
	return c
}

// remember keeps the row for Affected when other rows may read it: every
// row but VM ports; natAddresses remembers the VM ports FIPs name as
// residents.
//
// A VM port's entry (set by natAddresses) may be an older version of the
// row: Affected only uses its name, which does not change.
func (d *Driver) remember(pb *sbdb.PortBinding) {
	if pb.Type == "" || pb.Type == "virtual" {
		return
	}
	d.mem[pb.UUID] = pb
}

// port plans one Port_Binding.
func (d *Driver) port(pb *sbdb.PortBinding, c *plan.Contribution) {
	switch pb.Type {
	case "", "virtual":
		if br, vlan, ok := d.provider(pb.Datapath); ok {
			if !d.boundHere(pb) {
				return
			}
			// The chassis answers NDP for the subnet-router anycast address
			// of the port's IPv6 subnets: the VM's way out on a fabric
			// where no router sits on the provider network (upstream's NB
			// driver does this for every port, its SB driver only for
			// virtual ones, which leaves IPv6 egress broken).
			ndp := plan.NDPProxies(plan.PrefixesFromCIDRs(pb.ExternalIDs["neutron:cidrs"]))
			for _, pfx := range d.portPrefixes(pb) {
				plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindProviderPort, Port: pb.LogicalPort,
					Network: d.networkName(pb.Datapath), Reason: "bound to this chassis on a provider network"},
					plan.Exposure{Bridge: br, VLAN: vlan, ProxyNDP: plan.NDPFor(pfx, ndp)})
			}
			return
		}
		d.tenantPort(pb, c)
	case "chassisredirect":
		if !d.boundHere(pb) {
			return
		}
		if gw := d.gateway(pb, true); gw != nil {
			ndp := plan.NDPProxies(gw.nets)
			for _, pfx := range gw.nets {
				plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindCRLRP, Port: pb.LogicalPort,
					Network: gw.network, Reason: "router gateway hosted on this chassis"},
					plan.Exposure{Bridge: gw.bridge, VLAN: gw.vlan, MAC: gw.mac, ProxyNDP: plan.NDPFor(pfx, ndp)})
			}
		}
	case "patch":
		if len(pb.NatAddresses) > 0 {
			d.natAddresses(pb, c)
		}
		if d.cfg.AdvertisementMethodTenantNetworks == "subnet" && d.tenantEnabled() {
			d.tenantSubnet(pb, c)
		}
	}
}

// boundHere: the port is active on this chassis. During a live migration
// OVN lists the destination in additional_chassis (or requested_chassis)
// while `chassis` stays the active one, so only `chassis` counts: a port is
// announced by exactly one chassis. A port that is down is not announced
// (a missing up column, before OVN 21.03, counts as up). Virtual ports are
// bound by OVN itself (to the chassis of the parent that claimed the VIP).
func (d *Driver) boundHere(pb *sbdb.PortBinding) bool {
	if pb.Chassis == nil || *pb.Chassis != d.self || d.self == "" {
		return false
	}
	return pb.Up == nil || *pb.Up
}

// boundSomewhere: the port is bound and up on some chassis.
func boundSomewhere(pb *sbdb.PortBinding) bool {
	return pb.Chassis != nil && *pb.Chassis != "" && (pb.Up == nil || *pb.Up)
}

// portPrefixes returns the addresses of a VM port: from its mac column
// ("MAC IP..."), or from neutron:cidrs when OVN does not know the addresses
// (config-drive ports have mac "unknown"; OVN LB VIP ports have no mac).
func (d *Driver) portPrefixes(pb *sbdb.PortBinding) []netip.Prefix {
	var out []netip.Prefix
	for _, m := range pb.MAC {
		f := strings.Fields(m)
		if len(f) == 0 || f[0] == "unknown" {
			continue
		}
		for _, a := range f[1:] {
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
				continue
			}
			out = append(out, pfx)
		}
	}
	if len(out) == 0 {
		if c := pb.ExternalIDs["neutron:cidrs"]; c != "" {
			for _, a := range strings.Fields(c) {
				pfx, err := plan.ParseAddr(a)
				if err != nil {
					d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-cidr", err.Error())
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
// is in ovn-bridge-mappings. With several (multi-segment networks), the
// mapped localnet with the smallest name wins.
func (d *Driver) provider(datapath string) (bridge string, vlan int, ok bool) {
	si := d.sw(datapath)
	return si.bridge, si.vlan, si.prov
}

func (d *Driver) providerUncached(datapath string) (bridge string, vlan int, ok bool) {
	var best *sbdb.PortBinding
	d.t.ForEachLocalnet(datapath, func(ln *sbdb.PortBinding) {
		if _, mapped := d.physnets[ln.Options["network_name"]]; !mapped {
			return
		}
		if best == nil || ln.LogicalPort < best.LogicalPort {
			best = ln
		}
	})
	if best == nil {
		return "", 0, false
	}
	if best.Tag != nil {
		vlan = *best.Tag
	}
	return d.physnets[best.Options["network_name"]].Bridge, vlan, true
}

// networkName is the Neutron network name of a datapath (Datapath_Binding
// external_ids name2, which northd copies from neutron:network_name), else
// its logical switch name.
func (d *Driver) networkName(datapath string) string {
	dp := d.t.Datapath(datapath)
	if dp == nil {
		return ""
	}
	if n := dp.ExternalIDs["name2"]; n != "" {
		return n
	}
	return dp.ExternalIDs["name"]
}

// gw is a router gateway (cr-lrp) hosted here, with its provider wiring.
type gw struct {
	port    string
	mac     string
	nets    []netip.Prefix // the cr-lrp networks, e.g. 172.24.4.100/24
	bridge  string
	vlan    int
	network string
}

// via returns the gateway address of the family of a.
func (g *gw) via(a netip.Addr) (netip.Addr, bool) {
	for _, n := range g.nets {
		if n.Addr().Is4() == a.Is4() {
			return n.Addr(), true
		}
	}
	return netip.Addr{}, false
}

func (g *gw) contains(a netip.Addr) bool {
	for _, n := range g.nets {
		if n.Bits() < n.Addr().BitLen() && n.Masked().Contains(a) {
			return true
		}
	}
	return false
}

// gateway resolves a chassisredirect port: its MAC and networks and the
// provider network it is on. nil when it is not usable (no address, no
// provider switch, provider not mapped here). warn: report malformed
// addresses (only when planning the cr-lrp row itself).
func (d *Driver) gateway(pb *sbdb.PortBinding, warn bool) *gw {
	if len(pb.MAC) == 0 {
		return nil
	}
	f := strings.Fields(pb.MAC[0])
	if len(f) < 2 {
		return nil
	}
	dp, ok := d.gatewayProviderDatapath(pb)
	if !ok {
		return nil
	}
	br, vlan, ok := d.provider(dp)
	if !ok {
		return nil
	}
	g := &gw{port: pb.LogicalPort, mac: f[0], bridge: br, vlan: vlan, network: d.networkName(dp)}
	for _, a := range f[1:] {
		pfx, err := plan.ParseAddr(a)
		if err != nil {
			if warn {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
			}
			continue
		}
		g.nets = append(g.nets, pfx)
	}
	if len(g.nets) == 0 {
		return nil
	}
	return g
}

// gatewayProviderDatapath finds the provider switch of a cr-lrp: the peer
// of the router port it redirects ("cr-lrp-X" redirects "lrp-X", whose
// peer is the switch-side port), else the port named after the part after
// "cr-lrp-" (upstream's rule, for rows without a peer yet: upstream 10.1
// row 7).
func (d *Driver) gatewayProviderDatapath(pb *sbdb.PortBinding) (string, bool) {
	lrp := strings.TrimPrefix(pb.LogicalPort, "cr-")
	if r := d.t.PortBinding(lrp); r != nil {
		if peer := d.t.PortBinding(r.Options["peer"]); peer != nil {
			return peer.Datapath, true
		}
	}
	if r := d.t.PortBinding(strings.TrimPrefix(pb.LogicalPort, "cr-lrp-")); r != nil {
		return r.Datapath, true
	}
	return "", false
}

// localGateway returns the gateway of router datapath r hosted on this
// chassis (the one with the smallest port name if several are), or nil.
func (d *Driver) localGateway(r string) *gw {
	if g, ok := d.gwMemo[r]; ok {
		return g
	}
	var best *gw
	d.t.ForEachChassisRedirect(r, func(c *sbdb.PortBinding) {
		if !d.boundHere(c) || (best != nil && c.LogicalPort > best.port) {
			return
		}
		if g := d.gateway(c, false); g != nil {
			best = g
		}
	})
	d.gwMemo[r] = best
	return best
}

// natAddresses plans the floating IPs OVN advertises on a router gateway's
// switch-side patch port: entries "MAC IP... is_chassis_resident("X")".
// The IPs are announced where X is: the VM's chassis for distributed FIPs,
// the cr-lrp's chassis for centralized ones (upstream 10.1 row 15).
//
// With options:nat-addresses=router (what Neutron sets) northd lists the
// router's SNAT and DNAT external IPs and also every load-balancer VIP of
// the router (ovn-nb(5); unless exclude-lb-vips-from-garp). So
// load-balancer FIPs (a dnat_and_snat NAT on the never-bound VIP port,
// hence centralized) and port-forwarding FIPs (LB VIPs on the router)
// arrive here too, resident on the cr-lrp: they are announced as kind fip
// (the Load_Balancer rows announce the same prefixes as lb-fip / pf-fip,
// see loadBalancer; the merge keeps one announcement per prefix). Tenant
// LB VIPs listed the same way are not provider addresses: the IPs inside
// one of the router's tenant subnets are skipped here (the LB and its VIP
// port announce them via the cr-lrp when tenant networks are exposed).
// TestSBPlanFromRealNorthd checks this against the real ovn-northd.
func (d *Driver) natAddresses(pb *sbdb.PortBinding, c *plan.Contribution) {
	br, vlan, ok := d.provider(pb.Datapath)
	if !ok {
		return
	}
	for _, entry := range pb.NatAddresses {
		resident, ok := topology.ResidentPort(entry)
		if !ok {
			d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", fmt.Sprintf("no is_chassis_resident in %q", entry))
			continue
		}
		rp := d.t.PortBinding(resident)
		if rp != nil {
			d.mem[rp.UUID] = rp
		}
		if rp == nil || !d.boundHere(rp) {
			continue // upstream 10.1 row 9: a deleted or unbound resident withdraws its FIPs
		}
		var tenantNets []netip.Prefix
		if rp.Type == "chassisredirect" {
			tenantNets = d.tenantNets(rp.Datapath)
		}
		f := strings.Fields(entry)
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "is_chassis_resident") {
				break
			}
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", err.Error())
				continue
			}
			if plan.InAny(tenantNets, pfx.Addr().Unmap()) {
				continue
			}
			plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindFIP, Port: resident,
				Network: d.networkName(pb.Datapath), Reason: "floating IP resident on " + resident},
				plan.Exposure{Bridge: br, VLAN: vlan})
		}
	}
}

// tenantNets returns the subnets of router r's interfaces (its router
// ports that are not gateway ports).
func (d *Driver) tenantNets(r string) []netip.Prefix {
	if nets, ok := d.netMemo[r]; ok {
		return nets
	}
	var nets []netip.Prefix
	d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
		if d.isGatewayPort(lrp) {
			return
		}
		for _, n := range lrpNetworks(lrp) {
			if n.Bits() < n.Addr().BitLen() {
				nets = append(nets, n.Masked())
			}
		}
	})
	d.netMemo[r] = nets
	return nets
}

// tenantEnabled: expose_tenant_networks or expose_ipv6_gua_tenant_networks.
func (d *Driver) tenantEnabled() bool {
	return d.cfg.ExposeTenantNetworks || d.cfg.ExposeIPv6GUATenantNetworks
}

// tenantAllowed filters a tenant address: every address with
// expose_tenant_networks, else only global IPv6 addresses with
// expose_ipv6_gua_tenant_networks; then address_scopes, matched against the
// router interface's switch-side port (neutron:subnet_pool_addr_scope4/6).
func (d *Driver) tenantAllowed(a netip.Addr, rif *sbdb.PortBinding) bool {
	if !d.cfg.ExposeTenantNetworks {
		if !d.cfg.ExposeIPv6GUATenantNetworks || !a.Is6() || !plan.IsGlobal6(a) {
			return false
		}
	}
	if d.scopes != nil {
		key := "neutron:subnet_pool_addr_scope4"
		if a.Is6() {
			key = "neutron:subnet_pool_addr_scope6"
		}
		if !d.scopes[rif.ExternalIDs[key]] {
			return false
		}
	}
	return true
}

// routerInterfaces calls fn for every router interface of tenant switch s
// whose router has a gateway hosted here: rif is the switch-side patch
// port, lrp the router port (its peer), g the local gateway. Switches that
// are provider networks here are not tenant networks.
func (d *Driver) routerInterfaces(s string, fn func(rif, lrp *sbdb.PortBinding, g *gw)) {
	for _, ri := range d.sw(s).ifs {
		fn(ri.rif, ri.lrp, ri.g)
	}
}

// isGatewayPort: a router port that has a chassisredirect port (the
// gateway port), as opposed to a router interface.
func (d *Driver) isGatewayPort(lrp *sbdb.PortBinding) bool {
	return lrp.Options["chassis-redirect-port"] != "" || d.t.PortBinding("cr-"+lrp.LogicalPort) != nil
}

// lrpNetworks parses a router port's networks ("MAC 10.0.0.1/24 ...").
func lrpNetworks(lrp *sbdb.PortBinding) []netip.Prefix {
	if len(lrp.MAC) == 0 {
		return nil
	}
	f := strings.Fields(lrp.MAC[0])
	var out []netip.Prefix
	for _, a := range f[min(1, len(f)):] {
		if p, err := plan.ParseAddr(a); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// isLBVIPPort: the port ovn-octavia creates for a VIP (named or
// neutron:port_name "ovn-lb-vip-..."), never bound, without mac.
func isLBVIPPort(pb *sbdb.PortBinding) bool {
	if pb.Type != "" || pb.Chassis != nil {
		return false
	}
	for _, m := range pb.MAC {
		if strings.TrimSpace(m) != "" {
			return false
		}
	}
	return strings.HasPrefix(pb.LogicalPort, "ovn-lb-vip-") || strings.HasPrefix(pb.ExternalIDs["neutron:port_name"], "ovn-lb-vip-")
}

// tenantPort plans a VM (or OVN LB VIP) port on a tenant network: announced
// as a host route on the chassis hosting the cr-lrp of a router the network
// is attached to, routed via the cr-lrp IP (host advertisement; with subnet
// advertisement the router interface announces the whole subnet instead).
func (d *Driver) tenantPort(pb *sbdb.PortBinding, c *plan.Contribution) {
	if !d.tenantEnabled() || d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
		return
	}
	kind, reason := plan.KindTenantPort, "tenant port behind a router gateway hosted on this chassis"
	if !boundSomewhere(pb) {
		if !isLBVIPPort(pb) {
			return
		}
		kind, reason = plan.KindLBVIP, "load-balancer VIP on a tenant network behind a router gateway hosted on this chassis"
	}
	var prefixes []netip.Prefix
	d.routerInterfaces(pb.Datapath, func(rif, lrp *sbdb.PortBinding, g *gw) {
		if prefixes == nil {
			prefixes = d.portPrefixes(pb)
		}
		nets := lrpNetworks(lrp)
		for _, pfx := range prefixes {
			a := pfx.Addr().Unmap()
			if !plan.HasFamily(nets, a) || !d.tenantAllowed(a, rif) {
				continue
			}
			via, ok := g.via(a)
			if !ok {
				continue
			}
			plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: kind, Port: pb.LogicalPort,
				Network: d.networkName(pb.Datapath), Reason: reason},
				plan.Exposure{Bridge: g.bridge, VLAN: g.vlan, Via: via})
		}
	})
}

// tenantSubnet plans a router interface (a patch port on a router whose
// peer is on a tenant switch) in subnet advertisement mode: its subnets,
// routed via the cr-lrp IP of the same family. Missing options:peer
// (upstream 10.1 row 7) or a peer already deleted: nothing.
func (d *Driver) tenantSubnet(lrp *sbdb.PortBinding, c *plan.Contribution) {
	rif := d.t.PortBinding(lrp.Options["peer"])
	if rif == nil || rif.Datapath == lrp.Datapath || d.isGatewayPort(lrp) || !d.t.HasChassisRedirect(lrp.Datapath) {
		return
	}
	if _, _, prov := d.provider(rif.Datapath); prov {
		return
	}
	g := d.localGateway(lrp.Datapath)
	if g == nil {
		return
	}
	for _, n := range lrpNetworks(lrp) {
		a := n.Addr().Unmap()
		if !d.tenantAllowed(a, rif) {
			continue
		}
		via, ok := g.via(a)
		if !ok {
			continue
		}
		plan.Add(c, plan.Announcement{Prefix: n.Masked(), Kind: plan.KindTenantSubnet, Port: lrp.LogicalPort,
			Network: d.networkName(rif.Datapath), Reason: "tenant subnet behind a router gateway hosted on this chassis"},
			plan.Exposure{Bridge: g.bridge, VLAN: g.vlan, Via: via})
	}
}

// lbDatapaths lists the datapaths a Load_Balancer applies to, whatever the
// schema generation (upstream 10.1 row 16): datapaths (old),
// datapath_group (22.x), ls_datapath_group and lr_datapath_group (23.09+).
func (d *Driver) lbDatapaths(lb *sbdb.LoadBalancer) []string {
	out := append([]string(nil), lb.Datapaths...)
	for _, g := range []*string{lb.DatapathGroup, lb.LSDatapathGroup, lb.LRDatapathGroup} {
		if g == nil {
			continue
		}
		if grp := d.t.LogicalDPGroup(*g); grp != nil {
			out = append(out, grp.Datapaths...)
		}
	}
	return out
}

// loadBalancer plans an OVN load balancer. Its routers are the datapaths of
// the LB that have a gateway, and the routers attached to its switches.
// For each router whose gateway is hosted here, each VIP is announced:
//   - in a network of the cr-lrp (a provider network): full wiring, kind
//     pf-fip for port-forwarding LBs (name pf-floatingip-*), lb-fip for the
//     FIP ovn-octavia adds as an extra VIP (external_ids neutron:vip_fip),
//     else lb-vip (upstream announces provider VIPs even without tenant
//     exposure);
//   - in a tenant subnet of that router, with tenant exposure in host mode:
//     lb-vip routed via the cr-lrp IP.
//
// Only routers whose gateway is here announce, so a VIP is never announced
// by the gateway of another router (upstream 10.1 row 17).
func (d *Driver) loadBalancer(lb *sbdb.LoadBalancer, c *plan.Contribution) {
	if len(lb.Vips) == 0 {
		return
	}
	routers := map[string]bool{}
	for _, dp := range d.lbDatapaths(lb) {
		if d.t.HasChassisRedirect(dp) {
			routers[dp] = true
			continue
		}
		d.t.ForEachPatch(dp, func(rif *sbdb.PortBinding) {
			if lrp := d.t.PortBinding(rif.Options["peer"]); lrp != nil && lrp.Datapath != dp && d.t.HasChassisRedirect(lrp.Datapath) {
				routers[lrp.Datapath] = true
			}
		})
	}
	if len(routers) == 0 {
		return
	}
	var vips []netip.Addr
	for k := range lb.Vips {
		a, err := plan.ParseVIP(k)
		if err != nil {
			d.warn(sbdb.LoadBalancerTable, lb.Name, "bad-vip", err.Error())
			continue
		}
		vips = append(vips, a)
	}
	fip := lb.ExternalIDs["neutron:vip_fip"]
	for r := range routers {
		g := d.localGateway(r)
		if g == nil {
			continue
		}
		for _, a := range vips {
			pfx := netip.PrefixFrom(a, a.BitLen())
			if g.contains(a) {
				kind, reason := plan.KindLBVIP, "load-balancer VIP on the provider network of a router gateway hosted here"
				switch {
				case strings.HasPrefix(lb.Name, "pf-floatingip-"):
					kind, reason = plan.KindPFFIP, "port-forwarding floating IP of a router gateway hosted here"
				case fip != "" && fip == a.String():
					kind, reason = plan.KindLBFIP, "floating IP of a load-balancer VIP behind a router gateway hosted here"
				}
				plan.Add(c, plan.Announcement{Prefix: pfx, Kind: kind, Port: lb.Name, Network: g.network, Reason: reason},
					plan.Exposure{Bridge: g.bridge, VLAN: g.vlan})
				continue
			}
			if !d.tenantEnabled() || d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
				continue
			}
			d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
				rif := d.t.PortBinding(lrp.Options["peer"])
				if rif == nil || rif.Datapath == r || d.isGatewayPort(lrp) {
					return
				}
				if _, _, prov := d.provider(rif.Datapath); prov {
					return
				}
				for _, n := range lrpNetworks(lrp) {
					if n.Masked().Contains(a) && d.tenantAllowed(a, rif) {
						if via, ok := g.via(a); ok {
							plan.Add(c, plan.Announcement{Prefix: pfx, Kind: plan.KindLBVIP, Port: lb.Name, Network: d.networkName(rif.Datapath),
								Reason: "load-balancer VIP on a tenant network behind a router gateway hosted here"},
								plan.Exposure{Bridge: g.bridge, VLAN: g.vlan, Via: via})
						}
						return
					}
				}
			})
		}
	}
}

// NeededDatapaths lists the extra datapaths whose every Port_Binding the
// agent must monitor (ovsdb.SouthboundNeed.Datapaths): the tenant switches
// attached to routers whose cr-lrp this chassis hosts, when tenant networks
// are exposed. Sorted. The caller holds the topology's read lock and has
// called Reset (or a plan) since the last change.
func (d *Driver) NeededDatapaths() []string {
	if !d.tenantEnabled() || d.self == "" {
		return nil
	}
	set := map[string]bool{}
	d.t.ForEachChassisRedirectDatapath(func(r string) {
		local := false
		d.t.ForEachChassisRedirect(r, func(c *sbdb.PortBinding) {
			if c.Chassis != nil && *c.Chassis == d.self {
				local = true
			}
		})
		if !local {
			return
		}
		d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
			if rif := d.t.PortBinding(lrp.Options["peer"]); rif != nil && rif.Datapath != r && !d.isGatewayPort(lrp) {
				set[rif.Datapath] = true
			}
		})
	})
	out := make([]string, 0, len(set))
	for dp := range set {
		out = append(out, dp)
	}
	sort.Strings(out)
	return out
}

// Bridges lists the per-bridge wiring of every valid mapping, with the VLAN
// tags of the localnet ports on its physnet.
func (d *Driver) Bridges() []plan.BridgeWiring {
	if v := d.t.LocalnetVersion(); !d.bridgesOK || v != d.bridgesVer || d.rawMappings != d.bridgesRaw {
		d.bridges = d.computeBridges()
		d.bridgesOK, d.bridgesVer, d.bridgesRaw = true, v, d.rawMappings
	}
	return plan.CloneBridges(d.bridges)
}

func (d *Driver) computeBridges() []plan.BridgeWiring {
	vlans := plan.PhysnetVLANs{}
	for _, ln := range d.t.AllLocalnets() {
		vlans.Add(ln.Options, ln.Tag)
	}
	return plan.BridgeWirings(d.mappings, vlans)
}

// Flows lists the MAC-rewrite flows of the mapped bridges.
func (d *Driver) Flows() []plan.Flow { return plan.ProviderFlows(d.t, d.mappings) }
