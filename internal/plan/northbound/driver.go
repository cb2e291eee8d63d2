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
	"net"
	"net/netip"
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

	// Dependency records of the last plan of each source.
	cur      plan.RowRef
	deps     map[string]map[plan.RowRef]struct{} // key read -> sources that read it
	srcKeys  map[plan.RowRef][]string            // source -> keys it read
	memberOf map[string]map[string]bool          // member uuid -> containers seen when its plan read them
	fp       map[string]string                   // switch/router uuid -> context fingerprint its dependents saw
}

// New returns the northbound driver for this chassis.
func New(cfg *config.Config, t *topology.Topology, id Identity) *Driver {
	return &Driver{cfg: cfg, t: t, id: id,
		deps: map[string]map[plan.RowRef]struct{}{}, srcKeys: map[plan.RowRef][]string{}, memberOf: map[string]map[string]bool{},
		fp: map[string]string{}}
}

var _ plan.Driver = (*Driver)(nil)

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
	return c
}

// Affected lists the sources whose contribution may change because src
// changed.
func (d *Driver) Affected(src plan.RowRef) ([]plan.RowRef, bool) {
	switch src.Table {
	case vswitch.OpenVSwitchTable:
		return nil, true
	case nbdb.NBGlobalTable:
		return nil, false // fip-distributed is checked by Reset
	}
	out := map[plan.RowRef]struct{}{}
	add := func(key string) {
		for s := range d.deps[key] {
			out[s] = struct{}{}
		}
	}
	add(src.UUID)
	gained := func(table string, members []string) {
		for _, m := range members {
			if seen, ok := d.memberOf[m]; ok && !seen[src.UUID] {
				out[plan.RowRef{Table: table, UUID: m}] = struct{}{}
			}
		}
	}
	ctx := func(uuid string) {
		if uuid != "" && d.ctxChanged(uuid) {
			add("ctx:" + uuid)
		}
	}
	switch src.Table {
	case nbdb.LogicalSwitchTable:
		ctx(src.UUID)
		if ls := d.t.NBSwitch(src.UUID); ls != nil {
			add(nameKey(src.Table, ls.Name))
			gained(nbdb.LogicalSwitchPortTable, ls.Ports)
			for _, p := range ls.Ports {
				add("lsp-switch:" + p)
			}
		}
	case nbdb.LogicalSwitchPortTable:
		p := d.t.NBPort(src.UUID)
		if p != nil {
			add(nameKey(src.Table, p.Name))
			add(nameKey("router-port", p.Options["router-port"]))
		}
		if p == nil || p.Type == "localnet" || p.Type == "router" {
			ctx(d.t.NBPortSwitch(src.UUID)) // the switch's localnet or router ports changed
		}
	case nbdb.LogicalRouterTable:
		ctx(src.UUID)
		if lr := d.t.NBRouter(src.UUID); lr != nil {
			add(nameKey(src.Table, lr.Name))
			for _, p := range lr.Ports {
				add("lrp-router:" + p)
			}
			gained(nbdb.NATTable, lr.Nat)
			gained(nbdb.LoadBalancerTable, lr.LoadBalancer)
		}
	case nbdb.LogicalRouterPortTable:
		if p := d.t.NBRouterPort(src.UUID); p != nil {
			add(nameKey(src.Table, p.Name))
		}
	case nbdb.NATTable:
		if d.cfg.RequireSNATDisabledForTenantNetworks {
			ctx(d.t.NBNATRouter(src.UUID)) // the router's SNATs filter its tenant subnets
		}
	case nbdb.LoadBalancerTable:
		if lb := d.t.NBLoadBalancer(src.UUID); lb != nil {
			add(nameKey("lb-vip-port", lb.ExternalIDs["neutron:vip_port_id"]))
		}
	}
	delete(out, src)
	list := make([]plan.RowRef, 0, len(out))
	for s := range out {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Table != list[j].Table {
			return list[i].Table < list[j].Table
		}
		return list[i].UUID < list[j].UUID
	})
	return list, false
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

// --- dependency recording ---

func nameKey(table, name string) string { return "name:" + table + ":" + name }

func (d *Driver) begin(src plan.RowRef) {
	for _, k := range d.srcKeys[src] {
		if s := d.deps[k]; s != nil {
			delete(s, src)
			if len(s) == 0 {
				delete(d.deps, k)
			}
		}
	}
	delete(d.srcKeys, src)
	delete(d.memberOf, src.UUID)
	d.cur = src
}

