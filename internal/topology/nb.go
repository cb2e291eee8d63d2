package topology

// The northbound rows (nb_ovn_bgp_driver). Every question the NB planner
// asks is answered from an index in O(1) or O(rows concerned): the
// containment columns (Logical_Switch.ports, Logical_Router.ports/nat/
// load_balancer, Logical_Switch.load_balancer) are inverted when the
// container row is upserted, so a port, NAT or load balancer knows its
// switch or router whatever order the rows arrive in.

import (
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
)

type nbSet = map[string]struct{}

// nbIndex holds the northbound rows and their indexes. It is embedded in
// Topology as the field nb and guarded by Topology.mu.
type nbIndex struct {
	switches  map[string]*nbdb.LogicalSwitch
	lsByName  map[string]string // name -> uuid
	lsps      map[string]*nbdb.LogicalSwitchPort
	lspByName map[string]string // name -> uuid
	lspSwitch map[string]string // lsp uuid -> ls uuid (from Logical_Switch.ports)
	// lsTyped[type][ls uuid] = lsp uuids of that type on the switch, for the
	// types the planner asks about (localnet, router).
	lsTyped      map[string]map[string]nbSet
	lspByHost    map[string]nbSet // requested-chassis entry or neutron:host_id -> lsp uuids
	lspByRtrPort map[string]nbSet // options:router-port (an LRP name) -> lsp uuids

	routers   map[string]*nbdb.LogicalRouter
	lrByName  map[string]string
	lrps      map[string]*nbdb.LogicalRouterPort
	lrpByName map[string]string
	lrpRouter map[string]string // lrp uuid -> lr uuid (from Logical_Router.ports)
	lrpByHost map[string]nbSet  // status:hosting-chassis -> lrp uuids

	nats       map[string]*nbdb.NAT
	natRouter  map[string]string // nat uuid -> lr uuid (from Logical_Router.nat)
	natByLPort map[string]nbSet  // logical_port -> nat uuids
	natByGWP   map[string]nbSet  // gateway_port (lrp uuid) -> nat uuids

	lbs        map[string]*nbdb.LoadBalancer
	lbRouters  map[string]nbSet // lb uuid -> lr uuids listing it in load_balancer
	lbSwitches map[string]nbSet // lb uuid -> ls uuids listing it in load_balancer
	lbByLRRef  map[string]nbSet // external_ids lr_ref (router name) -> lb uuids
	lbByVIPLSP map[string]nbSet // external_ids neutron:vip_port_id -> lb uuids

	global *nbdb.NBGlobal
}

func newNBIndex() nbIndex {
	return nbIndex{
		switches: map[string]*nbdb.LogicalSwitch{}, lsByName: map[string]string{},
		lsps: map[string]*nbdb.LogicalSwitchPort{}, lspByName: map[string]string{}, lspSwitch: map[string]string{},
		lsTyped:   map[string]map[string]nbSet{"localnet": {}, "router": {}},
		lspByHost: map[string]nbSet{}, lspByRtrPort: map[string]nbSet{},
		routers: map[string]*nbdb.LogicalRouter{}, lrByName: map[string]string{},
		lrps: map[string]*nbdb.LogicalRouterPort{}, lrpByName: map[string]string{}, lrpRouter: map[string]string{},
		lrpByHost: map[string]nbSet{},
		nats:      map[string]*nbdb.NAT{}, natRouter: map[string]string{}, natByLPort: map[string]nbSet{}, natByGWP: map[string]nbSet{},
		lbs: map[string]*nbdb.LoadBalancer{}, lbRouters: map[string]nbSet{}, lbSwitches: map[string]nbSet{},
		lbByLRRef: map[string]nbSet{}, lbByVIPLSP: map[string]nbSet{},
	}
}

