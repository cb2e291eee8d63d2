// Package sbevpn is upstream's southbound EVPN driver (driver =
// ovn_evpn_driver): a router whose gateway port (chassisredirect
// cr-lrp-X, hosted on this chassis) carries neutron_bgpvpn:vni and
// neutron_bgpvpn:as on the Port_Binding external_ids of its switch-side
// port X is a tenant, routed in VRF vrf-<vni> (table <vni>) and announced
// as EVPN type-5 routes by FRR's `router bgp <as> vrf vrf-<vni>` over the
// one l2vpn evpn session.
//
// What is announced in the VRF is what the southbound driver announces on
// the gateway's provider network (bridge, VLAN): the gateway IPs, FIPs,
// and the tenant networks behind the router (as upstream, whatever
// expose_tenant_networks says; advertisement_method_tenant_networks picks
// host routes or subnets). Those entries get the VRF; every other entry is
// dropped (upstream announces nothing outside the VRFs). The VRF, bridge,
// VXLAN and VLAN devices, the routes in the VRF's table and the FRR
// instance are the ones exposing_method = vrf uses (plan.VRF): upstream
// puts the tenant IPs on a dummy lo-<vni> instead, which makes the chassis
// answer for them itself; ovnbgp routes them in the VRF's table towards
// the gateway, and FRR redistributes the table.
//
// The route distinguisher defaults to <local ip>:<vni>, the local IP being
// evpn_local_ip or else evpn_nic's IPv4 address (resolved at start-up);
// without an IPv4 one none is rendered and FRR derives one (upstream
// renders "None:<vni>").
//
// Bad input is a warning naming the Port_Binding, counted in
// ovnbgp_plan_invalid_rows_total; that gateway is not served, the others
// are: a VNI outside 1..16777215, a malformed AS, one key without the
// other (bad-bgpvpn); a VNI another gateway has with another AS
// (duplicate-vni: the gateway whose port name sorts first keeps it); an AS
// other than bgp_AS (foreign-as: FRR runs the VRF's instance in bgp_AS); a
// provider network that already carries another VNI (shared-provider); a
// VNI whose table is reserved (vni-table); a flat provider network
// (flat-tenant: a VRF is routed through the VLAN device of its provider
// network).
package sbevpn

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// VRFName is upstream's name of the VRF of a VNI.
func VRFName(vni uint32) string { return fmt.Sprintf("vrf-%d", vni) }

// Driver is the EVPN driver. Not safe for concurrent use (one planner
// goroutine, topology read lock held).
type Driver struct {
	cfg     *config.Config
	t       *topology.Topology
	sb      *southbound.Driver
	localIP string

	fp       string
	vrfs     []plan.VRF
	wires    plan.TenantWires
	warnings []plan.Warning
}

// New returns the driver for chassis; localIP is evpn_local_ip or, when
// unset, evpn_nic's address ("" if neither is known).
func New(cfg *config.Config, t *topology.Topology, chassis, localIP string) *Driver {
	inner := cfg.Clone()
	inner.ExposeTenantNetworks = true // upstream's EVPN driver announces the tenant IPs
	return &Driver{cfg: cfg, t: t, sb: southbound.New(inner, t, chassis), localIP: localIP}
}

var _ plan.Driver = (*Driver)(nil)
var _ plan.VRFPlanner = (*Driver)(nil)
var _ plan.AllPlanner = (*Driver)(nil)

// Guard is the southbound driver's address guard.
func (d *Driver) Guard() *plan.Guard { return d.sb.Guard() }

// NeededDatapaths are the southbound driver's.
func (d *Driver) NeededDatapaths() []string { return d.sb.NeededDatapaths() }

// Reset refreshes the southbound driver's context and the tenant VRFs; a
// change of either re-plans everything.
func (d *Driver) Reset() bool {
	changed := d.sb.Reset()
	vrfs, wires, warns := d.readTenants()
	fp := fmt.Sprint(vrfs, wires.String(), warns)
	if fp != d.fp {
		d.fp = fp
		d.vrfs, d.wires = vrfs, wires
		d.warnings = append(d.warnings, warns...)
		changed = true
	}
	return changed
}

