// Package plan computes the desired state of one chassis: what it announces
// through BGP and how the host must be wired so that the announced traffic
// arrives. The types in this file are the contract between the planner, the
// dataplane reconcilers and the BGP speakers; they are plain values with no
// behaviour beyond keys and ordering.
package plan

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// Kind says why a prefix is announced.
type Kind string

// The announcement kinds, as printed by `ovnbgp plan` and used as metric labels.
const (
	KindProviderPort Kind = "provider-port" // VM or virtual port on a provider network, bound here
	KindFIP          Kind = "fip"           // floating IP (distributed on the VM host, centralized on the cr-lrp host)
	KindCRLRP        Kind = "cr-lrp"        // router gateway IP, on the chassis hosting the chassisredirect port
	KindTenantPort   Kind = "tenant-port"   // tenant VM IP behind a local cr-lrp (host advertisement)
	KindTenantSubnet Kind = "tenant-subnet" // tenant subnet behind a local cr-lrp (subnet advertisement)
	KindLBVIP        Kind = "lb-vip"        // OVN load-balancer VIP
	KindLBFIP        Kind = "lb-fip"        // floating IP of an OVN load-balancer VIP
	KindPFFIP        Kind = "pf-fip"        // port-forwarding floating IP
	KindServiceVIP   Kind = "service-vip"   // a [ovnbgp_vip:NAME] address, active and healthy here (internal/vip)
)

// Kinds lists every kind, in the order used to break ties when two reasons
// announce the same prefix (the first one wins).
var Kinds = []Kind{KindCRLRP, KindProviderPort, KindFIP, KindLBVIP, KindLBFIP, KindPFFIP, KindTenantPort, KindTenantSubnet, KindServiceVIP}

// Announcement is one prefix this chassis must announce, and why.
type Announcement struct {
	Prefix  netip.Prefix `json:"prefix"`
	Kind    Kind         `json:"kind"`
	Port    string       `json:"port"`             // logical port (or LB / NAT name) that causes it
	Network string       `json:"network"`          // Neutron network name, else the logical switch name
	VRF     string       `json:"vrf"`              // "" is the default announcement VRF (bgp_vrf)
	Reason  string       `json:"reason,omitempty"` // one human sentence, for `ovnbgp plan` and `status`
	// Attrs de-prefer the path (a service VIP that failed its check with
	// on_failure med or prepend); zero for every OVN announcement.
	Attrs PathAttrs `json:"attrs,omitzero"`
}

// PathAttrs are BGP attributes of an announcement that make the fabric
// prefer another node's path. The embedded GoBGP speaker sets them on its
// paths; the FRR speaker only on the service VIPs' `network` statements,
// through route-maps (its other prefixes reach bgpd through kernel
// objects).
type PathAttrs struct {
	MED     uint32 `json:"med,omitempty"`     // MULTI_EXIT_DISC, when SetMED
	SetMED  bool   `json:"set_med,omitempty"` // MED is set
	Prepend int    `json:"prepend,omitempty"` // the local AS this many times in the AS_PATH
}

// Key identifies an announcement: one per (VRF, prefix).
func (a Announcement) Key() Key { return Key{VRF: a.VRF, Prefix: a.Prefix} }

// Key identifies an announcement or an exposure.
type Key struct {
	VRF    string
	Prefix netip.Prefix
}

// String renders the key as "prefix" or "vrf/prefix".
func (k Key) String() string {
	if k.VRF == "" {
		return k.Prefix.String()
	}
	return k.VRF + "/" + k.Prefix.String()
}

// Exposure is the inbound wiring one announced prefix needs: traffic for
// Prefix arriving at the host is steered into the provider bridge.
//
// The Linux reconciler turns it into: an ip rule `to Prefix lookup <bridge
// table>`, a route `Prefix dev <device> table <bridge table>` (or `via Via`),
// a permanent neighbour when MAC is set, NDP proxy entries for ProxyNDP, and
// the announce object itself (address on bgp_nic, or route in the announce
// table) — announce last on wire, first on unwire.
type Exposure struct {
	Prefix   netip.Prefix `json:"prefix"`
	VRF      string       `json:"vrf,omitempty"`
	Bridge   string       `json:"bridge"`              // provider OVS bridge, e.g. br-ex
	VLAN     int          `json:"vlan,omitempty"`      // 0 for flat networks; else the VLAN device of Bridge
	Via      netip.Addr   `json:"via,omitzero"`        // next hop (cr-lrp IP) for tenant subnets; zero for on-link
	MAC      string       `json:"mac,omitempty"`       // permanent neighbour lladdr; "" for none
	ProxyNDP []netip.Addr `json:"proxy_ndp,omitempty"` // IPv6 addresses to answer NDP for on the device
	Announce bool         `json:"announce"`            // false: wire only (e.g. a prefix another exposure announces)
}

