package dynamic

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Router is one dynamic-routing router with its ports resident on this
// chassis, as a database reader (southbound.go, northbound.go) found it.
type Router struct {
	Table    string // the table its facts came from, for warnings
	Name     string
	Datapath string // SB Datapath_Binding or NB Logical_Router uuid
	// TunnelKey is the datapath's tunnel key (southbound), 0 when unknown
	// (northbound).
	TunnelKey int
	// VRFID is external_ids/options dynamic-routing-vrf-id as written, ""
	// when unset.
	VRFID string
	Ports []Port
}

// Port is one resident dynamic-routing port of a router.
type Port struct {
	Name        string // logical port (the cr-lrp, l3gateway or router port)
	MaintainVRF bool   // dynamic-routing-maintain-vrf
	VRFName     string // dynamic-routing-vrf-name
	PortName    string // dynamic-routing-port-name
}

// VRF is what this chassis needs for one dynamic-routing router.
type VRF struct {
	Name  string `json:"name"`
	Table uint32 `json:"table"`
	// OVNMaintains: ovn-controller creates and removes the VRF device
	// (dynamic-routing-maintain-vrf); otherwise ovnbgp must create it.
	OVNMaintains bool     `json:"ovn_maintains"`
	Router       string   `json:"router"`
	Datapath     string   `json:"datapath"`
	Ports        []string `json:"ports"`
	// Interfaces are the host interfaces routes are learned on and FRR
	// peers on (dynamic-routing-port-name through the port mapping or the
	// local binding), sorted.
	Interfaces []string `json:"interfaces"`
}

// State is the dynamic plan of a chassis: one VRF per resident
// dynamic-routing router, sorted by name.
type State struct {
	Chassis string `json:"chassis"`
	VRFs    []VRF  `json:"vrfs"`
}

// Local answers the questions about the chassis' own OVS: the
// dynamic-routing-port-mapping and the interfaces bound to logical ports.
type Local struct {
	// PortMapping is Open_vSwitch external_ids:dynamic-routing-port-mapping.
	PortMapping string
	// BoundInterface returns the OVS interface bound here to a logical
	// port (external_ids:iface-id), "" when none.
	BoundInterface func(logicalPort string) string
}

// maxIfName is the longest Linux interface name (IFNAMSIZ - 1).
const maxIfName = 15

// Plan turns the resident routers into VRFs. Bad input (an unreadable
// vrf id, a table ovnbgp or the kernel uses, a name FRR cannot take, two
// routers on one VRF) is a warning naming the row; the other routers are
// planned.
func Plan(cfg *config.Config, chassis string, routers []Router, local Local) (*State, []plan.Warning) {
	var ws []plan.Warning
	mapping, mws := parsePortMapping(local.PortMapping)
	for _, w := range mws {
		ws = plan.Warn(ws, "Open_vSwitch", "external_ids:dynamic-routing-port-mapping", "bad-port-mapping", w)
	}
	rs := slices.Clone(routers)
	// Deterministic winner of a collision: the router first by name, then
	// by datapath.
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Name != rs[j].Name {
			return rs[i].Name < rs[j].Name
		}
		return rs[i].Datapath < rs[j].Datapath
	})
	st := &State{Chassis: chassis, VRFs: []VRF{}}
	byName := map[string]string{}
	byTable := map[uint32]string{}
	for _, r := range rs {
		if len(r.Ports) == 0 {
			continue
		}
		v, w := planRouter(cfg, r, mapping, local)
		if w != nil {
			ws = plan.Warn(ws, r.Table, r.Name, w.reason, w.detail)
			if v == nil {
				continue
			}
		}
		if other, ok := byName[v.Name]; ok {
			ws = plan.Warn(ws, r.Table, r.Name, "vrf-collision", fmt.Sprintf("VRF %s is already router %s's; not planned", v.Name, other))
			continue
		}
		if other, ok := byTable[v.Table]; ok {
			ws = plan.Warn(ws, r.Table, r.Name, "vrf-collision", fmt.Sprintf("table %d is already router %s's VRF table; not planned", v.Table, other))
			continue
		}
		byName[v.Name], byTable[v.Table] = r.Name, r.Name
		st.VRFs = append(st.VRFs, *v)
	}
	sort.Slice(st.VRFs, func(i, j int) bool { return st.VRFs[i].Name < st.VRFs[j].Name })
	return st, ws
}

type problem struct{ reason, detail string }

