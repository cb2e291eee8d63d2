package northbound_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// nbFx builds a northbound topology. The local chassis has system-id "c1"
// and hostname "host1"; its OVS maps physnet1 to br-ex and physnet2 to
// br-vlan. Another chassis is "c2"/"host2". Rows are named after their
// uuids to keep the tests readable.
type nbFx struct {
	t   *topology.Topology
	cfg *config.Config
	ls  map[string]*nbdb.LogicalSwitch
	lr  map[string]*nbdb.LogicalRouter
	log []plan.RowRef // rows changed since the last incremental check
}

// up upserts a row and logs it as changed.
func (f *nbFx) up(row any) {
	f.t.Upsert(row)
	var src plan.RowRef
	switch r := row.(type) {
	case *nbdb.LogicalSwitch:
		src = plan.RowRef{Table: nbdb.LogicalSwitchTable, UUID: r.UUID}
	case *nbdb.LogicalSwitchPort:
		src = plan.RowRef{Table: nbdb.LogicalSwitchPortTable, UUID: r.UUID}
	case *nbdb.LogicalRouter:
		src = plan.RowRef{Table: nbdb.LogicalRouterTable, UUID: r.UUID}
	case *nbdb.LogicalRouterPort:
		src = plan.RowRef{Table: nbdb.LogicalRouterPortTable, UUID: r.UUID}
	case *nbdb.NAT:
		src = plan.RowRef{Table: nbdb.NATTable, UUID: r.UUID}
	case *nbdb.LoadBalancer:
		src = plan.RowRef{Table: nbdb.LoadBalancerTable, UUID: r.UUID}
	case *nbdb.NBGlobal:
		src = plan.RowRef{Table: nbdb.NBGlobalTable, UUID: r.UUID}
	case *vswitch.OpenVSwitch:
		src = plan.RowRef{Table: vswitch.OpenVSwitchTable, UUID: r.UUID}
	default:
		return
	}
	f.log = append(f.log, src)
}

// del deletes a row and logs it as changed.
func (f *nbFx) del(table, uuid string) {
	f.t.Delete(table, uuid)
	f.log = append(f.log, plan.RowRef{Table: table, UUID: uuid})
}

func newNBFx() *nbFx {
	f := &nbFx{t: topology.New(), cfg: config.Default(), ls: map[string]*nbdb.LogicalSwitch{}, lr: map[string]*nbdb.LogicalRouter{}}
	f.cfg.Driver = config.DriverNB
	f.up(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "hostname": "host1", "ovn-bridge-mappings": "physnet1:br-ex,physnet2:br-vlan"}})
	return f
}

func nbPtr[T any](v T) *T { return &v }

// sw adds a switch "neutron-<name>"; physnet != "" makes it a provider
// network (localnet port "provnet-<name>", VLAN tag if vlan != 0).
func (f *nbFx) sw(name, physnet string, vlan int) {
	ls := &nbdb.LogicalSwitch{UUID: "ls-" + name, Name: "neutron-" + name,
		ExternalIDs: map[string]string{"neutron:network_name": name}}
	f.ls[name] = ls
	f.up(ls)
	if physnet != "" {
		ln := &nbdb.LogicalSwitchPort{UUID: "provnet-" + name, Name: "provnet-" + name, Type: "localnet",
			Addresses: []string{"unknown"}, Options: map[string]string{"network_name": physnet}, ExternalIDs: map[string]string{}}
		if vlan != 0 {
			ln.Tag = nbPtr(vlan)
		}
		f.addPort(name, ln)
	}
}

func (f *nbFx) addPort(sw string, p *nbdb.LogicalSwitchPort) {
	f.up(p)
	ls := *f.ls[sw]
	ls.Ports = append(append([]string{}, ls.Ports...), p.UUID)
	f.ls[sw] = &ls
	f.up(&ls)
}

// vm adds an up VM port on switch sw, bound (requested-chassis and
// neutron:host_id) to host; addrs like "fa:16:3e:00:01:10 172.24.4.10";
// cidrs is neutron:cidrs.
func (f *nbFx) vm(sw, name, host, addrs, cidrs string) *nbdb.LogicalSwitchPort {
	p := &nbdb.LogicalSwitchPort{UUID: name, Name: name, Addresses: []string{addrs}, Up: nbPtr(true),
		Options:     map[string]string{},
		ExternalIDs: map[string]string{"neutron:cidrs": cidrs, "neutron:network_name": "neutron-" + sw}}
	if host != "" {
		p.Options["requested-chassis"] = host
		p.ExternalIDs["neutron:host_id"] = host
	}
	f.addPort(sw, p)
	return p
}

