package southbound_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
)

// iface attaches tenant switch sw to router datapath r: the router port
// "lrp-if-<sw>" (networks) and the switch-side port "rif-<sw>" carrying the
// subnet pool address scopes, as northd copies them from Neutron.
func (f *fixture) iface(r, sw, scope4, scope6 string, networks ...string) {
	mac := "fa:16:3e:00:10:01"
	for _, n := range networks {
		mac += " " + n
	}
	lrp := f.pb("lrp-if-"+sw, "patch", r, "", mac)
	lrp.Options["peer"] = "rif-" + sw
	rif := f.pb("rif-"+sw, "patch", sw, "")
	rif.Options["peer"] = "lrp-if-" + sw
	if scope4 != "" {
		rif.ExternalIDs["neutron:subnet_pool_addr_scope4"] = scope4
	}
	if scope6 != "" {
		rif.ExternalIDs["neutron:subnet_pool_addr_scope6"] = scope6
	}
}

// tenantWorld: provider pub (physnet1 flat), router r with its gateway on
// pub (cr-lrp on gwHost, IPv4 and IPv6) and tenant network t1 attached.
func tenantWorld(f *fixture, gwHost string) {
	f.localnet("pub", "physnet1", 0)
	f.router("pub", gwHost, "172.24.4.100/24", "2001:db8:24::100/64")
	f.iface("r", "t1", "scope-a", "scope-b", "10.0.1.1/24", "2a01:4f8:1::1/64", "fd00:1::1/64")
}

func (f *fixture) planWith(t *testing.T, cfg *config.Config) (*plan.State, []plan.Warning) {
	t.Helper()
	f.settle()
	f.t.RLock()
	defer f.t.RUnlock()
	return plan.Full(southbound.New(cfg, f.t, "c1"), "c1")
}

// wantVia is a want with a next hop.
type wantVia struct {
	want
	via string
}

func checkVia(t *testing.T, st *plan.State, wants []wantVia) {
	t.Helper()
	var plain []want
	for _, w := range wants {
		plain = append(plain, w.want)
	}
	check(t, st, plain)
	for _, w := range wants {
		for _, e := range st.Wiring.Exposures {
			if e.Prefix.String() == w.prefix {
				via := ""
				if e.Via.IsValid() {
					via = e.Via.String()
				}
				require.Equal(t, w.via, via, w.prefix)
			}
		}
	}
}

