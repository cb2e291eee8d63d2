package southbound_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/plantest"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
)

// guardCase is one hostile topology: what is announced, and the warnings
// ("row reason") the refused prefixes give.
type guardCase struct {
	name      string
	cfg       func(*config.Config)
	protected plan.Protected
	build     func(f *fixture)
	want      []string // announced prefixes
	warn      []string // "row reason" of each warning
}

var (
	tenantHost   = func(c *config.Config) { c.ExposeTenantNetworks = true }
	tenantSubnet = func(c *config.Config) {
		c.ExposeTenantNetworks = true
		c.AdvertisementMethodTenantNetworks = "subnet"
	}
	gwPrefixes = []string{"172.24.4.100/32", "2001:db8:24::100/128"}
)

func with(extra ...string) []string { return append(slices.Clone(gwPrefixes), extra...) }

func TestSBGuardRefusesHostilePrefixes(t *testing.T) {
	cases := []guardCase{
		{"subnet mode: 0.0.0.0/1 + 128.0.0.0/1, 127.0.0.0/8, 169.254.0.0/16 refused, the healthy subnet served", tenantSubnet, plan.Protected{}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.iface("r", "t2", "", "", "0.0.0.1/1", "128.0.0.1/1")
			f.iface("r", "t3", "", "", "127.0.0.1/8")
			f.iface("r", "t4", "", "", "169.254.0.1/16")
		}, with("10.0.1.0/24", "2a01:4f8:1::/64", "fd00:1::/64"), []string{
			"lrp-if-t2 special-prefix", "lrp-if-t2 special-prefix", "lrp-if-t3 special-prefix", "lrp-if-t4 special-prefix"}},
		{"subnet mode: a /7 is shorter than the default /8", tenantSubnet, plan.Protected{}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.iface("r", "t2", "", "", "10.0.0.1/7")
		}, with("10.0.1.0/24", "2a01:4f8:1::/64", "fd00:1::/64"), []string{"lrp-if-t2 short-prefix"}},
		{"host mode: VM addresses 0.0.0.0, 224.0.0.5, 169.254.169.254, ::1, fe80::5 refused", tenantHost, plan.Protected{}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10 0.0.0.0 224.0.0.5 169.254.169.254 ::1 fe80::5")
		}, with("10.0.1.10/32"), []string{"vm1 special-prefix", "vm1 special-prefix", "vm1 special-prefix", "vm1 special-prefix", "vm1 special-prefix"}},
		{"expose_ipv6_gua_tenant_networks: 2000::/3 (it covers 2001::/23) and 2a00::/12 (shorter than /32) are refused", func(c *config.Config) {
			c.ExposeIPv6GUATenantNetworks = true
			c.AdvertisementMethodTenantNetworks = "subnet"
		}, plan.Protected{}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.iface("r", "t2", "", "", "2000::1/3")
			f.iface("r", "t3", "", "", "2a00::1/12")
		}, with("2a01:4f8:1::/64"), []string{"lrp-if-t2 special-prefix", "lrp-if-t3 short-prefix"}},
		{"a tenant subnet over the host's connected network or containing its peer is refused", tenantSubnet, plan.Protected{
			Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")},
			Nets:  []netip.Prefix{netip.MustParsePrefix("192.168.50.0/24")},
		}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.iface("r", "t2", "", "", "192.168.0.1/16")
			f.iface("r", "t3", "", "", "10.9.0.100/24")
		}, with("10.0.1.0/24", "2a01:4f8:1::/64", "fd00:1::/64"), []string{"lrp-if-t2 protected-prefix", "lrp-if-t3 protected-prefix"}},
		{"tenant_networks_allowed_prefixes: only inside the list", func(c *config.Config) {
			tenantSubnet(c)
			c.OVNBGP.TenantAllowedPrefixes = []string{"10.0.0.0/16", "2a01:4f8::/32"}
		}, plan.Protected{}, func(f *fixture) {
			tenantWorld(f, "c1")
			f.iface("r", "t2", "", "", "10.1.0.1/24")
		}, with("10.0.1.0/24", "2a01:4f8:1::/64"), []string{"lrp-if-t2 prefix-not-allowed", "lrp-if-t1 prefix-not-allowed"}},
		{"provider port: private addresses and the host's connected network are served, link-local, multicast and the peer are not", func(*config.Config) {}, plan.Protected{
			Addrs: []netip.Addr{netip.MustParseAddr("172.24.4.1")},
			Nets:  []netip.Prefix{netip.MustParsePrefix("172.24.4.0/24")},
		}, func(f *fixture) {
			f.localnet("pub", "physnet1", 0)
			f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10 10.5.0.10 169.254.169.254 224.0.0.5 172.24.4.1 fd53:d91e:400:7f17::1:1")
		}, []string{"10.5.0.10/32", "172.24.4.10/32"}, []string{"vm1 protected-prefix", "vm1 special-prefix", "vm1 special-prefix", "vm1 special-prefix"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture("physnet1:br-ex")
			tc.build(f)
			cfg := config.Default()
			tc.cfg(cfg)
			f.settle()
			f.t.RLock()
			defer f.t.RUnlock()
			tc.check(t, southbound.New(cfg, f.t, "c1"))
		})
	}
}

func TestSBRefusesBadVLANTags(t *testing.T) {
	for _, tag := range []int{4095, 4096, 4196, -1} {
		f := newFixture("physnet1:br-ex,physnet2:br-vlan")
		f.localnet("bad", "physnet2", tag)
		f.pb("vm-bad", "", "bad", "c1", "fa:16:3e:00:01:10 172.24.5.10")
		f.localnet("good", "physnet2", 100)
		f.pb("vm-good", "", "good", "c1", "fa:16:3e:00:01:11 172.24.6.10")
		st, ws := f.plan(t)
		plantest.CheckVLANRefused(t, st, ws, tag)
	}
}

// check plans d fully with the case's protected facts and compares.
func (tc guardCase) check(t *testing.T, d plantest.GuardedDriver) {
	t.Helper()
	plantest.CheckGuard(t, d, tc.protected, tc.want, tc.warn)
}
