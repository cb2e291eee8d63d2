package northbound_test

import (
	"net/netip"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/plan/plantest"
)

func TestNBGuardRefusesHostilePrefixes(t *testing.T) {
	const mac1 = "fa:16:3e:00:01:10"
	nbGW := []string{"172.24.4.100/32", "2001:db8:24::100/128"}
	withGW := func(extra ...string) []string { return append(append([]string{}, nbGW...), extra...) }
	// ifaces attaches one tenant switch per cidr to r1.
	ifaces := func(f *nbFx, cidrs ...string) {
		for i, c := range cidrs {
			sw := "t" + string(rune('a'+i))
			f.sw(sw, "", 0)
			f.iface("r1", sw, c, "")
		}
	}
	cases := []struct {
		name      string
		cfg       func(*config.Config)
		protected plan.Protected
		build     func(f *nbFx)
		want      []string
		warn      []string
	}{
		{"subnet mode: 0.0.0.0/1 + 128.0.0.0/1, 127.0.0.0/8, 169.254.0.0/16 refused, the healthy subnet served", tenantSubnet, plan.Protected{}, func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			ifaces(f, "0.0.0.1/1", "128.0.0.1/1", "127.0.0.1/8", "169.254.0.1/16", "10.0.0.1/7")
		}, withGW("10.0.0.0/24"), []string{"rif-r1-ta special-prefix", "rif-r1-tb special-prefix", "rif-r1-tc special-prefix",
			"rif-r1-td special-prefix", "rif-r1-te short-prefix"}},
		{"host mode: VM addresses 0.0.0.0, 224.0.0.5, 169.254.169.254 refused", tenantHost, plan.Protected{}, func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			f.vm("private", "vm3", "host2", mac1+" 10.0.0.10", "10.0.0.10/24")
			ifaces(f, "0.0.0.1/1", "224.0.0.1/4", "169.254.0.1/16")
			f.vm("ta", "vm-a", "host2", mac1+" 0.0.0.0", "0.0.0.0/1")
			f.vm("tb", "vm-b", "host2", mac1+" 224.0.0.5", "224.0.0.5/4")
			f.vm("tc", "vm-c", "host2", mac1+" 169.254.169.254", "169.254.169.254/16")
		}, withGW("10.0.0.10/32"), []string{"vm-a special-prefix", "vm-b special-prefix", "vm-c special-prefix"}},
		{"expose_ipv6_gua_tenant_networks: 2000::/3 and 2a00::/12 refused", func(c *config.Config) {
			c.ExposeIPv6GUATenantNetworks = true
			c.AdvertisementMethodTenantNetworks = "subnet"
		}, plan.Protected{}, func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "2a00:10::1/64", "")
			ifaces(f, "2000::1/3", "2a00::1/12")
		}, withGW("2a00:10::/64"), []string{"rif-r1-ta special-prefix", "rif-r1-tb short-prefix"}},
		{"a tenant subnet over the host's connected network or containing its peer is refused", tenantSubnet, plan.Protected{
			Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")},
			Nets:  []netip.Prefix{netip.MustParsePrefix("192.168.50.0/24")},
		}, func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			ifaces(f, "192.168.0.1/16", "10.9.0.100/24")
		}, withGW("10.0.0.0/24"), []string{"rif-r1-ta protected-prefix", "rif-r1-tb protected-prefix"}},
		{"tenant_networks_allowed_prefixes: only inside the list", func(c *config.Config) {
			tenantSubnet(c)
			c.OVNBGP.TenantAllowedPrefixes = []string{"10.0.0.0/16"}
		}, plan.Protected{}, func(f *nbFx) {
			nbWorld(f, "c1")
			f.iface("r1", "private", "10.0.0.1/24", "")
			ifaces(f, "10.1.0.1/24")
		}, withGW("10.0.0.0/24"), []string{"rif-r1-ta prefix-not-allowed"}},
		{"provider port: the connected provider network is served, link-local, multicast and the peer are not", func(*config.Config) {}, plan.Protected{
			Addrs: []netip.Addr{netip.MustParseAddr("172.24.4.1")},
			Nets:  []netip.Prefix{netip.MustParsePrefix("172.24.4.0/24")},
		}, func(f *nbFx) {
			nbWorld(f, "c2")
			f.vm("public", "vm1", "host1", mac1+" 172.24.4.10 169.254.169.254 224.0.0.5 172.24.4.1", "172.24.4.10/24")
		}, []string{"172.24.4.10/32"}, []string{"vm1 protected-prefix", "vm1 special-prefix", "vm1 special-prefix"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newNBFx()
			tc.cfg(f.cfg)
			tc.build(f)
			f.t.RLock()
			defer f.t.RUnlock()
			plantest.CheckGuard(t, northbound.New(f.cfg, f.t, northbound.Identity{}), tc.protected, tc.want, tc.warn)
		})
	}
}

func TestNBRefusesBadVLANTags(t *testing.T) {
	for _, tag := range []int{4095, 4096, 4196, -1} {
		f := newNBFx()
		f.sw("bad", "physnet2", tag)
		f.vm("bad", "vm-bad", "host1", "fa:16:3e:00:01:10 172.24.5.10", "172.24.5.10/24")
		f.sw("good", "physnet2", 100)
		f.vm("good", "vm-good", "host1", "fa:16:3e:00:01:11 172.24.6.10", "172.24.6.10/24")
		st, ws := f.planAs(t, northbound.Identity{})
		plantest.CheckVLANRefused(t, st, ws, tag)
	}
}

var tenantSubnet = func(c *config.Config) {
	c.ExposeTenantNetworks = true
	c.AdvertisementMethodTenantNetworks = "subnet"
}

var tenantHost = func(c *config.Config) { c.ExposeTenantNetworks = true }