var crlrpWants = []wantVia{
	{want{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil}, ""},
	{want{"2001:db8:24::100/128", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", []string{"2001:db8:24::"}}, ""},
}

func withCRLRP(w ...wantVia) []wantVia { return append(append([]wantVia{}, crlrpWants...), w...) }

func tp(prefix, port, via string) wantVia {
	return wantVia{want{prefix, plan.KindTenantPort, port, "br-ex", 0, "", nil}, via}
}

func TestSBTenantNetworks(t *testing.T) {
	tenant := func(c *config.Config) { c.ExposeTenantNetworks = true }
	cases := []struct {
		name  string
		cfg   func(*config.Config)
		build func(f *fixture)
		want  []wantVia
	}{
		{"expose_tenant_networks off: only the gateway", func(*config.Config) {}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, crlrpWants},
		{"expose_tenant_networks, host: tenant VM IPs via the cr-lrp IP of their family", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 2a01:4f8:1::10")
		}, withCRLRP(tp("10.0.1.10/32", "vm1", "172.24.4.100"), tp("2a01:4f8:1::10/128", "vm1", "2001:db8:24::100"))},
		{"expose_tenant_networks: the VM's own chassis does not matter, the gateway's does", tenant, func(f *fixture) {
			tenantWorld(f, "c2")
			f.pb("vm1", "", "t1", "c1", "fa:16:3e:00:01:10 10.0.1.10")
		}, nil},
		{"expose_tenant_networks: an unbound or down tenant VM is not announced", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "", "fa:16:3e:00:01:10 10.0.1.10")
			f.pb("vm2", "", "t1", "c2", "fa:16:3e:00:01:11 10.0.1.11").Up = ptr(false)
		}, crlrpWants},
		{"expose_tenant_networks: config-drive tenant VM takes its IPs from neutron:cidrs (upstream 10.1 row 14)", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm3", "", "t1", "c2", "unknown").ExternalIDs["neutron:cidrs"] = "10.0.1.30/24"
		}, withCRLRP(tp("10.0.1.30/32", "vm3", "172.24.4.100"))},
		{"expose_tenant_networks: virtual port on a tenant network", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vip", "virtual", "t1", "c2", "fa:16:3e:00:01:20 10.0.1.20")
		}, withCRLRP(tp("10.0.1.20/32", "vip", "172.24.4.100"))},
		{"advertisement_method_tenant_networks=subnet: the subnets, not the VMs", func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.AdvertisementMethodTenantNetworks = "subnet"
		}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, withCRLRP(
			wantVia{want{"10.0.1.0/24", plan.KindTenantSubnet, "lrp-if-t1", "br-ex", 0, "", nil}, "172.24.4.100"},
			wantVia{want{"2a01:4f8:1::/64", plan.KindTenantSubnet, "lrp-if-t1", "br-ex", 0, "", nil}, "2001:db8:24::100"},
			wantVia{want{"fd00:1::/64", plan.KindTenantSubnet, "lrp-if-t1", "br-ex", 0, "", nil}, "2001:db8:24::100"},
		)},
		{"expose_ipv6_gua_tenant_networks only: global IPv6 only (not ULA, not IPv4)", func(c *config.Config) {
			c.ExposeIPv6GUATenantNetworks = true
		}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 2a01:4f8:1::10 fd00:1::10")
		}, withCRLRP(tp("2a01:4f8:1::10/128", "vm1", "2001:db8:24::100"))},
		{"expose_ipv6_gua_tenant_networks with subnet advertisement", func(c *config.Config) {
			c.ExposeIPv6GUATenantNetworks = true
			c.AdvertisementMethodTenantNetworks = "subnet"
		}, func(f *fixture) {
			tenantWorld(f, "c1")
		}, withCRLRP(wantVia{want{"2a01:4f8:1::/64", plan.KindTenantSubnet, "lrp-if-t1", "br-ex", 0, "", nil}, "2001:db8:24::100"})},
		{"expose_tenant_networks takes precedence over the GUA filter", func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.ExposeIPv6GUATenantNetworks = true
		}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 fd00:1::10")
		}, withCRLRP(tp("10.0.1.10/32", "vm1", "172.24.4.100"), tp("fd00:1::10/128", "vm1", "2001:db8:24::100"))},
		{"address_scopes: only the family whose subnet pool scope is listed", func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.AddressScopes = []string{"scope-a"}
		}, func(f *fixture) {
			tenantWorld(f, "c1") // scope4 = scope-a, scope6 = scope-b
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 2a01:4f8:1::10")
		}, withCRLRP(tp("10.0.1.10/32", "vm1", "172.24.4.100"))},
		{"address_scopes: a network without scope is not exposed", func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.AddressScopes = []string{"scope-a"}
		}, func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24", "2001:db8:24::100/64")
			f.iface("r", "t1", "", "", "10.0.1.1/24")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, crlrpWants},
		{"require_snat_disabled_for_tenant_networks is NB-only (SNAT rules are not in the SB): ignored", func(c *config.Config) {
			c.ExposeTenantNetworks = true
			c.RequireSNATDisabledForTenantNetworks = true
		}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, withCRLRP(tp("10.0.1.10/32", "vm1", "172.24.4.100"))},
		{"gateway without IPv6: IPv6 tenant addresses have no next hop and are skipped", tenant, func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24")
			f.iface("r", "t1", "", "", "10.0.1.1/24", "2a01:4f8:1::1/64")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 2a01:4f8:1::10")
		}, []wantVia{
			{want{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw", "br-ex", 0, "fa:16:3e:00:00:01", nil}, ""},
			tp("10.0.1.10/32", "vm1", "172.24.4.100"),
		}},
		{"OVN LB VIP port on a tenant network (ovn-octavia: no mac, no chassis, IP in neutron:cidrs)", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			p := f.pb("ovn-lb-vip-1234", "", "t1", "")
			p.ExternalIDs["neutron:cidrs"] = "10.0.1.200/32"
			p.Up = ptr(false)
		}, withCRLRP(wantVia{want{"10.0.1.200/32", plan.KindLBVIP, "ovn-lb-vip-1234", "br-ex", 0, "", nil}, "172.24.4.100"})},
		{"upstream 10.1 row 7: router interface without options:peer yet", tenant, func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24", "2001:db8:24::100/64")
			f.pb("lrp-if-t1", "patch", "r", "", "fa:16:3e:00:10:01 10.0.1.1/24")
			f.pb("rif-t1", "patch", "t1", "") // its peer option not set either
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, crlrpWants},
		{"upstream 10.1 row 6: tenant switch's router port already deleted", tenant, func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.router("pub", "c1", "172.24.4.100/24", "2001:db8:24::100/64")
			f.pb("rif-t1", "patch", "t1", "").Options["peer"] = "lrp-if-t1"
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		}, crlrpWants},
		{"a tenant switch that is a provider network here: its VMs are provider ports", tenant, func(f *fixture) {
			tenantWorld(f, "c1")
			f.localnet("t1", "physnet1", 0)
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
			f.pb("vm2", "", "t1", "c1", "fa:16:3e:00:01:11 10.0.1.11")
		}, withCRLRP(wantVia{want{"10.0.1.11/32", plan.KindProviderPort, "vm2", "br-ex", 0, "", nil}, ""})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture("physnet1:br-ex")
			c.build(f)
			cfg := config.Default()
			c.cfg(cfg)
			st, warnings := f.planWith(t, cfg)
			require.Empty(t, warnings)
			checkVia(t, st, c.want)
		})
	}
}

