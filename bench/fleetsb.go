package main

import (
	"fmt"
	"math/rand/v2"
)

// The fleet's southbound: many chassis, tens of thousands of VM ports,
// provider networks and tenant networks behind routers with a gateway, as
// northd and the ovn-controllers would have written them.

// fleetTopo is what the fleet bench built.
type fleetTopo struct {
	chassis   []string // Chassis UUIDs, index = chassis number (name fc<i>)
	dps       []string // logical switch datapaths: even = provider (localnet), odd = tenant
	routers   []string // router datapaths: router r joins tenant net 2r+1 to provider net 2r
	pbs       []string // VM Port_Binding UUIDs
	portCh    []int    // chassis of VM port i
	crlrps    int
	patches   int
	localnets int
}

func fleetChassisName(c int) string { return fmt.Sprintf("fc%d", c) }

// fleetPortChassis spreads the VM ports evenly: port i on chassis i mod n.
func fleetPortChassis(i, n int) int { return i % n }

// fillFleetSB writes nChassis chassis (Chassis, Encap, Chassis_Private),
// nPorts VM ports (100 per logical switch, every one bound and up), a
// localnet port on every even switch, and one router per pair of switches
// with its gateway (patch pair plus cr-lrp, with nat_addresses) on the
// provider switch and its interface (patch pair) on the tenant one.
func fillFleetSB(r *rpc, nChassis, nPorts int) (*fleetTopo, error) {
	t := &fleetTopo{}
	const batch = 500
	for c0 := 0; c0 < nChassis; c0 += batch {
		var ops []any
		n := min(batch, nChassis-c0)
		for c := c0; c < c0+n; c++ {
			name := fleetChassisName(c)
			ops = append(ops,
				insertOp("Encap", map[string]any{"type": "geneve", "ip": fmt.Sprintf("10.%d.%d.%d", 200+c/65536, (c/256)%256, c%256),
					"chassis_name": name, "options": ovsMap("csum", "true")}, fmt.Sprintf("e%d", c)),
				insertOp("Chassis", map[string]any{"name": name, "hostname": fmt.Sprintf("fhost%d", c),
					"encaps": []any{"named-uuid", fmt.Sprintf("e%d", c)},
					"other_config": ovsMap("ovn-bridge-mappings", "physnet1:br-ex", "datapath-type", "system",
						"iface-types", "afxdp,afxdp-nonpmd,bareudp,erspan,geneve,gre,gtpu,internal,ip6erspan,ip6gre,lisp,patch,stt,system,tap,vxlan",
						"ovn-cms-options", "", "is-interconn", "false")}, fmt.Sprintf("c%d", c)),
				insertOp("Chassis_Private", map[string]any{"name": name, "chassis": []any{"named-uuid", fmt.Sprintf("c%d", c)},
					"external_ids": ovsMap("neutron:ovn-metadata-id", fmt.Sprintf("%08x-0000-4000-8000-%012x", c, c))}, ""))
		}
		res, err := r.transact("OVN_Southbound", ops)
		if err != nil {
			return nil, err
		}
		for k := 0; k < n; k++ {
			t.chassis = append(t.chassis, uuidOf(res[3*k+1]))
		}
	}
	nets := (nPorts + portsPerNet - 1) / portsPerNet
	if nets%2 == 1 {
		nets++
	}
	var ops []any
	for n := 0; n < nets; n++ {
		ops = append(ops, insertOp("Datapath_Binding", map[string]any{"tunnel_key": n + 1,
			"external_ids": ovsMap("logical-switch", fmt.Sprintf("%08x-5555-4666-8777-%012x", n, n),
				"name", "neutron-"+netName(n), "name2", fmt.Sprintf("net-%d", n))}, ""))
	}
	for rt := 0; rt < nets/2; rt++ {
		ops = append(ops, insertOp("Datapath_Binding", map[string]any{"tunnel_key": nets + rt + 1,
			"external_ids": ovsMap("logical-router", fmt.Sprintf("%08x-9999-4aaa-8bbb-%012x", rt, rt),
				"name", fmt.Sprintf("neutron-%08x-9999-4aaa-8bbb-%012x", rt, rt), "name2", fmt.Sprintf("router-%d", rt))}, ""))
	}
	res, err := r.transact("OVN_Southbound", ops)
	if err != nil {
		return nil, err
	}
	for n := 0; n < nets; n++ {
		t.dps = append(t.dps, uuidOf(res[n]))
	}
	for rt := 0; rt < nets/2; rt++ {
		t.routers = append(t.routers, uuidOf(res[nets+rt]))
	}
	ops = ops[:0]
	for n := 0; n < nets; n += 2 {
		ops = append(ops, insertOp("Port_Binding", map[string]any{
			"logical_port": "provnet-" + netName(n), "type": "localnet", "tunnel_key": 1,
			"datapath": []any{"uuid", t.dps[n]}, "mac": "unknown",
			"options":      ovsMap("network_name", "physnet1"),
			"external_ids": ovsMap("neutron:network_name", "neutron-"+netName(n)),
		}, ""))
		t.localnets++
	}
	for rt := 0; rt < nets/2; rt++ {
		gw, ifc := fmt.Sprintf("lrp-gw%d", rt), fmt.Sprintf("lrp-if%d", rt)
		gwMAC := fmt.Sprintf("fa:16:3e:f0:%02x:%02x", rt>>8, rt&255)
		ifMAC := fmt.Sprintf("fa:16:3e:f1:%02x:%02x", rt>>8, rt&255)
		gwIP := fmt.Sprintf("100.64.%d.%d", rt>>8, rt&255)
		gch := t.chassis[len(t.chassis)-1-rt%min(10, len(t.chassis))] // gateways on the last 10 chassis
		ops = append(ops,
			insertOp("Port_Binding", map[string]any{"logical_port": gw, "type": "patch", "tunnel_key": 1,
				"datapath": []any{"uuid", t.routers[rt]}, "mac": gwMAC + " " + gwIP + "/10",
				"options": ovsMap("peer", "gwpeer"+gw)}, ""),
			insertOp("Port_Binding", map[string]any{"logical_port": "gwpeer" + gw, "type": "patch", "tunnel_key": 200,
				"datapath": []any{"uuid", t.dps[2*rt]}, "mac": "router",
				"options":       ovsMap("peer", gw),
				"nat_addresses": []any{"set", []any{fmt.Sprintf("%s %s is_chassis_resident(\"cr-%s\")", gwMAC, gwIP, gw)}},
				"external_ids":  ovsMap("neutron:device_owner", "network:router_gateway")}, ""),
			insertOp("Port_Binding", map[string]any{"logical_port": "cr-" + gw, "type": "chassisredirect", "tunnel_key": 3,
				"datapath": []any{"uuid", t.routers[rt]}, "mac": gwMAC + " " + gwIP + "/10",
				"chassis": []any{"uuid", gch}, "up": true,
				"options": ovsMap("distributed-port", gw, "always-redirect", "true")}, ""),
			insertOp("Port_Binding", map[string]any{"logical_port": ifc, "type": "patch", "tunnel_key": 2,
				"datapath": []any{"uuid", t.routers[rt]}, "mac": fmt.Sprintf("%s 10.%d.%d.1/24", ifMAC, 128+rt>>8, rt&255),
				"options": ovsMap("peer", "ifpeer"+ifc)}, ""),
			insertOp("Port_Binding", map[string]any{"logical_port": "ifpeer" + ifc, "type": "patch", "tunnel_key": 200,
				"datapath": []any{"uuid", t.dps[2*rt+1]}, "mac": "router",
				"options":      ovsMap("peer", ifc),
				"external_ids": ovsMap("neutron:device_owner", "network:router_interface")}, ""))
		t.crlrps++
		t.patches += 4
	}
	if _, err := r.transact("OVN_Southbound", ops); err != nil {
		return nil, err
	}
	t.pbs = make([]string, nPorts)
	t.portCh = make([]int, nPorts)
	b := &portBatch{r: r, pbs: t.pbs}
	for i := 0; i < nPorts; i++ {
		ch := fleetPortChassis(i, nChassis)
		t.portCh[i] = ch
		if err := b.add(i, vmPortInsert(i, t.dps[i/portsPerNet], t.chassis[ch], fmt.Sprintf("fhost%d", ch))); err != nil {
			return nil, err
		}
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	return t, nil
}

// localDatapaths are the datapaths ovn-controller on chassis c monitors
// (monitor_all = false): the switches of its ports and, through the patch
// ports, the router behind a tenant switch and that router's provider
// switch.
func (t *fleetTopo) localDatapaths(c int) []string {
	seen := map[int]bool{}
	var out []string
	add := func(uuid string, key int) {
		if !seen[key] {
			seen[key] = true
			out = append(out, uuid)
		}
	}
	for i := c; i < len(t.pbs); i += len(t.chassis) {
		n := i / portsPerNet
		add(t.dps[n], n)
		if n%2 == 1 {
			add(t.routers[n/2], -1-n/2)
			add(t.dps[n-1], n-1)
		}
	}
	return out
}

// localPorts are the logical ports bound to chassis c.
func (t *fleetTopo) localPorts(c int) []string {
	var out []string
	for i := c; i < len(t.pbs); i += len(t.chassis) {
		out = append(out, vmPortName(i))
	}
	return out
}

// burstOps are n transactions, each moving one VM port (chosen at random
// over the whole cloud, seeded) to another chassis, as ovn-controller
// writes a claim: chassis, requested_chassis, up.
func (t *fleetTopo) burstOps(n int, seed uint64) [][]any {
	rng := rand.New(rand.NewPCG(seed, 23))
	out := make([][]any, 0, n)
	for k := 0; k < n; k++ {
		i := rng.IntN(len(t.pbs))
		ch := rng.IntN(len(t.chassis))
		if ch == t.portCh[i] {
			ch = (ch + 1) % len(t.chassis)
		}
		t.portCh[i] = ch
		out = append(out, []any{map[string]any{"op": "update", "table": "Port_Binding",
			"where": []any{[]any{"_uuid", "==", []any{"uuid", t.pbs[i]}}},
			"row": map[string]any{"chassis": []any{"uuid", t.chassis[ch]},
				"requested_chassis": []any{"uuid", t.chassis[ch]}, "up": true}}})
	}
	return out
}
