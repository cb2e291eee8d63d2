package southbound

import (
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Gateways: chassisredirect ports, the gateway of a router and its router
// interfaces.

// gateway resolves a chassisredirect port: its MAC and networks and the
// provider network it is on. nil when it is not usable (no address, no
// provider switch, provider not mapped here). warn: report malformed
// addresses (only when planning the cr-lrp row itself).
func (d *Driver) gateway(pb *sbdb.PortBinding, warn bool) *plan.Gateway {
	if len(pb.MAC) == 0 {
		return nil
	}
	f := strings.Fields(pb.MAC[0])
	if len(f) < 2 {
		return nil
	}
	dp, ok := d.gatewayProviderDatapath(pb)
	if !ok {
		return nil
	}
	br, vlan, ok := d.provider(dp)
	if !ok {
		return nil
	}
	g := &plan.Gateway{Port: pb.LogicalPort, MAC: f[0], Bridge: br, VLAN: vlan, Network: d.networkName(dp)}
	for _, a := range f[1:] {
		pfx, err := plan.ParseAddr(a)
		if err != nil {
			if warn {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
			}
			continue
		}
		g.Nets = append(g.Nets, pfx)
	}
	if len(g.Nets) == 0 {
		return nil
	}
	return g
}

// gatewayProviderDatapath finds the provider switch of a cr-lrp: the peer
// of the router port it redirects ("cr-lrp-X" redirects "lrp-X", whose
// peer is the switch-side port), else the port named after the part after
// "cr-lrp-" (upstream's rule, for rows without a peer yet: upstream 10.1
// row 7).
func (d *Driver) gatewayProviderDatapath(pb *sbdb.PortBinding) (string, bool) {
	lrp := strings.TrimPrefix(pb.LogicalPort, "cr-")
	if r := d.t.PortBinding(lrp); r != nil {
		if peer := d.t.PortBinding(r.Options["peer"]); peer != nil {
			return peer.Datapath, true
		}
	}
	if r := d.t.PortBinding(strings.TrimPrefix(pb.LogicalPort, "cr-lrp-")); r != nil {
		return r.Datapath, true
	}
	return "", false
}

// localGateway returns the gateway of router datapath r hosted on this
// chassis (the one with the smallest port name if several are), or nil.
func (d *Driver) localGateway(r string) *plan.Gateway {
	if g, ok := d.gwMemo[r]; ok {
		return g
	}
	var best *plan.Gateway
	d.t.ForEachChassisRedirect(r, func(c *sbdb.PortBinding) {
		if !d.boundHere(c) || (best != nil && c.LogicalPort > best.Port) {
			return
		}
		if g := d.gateway(c, false); g != nil {
			best = g
		}
	})
	d.gwMemo[r] = best
	return best
}

// routerInterfaces calls fn for every router interface of tenant switch s
// whose router has a gateway hosted here: rif is the switch-side patch
// port, lrp the router port (its peer), g the local gateway. Switches that
// are provider networks here are not tenant networks.
func (d *Driver) routerInterfaces(s string, fn func(rif, lrp *sbdb.PortBinding, g *plan.Gateway)) {
	for _, ri := range d.sw(s).ifs {
		fn(ri.rif, ri.lrp, ri.g)
	}
}

// isGatewayPort: a router port that has a chassisredirect port (the
// gateway port), as opposed to a router interface.
func (d *Driver) isGatewayPort(lrp *sbdb.PortBinding) bool {
	return lrp.Options["chassis-redirect-port"] != "" || d.t.PortBinding("cr-"+lrp.LogicalPort) != nil
}

// lrpNetworks parses a router port's networks ("MAC 10.0.0.1/24 ...").
func lrpNetworks(lrp *sbdb.PortBinding) []netip.Prefix {
	if len(lrp.MAC) == 0 {
		return nil
	}
	f := strings.Fields(lrp.MAC[0])
	var out []netip.Prefix
	for _, a := range f[min(1, len(f)):] {
		if p, err := plan.ParseAddr(a); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Gateway resolves chassisredirect port pb as the driver does (nil when
// it is not usable here) and returns the provider datapath it is on, for
// drivers built on this one (plan/sbevpn).
func (d *Driver) Gateway(pb *sbdb.PortBinding) (*plan.Gateway, string) {
	g := d.gateway(pb, false)
	if g == nil {
		return nil, ""
	}
	dp, _ := d.gatewayProviderDatapath(pb)
	return g, dp
}

// BoundHere: pb is bound to this chassis.
func (d *Driver) BoundHere(pb *sbdb.PortBinding) bool { return d.boundHere(pb) }
