package plan_test

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// FuzzSBMalformedRows feeds arbitrary mac, nat_addresses, neutron:cidrs and
// bridge-mapping strings: the planner warns, never panics, and the healthy
// port beside them is still planned.
func FuzzSBMalformedRows(f *testing.F) {
	f.Add("fa:16:3e:00:01:10 172.24.4.999", `x 1.2.3.4 is_chassis_resident("vm`, "10.0.0.300/24", "physnet1:br-ex,::,")
	f.Add("unknown", "", "2001:db8::/129 garbage", ":")
	f.Add("", `fa:16:3e:00:00:01 172.24.4.100 is_chassis_resident("")`, "", "physnet1:br-ex")
	f.Add("fa:16:3e:00:01:10 ::ffff:1.2.3.4 fe80::1%eth0", `is_chassis_resident(")")`, " ", "physnet1:br-ex:extra")
	f.Fuzz(func(t *testing.T, mac, nat, cidrs, mappings string) {
		fx := newFixture("physnet1:br-ex," + mappings)
		fx.localnet("pub", "physnet1", 0)
		fx.pb("good", "", "pub", "c1", "fa:16:3e:00:01:11 172.24.4.11")
		bad := fx.pb("bad", "", "pub", "c1", mac)
		bad.ExternalIDs["neutron:cidrs"] = cidrs
		fx.t.Upsert(bad)
		fx.router("pub", "c1", "172.24.4.100/24")
		gw := fx.t.PortBinding("gw")
		gw.NatAddresses = []string{nat}
		fx.t.Upsert(gw)
		st, _ := fx.plan(t)
		found := false
		for _, a := range st.Announcements {
			if a.Port == "good" && a.Prefix.String() == "172.24.4.11/32" && a.Kind == plan.KindProviderPort {
				found = true
			}
		}
		if !found {
			t.Fatalf("the healthy port was not planned: %+v", st.Announcements)
		}
	})
}
