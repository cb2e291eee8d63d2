package lab

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// Neutron writes the northbound database the way Neutron's ML2/OVN driver
// does, with the names and external_ids ovn-bgp-agent and ovnbgp read
// (../shared/docs/upstream-ovn-bgp-agent.md sections 4 and 7):
//
//   - Logical_Switch "neutron-<network id>", external_ids
//     neutron:network_name = the network's name;
//   - a localnet port "provnet-<segment id>" with options:network_name =
//     the physnet (and tag = the VLAN of a VLAN network);
//   - VM ports named by their port id, addresses "MAC IP...", external_ids
//     neutron:cidrs, neutron:device_owner, neutron:device_id,
//     neutron:network_name = "neutron-<network id>", neutron:host_id,
//     options:requested-chassis;
//   - Logical_Router "neutron-<router id>" with neutron:router_name; router
//     ports "lrp-<port id>" with neutron:network_name and
//     neutron:router_name; the router's switch-side ports of type router,
//     device_owner network:router_gateway / network:router_interface;
//   - NAT rows for SNAT and floating IPs (neutron:fip_network_id, ...);
//     NB_Global neutron:fip-distributed;
//   - OVN load balancers as ovn-octavia writes them (neutron:vip*, lr_ref)
//     and port-forwarding load balancers "pf-floatingip-<fip id>-<proto>".
//
// Checked against the real Neutron 21 (2023.1, Debian 12) that
// NeutronServer runs (TestRealNeutronWrites prints its rows). The builders
// also write keys only later releases write, which ovnbgp reads when they
// are there: neutron:host_id on VM ports (2023.2+), and
// neutron:subnet_pool_addr_scope4/6 on router interfaces (Neutron 21
// writes no address scope into the NB: address_scopes matches nothing
// behind a Neutron 21), NB_Global neutron:fip-distributed (2024.1+).
type Neutron struct {
	c *Central
}

// Neutron returns the builder for this central.
func (c *Central) Neutron() *Neutron { return &Neutron{c: c} }

// NewID returns a random UUID string, as Neutron's resource ids.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// eid renders an external_ids assignment whose key contains ':' as
// ovn-nbctl wants it quoted.
func eid(key, value string) string {
	return fmt.Sprintf(`external_ids:"%s"="%s"`, key, value)
}

// Network is a Neutron network.
type Network struct {
	ID       string
	Name     string // Neutron name
	LS       string // "neutron-<id>"
	Physnet  string // provider networks only
	VLAN     int    // 0: flat
	Localnet string // localnet port name
}

// ProviderNetwork creates a provider network on physnet (VLAN 0 = flat).
func (n *Neutron) ProviderNetwork(name, physnet string, vlan int) *Network {
	net := n.network(name)
	net.Physnet, net.VLAN = physnet, vlan
	net.Localnet = "provnet-" + NewID()
	args := []string{"lsp-add", net.LS, net.Localnet,
		"--", "lsp-set-type", net.Localnet, "localnet",
		"--", "lsp-set-addresses", net.Localnet, "unknown",
		"--", "lsp-set-options", net.Localnet, "network_name=" + physnet}
	if vlan != 0 {
		args = append(args, "--", "set", "Logical_Switch_Port", net.Localnet, fmt.Sprintf("tag=%d", vlan))
	}
	n.c.NBCtl(args...)
	return net
}

// TenantNetwork creates a tenant (overlay) network.
func (n *Neutron) TenantNetwork(name string) *Network { return n.network(name) }

func (n *Neutron) network(name string) *Network {
	id := NewID()
	net := &Network{ID: id, Name: name, LS: "neutron-" + id}
	n.c.NBCtl("ls-add", net.LS, "--", "set", "Logical_Switch", net.LS,
		eid("neutron:network_name", name), eid("neutron:mtu", "1442"), eid("neutron:revision_number", "1"))
	return net
}

// PortOptions qualify a VM port.
type PortOptions struct {
	Host        string // requested-chassis and neutron:host_id
	DeviceOwner string // default compute:nova
	Type        string // "" or "virtual"
	ConfigDrive bool   // addresses "MAC unknown"-style ports: mac = unknown, IPs only in neutron:cidrs
}

// Port is a Neutron port (a logical switch port).
type Port struct {
	ID      string // also the LSP name
	MAC     string
	CIDRs   []string // "IP/len" as in neutron:cidrs
	Network *Network
	Host    string
}

