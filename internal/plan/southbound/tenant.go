package southbound

import (
	"net/netip"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Tenant networks: tenant VM ports and router subnets behind a gateway
// hosted here.

// tenantNets returns the subnets of router r's interfaces (its router
// ports that are not gateway ports).
func (d *Driver) tenantNets(r string) []netip.Prefix {
	if nets, ok := d.netMemo[r]; ok {
		return nets
	}
	var nets []netip.Prefix
	d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
		if d.isGatewayPort(lrp) {
			return
		}
		for _, n := range lrpNetworks(lrp) {
			if n.Bits() < n.Addr().BitLen() {
				nets = append(nets, n.Masked())
			}
		}
	})
	d.netMemo[r] = nets
	return nets
}

// tenantEnabled: expose_tenant_networks or expose_ipv6_gua_tenant_networks.
func (d *Driver) tenantEnabled() bool {
	return d.cfg.ExposeTenantNetworks || d.cfg.ExposeIPv6GUATenantNetworks
}

// tenantAllowed filters a tenant address: every address with
// expose_tenant_networks, else only global IPv6 addresses with
// expose_ipv6_gua_tenant_networks; then address_scopes, matched against the
// router interface's switch-side port (neutron:subnet_pool_addr_scope4/6).
func (d *Driver) tenantAllowed(a netip.Addr, rif *sbdb.PortBinding) bool {
	if !d.cfg.ExposeTenantNetworks {
		if !d.cfg.ExposeIPv6GUATenantNetworks || !a.Is6() || !plan.IsGlobal6(a) {
			return false
		}
	}
	if d.scopes != nil {
		key := "neutron:subnet_pool_addr_scope4"
		if a.Is6() {
			key = "neutron:subnet_pool_addr_scope6"
		}
		if !d.scopes[rif.ExternalIDs[key]] {
			return false
		}
	}
	return true
}

// tenantPort plans a VM (or OVN LB VIP) port on a tenant network: announced
// as a host route on the chassis hosting the cr-lrp of a router the network
// is attached to, routed via the cr-lrp IP (host advertisement; with subnet
// advertisement the router interface announces the whole subnet instead).
func (d *Driver) tenantPort(pb *sbdb.PortBinding, c *plan.Contribution) {
	if !d.tenantEnabled() || d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
		return
	}
	kind, reason := plan.KindTenantPort, "tenant port behind a router gateway hosted on this chassis"
	if !boundSomewhere(pb) {
		if !isLBVIPPort(pb) {
			return
		}
		kind, reason = plan.KindLBVIP, "load-balancer VIP on a tenant network behind a router gateway hosted on this chassis"
	}
	var prefixes []netip.Prefix
	d.routerInterfaces(pb.Datapath, func(rif, lrp *sbdb.PortBinding, g *plan.Gateway) {
		if prefixes == nil {
			prefixes = d.portPrefixes(pb)
		}
		nets := lrpNetworks(lrp)
		for _, pfx := range prefixes {
			a := pfx.Addr().Unmap()
			if !plan.HasFamily(nets, a) || !d.tenantAllowed(a, rif) {
				continue
			}
			via, ok := g.Via(a)
			if !ok {
				continue
			}
			plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: kind, Port: pb.LogicalPort,
				Network: d.networkName(pb.Datapath), Reason: reason},
				plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, Via: via})
		}
	})
}

// tenantSubnet plans a router interface (a patch port on a router whose
// peer is on a tenant switch) in subnet advertisement mode: its subnets,
// routed via the cr-lrp IP of the same family. Missing options:peer
// (upstream 10.1 row 7) or a peer already deleted: nothing.
func (d *Driver) tenantSubnet(lrp *sbdb.PortBinding, c *plan.Contribution) {
	rif := d.t.PortBinding(lrp.Options["peer"])
	if rif == nil || rif.Datapath == lrp.Datapath || d.isGatewayPort(lrp) || !d.t.HasChassisRedirect(lrp.Datapath) {
		return
	}
	if _, _, prov := d.provider(rif.Datapath); prov {
		return
	}
	g := d.localGateway(lrp.Datapath)
	if g == nil {
		return
	}
	for _, n := range lrpNetworks(lrp) {
		a := n.Addr().Unmap()
		if !d.tenantAllowed(a, rif) {
			continue
		}
		via, ok := g.Via(a)
		if !ok {
			continue
		}
		plan.Add(c, plan.Announcement{Prefix: n.Masked(), Kind: plan.KindTenantSubnet, Port: lrp.LogicalPort,
			Network: d.networkName(rif.Datapath), Reason: "tenant subnet behind a router gateway hosted on this chassis"},
			plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, Via: via})
	}
}
