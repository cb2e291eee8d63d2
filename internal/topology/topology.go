// Package topology is the indexed, in-memory view of the OVN and local OVS
// rows the planner reads. It is fed row by row (Upsert, Delete) by the
// agent's topology updater, with the row of each key's last OVSDB event,
// and it answers the planner's questions in O(1) or O(rows concerned).
// After the OVSDB client switched to a new connection it is Reset and
// reloaded whole from the client's cache.
//
// Concurrency: one goroutine writes (the updater); planners read. Writers
// take the write lock per row; readers take the read lock for a whole plan.
//
// Rows are values: a row given to Upsert must not be modified afterwards
// (the ovsdb client gives a new row value for every change and never
// modifies one).
// The indexes are computed when a row is upserted, and the incremental
// planner keeps the previous version of a row to see what changed.
package topology

import (
	"sort"
	"strings"
	"sync"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
)

// Topology holds the rows.
type Topology struct {
	mu sync.RWMutex
	rows
}

// rows are the rows and their indexes.
type rows struct {
	// Southbound.
	pbs          map[string]*sbdb.PortBinding   // by uuid
	pbByName     map[string]*sbdb.PortBinding   // by logical_port
	pbByDatapath map[string]map[string]struct{} // datapath uuid -> pb uuids
	localnets    map[string]map[string]struct{} // datapath uuid -> localnet pb uuids
	localnetVer  uint64                         // bumped whenever a localnet row is added, changed or removed
	chassis      map[string]*sbdb.Chassis       // by uuid
	chassisName  map[string]string              // name -> uuid
	datapaths    map[string]*sbdb.DatapathBinding
	lbs          map[string]*sbdb.LoadBalancer
	dpGroups     map[string]*sbdb.LogicalDPGroup

	// Southbound indexes for the incremental planner (see sbindex.go).
	sbx sbIndex

	// Local Open_vSwitch.
	ovs        *vswitch.OpenVSwitch
	bridges    map[string]*vswitch.Bridge // by uuid
	ports      map[string]*vswitch.Port
	ifaces     map[string]*vswitch.Interface
	ifaceByNam map[string]*vswitch.Interface

	nb nbIndex // Northbound (nb.go).
}

// New returns an empty topology.
func New() *Topology {
	return &Topology{rows: newRows()}
}

// Reset empties the topology, to be reloaded whole (after the OVSDB client
// switched to a new connection). The localnet version keeps growing.
func (t *Topology) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.localnetVer
	t.rows = newRows()
	t.localnetVer = v + 1
}

func newRows() rows {
	return rows{
		pbs:          map[string]*sbdb.PortBinding{},
		pbByName:     map[string]*sbdb.PortBinding{},
		pbByDatapath: map[string]map[string]struct{}{},
		localnets:    map[string]map[string]struct{}{},
		chassis:      map[string]*sbdb.Chassis{},
		chassisName:  map[string]string{},
		datapaths:    map[string]*sbdb.DatapathBinding{},
		lbs:          map[string]*sbdb.LoadBalancer{},
		dpGroups:     map[string]*sbdb.LogicalDPGroup{},
		bridges:      map[string]*vswitch.Bridge{},
		ports:        map[string]*vswitch.Port{},
		ifaces:       map[string]*vswitch.Interface{},
		ifaceByNam:   map[string]*vswitch.Interface{},
		sbx:          newSBIndex(),
		nb:           newNBIndex(),
	}
}

// RLock and RUnlock bracket a consistent read (a plan).
func (t *Topology) RLock()   { t.mu.RLock() }
func (t *Topology) RUnlock() { t.mu.RUnlock() }

