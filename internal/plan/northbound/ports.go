package northbound

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Switch and router ports: addresses of a logical switch port, planLSP and
// planLRP.

// portAddrs returns the MAC and IPs of a VM port: from addresses ("MAC
// IP...", or dynamic_addresses for "dynamic"), else from neutron:cidrs
// (config-drive ports have "unknown", upstream §10.1 row 14).
func (d *Driver) portAddrs(p *nbdb.LogicalSwitchPort, warn bool) (mac string, ips []netip.Prefix) {
	entries := p.Addresses
	seen := map[netip.Prefix]bool{}
	for i := 0; i < len(entries); i++ {
		f := strings.Fields(entries[i])
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "unknown", "router":
			continue
		case "dynamic":
			if p.DynamicAddresses != nil {
				entries = append(entries, *p.DynamicAddresses)
			}
			continue
		}
		if _, err := net.ParseMAC(f[0]); err == nil {
			if mac == "" {
				mac = f[0]
			}
		} else if warn {
			d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-mac", fmt.Sprintf("address %q: %v", entries[i], err))
		}
		for _, a := range f[1:] {
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				if warn {
					d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-address", err.Error())
				}
				continue
			}
			if h := plan.HostPrefix(pfx); !seen[h] {
				seen[h] = true
				ips = append(ips, h)
			}
		}
	}
	if len(ips) == 0 {
		for _, pfx := range d.cidrs(p, warn) {
			if h := plan.HostPrefix(pfx); !seen[h] {
				seen[h] = true
				ips = append(ips, h)
			}
		}
	}
	return mac, ips
}

// cidrs parses external_ids neutron:cidrs.
func (d *Driver) cidrs(p *nbdb.LogicalSwitchPort, warn bool) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range strings.Fields(p.ExternalIDs["neutron:cidrs"]) {
		pfx, err := plan.ParseAddr(a)
		if err != nil {
			if warn {
				d.warn(nbdb.LogicalSwitchPortTable, p.Name, "bad-cidr", err.Error())
			}
			continue
		}
		out = append(out, pfx)
	}
	return out
}

func (d *Driver) planLSP(c *plan.Contribution, p *nbdb.LogicalSwitchPort) {
	switch p.Type {
	case "", "virtual":
	case "router":
		if d.ctx.tenant && d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
			d.planSubnets(c, p)
		}
		return
	default:
		return
	}
	if !isUp(p) {
		return // down, or an unbound LB VIP port (upstream §10.1 rows 11, 13)
	}
	here := d.isMe(portHost(p))
	if !here && (!d.ctx.tenant || d.cfg.AdvertisementMethodTenantNetworks == "subnet") {
		return // only a local port, or a tenant port in host mode, can contribute
	}
	ls := d.switchOf(p)
	w, mapped, isProvider := d.provider(ls)
	if isProvider {
		if !here {
			return
		}
		if !mapped {
			return // provider network not mapped on this chassis
		}
		mac, ips := d.portAddrs(p, true)
		var ndp []netip.Addr
		for _, pfx := range d.cidrs(p, false) {
			ndp = append(ndp, plan.NDPProxies([]netip.Prefix{pfx})...)
		}
		for _, ip := range ips {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindProviderPort, Port: p.Name, Network: w.network,
				Reason: "bound to this chassis on a provider network"},
				plan.Exposure{Bridge: w.bridge, VLAN: w.vlan, MAC: mac, ProxyNDP: plan.NDPFor(ip, ndp)})
		}
		return
	}
	// Tenant network: announced by the chassis hosting the router gateway.
	if !d.ctx.tenant || d.cfg.AdvertisementMethodTenantNetworks == "subnet" || ls == nil {
		return
	}
	subnets := d.tenantSubnets(ls, nil)
	if len(subnets) == 0 {
		return
	}
	_, ips := d.portAddrs(p, true)
	for _, ip := range ips {
		for _, s := range subnets {
			if !s.prefix.Contains(ip.Addr()) {
				continue
			}
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindTenantPort, Port: p.Name, Network: s.network,
				Reason: "tenant port behind router gateway " + s.gw.lrp.Name + " hosted on this chassis"},
				plan.Exposure{Bridge: s.gw.Bridge, VLAN: s.gw.VLAN, Via: s.via})
			break
		}
	}
}

func (d *Driver) planLRP(c *plan.Contribution, p *nbdb.LogicalRouterPort) {
	if !d.isMe(p.Status["hosting-chassis"]) {
		return
	}
	g, ok := d.hostedGateway(p, true)
	if !ok {
		return
	}
	ndp := plan.NDPProxies(g.Nets)
	for _, n := range g.Nets {
		ip := plan.HostPrefix(n)
		plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindCRLRP, Port: p.Name, Network: g.Network,
			Reason: "router gateway hosted on this chassis"},
			plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, MAC: g.MAC, ProxyNDP: plan.NDPFor(ip, ndp)})
	}
}
