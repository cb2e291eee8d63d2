package southbound

import (
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// affectedSet collects sources without duplicates.
type affectedSet struct {
	seen map[plan.RowRef]struct{}
	out  []plan.RowRef
	// routers and switches already expanded
	routers, switches map[string]bool
}

func (s *affectedSet) add(src plan.RowRef) {
	if _, ok := s.seen[src]; ok {
		return
	}
	s.seen[src] = struct{}{}
	s.out = append(s.out, src)
}

func (s *affectedSet) pb(uuid string) { s.add(plan.RowRef{Table: sbdb.PortBindingTable, UUID: uuid}) }
func (s *affectedSet) lb(uuid string) { s.add(plan.RowRef{Table: sbdb.LoadBalancerTable, UUID: uuid}) }

// Affected lists the rows whose contribution may change when src changed.
// It looks at both the remembered version of the row (before the change)
// and the row as it is now, so that deleted rows and changed relations
// (a new peer, another datapath) are followed on both sides.
func (d *Driver) Affected(src plan.RowRef) ([]plan.RowRef, bool) {
	switch src.Table {
	case sbdb.PortBindingTable:
		return d.affectedPB(src.UUID), false
	case sbdb.LoadBalancerTable:
		return nil, false
	case sbdb.LogicalDPGroupTable:
		s := d.newAffected()
		d.t.ForEachLBOfGroup(src.UUID, s.lb)
		return s.out, false
	case sbdb.DatapathBindingTable:
		// The Network name of everything planned on it.
		s := d.newAffected()
		d.switchClosure(s, src.UUID)
		d.routerClosure(s, src.UUID)
		return s.out, false
	case sbdb.ChassisTable:
		// Only the own Chassis row's uuid matters: Reset notices when it
		// changes (row deleted, re-created, renamed) and everything is
		// planned again. Other chassis' rows are never read.
		return nil, false
	}
	// Chassis_Private and the local OVS tables contribute nothing per row:
	// the mappings are checked by Reset, bridges and flows recomputed.
	return nil, false
}

func (d *Driver) newAffected() *affectedSet {
	return &affectedSet{seen: map[plan.RowRef]struct{}{}, routers: map[string]bool{}, switches: map[string]bool{}}
}

func (d *Driver) affectedPB(uuid string) []plan.RowRef {
	s := d.newAffected()
	oldRow, hadOld := d.mem[uuid]
	var old, cur pbMem
	if hadOld {
		old = summarize(oldRow)
	}
	row := d.t.PortBindingByUUID(uuid)
	if row != nil {
		cur = summarize(row)
	}
	// Residents: the FIPs naming this port follow its binding. Always
	// checked (binding changes are the common case and cheap to follow).
	if hadOld {
		d.t.ForEachNATReferrer(old.name, func(p *sbdb.PortBinding) { s.pb(p.UUID) })
	}
	if row != nil {
		d.t.ForEachNATReferrer(cur.name, func(p *sbdb.PortBinding) { s.pb(p.UUID) })
	}
	// Relations: only when a column other rows read changed, or the row
	// came or went.
	if hadOld && row != nil && old == cur {
		return s.out
	}
	if !hadOld && row != nil && (cur.typ == "" || cur.typ == "virtual") {
		// A new VM port: other rows read VM ports only as FIP residents
		// (done above), unless it is a router's name fallback target.
		d.relationsByName(s, cur)
		return s.out
	}
	if hadOld {
		if row != nil && (old.typ == "" || old.typ == "virtual") && (cur.typ == "" || cur.typ == "virtual") &&
			old.name == cur.name && old.datapath == cur.datapath && old.peer == cur.peer {
			// A VM port whose binding, addresses or external_ids changed.
			return s.out
		}
		d.relations(s, old)
	}
	if row != nil {
		d.relations(s, cur)
	}
	return s.out
}

// relationsByName adds the rows that look this port up by name.
func (d *Driver) relationsByName(s *affectedSet, m pbMem) {
	// A cr-lrp reads "lrp-X" (its name without "cr-") and, as a fallback,
	// "X" (its name without "cr-lrp-").
	for _, n := range []string{"cr-" + m.name, "cr-lrp-" + m.name} {
		if c := d.t.PortBinding(n); c != nil && c.Type == "chassisredirect" {
			d.routerClosure(s, c.Datapath)
		}
	}
	// Router ports read their peer (scope, datapath); cr-lrps read the
	// peer of their router port (the provider switch).
	d.t.ForEachPeerOf(m.name, func(p *sbdb.PortBinding) {
		s.pb(p.UUID)
		if d.t.HasChassisRedirect(p.Datapath) {
			d.routerClosure(s, p.Datapath)
		} else if p.Datapath != m.datapath {
			// A switch whose ports find their router through this port.
			d.switchPorts(s, p.Datapath)
		}
	})
	// A router port that has a chassisredirect is a gateway port, not an
	// interface: "cr-"+name existing changes that.
	if strings.HasPrefix(m.name, "cr-") {
		if lrp := d.t.PortBinding(strings.TrimPrefix(m.name, "cr-")); lrp != nil {
			d.routerClosure(s, lrp.Datapath)
		}
	}
}

// relations adds every row that may read a port with summary m.
func (d *Driver) relations(s *affectedSet, m pbMem) {
	d.relationsByName(s, m)
	switch m.typ {
	case "localnet":
		d.switchClosure(s, m.datapath)
	case "chassisredirect":
		d.routerClosure(s, m.datapath)
	case "patch":
		if d.t.HasChassisRedirect(m.datapath) {
			d.routerClosure(s, m.datapath) // a router port
			// and the switch it led to, whether it still does or not
			if rif := d.t.PortBinding(m.peer); rif != nil && rif.Datapath != m.datapath {
				s.pb(rif.UUID)
				d.switchPorts(s, rif.Datapath)
			}
		} else if m.peer != "" {
			// A switch-side port: its router, and the ports of its switch
			// (they find their router through it).
			if lrp := d.t.PortBinding(m.peer); lrp != nil && d.t.HasChassisRedirect(lrp.Datapath) {
				d.routerClosure(s, lrp.Datapath)
			}
			d.switchPorts(s, m.datapath)
		}
	}
}

// switchPorts adds every port and LB of switch dp, unless it is a provider
// network here (its ports do not depend on routers then).
func (d *Driver) switchPorts(s *affectedSet, dp string) {
	if s.switches[dp] {
		return
	}
	s.switches[dp] = true
	d.t.ForEachLBOn(dp, s.lb)
	if _, _, prov := d.provider(dp); prov {
		return
	}
	d.t.ForEachPortOn(dp, func(p *sbdb.PortBinding) { s.pb(p.UUID) })
}

// switchClosure: everything planned on switch dp (its provider status or
// name changed), and the routers attached to it.
func (d *Driver) switchClosure(s *affectedSet, dp string) {
	d.t.ForEachPortOn(dp, func(p *sbdb.PortBinding) {
		s.pb(p.UUID)
		if p.Type != "patch" {
			return
		}
		// The routers attached, seen from either side, and a cr-lrp
		// finding its provider switch by the name rule.
		if lrp := d.t.PortBinding(p.Options["peer"]); lrp != nil && lrp.Datapath != dp {
			d.routerClosure(s, lrp.Datapath)
		}
		d.t.ForEachPeerOf(p.LogicalPort, func(lrp *sbdb.PortBinding) {
			if lrp.Datapath != dp {
				d.routerClosure(s, lrp.Datapath)
			}
		})
		if c := d.t.PortBinding("cr-lrp-" + p.LogicalPort); c != nil && c.Type == "chassisredirect" {
			d.routerClosure(s, c.Datapath)
		}
	})
	d.t.ForEachLBOn(dp, s.lb)
}

// routerClosure: everything that depends on router r's gateway: its ports,
// its LBs, and the ports and LBs of the tenant switches attached to it.
func (d *Driver) routerClosure(s *affectedSet, r string) {
	if s.routers[r] {
		return
	}
	s.routers[r] = true
	d.t.ForEachLBOn(r, s.lb)
	d.t.ForEachPortOn(r, func(p *sbdb.PortBinding) {
		s.pb(p.UUID)
		if p.Type == "chassisredirect" {
			// The FIPs resident on the gateway skip the router's
			// tenant subnets.
			d.t.ForEachNATReferrer(p.LogicalPort, func(q *sbdb.PortBinding) { s.pb(q.UUID) })
		}
		if p.Type != "patch" {
			return
		}
		// Both directions: tenant ports find their router from the
		// switch side (rif.peer), the gateway from the router side.
		if rif := d.t.PortBinding(p.Options["peer"]); rif != nil && rif.Datapath != r {
			s.pb(rif.UUID)
			d.switchPorts(s, rif.Datapath)
		}
		d.t.ForEachPeerOf(p.LogicalPort, func(rif *sbdb.PortBinding) {
			if rif.Datapath != r {
				s.pb(rif.UUID)
				d.switchPorts(s, rif.Datapath)
			}
		})
	})
}