// upsert indexes a northbound row; false for rows of other databases.
func (x *nbIndex) upsert(row any) bool {
	switch r := row.(type) {
	case *nbdb.LogicalSwitch:
		x.deleteLS(r.UUID)
		x.switches[r.UUID] = r
		x.lsByName[r.Name] = r.UUID
		for _, p := range r.Ports {
			x.lspSwitch[p] = r.UUID
			if lsp := x.lsps[p]; lsp != nil {
				x.typedAdd(lsp)
			}
		}
		for _, lb := range r.LoadBalancer {
			addTo(x.lbSwitches, lb, r.UUID)
		}
	case *nbdb.LogicalSwitchPort:
		x.deleteLSP(r.UUID)
		x.lsps[r.UUID] = r
		x.lspByName[r.Name] = r.UUID
		x.typedAdd(r)
		for _, h := range PortHosts(r) {
			addTo(x.lspByHost, h, r.UUID)
		}
		if rp := r.Options["router-port"]; rp != "" {
			addTo(x.lspByRtrPort, rp, r.UUID)
		}
	case *nbdb.LogicalRouter:
		x.deleteLR(r.UUID)
		x.routers[r.UUID] = r
		x.lrByName[r.Name] = r.UUID
		for _, p := range r.Ports {
			x.lrpRouter[p] = r.UUID
		}
		for _, n := range r.Nat {
			x.natRouter[n] = r.UUID
		}
		for _, lb := range r.LoadBalancer {
			addTo(x.lbRouters, lb, r.UUID)
		}
	case *nbdb.LogicalRouterPort:
		x.deleteLRP(r.UUID)
		x.lrps[r.UUID] = r
		x.lrpByName[r.Name] = r.UUID
		if h := r.Status["hosting-chassis"]; h != "" {
			addTo(x.lrpByHost, h, r.UUID)
		}
	case *nbdb.NAT:
		x.deleteNAT(r.UUID)
		x.nats[r.UUID] = r
		if r.LogicalPort != nil && *r.LogicalPort != "" {
			addTo(x.natByLPort, *r.LogicalPort, r.UUID)
		}
		if r.GatewayPort != nil && *r.GatewayPort != "" {
			addTo(x.natByGWP, *r.GatewayPort, r.UUID)
		}
	case *nbdb.LoadBalancer:
		x.deleteLB(r.UUID)
		x.lbs[r.UUID] = r
		if ref := r.ExternalIDs["lr_ref"]; ref != "" {
			addTo(x.lbByLRRef, ref, r.UUID)
		}
		if vp := r.ExternalIDs["neutron:vip_port_id"]; vp != "" {
			addTo(x.lbByVIPLSP, vp, r.UUID)
		}
	case *nbdb.NBGlobal:
		x.global = r
	default:
		return false
	}
	return true
}

// delete removes a northbound row; tables of other databases are ignored
// (Load_Balancer is also a southbound table name: uuids do not collide).
func (x *nbIndex) delete(table, uuid string) {
	switch table {
	case nbdb.LogicalSwitchTable:
		x.deleteLS(uuid)
	case nbdb.LogicalSwitchPortTable:
		x.deleteLSP(uuid)
	case nbdb.LogicalRouterTable:
		x.deleteLR(uuid)
	case nbdb.LogicalRouterPortTable:
		x.deleteLRP(uuid)
	case nbdb.NATTable:
		x.deleteNAT(uuid)
	case nbdb.LoadBalancerTable:
		x.deleteLB(uuid)
	case nbdb.NBGlobalTable:
		if x.global != nil && x.global.UUID == uuid {
			x.global = nil
		}
	}
}

func (x *nbIndex) typedAdd(lsp *nbdb.LogicalSwitchPort) {
	if m := x.lsTyped[lsp.Type]; m != nil {
		if ls, ok := x.lspSwitch[lsp.UUID]; ok {
			addTo(m, ls, lsp.UUID)
		}
	}
}

func (x *nbIndex) typedRemove(lsp *nbdb.LogicalSwitchPort) {
	if m := x.lsTyped[lsp.Type]; m != nil {
		if ls, ok := x.lspSwitch[lsp.UUID]; ok {
			removeFrom(m, ls, lsp.UUID)
		}
	}
}

func (x *nbIndex) deleteLS(uuid string) {
	old, ok := x.switches[uuid]
	if !ok {
		return
	}
	delete(x.switches, uuid)
	if x.lsByName[old.Name] == uuid {
		delete(x.lsByName, old.Name)
	}
	for _, p := range old.Ports {
		if lsp := x.lsps[p]; lsp != nil {
			x.typedRemove(lsp)
		}
		if x.lspSwitch[p] == uuid {
			delete(x.lspSwitch, p)
		}
	}
	for _, lb := range old.LoadBalancer {
		removeFrom(x.lbSwitches, lb, uuid)
	}
}

func (x *nbIndex) deleteLSP(uuid string) {
	old, ok := x.lsps[uuid]
	if !ok {
		return
	}
	x.typedRemove(old)
	delete(x.lsps, uuid)
	if x.lspByName[old.Name] == uuid {
		delete(x.lspByName, old.Name)
	}
	for _, h := range PortHosts(old) {
		removeFrom(x.lspByHost, h, uuid)
	}
	if rp := old.Options["router-port"]; rp != "" {
		removeFrom(x.lspByRtrPort, rp, uuid)
	}
	// lspSwitch stays: it belongs to the switch row, which may still list
	// the port (the port row comes back, or the switch update follows).
}

