package lab

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/addressscopes"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/portforwarding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/subnetpools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// NeutronAPI is a client of a NeutronServer's API (gophercloud, no
// Keystone: the server runs with noauth) that creates what an operator
// creates, records the `openstack` command each call is the equivalent
// of (Commands) and deletes everything it created when the test ends,
// newest first, so the next test of the package finds Neutron empty.
type NeutronAPI struct {
	t    testing.TB
	sc   *gophercloud.ServiceClient
	mu   sync.Mutex
	cmd  []string
	del  []func() error
	keep bool
}

// Keep leaves what the client created in place when the test ends.
func (a *NeutronAPI) Keep() {
	a.mu.Lock()
	a.keep = true
	a.mu.Unlock()
}

// API returns a client for t; its cleanup runs at the end of t.
func (s *NeutronServer) API(t testing.TB) *NeutronAPI {
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Timeout: 120 * time.Second}}
	sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: s.URL, ResourceBase: s.URL + "v2.0/"}
	a := &NeutronAPI{t: t, sc: sc}
	t.Cleanup(a.cleanup)
	return a
}

// Commands returns the `openstack` commands equivalent to the calls made.
func (a *NeutronAPI) Commands() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.cmd...)
}

func (a *NeutronAPI) record(format string, args ...any) {
	a.mu.Lock()
	a.cmd = append(a.cmd, "openstack "+fmt.Sprintf(format, args...))
	a.mu.Unlock()
}

func (a *NeutronAPI) undo(f func() error) {
	a.mu.Lock()
	a.del = append(a.del, f)
	a.mu.Unlock()
}

func (a *NeutronAPI) cleanup() {
	if a.keep {
		return
	}
	start := time.Now()
	defer func() {
		a.t.Logf("lab: neutron: %d resources deleted in %s", len(a.del), time.Since(start).Round(time.Millisecond))
	}()
	for i := len(a.del) - 1; i >= 0; i-- {
		if err := a.del[i](); err != nil {
			if _, ok := err.(gophercloud.ErrUnexpectedResponseCode); ok && gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				continue
			}
			a.t.Errorf("lab: neutron cleanup: %v", err)
		}
	}
}

func (a *NeutronAPI) check(what string, err error) {
	a.t.Helper()
	if err != nil {
		a.t.Fatalf("lab: neutron API: %s: %v", what, err)
	}
}

func ctx() context.Context { return context.Background() }

// networkOpts adds the provider attributes to a network create request.
type networkOpts struct {
	networks.CreateOptsBuilder
	netType, physnet string
	segment          int
}

func (o networkOpts) ToNetworkCreateMap() (map[string]any, error) {
	m, err := o.CreateOptsBuilder.ToNetworkCreateMap()
	if err != nil {
		return nil, err
	}
	n := m["network"].(map[string]any)
	n["provider:network_type"] = o.netType
	if o.physnet != "" {
		n["provider:physical_network"] = o.physnet
	}
	if o.segment != 0 {
		n["provider:segmentation_id"] = o.segment
	}
	return m, nil
}

// ProviderNetwork creates a provider network on physnet, flat when vlan is
// 0, external (router:external) when external.
func (a *NeutronAPI) ProviderNetwork(name, physnet string, vlan int, external bool) *networks.Network {
	a.t.Helper()
	typ, cli := "flat", ""
	if vlan != 0 {
		typ, cli = "vlan", fmt.Sprintf(" --provider-segment %d", vlan)
	}
	ext := "--internal"
	if external {
		ext = "--external"
	}
	opts := networkOpts{CreateOptsBuilder: externalOpts(name, external), netType: typ, physnet: physnet, segment: vlan}
	n, err := networks.Create(ctx(), a.sc, opts).Extract()
	a.check("create provider network "+name, err)
	a.record("network create %s --provider-network-type %s --provider-physical-network %s%s %s", ext, typ, physnet, cli, name)
	a.undo(func() error { return networks.Delete(ctx(), a.sc, n.ID).ExtractErr() })
	return n
}

func externalOpts(name string, ext bool) networks.CreateOptsBuilder {
	return external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: name}, External: &ext}
}

// TenantNetwork creates a project network (geneve).
func (a *NeutronAPI) TenantNetwork(name string) *networks.Network {
	a.t.Helper()
	n, err := networks.Create(ctx(), a.sc, networks.CreateOpts{Name: name}).Extract()
	a.check("create network "+name, err)
	a.record("network create %s", name)
	a.undo(func() error { return networks.Delete(ctx(), a.sc, n.ID).ExtractErr() })
	return n
}