func (f *nbFx) router(name string) {
	lr := &nbdb.LogicalRouter{UUID: "lr-" + name, Name: "neutron-" + name,
		ExternalIDs: map[string]string{"neutron:router_name": name}}
	f.lr[name] = lr
	f.up(lr)
}

func (f *nbFx) updRouter(name string, fn func(lr *nbdb.LogicalRouter)) {
	lr := *f.lr[name]
	lr.Ports = append([]string{}, lr.Ports...)
	lr.Nat = append([]string{}, lr.Nat...)
	lr.LoadBalancer = append([]string{}, lr.LoadBalancer...)
	fn(&lr)
	f.lr[name] = &lr
	f.up(&lr)
}

// gateway plugs router r into provider switch sw with the gateway port
// "lrp-gw-<r>" (networks cidrs) hosted on host ("" = nowhere yet).
func (f *nbFx) gateway(r, sw, host string, cidrs ...string) *nbdb.LogicalRouterPort {
	lrp := &nbdb.LogicalRouterPort{UUID: "lrp-gw-" + r, Name: "lrp-gw-" + r, MAC: "fa:16:3e:00:00:01", Networks: cidrs,
		GatewayChassis: []string{"gc-" + r}, Status: map[string]string{},
		ExternalIDs: map[string]string{"neutron:network_name": "neutron-" + sw, "neutron:router_name": r}}
	if host != "" {
		lrp.Status["hosting-chassis"] = host
	}
	f.up(lrp)
	f.updRouter(r, func(lr *nbdb.LogicalRouter) { lr.Ports = append(lr.Ports, lrp.UUID) })
	f.addPort(sw, &nbdb.LogicalSwitchPort{UUID: "gw-" + r, Name: "gw-" + r, Type: "router", Addresses: []string{"router"},
		Up: nbPtr(true), Options: map[string]string{"router-port": lrp.Name},
		ExternalIDs: map[string]string{"neutron:device_owner": "network:router_gateway", "neutron:device_id": r}})
	return lrp
}

// iface attaches tenant switch sw to router r ("lrp-<r>-<sw>", cidr like
// "10.0.0.1/24") with address scope scope.
func (f *nbFx) iface(r, sw, cidr, scope string) *nbdb.LogicalSwitchPort {
	name := r + "-" + sw
	lrp := &nbdb.LogicalRouterPort{UUID: "lrp-" + name, Name: "lrp-" + name, MAC: "fa:16:3e:00:00:02", Networks: []string{cidr},
		ExternalIDs: map[string]string{"neutron:network_name": "neutron-" + sw}}
	f.up(lrp)
	f.updRouter(r, func(lr *nbdb.LogicalRouter) { lr.Ports = append(lr.Ports, lrp.UUID) })
	key := "neutron:subnet_pool_addr_scope4"
	if strings.Contains(cidr, ":") {
		key = "neutron:subnet_pool_addr_scope6"
	}
	p := &nbdb.LogicalSwitchPort{UUID: "rif-" + name, Name: "rif-" + name, Type: "router", Addresses: []string{"router"},
		Up: nbPtr(true), Options: map[string]string{"router-port": lrp.Name},
		ExternalIDs: map[string]string{"neutron:device_owner": "network:router_interface", "neutron:device_id": r,
			"neutron:cidrs": cidr, key: scope}}
	f.addPort(sw, p)
	return p
}

// nat adds a NAT to router r.
func (f *nbFx) nat(r string, n *nbdb.NAT) *nbdb.NAT {
	if n.ExternalIDs == nil {
		n.ExternalIDs = map[string]string{}
	}
	f.up(n)
	f.updRouter(r, func(lr *nbdb.LogicalRouter) { lr.Nat = append(lr.Nat, n.UUID) })
	return n
}

// fip adds a floating IP of network pub for port lport; extMAC != "" makes
// it distributed.
func (f *nbFx) fip(r, uuid, ext, logical, lport, extMAC, pub string) *nbdb.NAT {
	n := &nbdb.NAT{UUID: uuid, Type: "dnat_and_snat", ExternalIP: ext, LogicalIP: logical,
		ExternalIDs: map[string]string{"neutron:fip_network_id": pub}, GatewayPort: nbPtr("lrp-gw-" + r)}
	if lport != "" {
		n.LogicalPort = nbPtr(lport)
	}
	if extMAC != "" {
		n.ExternalMAC = nbPtr(extMAC)
	}
	return f.nat(r, n)
}