// ctxDep records that the current plan read the context of a switch or
// router (names, localnet and router ports, router ports and SNATs): the
// parts its dependents use, without the member lists that change with
// every port or FIP. Affected re-plans the dependents only when that
// fingerprint changed, so a port added to a big provider network does not
// re-plan the network's other ports.
func (d *Driver) ctxDep(uuid string, ls *nbdb.LogicalSwitch, lr *nbdb.LogicalRouter) {
	d.dep("ctx:" + uuid)
	if _, ok := d.fp[uuid]; ok {
		return
	}
	if ls != nil {
		d.fp[uuid] = d.fpLS(ls)
	} else if lr != nil {
		d.fp[uuid] = d.fpLR(lr)
	}
}

func (d *Driver) fpLS(ls *nbdb.LogicalSwitch) string {
	var b strings.Builder
	b.WriteString(ls.Name + "|" + ls.ExternalIDs["neutron:network_name"] + "|")
	for _, p := range d.t.NBLocalnets(ls.UUID) {
		b.WriteString(p.UUID + ",")
	}
	b.WriteString("|")
	for _, p := range d.t.NBSwitchRouterPorts(ls.UUID) {
		b.WriteString(p.UUID + ",")
	}
	return b.String()
}

func (d *Driver) fpLR(lr *nbdb.LogicalRouter) string {
	ports := append([]string{}, lr.Ports...)
	sort.Strings(ports)
	fp := lr.Name + "|" + strings.Join(ports, ",")
	if d.cfg.RequireSNATDisabledForTenantNetworks {
		var nats []string
		for _, n := range d.t.NBRouterNATs(lr.UUID) {
			if n.Type == "snat" {
				nats = append(nats, n.UUID+"="+n.LogicalIP)
			}
		}
		sort.Strings(nats)
		fp += "|" + strings.Join(nats, ",")
	}
	return fp
}

// ctxChanged compares the current fingerprint of a switch or router with
// the one its dependents were planned with, and remembers the new one.
func (d *Driver) ctxChanged(uuid string) bool {
	old, ok := d.fp[uuid]
	if !ok {
		return false // nobody read it since the last full plan
	}
	cur := "gone"
	if ls := d.t.NBSwitch(uuid); ls != nil {
		cur = d.fpLS(ls)
	} else if lr := d.t.NBRouter(uuid); lr != nil {
		cur = d.fpLR(lr)
	}
	if cur == "gone" {
		delete(d.fp, uuid)
	} else {
		d.fp[uuid] = cur
	}
	return cur != old
}

// dep records that the current plan read key (a row uuid or a name key).
func (d *Driver) dep(key string) {
	if key == "" || key == d.cur.UUID {
		return
	}
	s := d.deps[key]
	if s == nil {
		s = map[plan.RowRef]struct{}{}
		d.deps[key] = s
	}
	if _, ok := s[d.cur]; ok {
		return
	}
	s[d.cur] = struct{}{}
	d.srcKeys[d.cur] = append(d.srcKeys[d.cur], key)
}

// member records that the current plan read the container of its own row.
func (d *Driver) member(container string) {
	m := d.memberOf[d.cur.UUID]
	if m == nil {
		m = map[string]bool{}
		d.memberOf[d.cur.UUID] = m
	}
	if container != "" {
		m[container] = true
	}
}

func (d *Driver) sw(uuid string) *nbdb.LogicalSwitch {
	ls := d.t.NBSwitch(uuid)
	d.ctxDep(uuid, ls, nil)
	return ls
}

func (d *Driver) swByName(name string) *nbdb.LogicalSwitch {
	ls := d.t.NBSwitchByName(name)
	if ls == nil {
		d.dep(nameKey(nbdb.LogicalSwitchTable, name)) // re-plan when it appears
		return nil
	}
	d.ctxDep(ls.UUID, ls, nil)
	return ls
}

func (d *Driver) lspByName(name string) *nbdb.LogicalSwitchPort {
	p := d.t.NBPortByName(name)
	if p == nil {
		d.dep(nameKey(nbdb.LogicalSwitchPortTable, name))
		return nil
	}
	d.dep(p.UUID)
	return p
}

func (d *Driver) router(uuid string) *nbdb.LogicalRouter {
	lr := d.t.NBRouter(uuid)
	d.ctxDep(uuid, nil, lr)
	return lr
}

func (d *Driver) routerByName(name string) *nbdb.LogicalRouter {
	lr := d.t.NBRouterByName(name)
	if lr == nil {
		d.dep(nameKey(nbdb.LogicalRouterTable, name))
		return nil
	}
	d.ctxDep(lr.UUID, nil, lr)
	return lr
}