func (x *nbIndex) deleteLR(uuid string) {
	old, ok := x.routers[uuid]
	if !ok {
		return
	}
	delete(x.routers, uuid)
	if x.lrByName[old.Name] == uuid {
		delete(x.lrByName, old.Name)
	}
	for _, p := range old.Ports {
		if x.lrpRouter[p] == uuid {
			delete(x.lrpRouter, p)
		}
	}
	for _, n := range old.Nat {
		if x.natRouter[n] == uuid {
			delete(x.natRouter, n)
		}
	}
	for _, lb := range old.LoadBalancer {
		removeFrom(x.lbRouters, lb, uuid)
	}
}

func (x *nbIndex) deleteLRP(uuid string) {
	old, ok := x.lrps[uuid]
	if !ok {
		return
	}
	delete(x.lrps, uuid)
	if x.lrpByName[old.Name] == uuid {
		delete(x.lrpByName, old.Name)
	}
	if h := old.Status["hosting-chassis"]; h != "" {
		removeFrom(x.lrpByHost, h, uuid)
	}
}

func (x *nbIndex) deleteNAT(uuid string) {
	old, ok := x.nats[uuid]
	if !ok {
		return
	}
	delete(x.nats, uuid)
	if old.LogicalPort != nil {
		removeFrom(x.natByLPort, *old.LogicalPort, uuid)
	}
	if old.GatewayPort != nil {
		removeFrom(x.natByGWP, *old.GatewayPort, uuid)
	}
}

func (x *nbIndex) deleteLB(uuid string) {
	old, ok := x.lbs[uuid]
	if !ok {
		return
	}
	delete(x.lbs, uuid)
	removeFrom(x.lbByLRRef, old.ExternalIDs["lr_ref"], uuid)
	removeFrom(x.lbByVIPLSP, old.ExternalIDs["neutron:vip_port_id"], uuid)
}

// PortHosts returns the hosts a logical switch port names: the entries of
// options:requested-chassis (a comma list during a live migration, the
// active chassis first) and external_ids neutron:host_id, without
// duplicates, in that order.
func PortHosts(lsp *nbdb.LogicalSwitchPort) []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		h = strings.TrimSpace(h)
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, h := range strings.Split(lsp.Options["requested-chassis"], ",") {
		add(h)
	}
	add(lsp.ExternalIDs["neutron:host_id"])
	return out
}

// The read accessors below must be called between RLock and RUnlock.

// NBSwitch returns the Logical_Switch with the given uuid, or nil.
func (t *Topology) NBSwitch(uuid string) *nbdb.LogicalSwitch { return t.nb.switches[uuid] }

// NBSwitchByName returns the Logical_Switch named name, or nil.
func (t *Topology) NBSwitchByName(name string) *nbdb.LogicalSwitch {
	return t.nb.switches[t.nb.lsByName[name]]
}

// NBPort returns the Logical_Switch_Port with the given uuid, or nil.
func (t *Topology) NBPort(uuid string) *nbdb.LogicalSwitchPort { return t.nb.lsps[uuid] }

// NBPortByName returns the Logical_Switch_Port named name, or nil.
func (t *Topology) NBPortByName(name string) *nbdb.LogicalSwitchPort {
	return t.nb.lsps[t.nb.lspByName[name]]
}

// NBPortSwitch returns the uuid of the switch listing the port, or "".
func (t *Topology) NBPortSwitch(lspUUID string) string { return t.nb.lspSwitch[lspUUID] }

// NBSwitchPorts returns the present ports of a switch, sorted by name.
func (t *Topology) NBSwitchPorts(lsUUID string) []*nbdb.LogicalSwitchPort {
	ls := t.nb.switches[lsUUID]
	if ls == nil {
		return nil
	}
	var out []*nbdb.LogicalSwitchPort
	for _, p := range ls.Ports {
		if lsp := t.nb.lsps[p]; lsp != nil {
			out = append(out, lsp)
		}
	}
	return sortLSPs(out)
}

// NBLocalnets returns the localnet ports of a switch, sorted by name.
func (t *Topology) NBLocalnets(lsUUID string) []*nbdb.LogicalSwitchPort {
	return t.nbTyped("localnet", lsUUID)
}