// lb adds an ovn-octavia load balancer of router r.
func (f *nbFx) lb(r, name string, vips map[string]string, ext map[string]string) *nbdb.LoadBalancer {
	lb := &nbdb.LoadBalancer{UUID: "lb-" + name, Name: name, Vips: vips, ExternalIDs: ext}
	if lb.ExternalIDs == nil {
		lb.ExternalIDs = map[string]string{}
	}
	if _, ok := lb.ExternalIDs["lr_ref"]; !ok && !strings.HasPrefix(name, "pf-") {
		lb.ExternalIDs["lr_ref"] = "neutron-" + r
	}
	f.up(lb)
	f.updRouter(r, func(lr *nbdb.LogicalRouter) { lr.LoadBalancer = append(lr.LoadBalancer, lb.UUID) })
	return lb
}

func (f *nbFx) global(distributed string) {
	f.up(&nbdb.NBGlobal{UUID: "nbg", ExternalIDs: map[string]string{"neutron:fip-distributed": distributed}})
}

// planAs runs a full NB plan for the chassis named by id ("" = c1 from
// the OVS row).
func (f *nbFx) planAs(t *testing.T, id northbound.Identity) (*plan.State, []plan.Warning) {
	t.Helper()
	f.t.RLock()
	defer f.t.RUnlock()
	d := northbound.New(f.cfg, f.t, id)
	name := id.ChassisName
	if name == "" {
		name = "c1"
	}
	return plan.Full(d, name)
}

var c2 = northbound.Identity{Hostname: "host2", ChassisName: "c2"}

type nbWant struct {
	prefix string
	kind   plan.Kind
	port   string
	bridge string
	vlan   int
	mac    string
	via    string
	ndp    string // comma list
}

func nbCheck(t *testing.T, st *plan.State, wants []nbWant) {
	t.Helper()
	var got, exp []string
	exps := map[string]plan.Exposure{}
	for _, e := range st.Wiring.Exposures {
		exps[e.Key().String()] = e
	}
	for _, a := range st.Announcements {
		e := exps[a.Key().String()]
		var ndp []string
		for _, n := range e.ProxyNDP {
			ndp = append(ndp, n.String())
		}
		via := ""
		if e.Via.IsValid() {
			via = e.Via.String()
		}
		require.True(t, e.Announce, a.Prefix.String())
		got = append(got, fmt.Sprintf("%s %s %s br=%s vlan=%d mac=%s via=%s ndp=%s", a.Prefix, a.Kind, a.Port,
			e.Bridge, e.VLAN, e.MAC, via, strings.Join(ndp, ",")))
	}
	for _, w := range wants {
		exp = append(exp, fmt.Sprintf("%s %s %s br=%s vlan=%d mac=%s via=%s ndp=%s", w.prefix, w.kind, w.port,
			w.bridge, w.vlan, w.mac, w.via, w.ndp))
	}
	sort.Strings(got)
	sort.Strings(exp)
	require.Equal(t, exp, got)
	require.Len(t, st.Wiring.Exposures, len(st.Announcements))
}

// world is the common topology: provider networks "public" (flat,
// physnet1, 172.24.4.0/24 and 2001:db8:24::/64) and "vlan100" (physnet2,
// VLAN 100), tenant network "private" (10.0.0.0/24, 2a00:10::/64 GUA)
// behind router "r1" whose gateway 172.24.4.100 is hosted on gwHost.
func nbWorld(f *nbFx, gwHost string) {
	f.sw("public", "physnet1", 0)
	f.sw("vlan100", "physnet2", 100)
	f.sw("private", "", 0)
	f.router("r1")
	f.gateway("r1", "public", gwHost, "172.24.4.100/24", "2001:db8:24::100/64")
}