// SubnetOptions qualify a subnet. Gateway "" lets Neutron pick the first
// address; IPv6Mode is "" (static), "slaac" or "dhcpv6-stateful" (both
// address and RA mode); Pool allocates the CIDR (of PrefixLen) from a
// subnet pool instead of CIDR.
type SubnetOptions struct {
	Gateway   string
	IPv6Mode  string
	Pool      *subnetpools.SubnetPool
	PrefixLen int
}

// Subnet creates a subnet without DHCP (the lab's VMs are configured
// statically; OVN's native DHCP needs no agent anyway).
func (a *NeutronAPI) Subnet(n *networks.Network, name, cidr string, o SubnetOptions) *subnets.Subnet {
	a.t.Helper()
	dhcp := false
	opts := subnets.CreateOpts{NetworkID: n.ID, Name: name, CIDR: cidr, EnableDHCP: &dhcp, IPVersion: gophercloud.IPv4}
	cli := fmt.Sprintf("subnet create --network %s --no-dhcp", n.Name)
	if strings.Contains(cidr, ":") || (o.Pool != nil && o.Pool.IPversion == 6) {
		opts.IPVersion = gophercloud.IPv6
		cli += " --ip-version 6"
	}
	if o.IPv6Mode != "" {
		opts.IPv6AddressMode, opts.IPv6RAMode = o.IPv6Mode, o.IPv6Mode
		cli += fmt.Sprintf(" --ipv6-address-mode %s --ipv6-ra-mode %s", o.IPv6Mode, o.IPv6Mode)
		if o.IPv6Mode == "slaac" {
			// SLAAC needs RAs: OVN sends them when DHCP is on.
			dhcp = true
			cli = strings.Replace(cli, " --no-dhcp", "", 1)
		}
	}
	if o.Gateway != "" {
		opts.GatewayIP = &o.Gateway
		cli += " --gateway " + o.Gateway
	}
	if o.Pool != nil {
		opts.SubnetPoolID, opts.Prefixlen = o.Pool.ID, o.PrefixLen
		cli += fmt.Sprintf(" --subnet-pool %s --prefix-length %d", o.Pool.Name, o.PrefixLen)
	} else {
		cli += " --subnet-range " + cidr
	}
	s, err := subnets.Create(ctx(), a.sc, opts).Extract()
	a.check("create subnet "+name, err)
	a.record("%s %s", cli, name)
	a.undo(func() error { return subnets.Delete(ctx(), a.sc, s.ID).ExtractErr() })
	return s
}

// AddressScope creates a shared address scope.
func (a *NeutronAPI) AddressScope(name string, ipVersion int) *addressscopes.AddressScope {
	a.t.Helper()
	s, err := addressscopes.Create(ctx(), a.sc, addressscopes.CreateOpts{Name: name, IPVersion: ipVersion, Shared: true}).Extract()
	a.check("create address scope "+name, err)
	a.record("address scope create --share --ip-version %d %s", ipVersion, name)
	a.undo(func() error { return addressscopes.Delete(ctx(), a.sc, s.ID).ExtractErr() })
	return s
}

// SubnetPool creates a shared subnet pool of prefixes in an address scope
// (nil: none).
func (a *NeutronAPI) SubnetPool(name string, prefixes []string, scope *addressscopes.AddressScope, defaultLen int) *subnetpools.SubnetPool {
	a.t.Helper()
	opts := subnetpools.CreateOpts{Name: name, Prefixes: prefixes, Shared: true, DefaultPrefixLen: defaultLen}
	cli := fmt.Sprintf("subnet pool create --share --default-prefix-length %d", defaultLen)
	for _, p := range prefixes {
		cli += " --pool-prefix " + p
	}
	if scope != nil {
		opts.AddressScopeID = scope.ID
		cli += " --address-scope " + scope.Name
	}
	p, err := subnetpools.Create(ctx(), a.sc, opts).Extract()
	a.check("create subnet pool "+name, err)
	a.record("%s %s", cli, name)
	a.undo(func() error { return subnetpools.Delete(ctx(), a.sc, p.ID).ExtractErr() })
	return p
}