func (d *Driver) lrpByName(name string) *nbdb.LogicalRouterPort {
	p := d.t.NBRouterPortByName(name)
	if p == nil {
		d.dep(nameKey(nbdb.LogicalRouterPortTable, name))
		return nil
	}
	d.dep(p.UUID)
	return p
}

// switchOfPort returns the switch of any port (not the one being planned),
// recording the membership question when it has no answer yet.
func (d *Driver) switchOfPort(lspUUID string) *nbdb.LogicalSwitch {
	u := d.t.NBPortSwitch(lspUUID)
	if u == "" {
		d.dep("lsp-switch:" + lspUUID)
		return nil
	}
	return d.sw(u)
}

// routerOfPort returns the router of a router port, recording the
// membership question when it has no answer yet.
func (d *Driver) routerOfPort(lrpUUID string) *nbdb.LogicalRouter {
	u := d.t.NBRouterPortRouter(lrpUUID)
	if u == "" {
		d.dep("lrp-router:" + lrpUUID)
		return nil
	}
	return d.router(u)
}

// switchOf returns the switch of the port being planned.
func (d *Driver) switchOf(p *nbdb.LogicalSwitchPort) *nbdb.LogicalSwitch {
	u := d.t.NBPortSwitch(p.UUID)
	if p.UUID == d.cur.UUID {
		d.member(u)
	}
	if u == "" {
		return nil
	}
	return d.sw(u)
}

// --- chassis and provider questions ---

func (d *Driver) isMe(host string) bool {
	return host != "" && (host == d.ctx.hostname || host == d.ctx.chassis)
}

// portHost is the chassis a port is active on (see the binding rule above).
func portHost(p *nbdb.LogicalSwitchPort) string {
	if p.Type != "virtual" {
		for _, h := range strings.Split(p.Options["requested-chassis"], ",") {
			if h = strings.TrimSpace(h); h != "" {
				return h
			}
		}
	}
	if h := strings.TrimSpace(p.ExternalIDs["neutron:host_id"]); h != "" {
		return h
	}
	if p.Type == "virtual" {
		for _, h := range strings.Split(p.Options["requested-chassis"], ",") {
			if h = strings.TrimSpace(h); h != "" {
				return h
			}
		}
	}
	return ""
}

func isUp(p *nbdb.LogicalSwitchPort) bool { return p.Up != nil && *p.Up }

// wire is where a prefix is steered on this chassis.
type wire struct {
	bridge  string
	vlan    int
	network string
}

// provider answers whether the switch is a provider network (it has a
// localnet port) and, when its physnet is mapped here, its wiring.
func (d *Driver) provider(ls *nbdb.LogicalSwitch) (w wire, mapped, isProvider bool) {
	if ls == nil {
		return wire{}, false, false
	}
	w.network = ls.ExternalIDs["neutron:network_name"]
	if w.network == "" {
		w.network = ls.Name
	}
	for _, ln := range d.t.NBLocalnets(ls.UUID) {
		d.dep(ln.UUID)
		isProvider = true
		m, ok := d.physnets[ln.Options["network_name"]]
		if !ok {
			continue
		}
		w.bridge = m.Bridge
		if ln.Tag != nil {
			w.vlan = *ln.Tag
		}
		return w, true, true
	}
	return w, false, isProvider
}

// gateway is a router port hosted on this chassis on a mapped provider
// network.
type gateway struct {
	lrp  *nbdb.LogicalRouterPort
	w    wire
	mac  string
	nets []netip.Prefix
}

// via returns the gateway IP of the address family of p.
func (g *gateway) via(p netip.Prefix) (netip.Addr, bool) {
	for _, n := range g.nets {
		if n.Addr().Is4() == p.Addr().Is4() {
			return n.Addr(), true
		}
	}
	return netip.Addr{}, false
}

func (g *gateway) contains(a netip.Addr) bool {
	for _, n := range g.nets {
		if n.Masked().Contains(a) {
			return true
		}
	}
	return false
}

// lrpSwitch finds the provider switch of a router port: external_ids
// neutron:network_name, else the switch of the router-type port whose
// options:router-port names it (a missing peer yields nil, upstream §10.1
// row 7; the lookup is recorded so that its arrival re-plans).
func (d *Driver) lrpSwitch(p *nbdb.LogicalRouterPort) *nbdb.LogicalSwitch {
	if n := p.ExternalIDs["neutron:network_name"]; n != "" {
		if ls := d.swByName(n); ls != nil {
			return ls
		}
	}
	d.dep(nameKey("router-port", p.Name))
	for _, lsp := range d.t.NBPortsForRouterPort(p.Name) {
		d.dep(lsp.UUID)
		if ls := d.switchOfPort(lsp.UUID); ls != nil {
			return ls
		}
	}
	return nil
}

