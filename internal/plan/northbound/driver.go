package northbound

// The northbound driver (upstream nb_ovn_bgp_driver, exposing_method
// underlay): what this chassis announces, computed from OVN_Northbound rows
// only (../shared/docs/upstream-ovn-bgp-agent.md §4.4, §5.3, §7.2).
//
// Where each kind is announced:
//
//   - provider-port: a VM or virtual port (LSP type "" or "virtual") that is
//     up, bound here and on a provider switch (a localnet port whose
//     network_name is in ovn-bridge-mappings). Wired with the VM MAC as a
//     permanent neighbour and NDP proxies for the port's IPv6 neutron:cidrs.
//   - fip: a dnat_and_snat NAT. Distributed (NB_Global
//     external_ids:neutron:fip-distributed not false, and the NAT has
//     logical_port and external_mac, which is when OVN handles it on the
//     VM's chassis): where its logical port is bound, MAC = external_mac.
//     Otherwise centralized: where its gateway port (NAT.gateway_port, else
//     the router's gateway port on the FIP's network) is hosted, MAC = the
//     gateway port's MAC.
//   - cr-lrp: the networks of a router port whose status:hosting-chassis is
//     this chassis (OVN >= 23.09), MAC = the port's MAC, NDP proxies for
//     its IPv6 networks.
//   - tenant-port / tenant-subnet: with expose_tenant_networks (or the
//     IPv6-GUA variant), behind a router whose gateway is hosted here: the
//     router interface's subnets (advertisement_method_tenant_networks =
//     subnet) or the IPs of the up VM ports on them (host), routed via the
//     gateway IP of the same family; filtered by address_scopes and
//     require_snat_disabled_for_tenant_networks.
//   - lb-vip, lb-fip, pf-fip: OVN load balancers of a router whose gateway
//     is hosted here (external_ids lr_ref, or the router's load_balancer
//     column): the VIP (provider VIP wired on its provider switch, tenant
//     VIP via the gateway when tenant networks are exposed), its
//     neutron:vip_fip or a NAT on the VIP port, and the FIPs of Neutron
//     port-forwarding LBs "pf-floatingip-*".
//
// Binding rule (one chassis announces a port): a port is bound where it is
// up and where the FIRST entry of options:requested-chassis names this
// chassis (its hostname or system-id). During a live migration Neutron
// writes "source,destination" and rewrites it to the destination once the
// migration is over, so the source keeps announcing until then and the
// destination takes over at once after. Virtual ports (no
// requested-chassis) use external_ids neutron:host_id, which Neutron
// updates when OVN moves the virtual IP; ports without requested-chassis
// fall back to it too.
//
// Incremental precision: every Plan records what it read (rows by uuid,
// lookups by name, container membership), and Affected returns the sources
// whose last plan read the changed row or looked for its name, plus the
// members a container row gained since they were planned. The chassis-wide
// context (identity, bridge mappings, fip-distributed) is checked by Reset,
// which reports a change so the caller re-plans everything; NB_Global
// updates that do not change the flag (Neutron's liveness churn, upstream
// §10.1 row 28) re-plan nothing.

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// Identity names this chassis to the northbound driver. The agent passes
// the zero value: the names then come from the local Open_vSwitch row,
// external_ids:hostname (matched against LSP requested-chassis and
// neutron:host_id; when missing, os.Hostname as upstream, c8970b6) and
// external_ids:system-id (matched against LRP status:hosting-chassis and
// NAT gateway ports). Non-empty fields override them (tests, operator
// settings). Either name matches either signal: requested-chassis may hold
// a chassis name as well as a hostname.
type Identity struct {
	Hostname    string
	ChassisName string
}

// nbContext is the chassis-wide input of a plan; Reset compares it.
type nbContext struct {
	hostname, chassis string
	mappings          string
	fipDistributed    bool
	tenant            bool
	options           string // the other options a plan reads
}

// Driver is the northbound driver (nb_ovn_bgp_driver). It implements
// Driver. It is not safe for concurrent use: one planner goroutine calls it,
// with the topology's read lock held.
type Driver struct {
	cfg *config.Config
	t   *topology.Topology
	id  Identity

	ctx      nbContext
	mappings []topology.BridgeMapping
	physnets map[string]topology.BridgeMapping
	warnings []plan.Warning
	guard    *plan.Guard

	// Dependency records of the last plan of each source.
	cur      plan.RowRef
	deps     map[string]map[plan.RowRef]struct{} // key read -> sources that read it
	srcKeys  map[plan.RowRef][]string            // source -> keys it read
	memberOf map[string]map[string]bool          // member uuid -> containers seen when its plan read them
	fp       map[string]string                   // switch/router uuid -> context fingerprint its dependents saw
}

// New returns the northbound driver for this chassis.
func New(cfg *config.Config, t *topology.Topology, id Identity) *Driver {
	return &Driver{cfg: cfg, t: t, id: id, guard: plan.NewGuard(cfg),
		deps: map[string]map[plan.RowRef]struct{}{}, srcKeys: map[plan.RowRef][]string{}, memberOf: map[string]map[string]bool{},
		fp: map[string]string{}}
}

var _ plan.Driver = (*Driver)(nil)

