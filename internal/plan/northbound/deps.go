package northbound

import (
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Dependency tracking: the rows and names each row read while planned, and
// Affected, which follows them back.

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