// Router creates a router, with an external gateway on ext (fixed at
// gwIPs, "" for Neutron's choice, one per subnet of ext) when ext is not
// nil; snat false disables SNAT. Neutron schedules the gateway port on the
// gateway chassis (ovn-cms-options=enable-chassis-as-gw) it knows then.
func (a *NeutronAPI) Router(name string, ext *networks.Network, extSubnets []*subnets.Subnet, gwIPs []string, snat bool) *routers.Router {
	a.t.Helper()
	opts := routers.CreateOpts{Name: name}
	cli := "router create " + name
	if ext != nil {
		gi := &routers.GatewayInfo{NetworkID: ext.ID, EnableSNAT: &snat}
		cli = fmt.Sprintf("router create --external-gateway %s", ext.Name)
		for i, s := range extSubnets {
			ip := ""
			if i < len(gwIPs) {
				ip = gwIPs[i]
			}
			gi.ExternalFixedIPs = append(gi.ExternalFixedIPs, routers.ExternalFixedIP{SubnetID: s.ID, IPAddress: ip})
			cli += fmt.Sprintf(" --fixed-ip subnet=%s,ip-address=%s", s.Name, ip)
		}
		if snat {
			cli += " --enable-snat"
		} else {
			cli += " --disable-snat"
		}
		cli += " " + name
		opts.GatewayInfo = gi
	}
	r, err := routers.Create(ctx(), a.sc, opts).Extract()
	a.check("create router "+name, err)
	a.record("%s", cli)
	a.undo(func() error {
		_, err := routers.Update(ctx(), a.sc, r.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{}}).Extract()
		if err != nil {
			return err
		}
		return routers.Delete(ctx(), a.sc, r.ID).ExtractErr()
	})
	return r
}

// AddInterface attaches a subnet to a router.
func (a *NeutronAPI) AddInterface(r *routers.Router, s *subnets.Subnet) {
	a.t.Helper()
	_, err := routers.AddInterface(ctx(), a.sc, r.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	a.check("add interface "+s.Name+" to "+r.Name, err)
	a.record("router add subnet %s %s", r.Name, s.Name)
	a.undo(func() error {
		_, err := routers.RemoveInterface(ctx(), a.sc, r.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
		return err
	})
}

// Port creates a VM port (device_owner compute:nova) bound to host
// (binding:host_id; "" leaves it unbound) with the given fixed IPs
// ("subnet id=ip" pairs as FixedIP values; none: Neutron's choice).
func (a *NeutronAPI) Port(n *networks.Network, name, mac, host string, fixed []ports.IP) *ports.Port {
	a.t.Helper()
	opts := ports.CreateOpts{NetworkID: n.ID, Name: name, MACAddress: mac, DeviceOwner: "compute:nova", DeviceID: NewID()}
	if len(fixed) > 0 {
		opts.FixedIPs = fixed
	}
	var base ports.CreateOptsBuilder = opts
	cli := fmt.Sprintf("port create --network %s", n.Name)
	if mac != "" {
		cli += " --mac-address " + mac
	}
	for _, f := range fixed {
		cli += fmt.Sprintf(" --fixed-ip subnet=%s,ip-address=%s", f.SubnetID, f.IPAddress)
	}
	cli += " --device-owner compute:nova"
	if host != "" {
		base = portsbinding.CreateOptsExt{CreateOptsBuilder: base, HostID: host}
		cli += " --host " + host
	}
	var p struct {
		ports.Port
		portsbinding.PortsBindingExt
	}
	err := ports.Create(ctx(), a.sc, base).ExtractInto(&p)
	a.check("create port "+name, err)
	a.record("%s %s", cli, name)
	a.undo(func() error { return ports.Delete(ctx(), a.sc, p.ID).ExtractErr() })
	return &p.Port
}

// StartMigration marks a port as migrating to host, as Nova does when a
// live migration starts (binding:profile migrating_to): ML2/OVN then
// requests the port on both chassis.
func (a *NeutronAPI) StartMigration(p *ports.Port, host string) {
	a.t.Helper()
	profile := map[string]any{"migrating_to": host}
	_, err := ports.Update(ctx(), a.sc, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, Profile: profile}).Extract()
	a.check("start migration of port "+p.Name, err)
	a.record("port set --binding-profile migrating_to=%s %s", host, p.Name)
}

// FinishMigration binds the port to host and clears migrating_to, as Nova
// does when a live migration ends.
func (a *NeutronAPI) FinishMigration(p *ports.Port, host string) {
	a.t.Helper()
	_, err := ports.Update(ctx(), a.sc, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{},
		HostID: &host, Profile: map[string]any{}}).Extract()
	a.check("finish migration of port "+p.Name, err)
	a.record("port set --host %s --no-binding-profile %s", host, p.Name)
}

// DeletePort deletes a port.
func (a *NeutronAPI) DeletePort(p *ports.Port) {
	a.t.Helper()
	a.check("delete port "+p.Name, ports.Delete(ctx(), a.sc, p.ID).ExtractErr())
	a.record("port delete %s", p.Name)
}