// Key identifies the exposure.
func (e Exposure) Key() Key { return Key{VRF: e.VRF, Prefix: e.Prefix} }

// BridgeWiring is the per provider bridge state: routing table, proxy ARP/NDP,
// link addresses, VLAN devices.
type BridgeWiring struct {
	Bridge  string `json:"bridge"`
	Physnet string `json:"physnet"`
	Index   int    `json:"index"`           // 1-based position in ovn-bridge-mappings (upstream's 169.254 offset)
	VLANs   []int  `json:"vlans,omitempty"` // VLAN tags of the localnet ports on this physnet, sorted
}

// Flow is one egress MAC-rewrite need: IPv4 and IPv6 traffic from OVN's
// patch port on Bridge gets its destination MAC rewritten to DstMAC (the
// bridge's own MAC) so that the host routes it.
type Flow struct {
	Bridge string `json:"bridge"`
	Port   string `json:"port"`    // patch-provnet-... port name
	OFPort int    `json:"ofport"`  // OpenFlow port number; flows are planned only once it is known
	DstMAC string `json:"dst_mac"` // MAC of the bridge's internal interface
}

// Wiring is everything the host needs besides the announcements themselves.
type Wiring struct {
	Bridges   []BridgeWiring `json:"bridges"`
	Exposures []Exposure     `json:"exposures"`
	Flows     []Flow         `json:"flows"`
	VRFs      []VRF          `json:"vrfs,omitempty"` // tenant VRFs (exposing_method = vrf)
}

// State is the complete desired state of one chassis.
type State struct {
	Chassis       string         `json:"chassis"`
	Announcements []Announcement `json:"announcements"`
	Wiring        Wiring         `json:"wiring"`
}

// Delta is the difference between two states, as produced by an incremental
// re-plan. Upserts carry the new value of a changed key; deletes carry the
// old value. Bridges and Flows change rarely: when they change at all, the
// whole new list is given and the *Changed flag is set.
type Delta struct {
	Announce       []Announcement `json:"announce,omitempty"`
	Withdraw       []Announcement `json:"withdraw,omitempty"`
	Wire           []Exposure     `json:"wire,omitempty"`
	Unwire         []Exposure     `json:"unwire,omitempty"`
	BridgesChanged bool           `json:"bridges_changed,omitempty"`
	Bridges        []BridgeWiring `json:"bridges,omitempty"`
	FlowsChanged   bool           `json:"flows_changed,omitempty"`
	Flows          []Flow         `json:"flows,omitempty"`
	VRFsChanged    bool           `json:"vrfs_changed,omitempty"`
	VRFs           []VRF          `json:"vrfs,omitempty"`
}

// Empty reports whether the delta changes nothing.
func (d *Delta) Empty() bool {
	return len(d.Announce) == 0 && len(d.Withdraw) == 0 && len(d.Wire) == 0 &&
		len(d.Unwire) == 0 && !d.BridgesChanged && !d.FlowsChanged && !d.VRFsChanged
}

// LessKey orders keys by VRF, then address family, address and prefix length.
func LessKey(a, b Key) bool { return CompareKey(a, b) < 0 }

// CompareKey is LessKey as a three-way comparison.
func CompareKey(a, b Key) int {
	if a.VRF != b.VRF {
		return strings.Compare(a.VRF, b.VRF)
	}
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
}

// Sort puts every list of the state in its canonical order, so that two
// equal states compare and render identically.
func (s *State) Sort() {
	slices.SortFunc(s.Announcements, func(a, b Announcement) int { return CompareKey(a.Key(), b.Key()) })
	slices.SortFunc(s.Wiring.Exposures, func(a, b Exposure) int { return CompareKey(a.Key(), b.Key()) })
	slices.SortFunc(s.Wiring.Bridges, func(a, b BridgeWiring) int { return strings.Compare(a.Bridge, b.Bridge) })
	slices.SortFunc(s.Wiring.VRFs, func(a, b VRF) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Wiring.Flows, func(a, b Flow) int {
		if a.Bridge != b.Bridge {
			return strings.Compare(a.Bridge, b.Bridge)
		}
		return strings.Compare(a.Port, b.Port)
	})
}