func TestNBPlan(t *testing.T) {
	const mac1 = "fa:16:3e:00:01:10"
	crlrp := []nbWant{
		{"172.24.4.100/32", plan.KindCRLRP, "lrp-gw-r1", "br-ex", 0, "fa:16:3e:00:00:01", "", ""},
		{"2001:db8:24::100/128", plan.KindCRLRP, "lrp-gw-r1", "br-ex", 0, "fa:16:3e:00:00:01", "", "2001:db8:24::"},
	}
	cases := []struct {
		name  string
		build func(f *nbFx)
		as    northbound.Identity
		want  []nbWant
	}{
		{"provider VM flat v4+v6 bound here: MAC neighbour, NDP proxy for the v6 CIDR", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "host1", mac1+" 172.24.4.10 2001:db8:24::10", "172.24.4.10/24 2001:db8:24::10/64")
		}, northbound.Identity{}, []nbWant{
			{"172.24.4.10/32", plan.KindProviderPort, "vm1", "br-ex", 0, mac1, "", ""},
			{"2001:db8:24::10/128", plan.KindProviderPort, "vm1", "br-ex", 0, mac1, "", "2001:db8:24::"},
		}},
		{"provider VM on a VLAN network", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("vlan100", "vm2", "host1", mac1+" 172.24.5.10", "172.24.5.10/24")
		}, northbound.Identity{}, []nbWant{{"172.24.5.10/32", plan.KindProviderPort, "vm2", "br-vlan", 100, mac1, "", ""}}},
		{"provider VM bound to another chassis: nothing here", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "host2", mac1+" 172.24.4.10", "172.24.4.10/24")
		}, northbound.Identity{}, nil},
		{"provider VM on an unmapped physnet: nothing", func(f *nbFx) {
			nbWorld(f, "c2")
			f.sw("other", "physnet9", 0)
			f.vm("other", "vm1", "host1", mac1+" 172.30.0.10", "172.30.0.10/24")
		}, northbound.Identity{}, nil},
		{"requested-chassis naming the system-id also binds", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "c1", mac1+" 172.24.4.10", "172.24.4.10/24")
		}, northbound.Identity{}, []nbWant{{"172.24.4.10/32", plan.KindProviderPort, "vm1", "br-ex", 0, mac1, "", ""}}},
		{"row 11: port bound here but down is not announced", func(f *nbFx) {
			nbWorld(f, "c2")
			p := f.vm("public", "vm1", "host1", mac1+" 172.24.4.10", "172.24.4.10/24")
			p.Up = nbPtr(false)
			f.up(p)
		}, northbound.Identity{}, nil},
		{"row 12: live migration host1,host2 -> only the first (source) announces: host1", func(f *nbFx) {
			nbWorld(f, "c2")
			p := f.vm("public", "vm1", "host1", mac1+" 172.24.4.10", "172.24.4.10/24")
			p.Options["requested-chassis"] = "host1,host2"
			p.ExternalIDs["neutron:host_id"] = "host2"
			f.up(p)
		}, northbound.Identity{}, []nbWant{{"172.24.4.10/32", plan.KindProviderPort, "vm1", "br-ex", 0, mac1, "", ""}}},
		{"row 12: live migration host1,host2 -> host2 does not announce", func(f *nbFx) {
			nbWorld(f, "c1")
			p := f.vm("public", "vm1", "host1", mac1+" 172.24.4.10", "172.24.4.10/24")
			p.Options["requested-chassis"] = "host1,host2"
			p.ExternalIDs["neutron:host_id"] = "host2"
			f.up(p)
		}, c2, nil},
		{"row 13: virtual port bound through neutron:host_id", func(f *nbFx) {
			nbWorld(f, "c2")
			p := f.vm("public", "vip1", "", mac1+" 172.24.4.20 2001:db8:24::20", "172.24.4.20/24 2001:db8:24::20/64")
			p.Type = "virtual"
			p.ExternalIDs["neutron:host_id"] = "host1"
			f.up(p)
		}, northbound.Identity{}, []nbWant{
			{"172.24.4.20/32", plan.KindProviderPort, "vip1", "br-ex", 0, mac1, "", ""},
			{"2001:db8:24::20/128", plan.KindProviderPort, "vip1", "br-ex", 0, mac1, "", "2001:db8:24::"},
		}},
		{"row 13: virtual port whose chassis is not known yet: nothing", func(f *nbFx) {
			nbWorld(f, "c2")
			p := f.vm("public", "vip1", "", mac1+" 172.24.4.20", "172.24.4.20/24")
			p.Type = "virtual"
			f.up(p)
		}, northbound.Identity{}, nil},
		{"row 14: config-drive port (addresses unknown) uses neutron:cidrs, no MAC", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "host1", "unknown", "172.24.4.11/24")
		}, northbound.Identity{}, []nbWant{{"172.24.4.11/32", plan.KindProviderPort, "vm1", "br-ex", 0, "", "", ""}}},
		{"dynamic addresses", func(f *nbFx) {
			nbWorld(f, "c2")
			p := f.vm("public", "vm1", "host1", "dynamic", "")
			p.DynamicAddresses = nbPtr(mac1 + " 172.24.4.12")
			f.up(p)
		}, northbound.Identity{}, []nbWant{{"172.24.4.12/32", plan.KindProviderPort, "vm1", "br-ex", 0, mac1, "", ""}}},
		{"cr-lrp hosted here: gateway IPs with the LRP MAC and NDP proxy", func(f *nbFx) {
			nbWorld(f, "c1")
		}, northbound.Identity{}, crlrp},
		{"row 8: cr-lrp hosted on another chassis: nothing here", func(f *nbFx) {
			nbWorld(f, "c2")
		}, northbound.Identity{}, nil},
		{"row 7: cr-lrp without a known peer switch: nothing yet", func(f *nbFx) {
			f.sw("public", "physnet1", 0)
			f.router("r1")
			lrp := &nbdb.LogicalRouterPort{UUID: "lrp-x", Name: "lrp-x", MAC: "fa:16:3e:00:00:01",
				Networks: []string{"172.24.4.100/24"}, Status: map[string]string{"hosting-chassis": "c1"}}
			f.up(lrp)
			f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Ports = []string{"lrp-x"} })
		}, northbound.Identity{}, nil},
		{"row 15: distributed FIP on the VM's chassis with external_mac", func(f *nbFx) {
			nbWorld(f, "c2")
			f.global("true")
			f.vm("private", "vm3", "host1", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "fa:16:3e:00:aa:03", "public")
		}, northbound.Identity{}, []nbWant{{"172.24.4.150/32", plan.KindFIP, "vm3", "br-ex", 0, "fa:16:3e:00:aa:03", "", ""}}},
		{"row 15: distributed FIP: the gateway chassis does not announce it", func(f *nbFx) {
			nbWorld(f, "c2")
			f.global("true")
			f.vm("private", "vm3", "host1", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "fa:16:3e:00:aa:03", "public")
		}, c2, []nbWant{
			{"172.24.4.100/32", plan.KindCRLRP, "lrp-gw-r1", "br-ex", 0, "fa:16:3e:00:00:01", "", ""},
			{"2001:db8:24::100/128", plan.KindCRLRP, "lrp-gw-r1", "br-ex", 0, "fa:16:3e:00:00:01", "", "2001:db8:24::"},
		}},
		{"row 15: fip-distributed=false: FIP centralized on the gateway chassis with the gateway MAC", func(f *nbFx) {
			nbWorld(f, "c1")
			f.global("False")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "fa:16:3e:00:aa:03", "public")
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.150/32", plan.KindFIP, "vm3", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}, crlrp...)},
		{"row 15: fip-distributed=false: the VM's chassis does not announce it", func(f *nbFx) {
			nbWorld(f, "c2")
			f.global("false")
			f.vm("private", "vm3", "host1", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "fa:16:3e:00:aa:03", "public")
		}, northbound.Identity{}, nil},
		{"row 15: FIP without external_mac (not bound yet) is centralized", func(f *nbFx) {
			nbWorld(f, "c1")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "", "public")
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.150/32", plan.KindFIP, "vm3", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}, crlrp...)},
		{"centralized FIP without gateway_port (OVN < 22.12): the router's gateway on the FIP's network", func(f *nbFx) {
			nbWorld(f, "c1")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			n := f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "", "public")
			n.GatewayPort = nil
			f.up(n)
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.150/32", plan.KindFIP, "vm3", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}, crlrp...)},
		{"row 9: FIP of a deleted VM port is not announced anywhere", func(f *nbFx) {
			nbWorld(f, "c1")
			f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm-gone", "fa:16:3e:00:aa:03", "public")
			f.fip("r1", "nat2", "172.24.4.151", "10.0.0.11", "vm-gone2", "", "public")
		}, northbound.Identity{}, crlrp},
		{"tenant host mode: VM IPs behind the local gateway, via the gateway IP", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			down := f.vm("private", "vm4", "host2", mac1+" 10.0.0.11", "10.0.0.11/24")
			down.Up = nbPtr(false)
			f.up(down)
		}, northbound.Identity{}, append([]nbWant{{"10.0.0.10/32", plan.KindTenantPort, "vm3", "br-ex", 0, "", "172.24.4.100", ""}}, crlrp...)},
		{"tenant subnet mode: the subnet via the gateway IP, no per-VM prefix", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			f.cfg.AdvertisementMethodTenantNetworks = "subnet"
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
		}, northbound.Identity{}, append([]nbWant{{"10.0.0.0/24", plan.KindTenantSubnet, "rif-r1-private", "br-ex", 0, "", "172.24.4.100", ""}}, crlrp...)},
		{"tenant networks behind a gateway hosted elsewhere: nothing", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			nbWorld(f, "c2")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.vm("private", "vm3", "host1", mac1+" 10.0.0.10", "10.0.0.10/24")
		}, northbound.Identity{}, nil},
		{"tenant networks not exposed by default", func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
		}, northbound.Identity{}, crlrp},
		{"address_scopes: only subnets whose scope is listed", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			f.cfg.AddressScopes = []string{"scope-a"}
			nbWorld(f, "c1")
			f.sw("other", "", 0)
			f.iface("r1", "private", "10.0.0.1/24", "scope-a")
			f.iface("r1", "other", "10.1.0.1/24", "scope-b")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.vm("other", "vm5", "host2", mac1+" 10.1.0.10", "10.1.0.10/24")
		}, northbound.Identity{}, append([]nbWant{{"10.0.0.10/32", plan.KindTenantPort, "vm3", "br-ex", 0, "", "172.24.4.100", ""}}, crlrp...)},
		{"require_snat_disabled_for_tenant_networks: subnets with SNAT skipped", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			f.cfg.RequireSNATDisabledForTenantNetworks = true
			f.cfg.AdvertisementMethodTenantNetworks = "subnet"
			nbWorld(f, "c1")
			f.sw("other", "", 0)
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.iface("r1", "other", "10.1.0.1/24", "")
			f.nat("r1", &nbdb.NAT{UUID: "snat1", Type: "snat", ExternalIP: "172.24.4.100", LogicalIP: "10.0.0.0/24"})
		}, northbound.Identity{}, append([]nbWant{{"10.1.0.0/24", plan.KindTenantSubnet, "rif-r1-other", "br-ex", 0, "", "172.24.4.100", ""}}, crlrp...)},
		{"expose_ipv6_gua_tenant_networks: only global IPv6 subnets", func(f *nbFx) {
			f.cfg.ExposeIPv6GUATenantNetworks = true
			nbWorld(f, "c1")
			f.sw("doc", "", 0)
			f.sw("private6", "", 0)
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.iface("r1", "private6", "2a00:10::1/64", "")
			f.iface("r1", "doc", "2001:db8:99::1/64", "")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			f.vm("private6", "vm7", "host2", mac1+" 2a00:10::10", "2a00:10::10/64")
			f.vm("doc", "vm6", "host2", mac1+" 2001:db8:99::10", "2001:db8:99::10/64")
		}, northbound.Identity{}, append([]nbWant{{"2a00:10::10/128", plan.KindTenantPort, "vm7", "br-ex", 0, "", "2001:db8:24::100", ""}}, crlrp...)},
		{"row 17: LB VIP on a tenant network announced on the router's gateway chassis", func(f *nbFx) {
			f.cfg.ExposeTenantNetworks = true
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.addPort("private", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
				ExternalIDs: map[string]string{"neutron:cidrs": "10.0.0.100/32", "neutron:device_owner": "Octavia",
					"neutron:port_name": "ovn-lb-vip-lb1"}})
			f.lb("r1", "lb1", map[string]string{"10.0.0.100:80": "10.0.0.10:80", "172.24.4.160:80": "10.0.0.10:80"},
				map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_port_id": "vipport", "neutron:vip_fip": "172.24.4.160"})
		}, northbound.Identity{}, append([]nbWant{
			{"10.0.0.100/32", plan.KindLBVIP, "lb1", "br-ex", 0, "", "172.24.4.100", ""},
			{"172.24.4.160/32", plan.KindLBFIP, "lb1", "br-ex", 0, "fa:16:3e:00:00:01", "", ""},
		}, crlrp...)},
		{"row 17: tenant LB VIP not announced without tenant exposure, its FIP is", func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.addPort("private", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
				ExternalIDs: map[string]string{"neutron:cidrs": "10.0.0.100/32"}})
			f.lb("r1", "lb1", map[string]string{"10.0.0.100:80": "10.0.0.10:80", "172.24.4.160:80": "10.0.0.10:80"},
				map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_port_id": "vipport", "neutron:vip_fip": "172.24.4.160"})
		}, northbound.Identity{}, append([]nbWant{
			{"172.24.4.160/32", plan.KindLBFIP, "lb1", "br-ex", 0, "fa:16:3e:00:00:01", "", ""},
		}, crlrp...)},
		{"LB VIP on a provider network: wired on its bridge, no MAC, without tenant exposure", func(f *nbFx) {
			nbWorld(f, "c1")
			f.addPort("public", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
				ExternalIDs: map[string]string{"neutron:cidrs": "172.24.4.170/32"}})
			f.lb("r1", "lb2", map[string]string{"172.24.4.170:443": "10.0.0.10:443"},
				map[string]string{"neutron:vip": "172.24.4.170", "neutron:vip_port_id": "vipport"})
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.170/32", plan.KindLBVIP, "lb2", "br-ex", 0, "", "", ""}}, crlrp...)},
		{"row 17: LB of a router whose gateway is on another chassis: not on this gateway", func(f *nbFx) {
			nbWorld(f, "c2")
			f.router("r2")
			f.gateway("r2", "public", "c1", "172.24.4.200/24")
			f.addPort("public", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
				ExternalIDs: map[string]string{"neutron:cidrs": "172.24.4.170/32"}})
			f.lb("r1", "lb2", map[string]string{"172.24.4.170:443": "10.0.0.10:443"},
				map[string]string{"neutron:vip": "172.24.4.170", "neutron:vip_port_id": "vipport"})
		}, northbound.Identity{}, []nbWant{{"172.24.4.200/32", plan.KindCRLRP, "lrp-gw-r2", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}},
		{"LB FIP through a NAT on the VIP port", func(f *nbFx) {
			nbWorld(f, "c1")
			f.addPort("private", &nbdb.LogicalSwitchPort{UUID: "vipport", Name: "vipport", Up: nbPtr(false),
				ExternalIDs: map[string]string{"neutron:cidrs": "10.0.0.100/32", "neutron:port_name": "ovn-lb-vip-x"}})
			f.fip("r1", "nat1", "172.24.4.161", "10.0.0.100", "vipport", "", "public")
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.161/32", plan.KindLBFIP, "vipport", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}, crlrp...)},
		{"port forwarding: pf-floatingip-* LB FIP on the gateway chassis", func(f *nbFx) {
			nbWorld(f, "c1")
			f.lb("r1", "pf-floatingip-abc-tcp", map[string]string{"172.24.4.170:2222": "10.0.0.10:22", "172.24.4.170:2223": "10.0.0.11:22"},
				map[string]string{"neutron:router_name": "neutron-r1"})
		}, northbound.Identity{}, append([]nbWant{{"172.24.4.170/32", plan.KindPFFIP, "pf-floatingip-abc-tcp", "br-ex", 0, "fa:16:3e:00:00:01", "", ""}}, crlrp...)},
		{"port forwarding of a router hosted elsewhere: nothing", func(f *nbFx) {
			nbWorld(f, "c2")
			f.lb("r1", "pf-floatingip-abc-tcp", map[string]string{"172.24.4.170:2222": "10.0.0.10:22"},
				map[string]string{"neutron:router_name": "r1"})
		}, northbound.Identity{}, nil},
		{"row 6: switch deleted under a bound port: nothing, no panic", func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "host1", mac1+" 172.24.4.10", "172.24.4.10/24")
			f.del(nbdb.LogicalSwitchTable, "ls-public")
		}, northbound.Identity{}, nil},
		{"row 6: router deleted under its NAT and LB: nothing", func(f *nbFx) {
			nbWorld(f, "c1")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			n := f.fip("r1", "nat1", "172.24.4.150", "10.0.0.10", "vm3", "", "public")
			n.GatewayPort = nil
			f.up(n)
			f.lb("r1", "pf-floatingip-abc-tcp", map[string]string{"172.24.4.170:2222": "10.0.0.10:22"}, nil)
			f.del(nbdb.LogicalRouterTable, "lr-r1")
		}, northbound.Identity{}, crlrp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newNBFx()
			c.build(f)
			st, w := f.planAs(t, c.as)
			require.Empty(t, w)
			nbCheck(t, st, c.want)
		})
	}
}

