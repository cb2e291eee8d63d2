package dynamic

import (
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// SouthboundRouters returns the dynamic-routing routers with ports resident
// on chassis (its Chassis row's name and uuid), from the southbound rows of
// t, which the caller holds read-locked: chassisredirect ports bound here
// and l3gateway ports of a gateway router on this chassis, with
// options:dynamic-routing=true. A distributed router port without a
// gateway (type patch) is resident wherever the router is in use, which
// only ovn-controller's view of local datapaths says; it is not planned.
func SouthboundRouters(t *topology.Topology, chassisName, chassisUUID string) []Router {
	byDP := map[string]*Router{}
	var order []string
	t.ForEachNonVMPort(func(pb *sbdb.PortBinding) {
		if pb.Options["dynamic-routing"] != "true" || !residentSB(pb, chassisName, chassisUUID) {
			return
		}
		r := byDP[pb.Datapath]
		if r == nil {
			dp := t.Datapath(pb.Datapath)
			r = &Router{Table: sbdb.DatapathBindingTable, Datapath: pb.Datapath, Name: pb.Datapath}
			if dp != nil {
				r.TunnelKey = dp.TunnelKey
				r.VRFID = dp.ExternalIDs["dynamic-routing-vrf-id"]
				if n := dp.ExternalIDs["name"]; n != "" {
					r.Name = n
				}
			}
			byDP[pb.Datapath] = r
			order = append(order, pb.Datapath)
		}
		r.Ports = append(r.Ports, Port{
			Name:        pb.LogicalPort,
			MaintainVRF: pb.Options["dynamic-routing-maintain-vrf"] == "true",
			VRFName:     pb.Options["dynamic-routing-vrf-name"],
			PortName:    pb.Options["dynamic-routing-port-name"],
		})
	})
	out := make([]Router, 0, len(order))
	for _, d := range order {
		out = append(out, *byDP[d])
	}
	return out
}

func residentSB(pb *sbdb.PortBinding, chassisName, chassisUUID string) bool {
	switch pb.Type {
	case "chassisredirect":
		return chassisUUID != "" && pb.Chassis != nil && *pb.Chassis == chassisUUID
	case "l3gateway":
		if c := pb.Options["l3gateway-chassis"]; c != "" {
			return c == chassisName
		}
		return chassisUUID != "" && pb.Chassis != nil && *pb.Chassis == chassisUUID
	}
	return false
}

// LocalFrom reads the chassis' own OVS facts from t (read-locked by the
// caller for as long as the returned Local is used).
func LocalFrom(t *topology.Topology) Local {
	l := Local{BoundInterface: t.InterfaceBoundTo}
	if o := t.OpenVSwitch(); o != nil {
		l.PortMapping = o.ExternalIDs["dynamic-routing-port-mapping"]
	}
	return l
}
