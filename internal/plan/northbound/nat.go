package northbound

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// NAT: floating IPs and the gateway port that carries them.

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
		w = wire{bridge: g.Bridge, vlan: g.VLAN, network: g.Network}
	}
	kind, why := plan.KindFIP, "centralized floating IP of "+name+" on router gateway "+gwp.Name+" hosted here"
	if vip {
		kind, why = plan.KindLBFIP, "floating IP of load-balancer VIP port "+lport+" on router gateway "+gwp.Name+" hosted here"
	}
	plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: kind, Port: name, Network: w.network, Reason: why},
		plan.Exposure{Bridge: w.bridge, VLAN: w.vlan, MAC: g.MAC})
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
