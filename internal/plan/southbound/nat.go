package southbound

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// NAT: the floating IPs of a gateway's nat_addresses.

// natAddresses plans the floating IPs OVN advertises on a router gateway's
// switch-side patch port: entries "MAC IP... is_chassis_resident("X")".
// The IPs are announced where X is: the VM's chassis for distributed FIPs,
// the cr-lrp's chassis for centralized ones (upstream 10.1 row 15).
//
// With options:nat-addresses=router (what Neutron sets) northd lists the
// router's SNAT and DNAT external IPs and also every load-balancer VIP of
// the router (ovn-nb(5); unless exclude-lb-vips-from-garp). So
// load-balancer FIPs (a dnat_and_snat NAT on the never-bound VIP port,
// hence centralized) and port-forwarding FIPs (LB VIPs on the router)
// arrive here too, resident on the cr-lrp: they are announced as kind fip
// (the Load_Balancer rows announce the same prefixes as lb-fip / pf-fip,
// see loadBalancer; the merge keeps one announcement per prefix). Tenant
// LB VIPs listed the same way are not provider addresses: the IPs inside
// one of the router's tenant subnets are skipped here (the LB and its VIP
// port announce them via the cr-lrp when tenant networks are exposed).
// TestSBPlanFromRealNorthd checks this against the real ovn-northd.
func (d *Driver) natAddresses(pb *sbdb.PortBinding, c *plan.Contribution) {
	br, vlan, ok := d.provider(pb.Datapath)
	if !ok {
		return
	}
	for _, entry := range pb.NatAddresses {
		resident, ok := topology.ResidentPort(entry)
		if !ok {
			d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", fmt.Sprintf("no is_chassis_resident in %q", entry))
			continue
		}
		rp := d.t.PortBinding(resident)
		if rp != nil {
			d.mem[rp.UUID] = rp
		}
		if rp == nil || !d.boundHere(rp) {
			continue // upstream 10.1 row 9: a deleted or unbound resident withdraws its FIPs
		}
		var tenantNets []netip.Prefix
		if rp.Type == "chassisredirect" {
			tenantNets = d.tenantNets(rp.Datapath)
		}
		f := strings.Fields(entry)
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "is_chassis_resident") {
				break
			}
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-nat-addresses", err.Error())
				continue
			}
			if plan.InAny(tenantNets, pfx.Addr().Unmap()) {
				continue
			}
			plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindFIP, Port: resident,
				Network: d.networkName(pb.Datapath), Reason: "floating IP resident on " + resident},
				plan.Exposure{Bridge: br, VLAN: vlan})
		}
	}
}