// IPs returns the port's addresses without prefix length.
func (p *Port) IPs() []string {
	var ips []string
	for _, c := range p.CIDRs {
		ips = append(ips, strings.SplitN(c, "/", 2)[0])
	}
	return ips
}

// Port creates a VM port with cidrs like "172.24.4.10/24".
func (n *Neutron) Port(net *Network, mac string, cidrs []string, o PortOptions) *Port {
	p, args := portArgs(net, mac, cidrs, o)
	n.c.NBCtl(args...)
	return p
}

// PortSpec is one port of Ports.
type PortSpec struct {
	MAC   string
	CIDRs []string
	PortOptions
}

// Ports creates many VM ports as Port does, in one ovn-nbctl transaction
// (one call per port costs seconds per hundred in the emulated guest).
func (n *Neutron) Ports(net *Network, specs []PortSpec) []*Port {
	var ports []*Port
	var args []string
	for _, s := range specs {
		p, a := portArgs(net, s.MAC, s.CIDRs, s.PortOptions)
		ports = append(ports, p)
		if len(args) > 0 {
			args = append(args, "--")
		}
		args = append(args, a...)
	}
	if len(args) > 0 {
		n.c.NBCtl(args...)
	}
	return ports
}

// portArgs is the port and the ovn-nbctl arguments that create it.
func portArgs(net *Network, mac string, cidrs []string, o PortOptions) (*Port, []string) {
	p := &Port{ID: NewID(), MAC: mac, CIDRs: cidrs, Network: net, Host: o.Host}
	if o.DeviceOwner == "" {
		o.DeviceOwner = "compute:nova"
	}
	addr := strings.Join(append([]string{mac}, p.IPs()...), " ")
	if o.ConfigDrive {
		addr = "unknown"
	}
	args := []string{"lsp-add", net.LS, p.ID,
		"--", "lsp-set-addresses", p.ID, addr,
		"--", "set", "Logical_Switch_Port", p.ID,
		eid("neutron:cidrs", strings.Join(cidrs, " ")),
		eid("neutron:device_id", NewID()),
		eid("neutron:device_owner", o.DeviceOwner),
		eid("neutron:network_name", net.LS),
		eid("neutron:port_name", ""),
		eid("neutron:project_id", "5f6a1c2d3e4f45a6b7c8d9e0f1a2b3c4"),
		eid("neutron:revision_number", "2")}
	if o.Host != "" {
		args = append(args, eid("neutron:host_id", o.Host), "options:requested-chassis="+o.Host)
	}
	if !o.ConfigDrive {
		args = append(args, "--", "lsp-set-port-security", p.ID, addr)
	}
	if o.Type != "" {
		args = append(args, "--", "lsp-set-type", p.ID, o.Type)
	}
	return p, args
}

// SetPortFIP records the FIP of a port as Neutron does (neutron:port_fip).
func (n *Neutron) SetPortFIP(p *Port, fip string) {
	n.c.NBCtl("set", "Logical_Switch_Port", p.ID, eid("neutron:port_fip", fip))
}

// ExistingNetwork is the builders' view of a network a real Neutron
// created.
func ExistingNetwork(id, name string) *Network {
	return &Network{ID: id, Name: name, LS: "neutron-" + id}
}

// ExistingRouter is the builders' view of a router a real Neutron created,
// to add what the lab has no service for (an ovn-octavia load balancer).
func (n *Neutron) ExistingRouter(id, name string) *Router {
	return &Router{ID: id, Name: name, LR: "neutron-" + id, neutron: n}
}

// Router is a Neutron router.
type Router struct {
	ID      string
	Name    string
	LR      string // "neutron-<id>"
	GW      *RouterPort
	IFs     []*RouterPort
	neutron *Neutron
}

// RouterPort is a router port: the LRP "lrp-<id>" and its switch-side LSP "<id>".
type RouterPort struct {
	ID      string
	LRP     string
	MAC     string
	CIDR    string
	Network *Network
}

// IP is the router port's address.
func (rp *RouterPort) IP() string { return strings.SplitN(rp.CIDR, "/", 2)[0] }

// Router creates a router.
func (n *Neutron) Router(name string) *Router {
	r := &Router{ID: NewID(), Name: name, neutron: n}
	r.LR = "neutron-" + r.ID
	n.c.NBCtl("lr-add", r.LR, "--", "set", "Logical_Router", r.LR,
		eid("neutron:router_name", name), eid("neutron:revision_number", "1"))
	return r
}