// Upsert inserts or replaces a row given as a pointer to its static model.
// Rows of unknown types are ignored (false).
func (t *Topology) Upsert(row any) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch r := row.(type) {
	case *sbdb.PortBinding:
		t.deletePB(r.UUID)
		t.pbs[r.UUID] = r
		t.pbByName[r.LogicalPort] = r
		addTo(t.pbByDatapath, r.Datapath, r.UUID)
		if r.Type == "localnet" {
			addTo(t.localnets, r.Datapath, r.UUID)
			t.localnetVer++
		}
		t.indexPB(r)
	case *sbdb.Chassis:
		if old, ok := t.chassis[r.UUID]; ok && t.chassisName[old.Name] == r.UUID {
			delete(t.chassisName, old.Name)
		}
		t.chassis[r.UUID] = r
		t.chassisName[r.Name] = r.UUID
	case *sbdb.DatapathBinding:
		t.datapaths[r.UUID] = r
	case *sbdb.LoadBalancer:
		t.unindexLB(r.UUID)
		t.lbs[r.UUID] = r
		t.indexLB(r)
	case *sbdb.LogicalDPGroup:
		t.unindexGroup(r.UUID)
		t.dpGroups[r.UUID] = r
		t.indexGroup(r)
	case *nbdb.LogicalSwitch, *nbdb.LogicalSwitchPort, *nbdb.LogicalRouter, *nbdb.LogicalRouterPort,
		*nbdb.NAT, *nbdb.LoadBalancer, *nbdb.NBGlobal:
		t.nb.upsert(r)
	case *vswitch.OpenVSwitch:
		t.ovs = r
	case *vswitch.Bridge:
		t.bridges[r.UUID] = r
	case *vswitch.Port:
		t.ports[r.UUID] = r
	case *vswitch.Interface:
		if old, ok := t.ifaces[r.UUID]; ok && t.ifaceByNam[old.Name] == old {
			delete(t.ifaceByNam, old.Name)
		}
		t.ifaces[r.UUID] = r
		t.ifaceByNam[r.Name] = r
	default:
		return false
	}
	return true
}

// Delete removes a row of table by uuid.
func (t *Topology) Delete(table, uuid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nb.delete(table, uuid) // NB rows; no-op for other tables
	switch table {
	case sbdb.PortBindingTable:
		t.deletePB(uuid)
	case sbdb.ChassisTable:
		if old, ok := t.chassis[uuid]; ok {
			if t.chassisName[old.Name] == uuid {
				delete(t.chassisName, old.Name)
			}
			delete(t.chassis, uuid)
		}
	case sbdb.DatapathBindingTable:
		delete(t.datapaths, uuid)
	case sbdb.LoadBalancerTable:
		t.unindexLB(uuid)
		delete(t.lbs, uuid)
	case sbdb.LogicalDPGroupTable:
		t.unindexGroup(uuid)
		delete(t.dpGroups, uuid)
	case vswitch.OpenVSwitchTable:
		if t.ovs != nil && t.ovs.UUID == uuid {
			t.ovs = nil
		}
	case vswitch.BridgeTable:
		delete(t.bridges, uuid)
	case vswitch.PortTable:
		delete(t.ports, uuid)
	case vswitch.InterfaceTable:
		if old, ok := t.ifaces[uuid]; ok {
			if t.ifaceByNam[old.Name] == old {
				delete(t.ifaceByNam, old.Name)
			}
			delete(t.ifaces, uuid)
		}
	}
}

func (t *Topology) deletePB(uuid string) {
	old, ok := t.pbs[uuid]
	if !ok {
		return
	}
	delete(t.pbs, uuid)
	if t.pbByName[old.LogicalPort] == old {
		delete(t.pbByName, old.LogicalPort)
	}
	removeFrom(t.pbByDatapath, old.Datapath, uuid)
	if old.Type == "localnet" {
		removeFrom(t.localnets, old.Datapath, uuid)
		t.localnetVer++
	}
	t.unindexPB(old)
}