// DeleteFIP deletes a floating IP.
func (a *NeutronAPI) DeleteFIP(f *floatingips.FloatingIP) {
	a.t.Helper()
	a.check("delete floating ip "+f.FloatingIP, floatingips.Delete(ctx(), a.sc, f.ID).ExtractErr())
	a.record("floating ip delete %s", f.FloatingIP)
}

// AllowICMP opens the default security group to ICMP (v4 and v6) from
// anywhere, as an operator does to ping their VMs; Neutron's default group
// admits only its own members.
func (a *NeutronAPI) AllowICMP() {
	a.t.Helper()
	pages, err := groups.List(a.sc, groups.ListOpts{Name: "default"}).AllPages(ctx())
	a.check("list security groups", err)
	sgs, err := groups.ExtractGroups(pages)
	a.check("list security groups", err)
	if len(sgs) == 0 {
		a.t.Fatalf("lab: neutron API: no default security group")
	}
	for _, r := range []struct {
		et    rules.RuleEtherType
		proto rules.RuleProtocol
	}{{rules.EtherType4, rules.ProtocolICMP}, {rules.EtherType6, rules.ProtocolIPv6ICMP}} {
		rule, err := rules.Create(ctx(), a.sc, rules.CreateOpts{Direction: rules.DirIngress, EtherType: r.et, Protocol: r.proto,
			SecGroupID: sgs[0].ID}).Extract()
		a.check("create security group rule", err)
		a.record("security group rule create --ingress --ethertype %s --protocol %s default", r.et, r.proto)
		a.undo(func() error { return rules.Delete(ctx(), a.sc, rule.ID).ExtractErr() })
	}
}

// FIP creates a floating IP on ext (at ip; "" for Neutron's choice)
// associated with port (nil: none).
func (a *NeutronAPI) FIP(ext *networks.Network, ip string, port *ports.Port) *floatingips.FloatingIP {
	a.t.Helper()
	opts := floatingips.CreateOpts{FloatingNetworkID: ext.ID, FloatingIP: ip}
	cli := "floating ip create " + ext.Name
	if ip != "" {
		cli = fmt.Sprintf("floating ip create --floating-ip-address %s %s", ip, ext.Name)
	}
	if port != nil {
		opts.PortID = port.ID
		cli += " --port " + port.Name
	}
	f, err := floatingips.Create(ctx(), a.sc, opts).Extract()
	a.check("create floating ip", err)
	a.record("%s", cli)
	a.undo(func() error { return floatingips.Delete(ctx(), a.sc, f.ID).ExtractErr() })
	return f
}

// AssociateFIP sets (port not nil) or clears a floating IP's port.
func (a *NeutronAPI) AssociateFIP(f *floatingips.FloatingIP, port *ports.Port) {
	a.t.Helper()
	id, cli := "", "floating ip unset --port "+f.FloatingIP
	if port != nil {
		id, cli = port.ID, fmt.Sprintf("floating ip set --port %s %s", port.Name, f.FloatingIP)
	}
	_, err := floatingips.Update(ctx(), a.sc, f.ID, floatingips.UpdateOpts{PortID: &id}).Extract()
	a.check("associate floating ip "+f.FloatingIP, err)
	a.record("%s", cli)
}

// PortForwarding forwards fip:ext/proto to port's internalIP:internal.
func (a *NeutronAPI) PortForwarding(f *floatingips.FloatingIP, port *ports.Port, internalIP, proto string, internal, ext int) *portforwarding.PortForwarding {
	a.t.Helper()
	pf, err := portforwarding.Create(ctx(), a.sc, f.ID, portforwarding.CreateOpts{InternalPortID: port.ID,
		InternalIPAddress: internalIP, InternalPort: internal, ExternalPort: ext, Protocol: proto}).Extract()
	a.check("create port forwarding", err)
	a.record("floating ip port forwarding create --internal-ip-address %s --port %s --internal-protocol-port %d --external-protocol-port %d --protocol %s %s",
		internalIP, port.Name, internal, ext, proto, f.FloatingIP)
	a.undo(func() error { return portforwarding.Delete(ctx(), a.sc, f.ID, pf.ID).ExtractErr() })
	return pf
}

// IPs returns a port's fixed IPs with the prefix length of their subnets
// ("IP/len"), as a VM namespace is configured.
func (a *NeutronAPI) IPs(p *ports.Port) []string {
	a.t.Helper()
	var out []string
	for _, f := range p.FixedIPs {
		s, err := subnets.Get(ctx(), a.sc, f.SubnetID).Extract()
		a.check("get subnet", err)
		_, l, _ := strings.Cut(s.CIDR, "/")
		out = append(out, f.IPAddress+"/"+l)
	}
	return out
}