// NBSwitchRouterPorts returns the ports of type router of a switch (its
// router interfaces and gateways), sorted by name.
func (t *Topology) NBSwitchRouterPorts(lsUUID string) []*nbdb.LogicalSwitchPort {
	return t.nbTyped("router", lsUUID)
}

func (t *Topology) nbTyped(typ, lsUUID string) []*nbdb.LogicalSwitchPort {
	var out []*nbdb.LogicalSwitchPort
	for u := range t.nb.lsTyped[typ][lsUUID] {
		if lsp := t.nb.lsps[u]; lsp != nil {
			out = append(out, lsp)
		}
	}
	return sortLSPs(out)
}

// NBAllLocalnets returns every localnet port on a switch, sorted by name.
func (t *Topology) NBAllLocalnets() []*nbdb.LogicalSwitchPort {
	var out []*nbdb.LogicalSwitchPort
	for _, s := range t.nb.lsTyped["localnet"] {
		for u := range s {
			if lsp := t.nb.lsps[u]; lsp != nil {
				out = append(out, lsp)
			}
		}
	}
	return sortLSPs(out)
}

// NBPortsOnHost returns the ports naming host in options:requested-chassis
// or external_ids neutron:host_id, sorted by name.
func (t *Topology) NBPortsOnHost(host string) []*nbdb.LogicalSwitchPort {
	var out []*nbdb.LogicalSwitchPort
	for u := range t.nb.lspByHost[host] {
		out = append(out, t.nb.lsps[u])
	}
	return sortLSPs(out)
}

// NBPortsForRouterPort returns the switch ports whose options:router-port
// is the router port named lrp (normally one), sorted by name.
func (t *Topology) NBPortsForRouterPort(lrp string) []*nbdb.LogicalSwitchPort {
	var out []*nbdb.LogicalSwitchPort
	for u := range t.nb.lspByRtrPort[lrp] {
		out = append(out, t.nb.lsps[u])
	}
	return sortLSPs(out)
}

// NBSwitches calls fn for every Logical_Switch (in no particular order).
func (t *Topology) NBSwitches(fn func(*nbdb.LogicalSwitch)) {
	for _, ls := range t.nb.switches {
		fn(ls)
	}
}

// NBPorts calls fn for every Logical_Switch_Port.
func (t *Topology) NBPorts(fn func(*nbdb.LogicalSwitchPort)) {
	for _, p := range t.nb.lsps {
		fn(p)
	}
}

// NBRouter returns the Logical_Router with the given uuid, or nil.
func (t *Topology) NBRouter(uuid string) *nbdb.LogicalRouter { return t.nb.routers[uuid] }

// NBRouterByName returns the Logical_Router named name, or nil.
func (t *Topology) NBRouterByName(name string) *nbdb.LogicalRouter {
	return t.nb.routers[t.nb.lrByName[name]]
}

// NBRouterPort returns the Logical_Router_Port with the given uuid, or nil.
func (t *Topology) NBRouterPort(uuid string) *nbdb.LogicalRouterPort { return t.nb.lrps[uuid] }

// NBRouterPortByName returns the Logical_Router_Port named name, or nil.
func (t *Topology) NBRouterPortByName(name string) *nbdb.LogicalRouterPort {
	return t.nb.lrps[t.nb.lrpByName[name]]
}

// NBRouterPortRouter returns the uuid of the router listing the port, or "".
func (t *Topology) NBRouterPortRouter(lrpUUID string) string { return t.nb.lrpRouter[lrpUUID] }