// hostedGateway returns the gateway for a router port if it is hosted here
// (status:hosting-chassis) on a mapped provider network.
func (d *Driver) hostedGateway(p *nbdb.LogicalRouterPort, warn bool) (*gateway, bool) {
	d.dep(p.UUID)
	if !d.isMe(p.Status["hosting-chassis"]) || len(p.Networks) == 0 {
		return nil, false
	}
	w, mapped, _ := d.provider(d.lrpSwitch(p))
	if !mapped {
		return nil, false
	}
	g := &gateway{lrp: p, w: w}
	if _, err := net.ParseMAC(p.MAC); err == nil {
		g.mac = p.MAC
	} else if warn {
		d.warn(nbdb.LogicalRouterPortTable, p.Name, "bad-mac", fmt.Sprintf("mac %q: %v", p.MAC, err))
	}
	for _, n := range p.Networks {
		pfx, err := plan.ParseAddr(n)
		if err != nil {
			if warn {
				d.warn(nbdb.LogicalRouterPortTable, p.Name, "bad-network", err.Error())
			}
			continue
		}
		g.nets = append(g.nets, pfx)
	}
	return g, len(g.nets) > 0
}

// localGateways returns the gateways of a router hosted here.
func (d *Driver) localGateways(lr *nbdb.LogicalRouter) []*gateway {
	if lr == nil {
		return nil
	}
	d.ctxDep(lr.UUID, nil, lr)
	var out []*gateway
	for _, u := range lr.Ports {
		d.dep(u) // also the ports whose row is not there yet
		p := d.t.NBRouterPort(u)
		if p == nil || p.Status["hosting-chassis"] == "" {
			continue
		}
		if g, ok := d.hostedGateway(p, false); ok {
			out = append(out, g)
		}
	}
	return out
}

// pickGateway prefers the gateway whose networks contain a.
func pickGateway(gws []*gateway, a netip.Addr) *gateway {
	for _, g := range gws {
		if g.contains(a) {
			return g
		}
	}
	if len(gws) > 0 {
		return gws[0]
	}
	return nil
}

// --- switch ports ---

// portAddrs returns the MAC and IPs of a VM port: from addresses ("MAC
// IP...", or dynamic_addresses for "dynamic"), else from neutron:cidrs
// (config-drive ports have "unknown", upstream §10.1 row 14).
func (d *Driver) portAddrs(p *nbdb.LogicalSwitchPort, warn bool) (mac string, ips []netip.Prefix) {
	entries := p.Addresses
	seen := map[netip.Prefix]bool{}
	for i := 0; i < len(entries); i++ {
		f := strings.Fields(entries[i])
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "unknown", "router":
			continue
		case "dynamic":
			if p.DynamicAddresses != nil {
				entries = append(entries, *p.DynamicAddresses)
			}
			continue
		}
		if _, err := net.ParseMAC(f[0]); err == nil {
			if mac == "" {
				mac = f[0]
			}
		} else if warn {
			d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-mac", fmt.Sprintf("address %q: %v", entries[i], err))
		}
		for _, a := range f[1:] {
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				if warn {
					d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-address", err.Error())
				}
				continue
			}
			if h := plan.HostPrefix(pfx); !seen[h] {
				seen[h] = true
				ips = append(ips, h)
			}
		}
	}
	if len(ips) == 0 {
		for _, pfx := range d.cidrs(p, warn) {
			if h := plan.HostPrefix(pfx); !seen[h] {
				seen[h] = true
				ips = append(ips, h)
			}
		}
	}
	return mac, ips
}

// cidrs parses external_ids neutron:cidrs.
func (d *Driver) cidrs(p *nbdb.LogicalSwitchPort, warn bool) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range strings.Fields(p.ExternalIDs["neutron:cidrs"]) {
		pfx, err := plan.ParseAddr(a)
		if err != nil {
			if warn {
				d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-cidr", err.Error())
			}
			continue
		}
		out = append(out, pfx)
	}
	return out
}