// SetGateway plugs the router into a provider network and schedules the
// gateway port on the chassis, highest priority first (the cr-lrp lives on
// the first one that is up). With snat, tenant interfaces added later get
// an SNAT rule to the gateway IP.
func (r *Router) SetGateway(net *Network, mac, cidr string, chassis ...string) *RouterPort {
	gw := &RouterPort{ID: NewID(), MAC: mac, CIDR: cidr, Network: net}
	gw.LRP = "lrp-" + gw.ID
	args := []string{"lrp-add", r.LR, gw.LRP, mac, cidr,
		"--", "set", "Logical_Router_Port", gw.LRP, eid("neutron:network_name", net.LS), eid("neutron:router_name", r.ID),
		eid("neutron:subnet_ids", NewID()), eid("neutron:revision_number", "1"),
		"--", "lsp-add", net.LS, gw.ID,
		"--", "lsp-set-type", gw.ID, "router",
		"--", "lsp-set-addresses", gw.ID, "router",
		"--", "lsp-set-options", gw.ID, "router-port=" + gw.LRP, "nat-addresses=router", "exclude-lb-vips-from-garp=true",
		"--", "set", "Logical_Switch_Port", gw.ID, eid("neutron:device_owner", "network:router_gateway"),
		eid("neutron:device_id", r.ID), eid("neutron:network_name", net.LS), eid("neutron:cidrs", cidr)}
	for i, ch := range chassis {
		args = append(args, "--", "lrp-set-gateway-chassis", gw.LRP, ch, fmt.Sprint(len(chassis)-i))
	}
	r.neutron.c.NBCtl(args...)
	r.GW = gw
	return gw
}

// AddInterface attaches a tenant network's subnet (cidr = the router's
// address in it, e.g. "10.0.0.1/24") with an optional IPv4/IPv6 address
// scope, and SNAT behind the gateway unless noSNAT.
func (r *Router) AddInterface(net *Network, mac, cidr, addrScope string, noSNAT bool) *RouterPort {
	rp := &RouterPort{ID: NewID(), MAC: mac, CIDR: cidr, Network: net}
	rp.LRP = "lrp-" + rp.ID
	scopeKey := "neutron:subnet_pool_addr_scope4"
	if strings.Contains(cidr, ":") {
		scopeKey = "neutron:subnet_pool_addr_scope6"
	}
	args := []string{"lrp-add", r.LR, rp.LRP, mac, cidr,
		"--", "set", "Logical_Router_Port", rp.LRP, eid("neutron:network_name", net.LS), eid("neutron:router_name", r.ID),
		eid("neutron:subnet_ids", NewID()), eid("neutron:revision_number", "1"),
		"--", "lsp-add", net.LS, rp.ID,
		"--", "lsp-set-type", rp.ID, "router",
		"--", "lsp-set-addresses", rp.ID, "router",
		"--", "lsp-set-options", rp.ID, "router-port=" + rp.LRP,
		"--", "set", "Logical_Switch_Port", rp.ID, eid("neutron:device_owner", "network:router_interface"),
		eid("neutron:device_id", r.ID), eid("neutron:network_name", net.LS), eid("neutron:cidrs", cidr),
		eid(scopeKey, addrScope)}
	if !noSNAT && r.GW != nil {
		pfx, err := netip.ParsePrefix(cidr)
		if err == nil && pfx.Addr().Is4() {
			args = append(args, "--", "lr-nat-add", r.LR, "snat", r.GW.IP(), pfx.Masked().String())
		}
	}
	r.neutron.c.NBCtl(args...)
	r.IFs = append(r.IFs, rp)
	return rp
}

// SetFIPDistributed sets NB_Global neutron:fip-distributed to
// enable_distributed_floating_ip as Python's str(bool), "True" or "False",
// which Neutron's maintenance task set_fip_distributed_flag writes since
// 2024.1; Neutron 21 (2023.1) writes no such key (ovnbgp then decides per
// NAT row, by its external_mac).
func (n *Neutron) SetFIPDistributed(on bool) {
	v := "False"
	if on {
		v = "True"
	}
	n.c.NBCtl("set", "NB_Global", ".", eid("neutron:fip-distributed", v))
}

