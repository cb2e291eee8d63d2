// Package dynamic plans exposing_method = dynamic: OVN's native dynamic
// routing (OVN 25.03 and later). ovn-controller itself writes the routes a
// dynamic-routing router advertises into a Linux VRF (blackhole routes of
// protocol ovn, 84) and learns the routes it finds there back into the
// southbound Learned_Route table; what OVN leaves to someone else is the
// VRF when it does not maintain it, and the BGP speaker around it. This
// package answers, from the rows alone (pure, like the other drivers),
// which dynamic-routing routers are resident on this chassis and, for each,
// the VRF (name and table by OVN's own rules), the ports, and the routing
// interfaces FRR peers on.
//
// OVN's rules, as ovn-controller applies them (controller/route.c):
//   - a router port takes part when its Port_Binding has
//     options:dynamic-routing=true; a distributed gateway port through its
//     chassisredirect port, resident where that port is bound; a gateway
//     router's port (type l3gateway) on its l3gateway-chassis;
//   - the table is the datapath's external_ids:dynamic-routing-vrf-id
//     (1..2^32-1), else its tunnel key;
//   - the VRF is the port's options:dynamic-routing-vrf-name when shorter
//     than 16 characters, else ovnvrf<table>;
//   - options:dynamic-routing-maintain-vrf=true on any of its resident
//     ports: ovn-controller creates and removes the VRF device;
//   - options:dynamic-routing-port-name names the port whose interface
//     routes are learned on: the Open_vSwitch
//     external_ids:dynamic-routing-port-mapping entry (name=ifname,...),
//     else the OVS interface bound to that logical port here.
//
// With the northbound driver the same facts come from Logical_Router and
// Logical_Router_Port (northbound.go); the northbound has no tunnel key,
// so a router without dynamic-routing-vrf-id there is refused with a
// warning (Neutron's ovn-bgp plugin always sets it).
package dynamic