func (d *Driver) planLSP(c *plan.Contribution, p *nbdb.LogicalSwitchPort) {
	switch p.Type {
	case "", "virtual":
	case "router":
		if d.ctx.tenant && d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
			d.planSubnets(c, p)
		}
		return
	default:
		return
	}
	if !isUp(p) {
		return // down, or an unbound LB VIP port (upstream §10.1 rows 11, 13)
	}
	here := d.isMe(portHost(p))
	if !here && (!d.ctx.tenant || d.cfg.AdvertisementMethodTenantNetworks == "subnet") {
		return // only a local port, or a tenant port in host mode, can contribute
	}
	ls := d.switchOf(p)
	w, mapped, isProvider := d.provider(ls)
	if isProvider {
		if !here {
			return
		}
		if !mapped {
			return // provider network not mapped on this chassis
		}
		mac, ips := d.portAddrs(p, true)
		var ndp []netip.Addr
		for _, pfx := range d.cidrs(p, false) {
			ndp = append(ndp, plan.NDPProxies([]netip.Prefix{pfx})...)
		}
		for _, ip := range ips {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindProviderPort, Port: p.Name, Network: w.network,
				Reason: "bound to this chassis on a provider network"},
				plan.Exposure{Bridge: w.bridge, VLAN: w.vlan, MAC: mac, ProxyNDP: plan.NDPFor(ip, ndp)})
		}
		return
	}
	// Tenant network: announced by the chassis hosting the router gateway.
	if !d.ctx.tenant || d.cfg.AdvertisementMethodTenantNetworks == "subnet" || ls == nil {
		return
	}
	subnets := d.tenantSubnets(ls, nil)
	if len(subnets) == 0 {
		return
	}
	_, ips := d.portAddrs(p, true)
	for _, ip := range ips {
		for _, s := range subnets {
			if !s.prefix.Contains(ip.Addr()) {
				continue
			}
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindTenantPort, Port: p.Name, Network: s.network,
				Reason: "tenant port behind router gateway " + s.gw.lrp.Name + " hosted on this chassis"},
				plan.Exposure{Bridge: s.gw.w.bridge, VLAN: s.gw.w.vlan, Via: s.via})
			break
		}
	}
}

// tenantSubnet is a subnet of a tenant switch exposed through a local gateway.
type tenantSubnet struct {
	prefix  netip.Prefix // masked
	gw      *gateway
	via     netip.Addr
	network string
	rif     string // router interface port name
}

// tenantSubnets returns the exposed subnets of a tenant switch: those of
// its router interfaces (or only rif) whose router has a gateway here,
// after the GUA, address-scope and SNAT filters.
func (d *Driver) tenantSubnets(ls *nbdb.LogicalSwitch, only *nbdb.LogicalSwitchPort) []tenantSubnet {
	rifs := []*nbdb.LogicalSwitchPort{only}
	if only == nil {
		d.ctxDep(ls.UUID, ls, nil)
		rifs = d.t.NBSwitchRouterPorts(ls.UUID)
	}
	network := ls.ExternalIDs["neutron:network_name"]
	if network == "" {
		network = ls.Name
	}
	var out []tenantSubnet
	for _, rif := range rifs {
		d.dep(rif.UUID)
		owner := rif.ExternalIDs["neutron:device_owner"]
		if owner != "" && owner != "network:router_interface" {
			continue // the gateway port of a provider network, or another router-type port
		}
		if rif.Up != nil && !*rif.Up {
			continue
		}
		var lr *nbdb.LogicalRouter
		var lrp *nbdb.LogicalRouterPort
		if rp := rif.Options["router-port"]; rp != "" {
			if lrp = d.lrpByName(rp); lrp != nil {
				lr = d.routerOfPort(lrp.UUID)
			}
		}
		if lr == nil && rif.ExternalIDs["neutron:device_id"] != "" {
			lr = d.routerByName("neutron-" + rif.ExternalIDs["neutron:device_id"])
		}
		gws := d.localGateways(lr)
		if len(gws) == 0 {
			continue
		}
		nets := d.cidrs(rif, rif == only)
		if len(nets) == 0 && lrp != nil {
			for _, n := range lrp.Networks {
				if pfx, err := plan.ParseAddr(n); err == nil {
					nets = append(nets, pfx)
				}
			}
		}
		for _, n := range nets {
			n = n.Masked()
			if !d.tenantAllowed(rif, lr, n) {
				continue
			}
			for _, g := range gws {
				if via, ok := g.via(n); ok {
					out = append(out, tenantSubnet{prefix: n, gw: g, via: via, network: network, rif: rif.Name})
					break
				}
			}
		}
	}
	return out
}

