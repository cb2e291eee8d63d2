package southbound_test

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// FuzzSBMalformedRows feeds arbitrary mac, nat_addresses, neutron:cidrs,
// bridge-mapping, router-port networks, cr-lrp mac, LB vips, peer and
// address-scope strings: the planner warns, never panics, the healthy
// ports beside them are still planned, and the incremental planner agrees
// with the full one while the bad rows come and go.
func FuzzSBMalformedRows(f *testing.F) {
	f.Add("fa:16:3e:00:01:10 172.24.4.999", `x 1.2.3.4 is_chassis_resident("vm`, "10.0.0.300/24", "physnet1:br-ex,::,",
		"fa:16:3e 10.0.1.1/33", "fa:16:3e:00:00:09 172.24.4.100/24 zz", "1.2.3.4:99999", "lrp-if-t1", "scope-a")
	f.Add("unknown", "", "2001:db8::/129 garbage", ":", "", "", "[::1]:80", "", "")
	f.Add("", `fa:16:3e:00:00:01 172.24.4.100 is_chassis_resident("")`, "", "physnet1:br-ex", "x", "x", "", "gw", "")
	f.Add("fa:16:3e:00:01:10 ::ffff:1.2.3.4 fe80::1%eth0", `is_chassis_resident(")")`, " ", "physnet1:br-ex:extra",
		"fa:16:3e:00:10:01 2a01:4f8:1::1/64", "fa:16:3e:00:00:09 2001:db8:24::9/64", "[2001:db8:24::5]:443", "rif-t1", "\x00")
	f.Fuzz(func(t *testing.T, mac, nat, cidrs, mappings, lrpNets, crMAC, vip, peer, scope string) {
		fx := newFixture("physnet1:br-ex," + mappings)
		tenantWorld(fx, "c1")
		fx.pb("good", "", "pub", "c1", "fa:16:3e:00:01:11 172.24.4.11")
		fx.pb("goodtenant", "", "t1", "c2", "fa:16:3e:00:01:12 10.0.1.12")
		bad := fx.pb("bad", "", "pub", "c1", mac)
		bad.ExternalIDs["neutron:cidrs"] = cidrs
		badT := fx.pb("badtenant", "virtual", "t1", "c2", mac)
		badT.ExternalIDs["neutron:cidrs"] = cidrs
		gw := fx.t.PortBinding("gw")
		gw.NatAddresses = []string{nat}
		fx.t.Upsert(gw)
		// A second router with fuzzed gateway and interface.
		fx.pb("lrp-gw2", "patch", "r2", "", crMAC).Options["peer"] = "gw2"
		fx.pb("gw2", "patch", "pub", "").Options["peer"] = peer
		fx.pb("cr-lrp-gw2", "chassisredirect", "r2", "c1", crMAC)
		lrp := fx.pb("lrp-if-t2", "patch", "r2", "", lrpNets)
		lrp.Options["peer"] = peer
		rif := fx.pb("rif-t2", "patch", "t2", "")
		rif.Options["peer"] = "lrp-if-t2"
		rif.ExternalIDs["neutron:subnet_pool_addr_scope4"] = scope
		fx.pb("vm-t2", "", "t2", "c2", mac)
		fx.lb("lbf", map[string]string{vip: vip, "172.24.4.200:80": ""}, func(lb *sbdb.LoadBalancer) {
			lb.Datapaths = []string{"dp-t1", "dp-" + peer}
			lb.LSDatapathGroup = ptr(scope)
			lb.ExternalIDs["neutron:vip_fip"] = vip
		})

		cfg := config.Default()
		cfg.ExposeTenantNetworks = true
		cfg.AddressScopes = []string{"scope-a", scope}
		st, _ := fx.planWith(t, cfg)
		for _, w := range []struct {
			prefix string
			kind   plan.Kind
			port   string
		}{
			{"172.24.4.11/32", plan.KindProviderPort, "good"},
			{"10.0.1.12/32", plan.KindTenantPort, "goodtenant"},
			{"172.24.4.100/32", plan.KindCRLRP, "cr-lrp-gw"},
		} {
			found := false
			for _, a := range st.Announcements {
				if a.Port == w.port && a.Prefix.String() == w.prefix && a.Kind == w.kind {
					found = true
				}
			}
			if !found {
				t.Fatalf("the healthy %s was not planned: %+v", w.port, st.Announcements)
			}
		}

		// The bad rows go and come back: incremental equals full.
		x := newInc(t, fx, cfg)
		x.del(t, "bad")
		x.del(t, "lrp-if-t2")
		fx.pb("bad", "", "pub", "c1", mac)
		x.replan(t, plan.RowRef{Table: sbdb.PortBindingTable, UUID: "pb-bad"})
		x.update(t, "gw2", func(p *sbdb.PortBinding) { p.Options["peer"] = "lrp-gw2" })
	})
}