// TestNBLiveMigrationExactlyOneChassis walks a live migration as Neutron
// writes it (upstream §10.1 row 12) and checks that at every step exactly
// one of the two chassis announces the VM.
func TestNBLiveMigrationExactlyOneChassis(t *testing.T) {
	f := newNBFx()
	nbWorld(f, "c2")
	p := f.vm("public", "vm1", "host1", "fa:16:3e:00:01:10 172.24.4.10", "172.24.4.10/24")
	steps := []struct {
		rc, hostID string
		up         bool
		on         string
	}{
		{"host1", "host1", true, "c1"},
		{"host1,host2", "host1", true, "c1"}, // migration starts: destination added
		{"host1,host2", "host2", true, "c1"}, // neutron:host_id moves early
		{"host2", "host2", false, ""},        // migrated, port not up yet on the destination
		{"host2", "host2", true, "c2"},
	}
	for i, s := range steps {
		p.Options["requested-chassis"], p.ExternalIDs["neutron:host_id"], p.Up = s.rc, s.hostID, nbPtr(s.up)
		f.up(p)
		var on []string
		for _, id := range []northbound.Identity{{}, c2} {
			st, _ := f.planAs(t, id)
			for _, a := range st.Announcements {
				if a.Port == "vm1" {
					if id.ChassisName == "" {
						on = append(on, "c1")
					} else {
						on = append(on, id.ChassisName)
					}
				}
			}
		}
		want := []string{s.on}
		if s.on == "" {
			want = nil
		}
		require.Equal(t, want, on, "step %d %+v", i, s)
	}
}