// tenantAllowed applies expose_ipv6_gua_tenant_networks, address_scopes
// and require_snat_disabled_for_tenant_networks to a tenant subnet.
func (d *Driver) tenantAllowed(rif *nbdb.LogicalSwitchPort, lr *nbdb.LogicalRouter, n netip.Prefix) bool {
	if !d.cfg.ExposeTenantNetworks && !(n.Addr().Is6() && plan.IsGlobal6(n.Addr())) {
		return false
	}
	if len(d.cfg.AddressScopes) > 0 {
		key := "neutron:subnet_pool_addr_scope4"
		if n.Addr().Is6() {
			key = "neutron:subnet_pool_addr_scope6"
		}
		scope, ok := rif.ExternalIDs[key], false
		for _, s := range d.cfg.AddressScopes {
			if s != "" && s == scope {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if d.cfg.RequireSNATDisabledForTenantNetworks {
		for _, nat := range d.t.NBRouterNATs(lr.UUID) {
			d.dep(nat.UUID)
			if nat.Type != "snat" {
				continue
			}
			lip, err := plan.ParseAddr(nat.LogicalIP)
			if err != nil {
				continue
			}
			if lip.Bits() <= n.Bits() && lip.Masked().Contains(n.Addr()) {
				return false
			}
		}
	}
	return true
}

// planSubnets plans a router interface in subnet mode.
func (d *Driver) planSubnets(c *plan.Contribution, rif *nbdb.LogicalSwitchPort) {
	ls := d.switchOf(rif)
	if ls == nil {
		return
	}
	if _, _, isProvider := d.provider(ls); isProvider {
		return
	}
	for _, s := range d.tenantSubnets(ls, rif) {
		plan.AddOnce(c, plan.Announcement{Prefix: s.prefix, Kind: plan.KindTenantSubnet, Port: rif.Name, Network: s.network,
			Reason: "tenant subnet behind router gateway " + s.gw.lrp.Name + " hosted on this chassis"},
			plan.Exposure{Bridge: s.gw.w.bridge, VLAN: s.gw.w.vlan, Via: s.via})
	}
}

// --- router ports ---

func (d *Driver) planLRP(c *plan.Contribution, p *nbdb.LogicalRouterPort) {
	if !d.isMe(p.Status["hosting-chassis"]) {
		return
	}
	g, ok := d.hostedGateway(p, true)
	if !ok {
		return
	}
	ndp := plan.NDPProxies(g.nets)
	for _, n := range g.nets {
		ip := plan.HostPrefix(n)
		plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindCRLRP, Port: p.Name, Network: g.w.network,
			Reason: "router gateway hosted on this chassis"},
			plan.Exposure{Bridge: g.w.bridge, VLAN: g.w.vlan, MAC: g.mac, ProxyNDP: plan.NDPFor(ip, ndp)})
	}
}

// --- NAT ---

// isVIPPort reports whether a logical port is the VIP port of an OVN load
// balancer (ovn-octavia's "ovn-lb-vip-*" port).
func (d *Driver) isVIPPort(name string, lsp *nbdb.LogicalSwitchPort) bool {
	d.dep(nameKey("lb-vip-port", name))
	vip := false
	for _, lb := range d.t.NBLoadBalancersByVIPPort(name) {
		d.dep(lb.UUID)
		vip = true
	}
	if vip {
		return true
	}
	return lsp != nil && (strings.HasPrefix(lsp.ExternalIDs["neutron:port_name"], "ovn-lb-vip-") ||
		lsp.ExternalIDs["neutron:device_owner"] == "Octavia")
}

// natGateway returns the gateway port of a centralized NAT: its
// gateway_port (OVN >= 22.12), else the router's gateway port whose
// networks contain the external IP, else its first gateway port.
func (d *Driver) natGateway(n *nbdb.NAT, ext netip.Addr) *nbdb.LogicalRouterPort {
	if n.GatewayPort != nil && *n.GatewayPort != "" {
		d.dep(*n.GatewayPort)
		if p := d.t.NBRouterPort(*n.GatewayPort); p != nil {
			return p
		}
	}
	u := d.t.NBNATRouter(n.UUID)
	d.member(u)
	if u == "" || d.router(u) == nil {
		return nil
	}
	var first *nbdb.LogicalRouterPort
	for _, p := range d.t.NBRouterPorts(u) {
		d.dep(p.UUID)
		if p.Status["hosting-chassis"] == "" && len(p.GatewayChassis) == 0 && p.Options["redirect-chassis"] == "" {
			continue
		}
		if first == nil {
			first = p
		}
		for _, nw := range p.Networks {
			if pfx, err := plan.ParseAddr(nw); err == nil && pfx.Masked().Contains(ext) {
				return p
			}
		}
	}
	return first
}

// fipWire is the provider wiring of a FIP: its network
// (external_ids neutron:fip_network_id), else the gateway port's network.
func (d *Driver) fipWire(n *nbdb.NAT, gw *nbdb.LogicalRouterPort) (wire, bool) {
	if id := n.ExternalIDs["neutron:fip_network_id"]; id != "" {
		if ls := d.swByName("neutron-" + id); ls != nil {
			w, mapped, _ := d.provider(ls)
			return w, mapped
		}
	}
	if gw != nil {
		w, mapped, _ := d.provider(d.lrpSwitch(gw))
		return w, mapped
	}
	return wire{}, false
}

func (d *Driver) planNAT(c *plan.Contribution, n *nbdb.NAT) {
	if n.Type != "dnat_and_snat" {
		return
	}
	ext, err := netip.ParseAddr(strings.TrimSpace(n.ExternalIP))
	if err != nil {
		d.warn(nbdb.NATTable, n.UUID, "bad-external-ip", fmt.Sprintf("external_ip %q: %v", n.ExternalIP, err))
		return
	}
	ip := plan.HostPrefix(netip.PrefixFrom(ext, ext.BitLen()))
	var lport string
	if n.LogicalPort != nil {
		lport = *n.LogicalPort
	}
	var lsp *nbdb.LogicalSwitchPort
	if lport != "" {
		if lsp = d.lspByName(lport); lsp == nil {
			return // the port is gone (VM deleted with its FIP, upstream §10.1 row 9)
		}
	}
	vip := lport != "" && d.isVIPPort(lport, lsp)
	extMAC := ""
	if n.ExternalMAC != nil {
		extMAC = strings.TrimSpace(*n.ExternalMAC)
	}
	name := lport
	if name == "" {
		name = n.UUID
	}
	if d.ctx.fipDistributed && extMAC != "" && lsp != nil && !vip {
		// Distributed: OVN answers on the VM's chassis (upstream §10.1 row 15).
		if !isUp(lsp) || !d.isMe(portHost(lsp)) {
			return
		}
		if _, err := net.ParseMAC(extMAC); err != nil {
			d.warn(nbdb.NATTable, n.UUID, "bad-mac", fmt.Sprintf("external_mac %q: %v", extMAC, err))
			extMAC = ""
		}
		w, ok := d.fipWire(n, d.natGatewayQuiet(n))
		if !ok {
			return
		}
		plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindFIP, Port: name, Network: w.network,
			Reason: "distributed floating IP of " + lport + ", bound to this chassis"},
			plan.Exposure{Bridge: w.bridge, VLAN: w.vlan, MAC: extMAC})
		return
	}
	gwp := d.natGateway(n, ext)
	if gwp == nil || !d.isMe(gwp.Status["hosting-chassis"]) {
		return
	}
	g, ok := d.hostedGateway(gwp, false)
	if !ok {
		return
	}
	w, ok := d.fipWire(n, gwp)
	if !ok {
		w = g.w
	}
	kind, why := plan.KindFIP, "centralized floating IP of "+name+" on router gateway "+gwp.Name+" hosted here"
	if vip {
		kind, why = plan.KindLBFIP, "floating IP of load-balancer VIP port "+lport+" on router gateway "+gwp.Name+" hosted here"
	}
	plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: kind, Port: name, Network: w.network, Reason: why},
		plan.Exposure{Bridge: w.bridge, VLAN: w.vlan, MAC: g.mac})
}

