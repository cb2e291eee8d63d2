package northbound

import (
	"net/netip"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Tenant networks: the subnets behind a router hosted here and whether they
// may be exposed.

// tenantSubnet is a subnet of a tenant switch exposed through a local gateway.
type tenantSubnet struct {
	prefix  netip.Prefix // masked
	gw      *gateway
	via     netip.Addr
	network string
	rif     string // router interface port name
}

// tenantSubnets returns the exposed subnets of a tenant switch: those of
// its router interfaces (or only rif) whose router has a gateway here,
// after the GUA, address-scope and SNAT filters.
func (d *Driver) tenantSubnets(ls *nbdb.LogicalSwitch, only *nbdb.LogicalSwitchPort) []tenantSubnet {
	rifs := []*nbdb.LogicalSwitchPort{only}
	if only == nil {
		d.ctxDep(ls.UUID, ls, nil)
		rifs = d.t.NBSwitchRouterPorts(ls.UUID)
	}
	network := ls.ExternalIDs["neutron:network_name"]
	if network == "" {
		network = ls.Name
	}
	var out []tenantSubnet
	for _, rif := range rifs {
		d.dep(rif.UUID)
		owner := rif.ExternalIDs["neutron:device_owner"]
		if owner != "" && owner != "network:router_interface" {
			continue // the gateway port of a provider network, or another router-type port
		}
		if rif.Up != nil && !*rif.Up {
			continue
		}
		var lr *nbdb.LogicalRouter
		var lrp *nbdb.LogicalRouterPort
		if rp := rif.Options["router-port"]; rp != "" {
			if lrp = d.lrpByName(rp); lrp != nil {
				lr = d.routerOfPort(lrp.UUID)
			}
		}
		if lr == nil && rif.ExternalIDs["neutron:device_id"] != "" {
			lr = d.routerByName("neutron-" + rif.ExternalIDs["neutron:device_id"])
		}
		gws := d.localGateways(lr)
		if len(gws) == 0 {
			continue
		}
		nets := d.cidrs(rif, rif == only)
		if len(nets) == 0 && lrp != nil {
			for _, n := range lrp.Networks {
				if pfx, err := plan.ParseAddr(n); err == nil {
					nets = append(nets, pfx)
				}
			}
		}
		for _, n := range nets {
			n = n.Masked()
			if !d.tenantAllowed(rif, lr, n) {
				continue
			}
			for _, g := range gws {
				if via, ok := g.Via(n.Addr()); ok {
					out = append(out, tenantSubnet{prefix: n, gw: g, via: via, network: network, rif: rif.Name})
					break
				}
			}
		}
	}
	return out
}

// tenantAllowed applies expose_ipv6_gua_tenant_networks, address_scopes
// and require_snat_disabled_for_tenant_networks to a tenant subnet.
func (d *Driver) tenantAllowed(rif *nbdb.LogicalSwitchPort, lr *nbdb.LogicalRouter, n netip.Prefix) bool {
	if !d.cfg.ExposeTenantNetworks && !(n.Addr().Is6() && plan.IsGlobal6(n.Addr())) {
		return false
	}
	if len(d.cfg.AddressScopes) > 0 {
		key := "neutron:subnet_pool_addr_scope4"
		if n.Addr().Is6() {
			key = "neutron:subnet_pool_addr_scope6"
		}
		scope, ok := rif.ExternalIDs[key], false
		for _, s := range d.cfg.AddressScopes {
			if s != "" && s == scope {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if d.cfg.RequireSNATDisabledForTenantNetworks {
		for _, nat := range d.t.NBRouterNATs(lr.UUID) {
			d.dep(nat.UUID)
			if nat.Type != "snat" {
				continue
			}
			lip, err := plan.ParseAddr(nat.LogicalIP)
			if err != nil {
				continue
			}
			if lip.Bits() <= n.Bits() && lip.Masked().Contains(n.Addr()) {
				return false
			}
		}
	}
	return true
}

// planSubnets plans a router interface in subnet mode.
func (d *Driver) planSubnets(c *plan.Contribution, rif *nbdb.LogicalSwitchPort) {
	ls := d.switchOf(rif)
	if ls == nil {
		return
	}
	if _, _, isProvider := d.provider(ls); isProvider {
		return
	}
	for _, s := range d.tenantSubnets(ls, rif) {
		plan.AddOnce(c, plan.Announcement{Prefix: s.prefix, Kind: plan.KindTenantSubnet, Port: rif.Name, Network: s.network,
			Reason: "tenant subnet behind router gateway " + s.gw.lrp.Name + " hosted on this chassis"},
			plan.Exposure{Bridge: s.gw.Bridge, VLAN: s.gw.VLAN, Via: s.via})
	}
}