// TestNBBridgesAndFlows checks the chassis-wide wiring: bridges in mapping
// order with the VLAN tags of the northbound localnet ports, and the
// MAC-rewrite flows of the patch ports whose ofport is known.
func TestNBBridgesAndFlows(t *testing.T) {
	f := newNBFx()
	nbWorld(f, "c2")
	f.sw("vlan200", "physnet2", 200)
	f.up(&vswitch.Bridge{UUID: "b1", Name: "br-ex", Ports: []string{"p1", "p2"}})
	f.up(&vswitch.Port{UUID: "p1", Name: "br-ex"})
	f.up(&vswitch.Port{UUID: "p2", Name: "patch-provnet-public-to-br-int"})
	f.up(&vswitch.Interface{UUID: "i1", Name: "br-ex", MACInUse: nbPtr("aa:bb:cc:00:00:01")})
	f.up(&vswitch.Interface{UUID: "i2", Name: "patch-provnet-public-to-br-int", Ofport: nbPtr(7)})
	st, _ := f.planAs(t, northbound.Identity{})
	require.Equal(t, []plan.BridgeWiring{
		{Bridge: "br-ex", Physnet: "physnet1", Index: 1},
		{Bridge: "br-vlan", Physnet: "physnet2", Index: 2, VLANs: []int{100, 200}},
	}, st.Wiring.Bridges)
	require.Equal(t, []plan.Flow{{Bridge: "br-ex", Port: "patch-provnet-public-to-br-int", OFPort: 7, DstMAC: "aa:bb:cc:00:00:01"}},
		st.Wiring.Flows)
}