// natGatewayQuiet is natGateway for the wiring fallback of a distributed
// FIP, without an external IP preference.
func (d *Driver) natGatewayQuiet(n *nbdb.NAT) *nbdb.LogicalRouterPort {
	if n.GatewayPort != nil && *n.GatewayPort != "" {
		d.dep(*n.GatewayPort)
		return d.t.NBRouterPort(*n.GatewayPort)
	}
	return nil
}

// --- load balancers ---

// lbRouters returns the routers of a load balancer: external_ids lr_ref
// (and, for port forwarding, neutron:router_name), plus the routers listing
// it in their load_balancer column.
func (d *Driver) lbRouters(lb *nbdb.LoadBalancer) []*nbdb.LogicalRouter {
	var out []*nbdb.LogicalRouter
	seen := map[string]bool{}
	add := func(lr *nbdb.LogicalRouter) {
		if lr != nil && !seen[lr.UUID] {
			seen[lr.UUID] = true
			out = append(out, lr)
		}
	}
	for _, key := range []string{"lr_ref", "neutron:router_name"} {
		ref := lb.ExternalIDs[key]
		if ref == "" {
			continue
		}
		lr := d.routerByName(ref)
		if lr == nil && !strings.HasPrefix(ref, "neutron-") {
			lr = d.routerByName("neutron-" + ref)
		}
		add(lr)
	}
	d.member("")
	for _, u := range d.t.NBLoadBalancerRouters(lb.UUID) {
		d.member(u)
		add(d.router(u))
	}
	return out
}

