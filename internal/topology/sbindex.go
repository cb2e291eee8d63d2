package topology

import (
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
)

// sbIndex holds the southbound reverse indexes the incremental planner needs
// so that no question scans a whole table.
type sbIndex struct {
	patches     map[string]map[string]struct{} // datapath -> patch pb uuids
	crlrps      map[string]map[string]struct{} // datapath (router) -> chassisredirect pb uuids
	peers       map[string]map[string]struct{} // logical_port name -> pb uuids whose options:peer names it
	natRefs     map[string]map[string]struct{} // logical_port name -> pb uuids whose nat_addresses name it in is_chassis_resident
	lbByDP      map[string]map[string]struct{} // datapath -> LB uuids (Load_Balancer.datapaths)
	lbByGroup   map[string]map[string]struct{} // Logical_DP_Group uuid -> LB uuids referencing it
	groupsByDP  map[string]map[string]struct{} // datapath -> Logical_DP_Group uuids containing it
	lbDPs       map[string][]string            // LB uuid -> datapaths it was indexed under
	lbGroups    map[string][]string            // LB uuid -> groups it was indexed under
	groupDPs    map[string][]string            // group uuid -> datapaths it was indexed under
	pbIndexedBy map[string]pbKeys              // pb uuid -> the keys it was indexed under
	byChassis   map[string]map[string]struct{} // chassis uuid -> pb uuids bound there (column chassis)
	nonVM       map[string]struct{}            // pb uuids of every type but "" and virtual
}

type pbKeys struct {
	peer     string
	natNames []string
}

func newSBIndex() sbIndex {
	return sbIndex{
		patches:     map[string]map[string]struct{}{},
		crlrps:      map[string]map[string]struct{}{},
		peers:       map[string]map[string]struct{}{},
		natRefs:     map[string]map[string]struct{}{},
		lbByDP:      map[string]map[string]struct{}{},
		lbByGroup:   map[string]map[string]struct{}{},
		groupsByDP:  map[string]map[string]struct{}{},
		lbDPs:       map[string][]string{},
		lbGroups:    map[string][]string{},
		groupDPs:    map[string][]string{},
		pbIndexedBy: map[string]pbKeys{},
		byChassis:   map[string]map[string]struct{}{},
		nonVM:       map[string]struct{}{},
	}
}

// NATResidents returns the port names named by is_chassis_resident("X") in
// nat_addresses entries ("MAC IP... is_chassis_resident(\"X\")").
func NATResidents(entries []string) []string {
	var out []string
	for _, e := range entries {
		if n, ok := ResidentPort(e); ok {
			out = append(out, n)
		}
	}
	return out
}