func addTo(m map[string]map[string]struct{}, k, v string) {
	s := m[k]
	if s == nil {
		s = map[string]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func removeFrom(m map[string]map[string]struct{}, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// The read accessors below must be called between RLock and RUnlock.

// PortBindings calls fn for every Port_Binding.
func (t *Topology) PortBindings(fn func(*sbdb.PortBinding)) {
	for _, pb := range t.pbs {
		fn(pb)
	}
}

// PortBinding returns the Port_Binding with the given logical_port.
func (t *Topology) PortBinding(name string) *sbdb.PortBinding { return t.pbByName[name] }

// PortBindingsOn returns the Port_Bindings of a datapath, sorted by name.
func (t *Topology) PortBindingsOn(datapath string) []*sbdb.PortBinding {
	var out []*sbdb.PortBinding
	for u := range t.pbByDatapath[datapath] {
		out = append(out, t.pbs[u])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalPort < out[j].LogicalPort })
	return out
}

// Localnets returns the localnet Port_Bindings of a datapath, sorted by name.
func (t *Topology) Localnets(datapath string) []*sbdb.PortBinding {
	var out []*sbdb.PortBinding
	for u := range t.localnets[datapath] {
		out = append(out, t.pbs[u])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalPort < out[j].LogicalPort })
	return out
}

// LocalnetVersion changes whenever a localnet Port_Binding is added,
// changed or removed (callers cache what they derive from AllLocalnets).
func (t *Topology) LocalnetVersion() uint64 { return t.localnetVer }

// AllLocalnets returns every localnet Port_Binding, sorted by name.
func (t *Topology) AllLocalnets() []*sbdb.PortBinding {
	var out []*sbdb.PortBinding
	for _, s := range t.localnets {
		for u := range s {
			out = append(out, t.pbs[u])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalPort < out[j].LogicalPort })
	return out
}

// ChassisUUID returns the uuid of the Chassis row named name, or "".
func (t *Topology) ChassisUUID(name string) string { return t.chassisName[name] }

// ChassisName returns the name of the Chassis row uuid, or "".
func (t *Topology) ChassisName(uuid string) string {
	if c := t.chassis[uuid]; c != nil {
		return c.Name
	}
	return ""
}

// OpenVSwitch returns the local Open_vSwitch row, or nil.
func (t *Topology) OpenVSwitch() *vswitch.OpenVSwitch { return t.ovs }

// Interface returns the local OVS interface with the given name, or nil.
func (t *Topology) Interface(name string) *vswitch.Interface { return t.ifaceByNam[name] }

// InterfaceBoundTo returns the name of the local OVS interface whose
// external_ids:iface-id is logicalPort ("" when none; the lowest name when
// several claim it). It scans the chassis' interfaces: for the few
// questions of exposing_method = dynamic, not for every port.
func (t *Topology) InterfaceBoundTo(logicalPort string) string {
	best := ""
	for _, i := range t.ifaces {
		if i.ExternalIDs["iface-id"] == logicalPort && logicalPort != "" && (best == "" || i.Name < best) {
			best = i.Name
		}
	}
	return best
}

// BridgePorts returns the names of the ports of the local bridge named br,
// sorted, or nil when there is no such bridge.
func (t *Topology) BridgePorts(br string) []string {
	for _, b := range t.bridges {
		if b.Name != br {
			continue
		}
		var names []string
		for _, p := range b.Ports {
			if port := t.ports[p]; port != nil {
				names = append(names, port.Name)
			}
		}
		sort.Strings(names)
		return names
	}
	return nil
}

// BridgeMapping is one entry of ovn-bridge-mappings.
type BridgeMapping struct {
	Physnet string
	Bridge  string
	Index   int // 1-based position
}

// BridgeMappings parses external_ids:ovn-bridge-mappings of the local OVS
// ("physnet:bridge,..."). Malformed entries are returned as warnings and
// skipped; they keep their position (upstream numbers the valid ones by
// their position in the list).
func (t *Topology) BridgeMappings() (mappings []BridgeMapping, warnings []string) {
	if t.ovs == nil {
		return nil, nil
	}
	return ParseBridgeMappings(t.ovs.ExternalIDs["ovn-bridge-mappings"])
}

// ParseBridgeMappings parses "physnet:bridge,physnet2:bridge2".
func ParseBridgeMappings(s string) (mappings []BridgeMapping, warnings []string) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		p, b, ok := strings.Cut(e, ":")
		p, b = strings.TrimSpace(p), strings.TrimSpace(b)
		if !ok || p == "" || b == "" || strings.Contains(b, ":") {
			warnings = append(warnings, "ovn-bridge-mappings: malformed entry "+quote(e)+" skipped")
			continue
		}
		mappings = append(mappings, BridgeMapping{Physnet: p, Bridge: b, Index: i + 1})
	}
	return mappings, warnings
}

func quote(s string) string { return "\"" + s + "\"" }
