package nbvrf_test

import (
	"fmt"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/nbvrf"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
)

// BenchmarkVRFPlan is the planner's share of issue 17's benchmark: 1, 10
// and 100 VNIs with 10 bound VM ports each, a full plan (what the agent
// computes from empty) and one re-plan of a VNI change (Reset re-reads the
// tenants and re-plans everything). The kernel, FRR and ToR shares are
// not measured here.
func BenchmarkVRFPlan(b *testing.B) {
	for _, vnis := range []int{1, 10, 100} {
		f := newFx()
		for v := range vnis {
			name := fmt.Sprintf("t%d", v)
			f.net(name, 100+v, nbvrf.KeyType, "l3", nbvrf.KeyVNI, fmt.Sprint(1000+v), nbvrf.KeyRT, fmt.Sprintf("['65000:%d']", 1000+v))
			for p := range 10 {
				f.vm(name, fmt.Sprintf("vm-%d-%d", v, p), fmt.Sprintf("fa:16:3e:00:%02x:%02x", v, p), fmt.Sprintf("10.0.0.%d", 10+p))
			}
		}
		b.Run(fmt.Sprintf("full/vnis=%d", vnis), func(b *testing.B) {
			for b.Loop() {
				st, _ := plan.Full(nbvrf.New(f.cfg, f.t, northbound.Identity{}), "c1")
				if len(st.Announcements) != vnis*10 {
					b.Fatalf("%d announcements", len(st.Announcements))
				}
			}
		})
		b.Run(fmt.Sprintf("vni-change/vnis=%d", vnis), func(b *testing.B) {
			inc := plan.NewIncremental(nbvrf.New(f.cfg, f.t, northbound.Identity{}), "c1")
			inc.Full()
			ls := *f.ls["t0"]
			vni := 0
			for b.Loop() {
				vni++
				ids := map[string]string{}
				for k, v := range ls.ExternalIDs {
					ids[k] = v
				}
				ids[nbvrf.KeyVNI] = fmt.Sprint(500000 + vni%2)
				x := ls
				x.ExternalIDs = ids
				f.t.Upsert(&x)
				inc.Replan([]plan.RowRef{{Table: nbdb.LogicalSwitchTable, UUID: ls.UUID}})
			}
		})
	}
}