// FIP associates a floating IP of the router's gateway network with a
// port's first IPv4 address, as Neutron 21 (2023.1) writes it: logical_port
// is always the VM port, external_ids neutron:fip_external_mac the MAC of
// the floating IP's own port (externalMAC); the external_mac column is set
// only for a distributed FIP (enable_distributed_floating_ip, once the VM
// port is up: then OVN answers on the VM's chassis); centralized ones live
// on the cr-lrp's chassis. gateway_port stays empty (Neutron 21 never
// writes it). Returns the NAT row uuid.
func (r *Router) FIP(p *Port, fip, externalMAC string, distributed bool) string {
	var logical string
	for _, ip := range p.IPs() {
		if !strings.Contains(ip, ":") {
			logical = ip
			break
		}
	}
	fipID := NewID()
	args := []string{"--id=@nat", "create", "NAT", "type=dnat_and_snat", "external_ip=" + fip, "logical_ip=" + logical,
		eid("neutron:fip_id", fipID), eid("neutron:fip_port_id", p.ID), eid("neutron:fip_network_id", r.GW.Network.ID),
		eid("neutron:router_name", r.LR), eid("neutron:revision_number", "1"), eid("neutron:fip_external_mac", externalMAC),
		"logical_port=" + p.ID}
	if distributed {
		args = append(args, `external_mac="`+externalMAC+`"`)
	}
	args = append(args, "--", "add", "Logical_Router", r.LR, "nat", "@nat")
	uuid := r.neutron.c.NBCtl(args...)
	r.neutron.SetPortFIP(p, fip)
	return uuid
}

// LoadBalancer creates an OVN load balancer as ovn-octavia does: VIP on
// vipNet (port "ovn-lb-vip-<id>"), members behind the router, an optional
// FIP, attached to the member network's switch and the router.
func (r *Router) LoadBalancer(vip string, port int, vipNet, memberNet *Network, members []string, fip string) string {
	id := NewID()
	var backends []string
	for _, m := range members {
		backends = append(backends, fmt.Sprintf("%s:%d", m, port))
	}
	vipPort := NewID()
	args := []string{"lb-add", id, fmt.Sprintf("%s:%d", vip, port), strings.Join(backends, ","), "tcp",
		"--", "set", "Load_Balancer", id, eid("neutron:vip", vip), eid("neutron:vip_port_id", vipPort),
		"external_ids:lr_ref=" + r.LR, eid("ls_refs", fmt.Sprintf(`{\"%s\": 1}`, memberNet.LS)), "external_ids:enabled=True",
		eid("octavia:provider", "ovn")}
	if fip != "" {
		args = append(args, eid("neutron:vip_fip", fip))
	}
	r.neutron.c.NBCtl(args...)
	if fip != "" {
		r.neutron.c.NBCtl("lb-add", id, fmt.Sprintf("%s:%d", fip, port), strings.Join(backends, ","), "tcp")
	}
	r.neutron.c.NBCtl("ls-lb-add", memberNet.LS, id, "--", "lr-lb-add", r.LR, id)
	if vipNet != memberNet {
		r.neutron.c.NBCtl("ls-lb-add", vipNet.LS, id)
	}
	// The VIP's Neutron port (ovn-lb-vip-<lb id>), unbound.
	r.neutron.c.NBCtl("lsp-add", vipNet.LS, vipPort, "--", "set", "Logical_Switch_Port", vipPort,
		eid("neutron:cidrs", vip+"/32"), eid("neutron:device_owner", "Octavia"), eid("neutron:network_name", vipNet.LS),
		eid("neutron:port_name", "ovn-lb-vip-"+id))
	return id
}

// PortForwarding creates Neutron's port-forwarding load balancer
// "pf-floatingip-<fip id>-<proto>" for fip:extPort -> internal:intPort.
func (r *Router) PortForwarding(fip string, proto string, extPort int, internal string, intPort int) string {
	name := fmt.Sprintf("pf-floatingip-%s-%s", NewID(), proto)
	r.neutron.c.NBCtl("lb-add", name, fmt.Sprintf("%s:%d", fip, extPort), fmt.Sprintf("%s:%d", internal, intPort), proto,
		"--", "set", "Load_Balancer", name, eid("neutron:device_owner", "port_forwarding_plugin"),
		eid("neutron:fip_id", NewID()), eid("neutron:router_name", r.LR),
		"--", "lr-lb-add", r.LR, name)
	return name
}

// HasNBColumn reports whether the running NB schema has table.column.
func (c *Central) HasNBColumn(table, column string) bool {
	out, err := tryRun("ovsdb-client", "get-schema", c.NB.Remote())
	if err != nil {
		return false
	}
	var schema struct {
		Tables map[string]struct {
			Columns map[string]json.RawMessage `json:"columns"`
		} `json:"tables"`
	}
	if json.Unmarshal([]byte(out), &schema) != nil {
		return false
	}
	_, ok := schema.Tables[table].Columns[column]
	return ok
}