// lb adds a Load_Balancer.
func (f *fixture) lb(name string, vips map[string]string, mod func(*sbdb.LoadBalancer)) {
	lb := &sbdb.LoadBalancer{UUID: "lb-" + name, Name: name, Vips: vips, ExternalIDs: map[string]string{}}
	if mod != nil {
		mod(lb)
	}
	f.t.Upsert(lb)
}

func (f *fixture) group(uuid string, dps ...string) {
	g := &sbdb.LogicalDPGroup{UUID: uuid}
	for _, dp := range dps {
		g.Datapaths = append(g.Datapaths, "dp-"+dp)
	}
	f.t.Upsert(g)
}

func TestSBLoadBalancers(t *testing.T) {
	vips := map[string]string{"172.24.4.200:80": "10.0.1.10:8080", "10.0.1.200:80": "10.0.1.10:8080"}
	provVIP := wantVia{want{"172.24.4.200/32", plan.KindLBVIP, "lb1", "br-ex", 0, "", nil}, ""}
	tenantVIP := wantVia{want{"10.0.1.200/32", plan.KindLBVIP, "lb1", "br-ex", 0, "", nil}, "172.24.4.100"}
	cases := []struct {
		name   string
		tenant bool
		build  func(f *fixture)
		want   []wantVia
	}{
		{"upstream 10.1 row 16: LB on its switch through the old datapaths column", false, func(f *fixture) {
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.Datapaths = []string{"dp-t1"} })
		}, withCRLRP(provVIP)},
		{"upstream 10.1 row 16: through datapath_group (OVN 22.x)", false, func(f *fixture) {
			f.group("g1", "t1")
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.DatapathGroup = ptr("g1") })
		}, withCRLRP(provVIP)},
		{"upstream 10.1 row 16: through ls_datapath_group (OVN 23.09+)", false, func(f *fixture) {
			f.group("g1", "t1")
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.LSDatapathGroup = ptr("g1") })
		}, withCRLRP(provVIP)},
		{"upstream 10.1 row 16: only a lr_datapath_group naming the router", false, func(f *fixture) {
			f.group("g2", "r")
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.LRDatapathGroup = ptr("g2") })
		}, withCRLRP(provVIP)},
		{"upstream 10.1 row 16: the group row is not there (yet)", false, func(f *fixture) {
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.LSDatapathGroup = ptr("g-missing") })
		}, crlrpWants},
		{"tenant VIP with expose_tenant_networks: routed via the cr-lrp", true, func(f *fixture) {
			f.lb("lb1", vips, func(lb *sbdb.LoadBalancer) { lb.Datapaths = []string{"dp-t1"} })
		}, withCRLRP(provVIP, tenantVIP)},
		{"upstream 10.1 row 17: VIP of a router whose gateway is elsewhere is not announced here", true, func(f *fixture) {
			// Router r2 (gateway on c2) with network t2; the LB is on t2.
			gw := f.pb("gw2", "patch", "pub", "")
			gw.Options["peer"] = "lrp-gw2"
			f.pb("lrp-gw2", "patch", "r2", "", "fa:16:3e:00:00:02 172.24.4.101/24").Options["peer"] = "gw2"
			f.pb("cr-lrp-gw2", "chassisredirect", "r2", "c2", "fa:16:3e:00:00:02 172.24.4.101/24")
			f.iface("r2", "t2", "", "", "10.0.2.1/24")
			f.lb("lb1", map[string]string{"172.24.4.210:80": "10.0.2.10:80", "10.0.2.200:80": "10.0.2.10:80"},
				func(lb *sbdb.LoadBalancer) { lb.Datapaths = []string{"dp-t2"} })
		}, crlrpWants},
		{"LB FIP (ovn-octavia adds the FIP as a VIP and records neutron:vip_fip)", false, func(f *fixture) {
			f.lb("lb1", map[string]string{"10.0.1.200:80": "10.0.1.10:80", "172.24.4.201:80": "10.0.1.10:80"},
				func(lb *sbdb.LoadBalancer) {
					lb.Datapaths = []string{"dp-t1"}
					lb.ExternalIDs["neutron:vip"] = "10.0.1.200"
					lb.ExternalIDs["neutron:vip_fip"] = "172.24.4.201"
				})
		}, withCRLRP(wantVia{want{"172.24.4.201/32", plan.KindLBFIP, "lb1", "br-ex", 0, "", nil}, ""})},
		{"port-forwarding FIP (LB pf-floatingip-* on the router)", false, func(f *fixture) {
			f.group("g2", "r")
			f.lb("pf-floatingip-abc-tcp", map[string]string{"172.24.4.202:2222": "10.0.1.10:22"},
				func(lb *sbdb.LoadBalancer) { lb.LRDatapathGroup = ptr("g2") })
		}, withCRLRP(wantVia{want{"172.24.4.202/32", plan.KindPFFIP, "pf-floatingip-abc-tcp", "br-ex", 0, "", nil}, ""})},
		{"IPv6 VIP", false, func(f *fixture) {
			f.lb("lb1", map[string]string{"[2001:db8:24::200]:80": "[2a01:4f8:1::10]:80"},
				func(lb *sbdb.LoadBalancer) { lb.Datapaths = []string{"dp-t1"} })
		}, withCRLRP(wantVia{want{"2001:db8:24::200/128", plan.KindLBVIP, "lb1", "br-ex", 0, "", nil}, ""})},
		{"LB whose VIP is also a centralized FIP in nat_addresses: one announcement, the FIP kind wins", false, func(f *fixture) {
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:00:01 172.24.4.201 is_chassis_resident("cr-lrp-gw")`}
			f.t.Upsert(gw)
			f.lb("lb1", map[string]string{"172.24.4.201:80": "10.0.1.10:80"}, func(lb *sbdb.LoadBalancer) {
				lb.Datapaths = []string{"dp-t1"}
				lb.ExternalIDs["neutron:vip_fip"] = "172.24.4.201"
			})
		}, withCRLRP(wantVia{want{"172.24.4.201/32", plan.KindFIP, "cr-lrp-gw", "br-ex", 0, "", nil}, ""})},
		{"nat-addresses=router lists the router's LB VIPs: the tenant VIP is not a FIP, the LB announces it", true, func(f *fixture) {
			gw := f.t.PortBinding("gw")
			gw.NatAddresses = []string{`fa:16:3e:00:00:01 172.24.4.100 172.24.4.202 10.0.1.200 is_chassis_resident("cr-lrp-gw")`}
			f.t.Upsert(gw)
			f.lb("lb1", map[string]string{"10.0.1.200:80": "10.0.1.10:80"}, func(lb *sbdb.LoadBalancer) {
				lb.Datapaths = []string{"dp-t1", "dp-r"}
			})
		}, withCRLRP(
			wantVia{want{"172.24.4.202/32", plan.KindFIP, "cr-lrp-gw", "br-ex", 0, "", nil}, ""},
			wantVia{want{"10.0.1.200/32", plan.KindLBVIP, "lb1", "br-ex", 0, "", nil}, "172.24.4.100"},
		)},
		{"LB applied nowhere", true, func(f *fixture) {
			f.lb("lb1", vips, nil)
		}, crlrpWants},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture("physnet1:br-ex")
			tenantWorld(f, "c1")
			c.build(f)
			cfg := config.Default()
			cfg.ExposeTenantNetworks = c.tenant
			st, warnings := f.planWith(t, cfg)
			require.Empty(t, warnings)
			checkVia(t, st, c.want)
		})
	}
}

func TestSBLoadBalancerBadVIP(t *testing.T) {
	f := newFixture("physnet1:br-ex")
	tenantWorld(f, "c1")
	f.lb("lb1", map[string]string{"garbage": "", "172.24.4.200:80": "10.0.1.10:80", "1.2.3.999:80": ""},
		func(lb *sbdb.LoadBalancer) { lb.Datapaths = []string{"dp-t1"} })
	st, warnings := f.planWith(t, config.Default())
	checkVia(t, st, withCRLRP(wantVia{want{"172.24.4.200/32", plan.KindLBVIP, "lb1", "br-ex", 0, "", nil}, ""}))
	require.Len(t, warnings, 2)
	for _, w := range warnings {
		require.Equal(t, "bad-vip", w.Reason)
	}
}

func TestSBNeededDatapaths(t *testing.T) {
	f := newFixture("physnet1:br-ex")
	tenantWorld(f, "c1")
	f.iface("r", "t2", "", "", "10.0.2.1/24")
	// Another router, gateway elsewhere.
	f.pb("lrp-gw2", "patch", "r2", "", "fa:16:3e:00:00:02 172.24.4.101/24")
	f.pb("cr-lrp-gw2", "chassisredirect", "r2", "c2", "fa:16:3e:00:00:02 172.24.4.101/24")
	f.iface("r2", "t3", "", "", "10.0.3.1/24")
	needed := func(cfg *config.Config) []string {
		f.t.RLock()
		defer f.t.RUnlock()
		d := southbound.New(cfg, f.t, "c1")
		d.Reset()
		return d.NeededDatapaths()
	}
	cfg := config.Default()
	require.Empty(t, needed(cfg), "no tenant exposure: nothing extra")
	cfg.ExposeTenantNetworks = true
	require.Equal(t, []string{"dp-t1", "dp-t2"}, needed(cfg))
	// The gateway moves away.
	cr := f.t.PortBinding("cr-lrp-gw")
	cr.Chassis = ptr("ch-c2")
	f.t.Upsert(cr)
	require.Empty(t, needed(cfg))
}

func TestIsGlobal6(t *testing.T) {
	for s, want := range map[string]bool{
		"2a01:4f8::1": true, "2600::1": true, "fd00::1": false, "fe80::1": false, "2001:db8::1": false,
		"::1": false, "10.0.0.1": false, "ff02::1": false, "2001:4860::8888": true, "2002:c000:204::1": false,
	} {
		require.Equal(t, want, plan.IsGlobal6(mustAddr(s)), s)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
