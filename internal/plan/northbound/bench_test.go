package northbound_test

import (
	"fmt"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
)

// bigNB builds a cloud seen from c1: `routers` routers, each with a gateway
// on "public" (every other one hosted on c1), one tenant switch of `vms`
// VMs spread over 50 hosts, each VM with a distributed FIP, one LB per
// router; plus routers*vms provider VMs on "public" spread over 50 hosts.
func bigNB(routers, vms int) *nbFx {
	f := newNBFx()
	f.cfg.ExposeTenantNetworks = true
	f.sw("public", "physnet1", 0)
	pub := *f.ls["public"]
	for r := 0; r < routers; r++ {
		rn := fmt.Sprintf("r%d", r)
		f.router(rn)
		host := "c2"
		if r%2 == 0 {
			host = "c1"
		}
		sw := "net" + rn
		f.sw(sw, "", 0)
		lrp := &nbdb.LogicalRouterPort{UUID: "lrp-gw-" + rn, Name: "lrp-gw-" + rn, MAC: "fa:16:3e:00:00:01",
			Networks: []string{fmt.Sprintf("172.16.%d.%d/16", r/250, r%250+1)}, Status: map[string]string{"hosting-chassis": host},
			ExternalIDs: map[string]string{"neutron:network_name": "neutron-public"}}
		f.t.Upsert(lrp)
		f.iface(rn, sw, fmt.Sprintf("10.%d.%d.1/24", r/250, r%250), "")
		lr := *f.lr[rn]
		lr.Ports = append(append([]string{}, lr.Ports...), lrp.UUID)
		ls := *f.ls[sw]
		for v := 0; v < vms; v++ {
			name := fmt.Sprintf("vm-%d-%d", r, v)
			ip := fmt.Sprintf("10.%d.%d.%d", r/250, r%250, v+10)
			host := fmt.Sprintf("host%d", (r*vms+v)%50+1)
			p := &nbdb.LogicalSwitchPort{UUID: name, Name: name, Addresses: []string{"fa:16:3e:00:01:10 " + ip}, Up: nbPtr(true),
				Options: map[string]string{"requested-chassis": host}, ExternalIDs: map[string]string{"neutron:cidrs": ip + "/24"}}
			f.t.Upsert(p)
			ls.Ports = append(ls.Ports, p.UUID)
			n := &nbdb.NAT{UUID: "nat-" + name, Type: "dnat_and_snat", ExternalIP: fmt.Sprintf("172.17.%d.%d", (r*vms+v)/250, (r*vms+v)%250+1),
				LogicalIP: ip, LogicalPort: nbPtr(name), ExternalMAC: nbPtr("fa:16:3e:00:aa:01"), GatewayPort: nbPtr(lrp.UUID),
				ExternalIDs: map[string]string{"neutron:fip_network_id": "public"}}
			f.t.Upsert(n)
			lr.Nat = append(lr.Nat, n.UUID)
			pv := &nbdb.LogicalSwitchPort{UUID: "p" + name, Name: "p" + name, Up: nbPtr(true),
				Addresses: []string{fmt.Sprintf("fa:16:3e:00:02:10 172.18.%d.%d", (r*vms+v)/250, (r*vms+v)%250+1)},
				Options:   map[string]string{"requested-chassis": host}, ExternalIDs: map[string]string{}}
			f.t.Upsert(pv)
			pub.Ports = append(pub.Ports, pv.UUID)
		}
		f.t.Upsert(&ls)
		f.ls[sw] = &ls
		lb := &nbdb.LoadBalancer{UUID: "lb-" + rn, Name: "lb-" + rn, Vips: map[string]string{fmt.Sprintf("10.%d.%d.200:80", r/250, r%250): ""},
			ExternalIDs: map[string]string{"lr_ref": "neutron-" + rn, "neutron:vip": fmt.Sprintf("10.%d.%d.200", r/250, r%250)}}
		f.t.Upsert(lb)
		lr.LoadBalancer = append(lr.LoadBalancer, lb.UUID)
		f.t.Upsert(&lr)
		f.lr[rn] = &lr
	}
	f.t.Upsert(&pub)
	f.ls["public"] = &pub
	return f
}

// BenchmarkNBFullPlan: full NB plan of c1 over 1000 routers, 10000 tenant
// VMs with FIPs, 10000 provider VMs, 1000 LBs.
func BenchmarkNBFullPlan(b *testing.B) {
	f := bigNB(1000, 10)
	f.t.RLock()
	defer f.t.RUnlock()
	var st *plan.State
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, _ = plan.Full(northbound.New(f.cfg, f.t, northbound.Identity{}), "c1")
	}
	b.ReportMetric(float64(len(st.Announcements)), "announcements")
}

// BenchmarkNBPortUpdate: one tenant VM port toggles up/down; the driver
// answers Reset, Affected and Plan of the dirty sources, as the
// incremental planner calls it.
func BenchmarkNBPortUpdate(b *testing.B) {
	f := bigNB(1000, 10)
	d := northbound.New(f.cfg, f.t, northbound.Identity{})
	f.t.RLock()
	plan.Full(d, "c1")
	f.t.RUnlock()
	p := *f.t.NBPortByName("vm-0-3")
	src := plan.RowRef{Table: nbdb.LogicalSwitchPortTable, UUID: p.UUID}
	dirty := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cp := p
		cp.Up = nbPtr(i%2 == 0)
		f.t.Upsert(&cp)
		f.t.RLock()
		d.Reset()
		others, _ := d.Affected(src)
		d.Plan(src)
		for _, o := range others {
			d.Plan(o)
		}
		dirty += 1 + len(others)
		f.t.RUnlock()
	}
	b.ReportMetric(float64(dirty)/float64(b.N), "replans/op")
}