// gatewaysHere are the chassisredirect ports bound to this chassis, by
// name.
func (d *Driver) gatewaysHere() []*sbdb.PortBinding {
	var out []*sbdb.PortBinding
	d.t.ForEachChassisRedirectDatapath(func(r string) {
		d.t.ForEachChassisRedirect(r, func(c *sbdb.PortBinding) {
			if d.sb.BoundHere(c) {
				out = append(out, c)
			}
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalPort < out[j].LogicalPort })
	return out
}

// readTenants computes the VRFs of the gateways hosted here, the provider
// networks in them, the patch ports of their localnets and the warnings.
func (d *Driver) readTenants() ([]plan.VRF, plan.TenantWires, []plan.Warning) {
	var warns []plan.Warning
	warn := func(row, reason, detail string) {
		warns = plan.Warn(warns, sbdb.PortBindingTable, row, reason, detail+"; this gateway is not served")
	}
	reserved := plan.VRFTablesReserved(d.cfg)
	var wires plan.TenantWires
	idx := map[uint32]int{}      // VNI -> index in vrfs
	owner := map[uint32]string{} // VNI -> the port that has it
	var vrfs []plan.VRF
	for _, c := range d.gatewaysHere() {
		name := strings.TrimPrefix(c.LogicalPort, "cr-lrp-")
		port := d.t.PortBinding(name)
		if port == nil {
			continue
		}
		k, err := ParseKeys(port.ExternalIDs)
		if errors.Is(err, errNotEVPN) {
			continue
		}
		if err != nil {
			warn(name, "bad-bgpvpn", err.Error())
			continue
		}
		if what, bad := reserved[int(k.VNI)]; bad {
			warn(name, "vni-table", fmt.Sprintf("VNI %d: its VRF's table %d is %s", k.VNI, k.VNI, what))
			continue
		}
		g, dp := d.sb.Gateway(c)
		if g == nil {
			continue // no address or provider network here: the southbound driver says why
		}
		if g.VLAN == 0 {
			warn(name, "flat-tenant", fmt.Sprintf("the provider network of %s is flat: ovnbgp routes a tenant VRF through the VLAN device of its provider network, so it must be a VLAN network", c.LogicalPort))
			continue
		}
		i, seen := idx[k.VNI]
		if seen && vrfs[i].AS != k.AS {
			warn(name, "duplicate-vni", fmt.Sprintf("VNI %d has AS %d on %s, not %d", k.VNI, vrfs[i].AS, owner[k.VNI], k.AS))
			continue
		}
		if k.AS != d.cfg.BGPAS {
			// bgpd makes the L3VNI VRF's instance itself, in bgp_AS, as soon
			// as it sees `vni`: FRR 8.4 then refuses `router bgp <other>
			// vrf X` and the whole apply fails, every tenant's change with it.
			warn(name, "foreign-as", fmt.Sprintf("%s=%d differs from bgp_AS %d: FRR runs a tenant VRF's instance in bgp_AS; set the key to %d", KeyAS, k.AS, d.cfg.BGPAS, d.cfg.BGPAS))
			continue
		}
		w := plan.VRFPort{Bridge: g.Bridge, VLAN: g.VLAN}
		v, taken := wires.VRF(w)
		if taken && v != VRFName(k.VNI) {
			warn(name, "shared-provider", fmt.Sprintf("its provider network (%s VLAN %d) is already in %s", g.Bridge, g.VLAN, v))
			continue
		}
		if !seen {
			rd := ""
			if d.localIP != "" && !strings.Contains(d.localIP, ":") {
				rd = fmt.Sprintf("%s:%d", d.localIP, k.VNI)
			}
			idx[k.VNI], owner[k.VNI] = len(vrfs), name
			vrfs = append(vrfs, plan.VRF{Name: VRFName(k.VNI), VNI: k.VNI, Table: int(k.VNI), AS: k.AS, RD: rd, Network: g.Network})
			i = idx[k.VNI]
		}
		if !taken {
			var lns []string
			d.t.ForEachLocalnet(dp, func(ln *sbdb.PortBinding) { lns = append(lns, ln.LogicalPort) })
			wires.Add(w, VRFName(k.VNI), lns...)
			vrfs[i].Ports = append(vrfs[i].Ports, w)
		}
	}
	sort.Slice(vrfs, func(i, j int) bool { return vrfs[i].VNI < vrfs[j].VNI })
	return vrfs, wires, warns
}

// Sources are the southbound driver's.
func (d *Driver) Sources() []plan.RowRef { return d.sb.Sources() }

// Plan is the southbound driver's contribution in the VRF of the provider
// network it is wired on; entries on other networks are dropped.
func (d *Driver) Plan(src plan.RowRef) plan.Contribution { return d.relabel(d.sb.Plan(src)) }

// PlanAll is the southbound driver's full pass, relabelled.
func (d *Driver) PlanAll(fn func(plan.RowRef, plan.Contribution)) {
	d.sb.PlanAll(func(src plan.RowRef, c plan.Contribution) { fn(src, d.relabel(c)) })
}

func (d *Driver) relabel(c plan.Contribution) plan.Contribution { return d.wires.Into(c) }

// Affected is the southbound driver's (tenant changes re-plan all in
// Reset).
func (d *Driver) Affected(src plan.RowRef) ([]plan.RowRef, bool) { return d.sb.Affected(src) }

// Bridges are the southbound driver's.
func (d *Driver) Bridges() []plan.BridgeWiring { return d.sb.Bridges() }

// Flows are the southbound driver's MAC-rewrite flows of the tenants'
// provider networks only (plan.TenantWires.Flows).
func (d *Driver) Flows() []plan.Flow { return d.wires.Flows(d.sb.Flows()) }

// VRFs are the tenant VRFs of the gateways hosted here.
func (d *Driver) VRFs() []plan.VRF { return plan.CloneVRFs(d.vrfs) }

// Warnings returns and clears the warnings of both.
func (d *Driver) Warnings() []plan.Warning {
	w := append(d.sb.Warnings(), d.warnings...)
	d.warnings = nil
	return w
}