// ResidentPort extracts X from `... is_chassis_resident("X")`.
func ResidentPort(entry string) (string, bool) {
	const fn = "is_chassis_resident("
	i := strings.Index(entry, fn)
	if i < 0 {
		return "", false
	}
	rest := entry[i+len(fn):]
	j := strings.Index(rest, ")")
	if j < 0 {
		return "", false
	}
	name := strings.Trim(strings.TrimSpace(rest[:j]), `"\`)
	return name, name != ""
}

func (t *Topology) indexPB(r *sbdb.PortBinding) {
	x := &t.sbx
	switch r.Type {
	case "patch":
		addTo(x.patches, r.Datapath, r.UUID)
	case "chassisredirect":
		addTo(x.crlrps, r.Datapath, r.UUID)
	}
	if r.Chassis != nil && *r.Chassis != "" {
		addTo(x.byChassis, *r.Chassis, r.UUID)
	}
	if r.Type != "" && r.Type != "virtual" {
		x.nonVM[r.UUID] = struct{}{}
	}
	var k pbKeys
	if p := r.Options["peer"]; p != "" {
		k.peer = p
		addTo(x.peers, p, r.UUID)
	}
	if len(r.NatAddresses) > 0 {
		k.natNames = NATResidents(r.NatAddresses)
		for _, n := range k.natNames {
			addTo(x.natRefs, n, r.UUID)
		}
	}
	if k.peer != "" || len(k.natNames) > 0 {
		x.pbIndexedBy[r.UUID] = k
	}
}

func (t *Topology) unindexPB(old *sbdb.PortBinding) {
	x := &t.sbx
	removeFrom(x.patches, old.Datapath, old.UUID)
	removeFrom(x.crlrps, old.Datapath, old.UUID)
	if old.Chassis != nil {
		removeFrom(x.byChassis, *old.Chassis, old.UUID)
	}
	delete(x.nonVM, old.UUID)
	if k, ok := x.pbIndexedBy[old.UUID]; ok {
		if k.peer != "" {
			removeFrom(x.peers, k.peer, old.UUID)
		}
		for _, n := range k.natNames {
			removeFrom(x.natRefs, n, old.UUID)
		}
		delete(x.pbIndexedBy, old.UUID)
	}
}

func lbGroupRefs(r *sbdb.LoadBalancer) []string {
	var out []string
	for _, g := range []*string{r.DatapathGroup, r.LSDatapathGroup, r.LRDatapathGroup} {
		if g != nil && *g != "" {
			out = append(out, *g)
		}
	}
	return out
}

func (t *Topology) indexLB(r *sbdb.LoadBalancer) {
	x := &t.sbx
	for _, dp := range r.Datapaths {
		addTo(x.lbByDP, dp, r.UUID)
	}
	gs := lbGroupRefs(r)
	for _, g := range gs {
		addTo(x.lbByGroup, g, r.UUID)
	}
	x.lbDPs[r.UUID] = append([]string(nil), r.Datapaths...)
	x.lbGroups[r.UUID] = gs
}

func (t *Topology) unindexLB(uuid string) {
	x := &t.sbx
	for _, dp := range x.lbDPs[uuid] {
		removeFrom(x.lbByDP, dp, uuid)
	}
	for _, g := range x.lbGroups[uuid] {
		removeFrom(x.lbByGroup, g, uuid)
	}
	delete(x.lbDPs, uuid)
	delete(x.lbGroups, uuid)
}

func (t *Topology) indexGroup(r *sbdb.LogicalDPGroup) {
	x := &t.sbx
	for _, dp := range r.Datapaths {
		addTo(x.groupsByDP, dp, r.UUID)
	}
	x.groupDPs[r.UUID] = append([]string(nil), r.Datapaths...)
}

func (t *Topology) unindexGroup(uuid string) {
	x := &t.sbx
	for _, dp := range x.groupDPs[uuid] {
		removeFrom(x.groupsByDP, dp, uuid)
	}
	delete(x.groupDPs, uuid)
}

// The read accessors below must be called between RLock and RUnlock. The
// ForEach* functions visit in no particular order; fn must not modify the
// topology.

// PortBindingByUUID returns the Port_Binding with the given uuid, or nil.
func (t *Topology) PortBindingByUUID(uuid string) *sbdb.PortBinding { return t.pbs[uuid] }

// PortBindingUUIDs calls fn with the uuid of every Port_Binding.
func (t *Topology) PortBindingUUIDs(fn func(uuid string)) {
	for u := range t.pbs {
		fn(u)
	}
}

// NumPortBindings returns the number of Port_Binding rows.
func (t *Topology) NumPortBindings() int { return len(t.pbs) }

func (t *Topology) each(set map[string]struct{}, fn func(*sbdb.PortBinding)) {
	for u := range set {
		if pb := t.pbs[u]; pb != nil {
			fn(pb)
		}
	}
}

// ForEachBoundTo calls fn for every Port_Binding whose chassis column is
// the Chassis uuid.
func (t *Topology) ForEachBoundTo(chassis string, fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.byChassis[chassis], fn)
}

// ForEachNonVMPort calls fn for every Port_Binding whose type is neither
// "" nor virtual (patch, localnet, chassisredirect, l3gateway, ...).
func (t *Topology) ForEachNonVMPort(fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.nonVM, fn)
}

// ForEachPortOn calls fn for every Port_Binding of a datapath.
func (t *Topology) ForEachPortOn(datapath string, fn func(*sbdb.PortBinding)) {
	t.each(t.pbByDatapath[datapath], fn)
}

// ForEachLocalnet calls fn for every localnet Port_Binding of a datapath.
func (t *Topology) ForEachLocalnet(datapath string, fn func(*sbdb.PortBinding)) {
	t.each(t.localnets[datapath], fn)
}

// ForEachPatch calls fn for every patch Port_Binding of a datapath.
func (t *Topology) ForEachPatch(datapath string, fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.patches[datapath], fn)
}

// ForEachChassisRedirect calls fn for every chassisredirect Port_Binding of
// a (router) datapath.
func (t *Topology) ForEachChassisRedirect(datapath string, fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.crlrps[datapath], fn)
}

// HasChassisRedirect reports whether a datapath has a chassisredirect port
// (a router with a gateway).
func (t *Topology) HasChassisRedirect(datapath string) bool { return len(t.sbx.crlrps[datapath]) > 0 }

// ForEachChassisRedirectDatapath calls fn for every datapath that has
// chassisredirect ports.
func (t *Topology) ForEachChassisRedirectDatapath(fn func(datapath string)) {
	for dp := range t.sbx.crlrps {
		fn(dp)
	}
}

// ForEachPeerOf calls fn for every Port_Binding whose options:peer is name.
func (t *Topology) ForEachPeerOf(name string, fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.peers[name], fn)
}

// HasNATReferrer reports whether some nat_addresses name the port.
func (t *Topology) HasNATReferrer(name string) bool { return len(t.sbx.natRefs[name]) > 0 }

// NumLoadBalancers returns the number of Load_Balancer rows.
func (t *Topology) NumLoadBalancers() int { return len(t.lbs) }

// ForEachNATReferrer calls fn for every Port_Binding whose nat_addresses
// name the port in is_chassis_resident.
func (t *Topology) ForEachNATReferrer(name string, fn func(*sbdb.PortBinding)) {
	t.each(t.sbx.natRefs[name], fn)
}

// Datapath returns the Datapath_Binding with the given uuid, or nil.
func (t *Topology) Datapath(uuid string) *sbdb.DatapathBinding { return t.datapaths[uuid] }

// LoadBalancer returns the Load_Balancer with the given uuid, or nil.
func (t *Topology) LoadBalancer(uuid string) *sbdb.LoadBalancer { return t.lbs[uuid] }

// LogicalDPGroup returns the Logical_DP_Group with the given uuid, or nil.
func (t *Topology) LogicalDPGroup(uuid string) *sbdb.LogicalDPGroup { return t.dpGroups[uuid] }

// LoadBalancers calls fn for every Load_Balancer.
func (t *Topology) LoadBalancers(fn func(*sbdb.LoadBalancer)) {
	for _, lb := range t.lbs {
		fn(lb)
	}
}

// LoadBalancerUUIDs calls fn with the uuid of every Load_Balancer.
func (t *Topology) LoadBalancerUUIDs(fn func(uuid string)) {
	for u := range t.lbs {
		fn(u)
	}
}

// ForEachLBOn calls fn with the uuid of every Load_Balancer applied to a
// datapath, through its datapaths column or any of its datapath groups
// (datapath_group, ls_datapath_group, lr_datapath_group). An LB may be
// visited more than once.
func (t *Topology) ForEachLBOn(datapath string, fn func(uuid string)) {
	for u := range t.sbx.lbByDP[datapath] {
		fn(u)
	}
	for g := range t.sbx.groupsByDP[datapath] {
		for u := range t.sbx.lbByGroup[g] {
			fn(u)
		}
	}
}

// ForEachLBOfGroup calls fn with the uuid of every Load_Balancer referring
// to a Logical_DP_Group (whether or not the group row exists).
func (t *Topology) ForEachLBOfGroup(group string, fn func(uuid string)) {
	for u := range t.sbx.lbByGroup[group] {
		fn(u)
	}
}