// Guard is the address guard every contribution passes through.
func (d *Driver) Guard() *plan.Guard { return d.guard }

// Reset refreshes the chassis-wide context.
func (d *Driver) Reset() bool {
	var c nbContext
	ovs := d.t.OpenVSwitch()
	c.hostname, c.chassis = d.id.Hostname, d.id.ChassisName
	if ovs != nil {
		if c.hostname == "" {
			c.hostname = ovs.ExternalIDs["hostname"]
		}
		if c.chassis == "" {
			c.chassis = ovs.ExternalIDs["system-id"]
		}
		c.mappings = ovs.ExternalIDs["ovn-bridge-mappings"]
	}
	c.fipDistributed = true
	if g := d.t.NBGlobal(); g != nil {
		switch strings.ToLower(strings.TrimSpace(g.ExternalIDs["neutron:fip-distributed"])) {
		case "false", "0", "no", "off":
			c.fipDistributed = false
		}
	}
	if c.hostname == "" {
		c.hostname, _ = os.Hostname()
	}
	c.tenant = d.cfg.ExposeTenantNetworks || d.cfg.ExposeIPv6GUATenantNetworks
	c.options = fmt.Sprint(d.cfg.ExposeTenantNetworks, d.cfg.ExposeIPv6GUATenantNetworks, d.cfg.AdvertisementMethodTenantNetworks,
		d.cfg.RequireSNATDisabledForTenantNetworks, d.cfg.AddressScopes)
	mappings, mw := d.t.BridgeMappings()
	if c.mappings != d.ctx.mappings || d.mappings == nil {
		// Once per change of the mappings, not once per re-plan batch.
		for _, w := range mw {
			d.warn(vswitch.OpenVSwitchTable, ".", "bridge-mappings", w)
		}
	}
	d.mappings = mappings
	d.physnets = map[string]topology.BridgeMapping{}
	for _, m := range mappings {
		if _, dup := d.physnets[m.Physnet]; !dup {
			d.physnets[m.Physnet] = m
		}
	}
	changed := c != d.ctx
	d.ctx = c
	return changed
}

// Sources lists every northbound row that may contribute: switch ports,
// router ports, NATs and load balancers. It starts a full plan: the caller
// must then Plan every source it returns (the driver forgets the context
// fingerprints its dependency records compare against).
func (d *Driver) Sources() []plan.RowRef {
	d.fp = map[string]string{} // a full plan reads every context afresh
	var out []plan.RowRef
	d.t.NBPorts(func(p *nbdb.LogicalSwitchPort) {
		switch p.Type {
		case "", "virtual", "router":
			out = append(out, plan.RowRef{Table: nbdb.LogicalSwitchPortTable, UUID: p.UUID})
		}
	})
	d.t.NBRouterPortsAll(func(p *nbdb.LogicalRouterPort) {
		out = append(out, plan.RowRef{Table: nbdb.LogicalRouterPortTable, UUID: p.UUID})
	})
	d.t.NBNATs(func(n *nbdb.NAT) { out = append(out, plan.RowRef{Table: nbdb.NATTable, UUID: n.UUID}) })
	d.t.NBLoadBalancers(func(lb *nbdb.LoadBalancer) {
		out = append(out, plan.RowRef{Table: nbdb.LoadBalancerTable, UUID: lb.UUID})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].UUID < out[j].UUID
	})
	return out
}

// Plan returns what src contributes now.
func (d *Driver) Plan(src plan.RowRef) plan.Contribution {
	d.begin(src)
	var c plan.Contribution
	switch src.Table {
	case nbdb.LogicalSwitchPortTable:
		if p := d.t.NBPort(src.UUID); p != nil {
			d.planLSP(&c, p)
		}
	case nbdb.LogicalRouterPortTable:
		if p := d.t.NBRouterPort(src.UUID); p != nil {
			d.planLRP(&c, p)
		}
	case nbdb.NATTable:
		if n := d.t.NBNAT(src.UUID); n != nil {
			d.planNAT(&c, n)
		}
	case nbdb.LoadBalancerTable:
		if lb := d.t.NBLoadBalancer(src.UUID); lb != nil {
			d.planLB(&c, lb)
		}
	}
	d.guard.Filter(src.Table, &c, d.warn)
	return c
}

// Warnings returns and clears the collected warnings.
func (d *Driver) Warnings() []plan.Warning {
	w := d.warnings
	d.warnings = nil
	return w
}

func (d *Driver) warn(table, row, reason, detail string) {
	d.warnings = plan.Warn(d.warnings, table, row, reason, detail)
}

// Bridges lists the per-bridge wiring of every valid mapping, with the VLAN
// tags of the northbound localnet ports on its physnet.
func (d *Driver) Bridges() []plan.BridgeWiring {
	vlans := plan.PhysnetVLANs{}
	for _, ln := range d.t.NBAllLocalnets() {
		vlans.Add(ln.Options, ln.Tag)
	}
	return plan.BridgeWirings(d.mappings, vlans)
}

// Flows lists the MAC-rewrite flows of the mapped bridges.
func (d *Driver) Flows() []plan.Flow { return plan.ProviderFlows(d.t, d.mappings) }
