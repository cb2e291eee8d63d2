package northbound

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Load balancers: VIPs and the router gateways that expose them.

// lbRouters returns the routers of a load balancer: external_ids lr_ref
// (and, for port forwarding, neutron:router_name), plus the routers listing
// it in their load_balancer column.
func (d *Driver) lbRouters(lb *nbdb.LoadBalancer) []*nbdb.LogicalRouter {
	var out []*nbdb.LogicalRouter
	seen := map[string]bool{}
	add := func(lr *nbdb.LogicalRouter) {
		if lr != nil && !seen[lr.UUID] {
			seen[lr.UUID] = true
			out = append(out, lr)
		}
	}
	for _, key := range []string{"lr_ref", "neutron:router_name"} {
		ref := lb.ExternalIDs[key]
		if ref == "" {
			continue
		}
		lr := d.routerByName(ref)
		if lr == nil && !strings.HasPrefix(ref, "neutron-") {
			lr = d.routerByName("neutron-" + ref)
		}
		add(lr)
	}
	d.member("")
	for _, u := range d.t.NBLoadBalancerRouters(lb.UUID) {
		d.member(u)
		add(d.router(u))
	}
	return out
}

// vipIPs returns the distinct IPs of the vips keys ("IP:port", "[IPv6]:port"
// or a bare IP), sorted.
func (d *Driver) vipIPs(lb *nbdb.LoadBalancer) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for k := range lb.Vips {
		a, err := plan.ParseVIP(k)
		if err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", err.Error())
			continue
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func (d *Driver) planLB(c *plan.Contribution, lb *nbdb.LoadBalancer) {
	if len(lb.Vips) == 0 {
		return
	}
	var gws []*gateway
	for _, lr := range d.lbRouters(lb) {
		gws = append(gws, d.localGateways(lr)...)
	}
	if len(gws) == 0 {
		return // not on this chassis (upstream §10.1 row 17)
	}
	ips := d.vipIPs(lb)
	if strings.HasPrefix(lb.Name, "pf-floatingip-") {
		for _, a := range ips {
			g := pickGateway(gws, a)
			plan.AddOnce(c, plan.Announcement{Prefix: plan.HostPrefix(netip.PrefixFrom(a, a.BitLen())), Kind: plan.KindPFFIP, Port: lb.Name,
				Network: g.Network, Reason: "port-forwarding floating IP on router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, MAC: g.MAC})
		}
		return
	}
	has := map[netip.Addr]bool{}
	for _, a := range ips {
		has[a] = true
	}
	if v := strings.TrimSpace(lb.ExternalIDs["neutron:vip"]); v != "" {
		if a, err := netip.ParseAddr(v); err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", fmt.Sprintf("neutron:vip %q: %v", v, err))
		} else if a = a.Unmap(); has[a] {
			d.planVIP(c, lb, a, gws)
		}
	}
	if v := strings.TrimSpace(lb.ExternalIDs["neutron:vip_fip"]); v != "" {
		if a, err := netip.ParseAddr(v); err != nil {
			d.warn(nbdb.LoadBalancerTable, lb.Name, "bad-vip", fmt.Sprintf("neutron:vip_fip %q: %v", v, err))
		} else if a = a.Unmap(); has[a] {
			g := pickGateway(gws, a)
			plan.AddOnce(c, plan.Announcement{Prefix: plan.HostPrefix(netip.PrefixFrom(a, a.BitLen())), Kind: plan.KindLBFIP, Port: lb.Name,
				Network: g.Network, Reason: "floating IP of load balancer " + lb.Name + " on router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, MAC: g.MAC})
		}
	}
}

// planVIP plans a load-balancer VIP: on a provider network it is wired on
// that network's bridge; on a tenant network it is routed via the gateway
// when tenant networks are exposed.
func (d *Driver) planVIP(c *plan.Contribution, lb *nbdb.LoadBalancer, a netip.Addr, gws []*gateway) {
	ip := plan.HostPrefix(netip.PrefixFrom(a, a.BitLen()))
	var ls *nbdb.LogicalSwitch
	if vp := lb.ExternalIDs["neutron:vip_port_id"]; vp != "" {
		if lsp := d.lspByName(vp); lsp != nil {
			ls = d.switchOfPort(lsp.UUID)
		}
	}
	if ls == nil {
		// No VIP port: a VIP inside a gateway's network is on the provider network.
		if g := pickGateway(gws, a); g.Contains(a) {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: g.Network,
				Reason: "load-balancer VIP on a provider network, router gateway " + g.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN})
		}
		return
	}
	w, mapped, isProvider := d.provider(ls)
	if isProvider {
		if mapped {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: w.network,
				Reason: "load-balancer VIP on a provider network, router gateway hosted here"},
				plan.Exposure{Bridge: w.bridge, VLAN: w.vlan})
		}
		return
	}
	if !d.ctx.tenant {
		return
	}
	for _, s := range d.tenantSubnets(ls, nil) {
		if s.prefix.Contains(a) {
			plan.AddOnce(c, plan.Announcement{Prefix: ip, Kind: plan.KindLBVIP, Port: lb.Name, Network: s.network,
				Reason: "load-balancer VIP on a tenant network behind router gateway " + s.gw.lrp.Name + " hosted here"},
				plan.Exposure{Bridge: s.gw.Bridge, VLAN: s.gw.VLAN, Via: s.via})
			return
		}
	}
}