// vipIPs returns the distinct IPs of the vips keys ("IP:port", "[IPv6]:port"
// or a bare IP), sorted.
func (d *Driver) vipIPs(lb *nbdb.LoadBalancer) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for k := range lb.Vips {
		a, err := plan.ParseVIP(k)
		if err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", err.Error())
			continue
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func (d *Driver) planLB(c *plan.Contribution, lb *nbdb.LoadBalancer) {
	if len(lb.Vips) == 0 {
		return
	}
	var gws []*gateway
	for _, lr := range d.lbRouters(lb) {
		gws = append(gws, d.localGateways(lr)...)
	}
	if len(gws) == 0 {
		return // not on this chassis (upstream §10.1 row 17)
	}
	ips := d.vipIPs(lb)
	if strings.HasPrefix(lb.Name, "pf-floatingip-") {
		for _, a := range ips {
			g := pickGateway(gws, a)
			plan.AddOnce(c, plan.Announcement{Prefix: plan.HostPrefix(netip.PrefixFrom(a, a.BitLen())), Kind: plan.KindPFFIP, Port: lb.Name,
				Network: g.w.network, Reason: "port-forwarding floating IP on router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.w.bridge, VLAN: g.w.vlan, MAC: g.mac})
		}
		return
	}
	has := map[netip.Addr]bool{}
	for _, a := range ips {
		has[a] = true
	}
	if v := strings.TrimSpace(lb.ExternalIDs["neutron:vip"]); v != "" {
		if a, err := netip.ParseAddr(v); err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", fmt.Sprintf("neutron:vip %q: %v", v, err))
		} else if a = a.Unmap(); has[a] {
			d.planVIP(c, lb, a, gws)
		}
	}
	if v := strings.TrimSpace(lb.ExternalIDs["neutron:vip_fip"]); v != "" {
		if a, err := netip.ParseAddr(v); err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", fmt.Sprintf("neutron:vip_fip %q: %v", v, err))
		} else if a = a.Unmap(); has[a] {
			g := pickGateway(gws, a)
			plan.AddOnce(c, plan.Announcement{Prefix: plan.HostPrefix(netip.PrefixFrom(a, a.BitLen())), Kind: plan.KindLBFIP, Port: lb.Name,
				Network: g.w.network, Reason: "floating IP of load balancer " + lb.Name + " on router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.w.bridge, VLAN: g.w.vlan, MAC: g.mac})
		}
	}
}

// planVIP plans a load-balancer VIP: on a provider network it is wired on
// that network's bridge; on a tenant network it is routed via the gateway
// when tenant networks are exposed.
func (d *Driver) planVIP(c *plan.Contribution, lb *nbdb.LoadBalancer, a netip.Addr, gws []*gateway) {
	ip := plan.HostPrefix(netip.PrefixFrom(a, a.BitLen()))
	var ls *nbdb.LogicalSwitch
	if vp := lb.ExternalIDs["neutron:vip_port_id"]; vp != "" {
		if lsp := d.lspByName(vp); lsp != nil {
			ls = d.switchOfPort(lsp.UUID)
		}
	}
	if ls == nil {
		// No VIP port: a VIP inside a gateway's network is on the provider network.
		if g := pickGateway(gws, a); g.contains(a) {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: g.w.network,
				Reason: "load-balancer VIP on a provider network, router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.w.bridge, VLAN: g.w.vlan})
		}
		return
	}
	w, mapped, isProvider := d.provider(ls)
	if isProvider {
		if mapped {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: w.network,
				Reason: "load-balancer VIP on a provider network, router gateway hosted here"},
				plan.Exposure{Bridge: w.bridge, VLAN: w.vlan})
		}
		return
	}
	if !d.ctx.tenant {
		return
	}
	for _, s := range d.tenantSubnets(ls, nil) {
		if s.prefix.Contains(a) {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: s.network,
				Reason: "load-balancer VIP on a tenant network behind router gateway " + s.gw.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: s.gw.w.bridge, VLAN: s.gw.w.vlan, Via: s.via})
			return
		}
	}
}

// --- chassis-wide wiring ---

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
