package doctor

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// checkBridges: every bridge of ovn-bridge-mappings exists in the local
// Open_vSwitch database and as a kernel device (the agent routes provider
// traffic through it and writes its proxy ARP/NDP sysctls).
func checkBridges(_ context.Context, e *Env) []Result {
	if e.ovs == nil {
		return nil // the local database failed; said above
	}
	raw := e.ovs.ids["ovn-bridge-mappings"]
	mappings, warnings := topology.ParseBridgeMappings(raw)
	var out []Result
	for _, w := range warnings {
		out = append(out, warn("bridges/mappings", w, "fix external_ids:ovn-bridge-mappings (physnet:bridge,...)"))
	}
	if len(mappings) == 0 {
		return append(out, warn("bridges/mappings", "external_ids:ovn-bridge-mappings is empty: no provider network is served here (no VM, FIP or gateway on a provider network is announced)",
			"ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=<physnet>:<bridge> (as ovn-controller uses it)"))
	}
	for _, m := range mappings {
		name := "bridges/" + m.Bridge
		if !e.ovs.bridges[m.Bridge] {
			out = append(out, fail(name, fmt.Sprintf("ovn-bridge-mappings maps %s to bridge %s, which is not in the local Open_vSwitch database", m.Physnet, m.Bridge),
				fmt.Sprintf("ovs-vsctl add-br %s (and add the uplink to it), or correct the mapping", m.Bridge)))
			continue
		}
		if _, err := netlink.LinkByName(m.Bridge); err != nil {
			out = append(out, fail(name, fmt.Sprintf("bridge %s (%s) has no kernel device in this network namespace: %v", m.Bridge, m.Physnet, err),
				"check ovs-vswitchd runs and created the bridge (ovs-vsctl show; ip link show "+m.Bridge+")"))
			continue
		}
		out = append(out, ok(name, fmt.Sprintf("%s mapped to bridge %s, present in OVS and the kernel", m.Physnet, m.Bridge)))
	}
	return out
}
