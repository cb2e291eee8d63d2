package dynamic

import (
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// NorthboundRouters returns the dynamic-routing routers (Logical_Router
// options:dynamic-routing=true) with ports resident on chassis, from the
// northbound rows of t, which the caller holds read-locked: a gateway
// router's ports (options:chassis is this chassis), and a distributed
// gateway port whose status:hosting-chassis is this chassis (OVN 23.09 and
// later write it). The options ovn-northd copies to the southbound port
// are read on the router port, and dynamic-routing-vrf-name also on the
// router; the table comes from the router's dynamic-routing-vrf-id only
// (the northbound has no tunnel key).
func NorthboundRouters(t *topology.Topology, chassisName string) []Router {
	byLR := map[string]*Router{}
	var order []string
	t.NBRouterPortsAll(func(lrp *nbdb.LogicalRouterPort) {
		lrUUID := t.NBRouterPortRouter(lrp.UUID)
		lr := t.NBRouter(lrUUID)
		if lr == nil || lr.Options["dynamic-routing"] != "true" {
			return
		}
		gatewayRouter := lr.Options["chassis"] != ""
		switch {
		case gatewayRouter && lr.Options["chassis"] == chassisName:
		case !gatewayRouter && lrp.Status["hosting-chassis"] == chassisName && chassisName != "":
		default:
			return
		}
		r := byLR[lrUUID]
		if r == nil {
			r = &Router{Table: nbdb.LogicalRouterTable, Name: lr.Name, Datapath: lrUUID, VRFID: lr.Options["dynamic-routing-vrf-id"]}
			byLR[lrUUID] = r
			order = append(order, lrUUID)
		}
		name := lrp.Options["dynamic-routing-vrf-name"]
		if name == "" {
			name = lr.Options["dynamic-routing-vrf-name"]
		}
		r.Ports = append(r.Ports, Port{
			Name:        lrp.Name,
			MaintainVRF: lrp.Options["dynamic-routing-maintain-vrf"] == "true",
			VRFName:     name,
			PortName:    lrp.Options["dynamic-routing-port-name"],
		})
	})
	out := make([]Router, 0, len(order))
	for _, u := range order {
		out = append(out, *byLR[u])
	}
	return out
}
