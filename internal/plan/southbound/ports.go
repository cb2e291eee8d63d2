package southbound

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Ports: VM and virtual Port_Bindings on provider networks, and the provider
// wiring of a datapath.

// port plans one Port_Binding.
func (d *Driver) port(pb *sbdb.PortBinding, c *plan.Contribution) {
	switch pb.Type {
	case "", "virtual":
		if br, vlan, ok := d.provider(pb.Datapath); ok {
			if !d.boundHere(pb) {
				return
			}
			// The chassis answers NDP for the subnet-router anycast address
			// of the port's IPv6 subnets: the VM's way out on a fabric
			// where no router sits on the provider network (upstream's NB
			// driver does this for every port, its SB driver only for
			// virtual ones, which leaves IPv6 egress broken).
			ndp := plan.NDPProxies(plan.PrefixesFromCIDRs(pb.ExternalIDs["neutron:cidrs"]))
			for _, pfx := range d.portPrefixes(pb) {
				plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindProviderPort, Port: pb.LogicalPort,
					Network: d.networkName(pb.Datapath), Reason: "bound to this chassis on a provider network"},
					plan.Exposure{Bridge: br, VLAN: vlan, ProxyNDP: plan.NDPFor(pfx, ndp)})
			}
			return
		}
		d.tenantPort(pb, c)
	case "chassisredirect":
		if !d.boundHere(pb) {
			return
		}
		if gw := d.gateway(pb, true); gw != nil {
			ndp := plan.NDPProxies(gw.Nets)
			for _, pfx := range gw.Nets {
				plan.Add(c, plan.Announcement{Prefix: plan.HostPrefix(pfx), Kind: plan.KindCRLRP, Port: pb.LogicalPort,
					Network: gw.Network, Reason: "router gateway hosted on this chassis"},
					plan.Exposure{Bridge: gw.Bridge, VLAN: gw.VLAN, MAC: gw.MAC, ProxyNDP: plan.NDPFor(pfx, ndp)})
			}
		}
	case "patch":
		if len(pb.NatAddresses) > 0 {
			d.natAddresses(pb, c)
		}
		if d.cfg.AdvertisementMethodTenantNetworks == "subnet" && d.tenantEnabled() {
			d.tenantSubnet(pb, c)
		}
	}
}

// boundHere: the port is active on this chassis. During a live migration
// OVN lists the destination in additional_chassis (or requested_chassis)
// while `chassis` stays the active one, so only `chassis` counts: a port is
// announced by exactly one chassis. A port that is down is not announced
// (a missing up column, before OVN 21.03, counts as up). Virtual ports are
// bound by OVN itself (to the chassis of the parent that claimed the VIP).
func (d *Driver) boundHere(pb *sbdb.PortBinding) bool {
	if pb.Chassis == nil || *pb.Chassis != d.self || d.self == "" {
		return false
	}
	return pb.Up == nil || *pb.Up
}

// boundSomewhere: the port is bound and up on some chassis.
func boundSomewhere(pb *sbdb.PortBinding) bool {
	return pb.Chassis != nil && *pb.Chassis != "" && (pb.Up == nil || *pb.Up)
}

// portPrefixes returns the addresses of a VM port: from its mac column
// ("MAC IP..."), or from neutron:cidrs when OVN does not know the addresses
// (config-drive ports have mac "unknown"; OVN LB VIP ports have no mac).
func (d *Driver) portPrefixes(pb *sbdb.PortBinding) []netip.Prefix {
	var out []netip.Prefix
	for _, m := range pb.MAC {
		f := strings.Fields(m)
		if len(f) == 0 || f[0] == "unknown" {
			continue
		}
		for _, a := range f[1:] {
			pfx, err := plan.ParseAddr(a)
			if err != nil {
				d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-address", err.Error())
				continue
			}
			out = append(out, pfx)
		}
	}
	if len(out) == 0 {
		if c := pb.ExternalIDs["neutron:cidrs"]; c != "" {
			for _, a := range strings.Fields(c) {
				pfx, err := plan.ParseAddr(a)
				if err != nil {
					d.warn(sbdb.PortBindingTable, pb.LogicalPort, "bad-cidr", err.Error())
					continue
				}
				out = append(out, pfx)
			}
		}
	}
	return out
}

// provider returns the bridge and VLAN of a datapath that is a provider
// network mapped on this chassis: it has a localnet port whose network_name
// is in ovn-bridge-mappings. With several (multi-segment networks), the
// mapped localnet with the smallest name wins.
func (d *Driver) provider(datapath string) (bridge string, vlan int, ok bool) {
	si := d.sw(datapath)
	return si.bridge, si.vlan, si.prov
}

func (d *Driver) providerUncached(datapath string) (bridge string, vlan int, ok, refused bool) {
	var best *sbdb.PortBinding
	d.t.ForEachLocalnet(datapath, func(ln *sbdb.PortBinding) {
		if _, mapped := d.physnets[ln.Options["network_name"]]; !mapped {
			return
		}
		if ln.Tag != nil && !plan.ValidVLAN(*ln.Tag) {
			refused = true
			d.warn(sbdb.PortBindingTable, ln.LogicalPort, "bad-vlan-tag", fmt.Sprintf("tag %d is outside 1-4094: the network is not served here", *ln.Tag))
			return
		}
		if best == nil || ln.LogicalPort < best.LogicalPort {
			best = ln
		}
	})
	if best == nil {
		return "", 0, false, refused
	}
	if best.Tag != nil {
		vlan = *best.Tag
	}
	return d.physnets[best.Options["network_name"]].Bridge, vlan, true, false
}

// networkName is the Neutron network name of a datapath (Datapath_Binding
// external_ids name2, which northd copies from neutron:network_name), else
// its logical switch name.
func (d *Driver) networkName(datapath string) string {
	dp := d.t.Datapath(datapath)
	if dp == nil {
		return ""
	}
	if n := dp.ExternalIDs["name2"]; n != "" {
		return n
	}
	return dp.ExternalIDs["name"]
}
