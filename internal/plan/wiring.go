package plan

import (
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// The chassis-wide wiring, the same for both drivers: they differ only in
// where the localnet ports come from (SB Port_Binding or NB
// Logical_Switch_Port).

// PhysnetVLANs collects the VLAN tags of localnet ports by physnet.
type PhysnetVLANs map[string]map[int]bool

func (p PhysnetVLANs) Add(options map[string]string, tag *int) {
	if tag == nil || !ValidVLAN(*tag) {
		return
	}
	n := options["network_name"]
	if p[n] == nil {
		p[n] = map[int]bool{}
	}
	p[n][*tag] = true
}

// BridgeWirings lists the per-bridge wiring of every valid mapping (the
// first mapping of a bridge wins), with the VLAN tags on its physnet.
func BridgeWirings(mappings []topology.BridgeMapping, vlans PhysnetVLANs) []BridgeWiring {
	var out []BridgeWiring
	seen := map[string]bool{}
	for _, m := range mappings {
		if seen[m.Bridge] {
			continue
		}
		seen[m.Bridge] = true
		bw := BridgeWiring{Bridge: m.Bridge, Physnet: m.Physnet, Index: m.Index}
		for v := range vlans[m.Physnet] {
			bw.VLANs = append(bw.VLANs, v)
		}
		sort.Ints(bw.VLANs)
		out = append(out, bw)
	}
	return out
}

// ProviderFlows lists the MAC-rewrite flows: one per patch-provnet-* port of
// every mapped bridge whose OpenFlow port number and bridge MAC are known
// (upstream 10.1 row 1: patch ports get their ofport late).
func ProviderFlows(t *topology.Topology, mappings []topology.BridgeMapping) []Flow {
	var out []Flow
	seen := map[string]bool{}
	for _, m := range mappings {
		if seen[m.Bridge] {
			continue
		}
		seen[m.Bridge] = true
		br := t.Interface(m.Bridge)
		if br == nil || br.MACInUse == nil || *br.MACInUse == "" {
			continue
		}
		for _, name := range t.BridgePorts(m.Bridge) {
			if !strings.HasPrefix(name, "patch-provnet-") {
				continue
			}
			i := t.Interface(name)
			if i == nil || i.Ofport == nil || *i.Ofport <= 0 {
				continue
			}
			out = append(out, Flow{Bridge: m.Bridge, Port: name, OFPort: *i.Ofport, DstMAC: *br.MACInUse})
		}
	}
	return out
}