func TestNBMalformedMappingsWarnOnce(t *testing.T) {
	f := newNBFx()
	f.up(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "hostname": "host1", "ovn-bridge-mappings": "physnet1:br-ex,bogus"}})
	nbWorld(f, "c2")
	f.vm("public", "vm1", "host1", "fa:16:3e:00:01:10 172.24.4.10", "172.24.4.10/24")
	f.t.RLock()
	defer f.t.RUnlock()
	d := northbound.New(f.cfg, f.t, northbound.Identity{})
	st, w := plan.Full(d, "c1")
	require.Len(t, w, 1)
	require.Equal(t, "bridge-mappings", w[0].Reason)
	require.Len(t, st.Announcements, 1)
	require.False(t, d.Reset(), "same context")
	require.Empty(t, d.Warnings())
}

// TestNBResetContext: Reset reports a change of the chassis-wide context
// (fip-distributed, identity, mappings, options) and nothing else: NB_Global
// liveness churn is not a change (upstream §10.1 row 28).
func TestNBResetContext(t *testing.T) {
	f := newNBFx()
	nbWorld(f, "c1")
	d := northbound.New(f.cfg, f.t, northbound.Identity{})
	reset := func() bool {
		f.t.RLock()
		defer f.t.RUnlock()
		return d.Reset()
	}
	require.True(t, reset(), "first call")
	require.False(t, reset())
	f.up(&nbdb.NBGlobal{UUID: "nbg", ExternalIDs: map[string]string{"neutron:liveness_check_at": "2026-01-01"}})
	require.False(t, reset(), "liveness churn")
	f.global("true")
	require.False(t, reset(), "explicit true is the default")
	f.global("False")
	require.True(t, reset(), "distributed -> centralized")
	f.cfg.AdvertisementMethodTenantNetworks = "subnet"
	require.True(t, reset(), "option changed")
	f.up(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "hostname": "host1b", "ovn-bridge-mappings": "physnet1:br-ex,physnet2:br-vlan"}})
	require.True(t, reset(), "hostname changed")
}
