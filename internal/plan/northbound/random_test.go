package northbound_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
)

// TestNBIncrementalRandom applies random sequences of the row changes
// OVN and Neutron make (ports going up and down and moving, gateways
// moving, NATs, LBs, router interfaces and switches coming and going, in
// either order within a batch) and checks after every batch that the
// incremental result equals a full plan. Seeds are fixed: failures
// reproduce.
func TestNBIncrementalRandom(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			f := newNBFx()
			f.cfg.ExposeTenantNetworks = r.IntN(3) > 0
			if r.IntN(2) == 0 {
				f.cfg.AdvertisementMethodTenantNetworks = "subnet"
			}
			f.cfg.RequireSNATDisabledForTenantNetworks = r.IntN(2) == 0
			nbWorld(f, "c1")
			f.router("r2")
			f.gateway("r2", "public", "c2", "172.24.4.200/24")
			f.sw("other", "", 0)
			f.iface("r1", "private", "10.0.0.1/24", "")
			hosts := []string{"host1", "host2", "host1,host2", "host2,host1", "", "c1"}
			gwHosts := []string{"c1", "c2", ""}
			vms := []string{"vm-a", "vm-b", "vm-c", "vm-d"}
			nets := []string{"public", "private", "other", "vlan100"}
			for i, v := range vms {
				f.vm(nets[i], v, "host1", fmt.Sprintf("fa:16:3e:00:01:%02x 10.0.0.%d", i, 10+i), fmt.Sprintf("10.0.0.%d/24", 10+i))
			}
			h := newNBIncr(t, f, northbound.Identity{})
			ops := []func(){
				func() { // port up/down, hosts
					p := *f.t.NBPortByName(vms[r.IntN(len(vms))])
					p.Up = nbPtr(r.IntN(3) > 0)
					p.Options = map[string]string{"requested-chassis": hosts[r.IntN(len(hosts))]}
					f.up(&p)
				},
				func() { // address change
					p := *f.t.NBPortByName(vms[r.IntN(len(vms))])
					ip := fmt.Sprintf("%d.%d.0.%d", []int{10, 172}[r.IntN(2)], r.IntN(2), 10+r.IntN(5))
					p.Addresses = []string{"fa:16:3e:00:01:99 " + ip}
					f.up(&p)
				},
				func() { // gateway moves
					for _, rn := range []string{"r1", "r2"} {
						if r.IntN(2) == 0 {
							if g := f.t.NBRouterPortByName("lrp-gw-" + rn); g != nil {
								cp := *g
								cp.Status = map[string]string{"hosting-chassis": gwHosts[r.IntN(len(gwHosts))]}
								f.up(&cp)
							}
						}
					}
				},
				func() { // a FIP comes or goes, NAT and router in random order
					k := r.IntN(3)
					uuid := fmt.Sprintf("nat%d", k)
					rn := []string{"r1", "r2"}[r.IntN(2)]
					if f.t.NBNAT(uuid) != nil {
						for _, x := range []string{"r1", "r2"} {
							f.updRouter(x, func(lr *nbdb.LogicalRouter) { lr.Nat = without(lr.Nat, uuid) })
						}
						f.del(nbdb.NATTable, uuid)
						return
					}
					mac := ""
					if r.IntN(2) == 0 {
						mac = "fa:16:3e:00:aa:01"
					}
					n := &nbdb.NAT{UUID: uuid, Type: "dnat_and_snat", ExternalIP: fmt.Sprintf("172.24.4.%d", 150+k), // one FIP per NAT: equal-kind ties from duplicates are the merger's
						LogicalIP: "10.0.0.10", LogicalPort: nbPtr(vms[r.IntN(len(vms))]),
						ExternalIDs: map[string]string{"neutron:fip_network_id": "public"}}
					if mac != "" {
						n.ExternalMAC = nbPtr(mac)
					}
					if r.IntN(2) == 0 {
						n.GatewayPort = nbPtr("lrp-gw-" + rn)
					}
					if r.IntN(2) == 0 {
						f.updRouter(rn, func(lr *nbdb.LogicalRouter) { lr.Nat = append(lr.Nat, uuid) })
						f.up(n)
					} else {
						f.nat(rn, n)
					}
				},
				func() { // SNAT on the private subnet
					if f.t.NBNAT("snat") != nil {
						f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Nat = without(lr.Nat, "snat") })
						f.del(nbdb.NATTable, "snat")
						return
					}
					f.nat("r1", &nbdb.NAT{UUID: "snat", Type: "snat", ExternalIP: "172.24.4.100", LogicalIP: "10.0.0.0/24"})
				},
				func() { // a load balancer comes, moves or goes
					if lb := f.t.NBLoadBalancer("lb-lb1"); lb != nil {
						if r.IntN(2) == 0 {
							for _, x := range []string{"r1", "r2"} {
								f.updRouter(x, func(lr *nbdb.LogicalRouter) { lr.LoadBalancer = without(lr.LoadBalancer, "lb-lb1") })
							}
							f.del(nbdb.LoadBalancerTable, "lb-lb1")
							return
						}
						cp := *lb
						cp.ExternalIDs = map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_fip": "172.24.4.160",
							"lr_ref": "neutron-" + []string{"r1", "r2"}[r.IntN(2)], "neutron:vip_port_id": vms[r.IntN(len(vms))]}
						f.up(&cp)
						return
					}
					f.lb([]string{"r1", "r2"}[r.IntN(2)], "lb1", map[string]string{"10.0.0.100:80": "", "172.24.4.160:80": ""},
						map[string]string{"neutron:vip": "10.0.0.100", "neutron:vip_fip": "172.24.4.160", "neutron:vip_port_id": vms[r.IntN(len(vms))]})
				},
				func() { // port forwarding
					name := "pf-floatingip-x-tcp"
					if f.t.NBLoadBalancer("lb-"+name) != nil {
						f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.LoadBalancer = without(lr.LoadBalancer, "lb-"+name) })
						f.del(nbdb.LoadBalancerTable, "lb-"+name)
						return
					}
					f.lb("r1", name, map[string]string{"172.24.4.170:22": ""}, map[string]string{"neutron:router_name": "neutron-r1"})
				},
				func() { // the router interface of "other" comes or goes, rows in random order
					if f.t.NBPortByName("rif-r1-other") != nil {
						f.del(nbdb.LogicalSwitchPortTable, "rif-r1-other")
						f.del(nbdb.LogicalRouterPortTable, "lrp-r1-other")
						f.updRouter("r1", func(lr *nbdb.LogicalRouter) { lr.Ports = without(lr.Ports, "lrp-r1-other") })
						ls := *f.ls["other"]
						ls.Ports = without(ls.Ports, "rif-r1-other")
						f.ls["other"] = &ls
						f.up(&ls)
						return
					}
					f.iface("r1", "other", "10.1.0.1/24", "")
				},
				func() { // a localnet appears on or leaves "other"
					if f.t.NBPortByName("provnet-other") != nil {
						f.del(nbdb.LogicalSwitchPortTable, "provnet-other")
						return
					}
					f.addPort("other", &nbdb.LogicalSwitchPort{UUID: "provnet-other", Name: "provnet-other", Type: "localnet",
						Options: map[string]string{"network_name": "physnet1"}})
				},
				func() { // the switch "private" goes (row 6) or comes back
					if ls := f.t.NBSwitch("ls-private"); ls != nil {
						f.del(nbdb.LogicalSwitchTable, "ls-private")
						return
					}
					f.up(f.ls["private"])
				},
				func() { // the gateway's networks or MAC change
					if g := f.t.NBRouterPortByName("lrp-gw-r1"); g != nil {
						cp := *g
						cp.Networks = [][]string{{"172.24.4.100/24"}, {"172.24.4.101/24", "2001:db8:24::101/64"}, {}}[r.IntN(3)]
						cp.MAC = []string{"fa:16:3e:00:00:01", "fa:16:3e:00:00:09"}[r.IntN(2)]
						f.up(&cp)
					}
				},
				func() { // the router interface's port goes down or up, or changes scope
					if p := f.t.NBPortByName("rif-r1-private"); p != nil {
						cp := *p
						cp.Up = nbPtr(r.IntN(2) == 0)
						f.up(&cp)
					}
				},
				func() { // fip-distributed flips
					f.global([]string{"true", "false"}[r.IntN(2)])
				},
			}
			for step := 0; step < 25; step++ {
				for k := 0; k <= r.IntN(3); k++ {
					ops[r.IntN(len(ops))]()
				}
				h.sync(fmt.Sprintf("seed %d step %d", seed, step))
			}
		})
	}
}

func without(s []string, x string) []string {
	var out []string
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