// NBRouterPorts returns the present ports of a router, sorted by name.
func (t *Topology) NBRouterPorts(lrUUID string) []*nbdb.LogicalRouterPort {
	lr := t.nb.routers[lrUUID]
	if lr == nil {
		return nil
	}
	var out []*nbdb.LogicalRouterPort
	for _, p := range lr.Ports {
		if lrp := t.nb.lrps[p]; lrp != nil {
			out = append(out, lrp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NBHostedRouterPorts returns the router ports whose status:hosting-chassis
// is chassis (OVN >= 23.09), sorted by name.
func (t *Topology) NBHostedRouterPorts(chassis string) []*nbdb.LogicalRouterPort {
	var out []*nbdb.LogicalRouterPort
	for u := range t.nb.lrpByHost[chassis] {
		out = append(out, t.nb.lrps[u])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NBRouterPortsAll calls fn for every Logical_Router_Port.
func (t *Topology) NBRouterPortsAll(fn func(*nbdb.LogicalRouterPort)) {
	for _, p := range t.nb.lrps {
		fn(p)
	}
}

// NBNAT returns the NAT row with the given uuid, or nil.
func (t *Topology) NBNAT(uuid string) *nbdb.NAT { return t.nb.nats[uuid] }

// NBNATRouter returns the uuid of the router listing the NAT, or "".
func (t *Topology) NBNATRouter(natUUID string) string { return t.nb.natRouter[natUUID] }

// NBRouterNATs returns the present NATs of a router, sorted by uuid.
func (t *Topology) NBRouterNATs(lrUUID string) []*nbdb.NAT {
	lr := t.nb.routers[lrUUID]
	if lr == nil {
		return nil
	}
	var out []*nbdb.NAT
	for _, n := range lr.Nat {
		if nat := t.nb.nats[n]; nat != nil {
			out = append(out, nat)
		}
	}
	return sortNATs(out)
}

// NBNATsByLogicalPort returns the NATs whose logical_port is name.
func (t *Topology) NBNATsByLogicalPort(name string) []*nbdb.NAT {
	return t.natSet(t.nb.natByLPort[name])
}

// NBNATsByGatewayPort returns the NATs whose gateway_port is the router
// port lrpUUID.
func (t *Topology) NBNATsByGatewayPort(lrpUUID string) []*nbdb.NAT {
	return t.natSet(t.nb.natByGWP[lrpUUID])
}

func (t *Topology) natSet(s nbSet) []*nbdb.NAT {
	var out []*nbdb.NAT
	for u := range s {
		out = append(out, t.nb.nats[u])
	}
	return sortNATs(out)
}

// NBNATs calls fn for every NAT row.
func (t *Topology) NBNATs(fn func(*nbdb.NAT)) {
	for _, n := range t.nb.nats {
		fn(n)
	}
}

// NBLoadBalancer returns the northbound Load_Balancer with the given uuid.
func (t *Topology) NBLoadBalancer(uuid string) *nbdb.LoadBalancer { return t.nb.lbs[uuid] }

// NBLoadBalancerRouters returns the uuids of the routers listing the load
// balancer in their load_balancer column, sorted.
func (t *Topology) NBLoadBalancerRouters(lbUUID string) []string {
	return sortedKeys(t.nb.lbRouters[lbUUID])
}

// NBLoadBalancerSwitches returns the uuids of the switches listing the load
// balancer, sorted.
func (t *Topology) NBLoadBalancerSwitches(lbUUID string) []string {
	return sortedKeys(t.nb.lbSwitches[lbUUID])
}

// NBRouterLoadBalancers returns the load balancers of a router: those in
// its load_balancer column and those whose external_ids lr_ref names it,
// sorted by name.
func (t *Topology) NBRouterLoadBalancers(lrUUID string) []*nbdb.LoadBalancer {
	lr := t.nb.routers[lrUUID]
	if lr == nil {
		return nil
	}
	seen := nbSet{}
	var out []*nbdb.LoadBalancer
	add := func(u string) {
		if _, dup := seen[u]; dup {
			return
		}
		seen[u] = struct{}{}
		if lb := t.nb.lbs[u]; lb != nil {
			out = append(out, lb)
		}
	}
	for _, u := range lr.LoadBalancer {
		add(u)
	}
	for u := range t.nb.lbByLRRef[lr.Name] {
		add(u)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].UUID < out[j].UUID
	})
	return out
}

// NBLoadBalancersByVIPPort returns the load balancers whose external_ids
// neutron:vip_port_id is the port named lsp.
func (t *Topology) NBLoadBalancersByVIPPort(lsp string) []*nbdb.LoadBalancer {
	var out []*nbdb.LoadBalancer
	for u := range t.nb.lbByVIPLSP[lsp] {
		out = append(out, t.nb.lbs[u])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

// NBLoadBalancers calls fn for every northbound Load_Balancer.
func (t *Topology) NBLoadBalancers(fn func(*nbdb.LoadBalancer)) {
	for _, lb := range t.nb.lbs {
		fn(lb)
	}
}

// NBGlobal returns the NB_Global row, or nil.
func (t *Topology) NBGlobal() *nbdb.NBGlobal { return t.nb.global }

func sortLSPs(s []*nbdb.LogicalSwitchPort) []*nbdb.LogicalSwitchPort {
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name || s[i].Name == s[j].Name && s[i].UUID < s[j].UUID })
	return s
}

func sortNATs(s []*nbdb.NAT) []*nbdb.NAT {
	sort.Slice(s, func(i, j int) bool { return s[i].UUID < s[j].UUID })
	return s
}

func sortedKeys(s nbSet) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
