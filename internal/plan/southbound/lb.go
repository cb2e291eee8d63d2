package southbound

import (
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Load balancers: OVN LB VIP ports and Load_Balancer rows.

// isLBVIPPort: the port ovn-octavia creates for a VIP (named or
// neutron:port_name "ovn-lb-vip-..."), never bound, without mac.
func isLBVIPPort(pb *sbdb.PortBinding) bool {
	if pb.Type != "" || pb.Chassis != nil {
		return false
	}
	for _, m := range pb.MAC {
		if strings.TrimSpace(m) != "" {
			return false
		}
	}
	return strings.HasPrefix(pb.LogicalPort, "ovn-lb-vip-") || strings.HasPrefix(pb.ExternalIDs["neutron:port_name"], "ovn-lb-vip-")
}

// lbDatapaths lists the datapaths a Load_Balancer applies to, whatever the
// schema generation (upstream 10.1 row 16): datapaths (old),
// datapath_group (22.x), ls_datapath_group and lr_datapath_group (23.09+).
func (d *Driver) lbDatapaths(lb *sbdb.LoadBalancer) []string {
	out := append([]string(nil), lb.Datapaths...)
	for _, g := range []*string{lb.DatapathGroup, lb.LSDatapathGroup, lb.LRDatapathGroup} {
		if g == nil {
			continue
		}
		if grp := d.t.LogicalDPGroup(*g); grp != nil {
			out = append(out, grp.Datapaths...)
		}
	}
	return out
}

// loadBalancer plans an OVN load balancer. Its routers are the datapaths of
// the LB that have a gateway, and the routers attached to its switches.
// For each router whose gateway is hosted here, each VIP is announced:
//   - in a network of the cr-lrp (a provider network): full wiring, kind
//     pf-fip for port-forwarding LBs (name pf-floatingip-*), lb-fip for the
//     FIP ovn-octavia adds as an extra VIP (external_ids neutron:vip_fip),
//     else lb-vip (upstream announces provider VIPs even without tenant
//     exposure);
//   - in a tenant subnet of that router, with tenant exposure in host mode:
//     lb-vip routed via the cr-lrp IP.
//
// Only routers whose gateway is here announce, so a VIP is never announced
// by the gateway of another router (upstream 10.1 row 17).
func (d *Driver) loadBalancer(lb *sbdb.LoadBalancer, c *plan.Contribution) {
	if len(lb.Vips) == 0 {
		return
	}
	routers := map[string]bool{}
	for _, dp := range d.lbDatapaths(lb) {
		if d.t.HasChassisRedirect(dp) {
			routers[dp] = true
			continue
		}
		d.t.ForEachPatch(dp, func(rif *sbdb.PortBinding) {
			if lrp := d.t.PortBinding(rif.Options["peer"]); lrp != nil && lrp.Datapath != dp && d.t.HasChassisRedirect(lrp.Datapath) {
				routers[lrp.Datapath] = true
			}
		})
	}
	if len(routers) == 0 {
		return
	}
	var vips []netip.Addr
	for k := range lb.Vips {
		a, err := plan.ParseVIP(k)
		if err != nil {
			d.warn(sbdb.LoadBalancerTable, lb.Name, "bad-vip", err.Error())
			continue
		}
		vips = append(vips, a)
	}
	fip := lb.ExternalIDs["neutron:vip_fip"]
	for r := range routers {
		g := d.localGateway(r)
		if g == nil {
			continue
		}
		for _, a := range vips {
			pfx := netip.PrefixFrom(a, a.BitLen())
			if g.Contains(a) {
				kind, reason := plan.KindLBVIP, "load-balancer VIP on the provider network of a router gateway hosted here"
				switch {
				case strings.HasPrefix(lb.Name, "pf-floatingip-"):
					kind, reason = plan.KindPFFIP, "port-forwarding floating IP of a router gateway hosted here"
				case fip != "" && fip == a.String():
					kind, reason = plan.KindLBFIP, "floating IP of a load-balancer VIP behind a router gateway hosted here"
				}
				plan.Add(c, plan.Announcement{Prefix: pfx, Kind: kind, Port: lb.Name, Network: g.Network, Reason: reason},
					plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN})
				continue
			}
			if !d.tenantEnabled() || d.cfg.AdvertisementMethodTenantNetworks == "subnet" {
				continue
			}
			d.t.ForEachPatch(r, func(lrp *sbdb.PortBinding) {
				rif := d.t.PortBinding(lrp.Options["peer"])
				if rif == nil || rif.Datapath == r || d.isGatewayPort(lrp) {
					return
				}
				if _, _, prov := d.provider(rif.Datapath); prov {
					return
				}
				for _, n := range lrpNetworks(lrp) {
					if n.Masked().Contains(a) && d.tenantAllowed(a, rif) {
						if via, ok := g.Via(a); ok {
							plan.Add(c, plan.Announcement{Prefix: pfx, Kind: plan.KindLBVIP, Port: lb.Name, Network: d.networkName(rif.Datapath),
								Reason: "load-balancer VIP on a tenant network behind a router gateway hosted here"},
								plan.Exposure{Bridge: g.Bridge, VLAN: g.VLAN, Via: via})
						}
						return
					}
				}
			})
		}
	}
}
