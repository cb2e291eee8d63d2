package northbound

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Chassis and provider questions: which ports are this chassis's, provider
// wiring, the router gateways hosted here.

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
		if ln.Tag != nil && !plan.ValidVLAN(*ln.Tag) {
			d.warn(nbdb.LogicalSwitchPortTable, ln.Name, "bad-vlan-tag", fmt.Sprintf("tag %d is outside 1-4094: the network is not served here", *ln.Tag))
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
// network: the drivers' common gateway and its Logical_Router_Port.
type gateway struct {
	plan.Gateway
	lrp *nbdb.LogicalRouterPort
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
	g := &gateway{Gateway: plan.Gateway{Port: p.Name, Bridge: w.bridge, VLAN: w.vlan, Network: w.network}, lrp: p}
	if _, err := net.ParseMAC(p.MAC); err == nil {
		g.MAC = p.MAC
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
		g.Nets = append(g.Nets, pfx)
	}
	return g, len(g.Nets) > 0
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
		if g.Contains(a) {
			return g
		}
	}
	if len(gws) > 0 {
		return gws[0]
	}
	return nil
}
