package southbound

import (
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
	guard    *plan.Guard

	// Bridges() cache: valid while the localnets and mappings are unchanged
	// (recomputing it sorted every localnet on every re-plan).
	bridgesOK  bool
	bridgesVer uint64
	bridgesRaw string
	bridges    []plan.BridgeWiring

	// Per-batch memo, cleared by Reset: the topology does not change
	// between a Reset and the end of the plan or re-plan that follows.
	swMemo  map[string]*switchInfo
	gwMemo  map[string]*plan.Gateway
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
	g        *plan.Gateway
}

func (d *Driver) sw(dp string) *switchInfo {
	if si, ok := d.swMemo[dp]; ok {
		return si
	}
	si := &switchInfo{}
	var refused bool // a provider network with only bad VLAN tags: not a tenant network either
	si.bridge, si.vlan, si.prov, refused = d.providerUncached(dp)
	if !si.prov && !refused {
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
	d := &Driver{cfg: cfg, t: t, chassis: chassis, mem: map[string]*sbdb.PortBinding{}, guard: plan.NewGuard(cfg),
		swMemo: map[string]*switchInfo{}, gwMemo: map[string]*plan.Gateway{}, netMemo: map[string][]netip.Prefix{}}
	if len(cfg.AddressScopes) > 0 {
		d.scopes = map[string]bool{}
		for _, s := range cfg.AddressScopes {
			d.scopes[strings.TrimSpace(s)] = true
		}
	}
	return d
}

var _ plan.Driver = (*Driver)(nil)

// Guard is the address guard every contribution passes through.
func (d *Driver) Guard() *plan.Guard { return d.guard }

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
		d.guard.Filter(sbdb.PortBindingTable, &c, d.warn)
	}
	return c
}

func (d *Driver) planLB(lb *sbdb.LoadBalancer) plan.Contribution {
	var c plan.Contribution
	if d.self != "" {
		d.loadBalancer(lb, &c)
		d.guard.Filter(sbdb.LoadBalancerTable, &c, d.warn)
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