func planRouter(cfg *config.Config, r Router, mapping map[string]string, local Local) (*VRF, *problem) {
	var table uint32
	if r.VRFID != "" {
		n, err := strconv.ParseUint(r.VRFID, 10, 64)
		if err != nil || n < 1 || n > math.MaxUint32 {
			if r.TunnelKey == 0 {
				return nil, &problem{"bad-vrf-id", fmt.Sprintf("dynamic-routing-vrf-id %q is not a number in 1..4294967295; not planned", r.VRFID)}
			}
			// ovn-controller falls back to the tunnel key: so do we.
			table = uint32(r.TunnelKey)
		} else {
			table = uint32(n)
		}
	} else if r.TunnelKey > 0 {
		table = uint32(r.TunnelKey)
	} else {
		return nil, &problem{"no-vrf-id", "no dynamic-routing-vrf-id, and the northbound has no tunnel key to derive OVN's table from; set the option or use driver = ovn_bgp_driver; not planned"}
	}
	if p := tableConflict(cfg, table); p != "" {
		return nil, &problem{"vrf-table-conflict", fmt.Sprintf("VRF table %d %s; not planned", table, p)}
	}
	v := &VRF{Table: table, Router: r.Name, Datapath: r.Datapath, Ports: []string{}, Interfaces: []string{}}
	var warn *problem
	ifaces := map[string]bool{}
	for _, p := range r.Ports {
		v.Ports = append(v.Ports, p.Name)
		v.OVNMaintains = v.OVNMaintains || p.MaintainVRF
		if p.VRFName != "" {
			if len(p.VRFName) > maxIfName {
				// ovn-controller ignores it too and uses ovnvrf<table>.
				warn = &problem{"bad-vrf-name", fmt.Sprintf("port %s: dynamic-routing-vrf-name %q is longer than %d characters; OVN uses the default name", p.Name, p.VRFName, maxIfName)}
			} else {
				v.Name = p.VRFName
			}
		}
		if p.PortName != "" {
			ifname := mapping[p.PortName]
			if ifname == "" && local.BoundInterface != nil {
				ifname = local.BoundInterface(p.PortName)
			}
			if ifname == "" {
				warn = &problem{"routing-port-unbound", fmt.Sprintf("port %s: dynamic-routing-port-name %s is neither in dynamic-routing-port-mapping nor bound here; no peer on it", p.Name, p.PortName)}
			} else if !validName(ifname) {
				warn = &problem{"bad-routing-interface", fmt.Sprintf("port %s: interface %q is not a usable interface name; no peer on it", p.Name, ifname)}
			} else {
				ifaces[ifname] = true
			}
		}
	}
	if v.Name == "" {
		v.Name = "ovnvrf" + strconv.FormatUint(uint64(table), 10)
	}
	if !validName(v.Name) {
		return nil, &problem{"bad-vrf-name", fmt.Sprintf("VRF name %q is not a usable interface name; not planned", v.Name)}
	}
	for i := range ifaces {
		v.Interfaces = append(v.Interfaces, i)
	}
	sort.Strings(v.Interfaces)
	sort.Strings(v.Ports)
	return v, warn
}

// tableConflict says why ovnbgp cannot let a VRF use the table, "" when
// it can: the kernel's own tables, ovnbgp's bridge tables, its bgp_vrf and
// announce tables.
func tableConflict(cfg *config.Config, t uint32) string {
	switch {
	case t >= 253 && t <= 255:
		return "is one of the kernel's reserved tables (253-255)"
	case int64(t) >= int64(cfg.OVNBGP.BridgeTableBase) && int64(t) <= int64(cfg.OVNBGP.BridgeTableBase+config.MaxBridges):
		return fmt.Sprintf("is one of ovnbgp's bridge tables (%d..%d)", cfg.OVNBGP.BridgeTableBase, cfg.OVNBGP.BridgeTableBase+config.MaxBridges)
	case int64(t) == int64(cfg.BGPVRFTableID):
		// Upstream's default 10 is also the vrf id Neutron's ovn-bgp plugin
		// gives its per-chassis routers: while the underlay's bgp_vrf
		// exists, OVN would learn its routes.
		return "is bgp_vrf_table_id (the underlay's VRF table; give bgp_vrf_table_id another value)"
	case cfg.OVNBGP.AnnounceTableID != 0 && int64(t) == int64(cfg.OVNBGP.AnnounceTableID):
		return "is announce_table_id"
	}
	return ""
}

// validName accepts what is a Linux interface name and safe in an FRR
// configuration line: 1-15 characters of letters, digits, '-', '_', '.'.
func validName(s string) bool {
	if s == "" || len(s) > maxIfName || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// parsePortMapping reads "name=ifname,name2=ifname2" (ovn-controller's
// syntax; spaces also separate entries). An entry without a value ends the
// parse, as in ovn-controller, with a warning.
func parsePortMapping(s string) (map[string]string, []string) {
	m := map[string]string{}
	var ws []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			ws = append(ws, fmt.Sprintf("entry %q is not name=interface; the entries after it are ignored (as by ovn-controller)", f))
			break
		}
		m[k] = v
	}
	return m, ws
}
