// Package nbvrf is the northbound driver with exposing_method = vrf
// (upstream nb_ovn_bgp_driver's EVPN L3VNI method): a provider network
// whose Logical_Switch carries neutron_bgpvpn:type = l3 and
// neutron_bgpvpn:vni is a tenant, routed in its own VRF vrf-<vni> (table
// <vni>) and announced as EVPN type-5 routes with its VNI over the one
// l2vpn evpn session, so tenants with overlapping CIDRs stay apart.
//
// What is announced inside a VRF is what the northbound driver announces
// on that provider network (VM and virtual ports bound here, FIPs, the
// router gateway IPs, tenant networks behind those routers as
// advertisement_method_tenant_networks says, load-balancer VIPs): this
// driver plans with the northbound driver and puts each announcement whose
// wiring is on a tenant's provider network (its provider bridge and VLAN)
// in that tenant's VRF. Announcements on networks that are not tenants are
// not made: the method announces only in VRFs, as upstream (no bgp-nic).
// Every contribution has passed the northbound driver's address guard.
//
// Bad input is a warning naming the Logical_Switch, counted in
// ovnbgp_plan_invalid_rows_total, and that tenant is not served while the
// others are: a VNI outside 1..16777215, a malformed rt/rd/it/et list, a
// type other than l3 (reason bad-bgpvpn); a VNI another switch already
// has (duplicate-vni: the switch whose name sorts first keeps it); a VNI
// whose table (= VNI) is reserved or is a table ovnbgp uses already
// (vni-table); a flat tenant network (flat-tenant: ovnbgp enslaves the
// VLAN device of a tenant's provider network to its VRF, and a flat
// network has none).
package nbvrf

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// VRFName is upstream's name of the VRF of a VNI.
func VRFName(vni uint32) string { return fmt.Sprintf("vrf-%d", vni) }

// Driver is the vrf method of the northbound driver. Not safe for
// concurrent use (one planner goroutine, topology read lock held).
type Driver struct {
	cfg *config.Config
	t   *topology.Topology
	nb  *northbound.Driver

	fp       string // the tenant input last read
	vrfs     []plan.VRF
	wires    plan.TenantWires
	warnings []plan.Warning
}

// New returns the driver.
func New(cfg *config.Config, t *topology.Topology, id northbound.Identity) *Driver {
	return &Driver{cfg: cfg, t: t, nb: northbound.New(cfg, t, id)}
}

var _ plan.Driver = (*Driver)(nil)
var _ plan.VRFPlanner = (*Driver)(nil)

// Guard is the address guard every contribution passes through (the
// northbound driver's).
func (d *Driver) Guard() *plan.Guard { return d.nb.Guard() }

// Reset refreshes the chassis-wide context: the northbound driver's and
// the tenant VRFs (a change of either re-plans everything).
func (d *Driver) Reset() bool {
	changed := d.nb.Reset()
	if fp := d.fingerprint(); fp != d.fp {
		d.fp = fp
		d.readTenants()
		changed = true
	}
	return changed
}

// fingerprint is the input of the tenant VRFs: every switch with a
// neutron_bgpvpn key, its keys and its localnet ports, and the bridge
// mappings. Cheap next to a plan; read on every batch.
func (d *Driver) fingerprint() string {
	var rows []string
	d.t.NBSwitches(func(ls *nbdb.LogicalSwitch) {
		var keys []string
		for k, v := range ls.ExternalIDs {
			if strings.HasPrefix(k, "neutron_bgpvpn:") {
				keys = append(keys, k+"="+v)
			}
		}
		if len(keys) == 0 {
			return
		}
		sort.Strings(keys)
		for _, ln := range d.t.NBLocalnets(ls.UUID) {
			tag := 0
			if ln.Tag != nil {
				tag = *ln.Tag
			}
			keys = append(keys, fmt.Sprintf("ln %s %d", ln.Options["network_name"], tag))
		}
		rows = append(rows, ls.UUID+" "+ls.Name+" "+strings.Join(keys, "\x00"))
	})
	sort.Strings(rows)
	m, _ := d.t.BridgeMappings()
	return fmt.Sprint(m) + "\x01" + strings.Join(rows, "\x01")
}

// readTenants recomputes the VRFs and the provider networks in them, with
// the warnings of bad switches (once per change of the input).
func (d *Driver) readTenants() {
	mappings, _ := d.t.BridgeMappings()
	bridgeOf := map[string]string{}
	for _, m := range mappings {
		if _, dup := bridgeOf[m.Physnet]; !dup {
			bridgeOf[m.Physnet] = m.Bridge
		}
	}
	var switches []*nbdb.LogicalSwitch
	d.t.NBSwitches(func(ls *nbdb.LogicalSwitch) { switches = append(switches, ls) })
	sort.Slice(switches, func(i, j int) bool {
		if switches[i].Name != switches[j].Name {
			return switches[i].Name < switches[j].Name
		}
		return switches[i].UUID < switches[j].UUID
	})
	reserved := plan.VRFTablesReserved(d.cfg)
	d.vrfs = nil
	d.wires = plan.TenantWires{}
	owner := map[uint32]string{}
	for _, ls := range switches {
		tn, err := ParseTenant(ls.ExternalIDs)
		if errors.Is(err, errNotTenant) {
			continue
		}
		if err != nil {
			d.warn(ls.Name, "bad-bgpvpn", err.Error()+"; this network is not served")
			continue
		}
		if o, dup := owner[tn.VNI]; dup {
			d.warn(ls.Name, "duplicate-vni", fmt.Sprintf("VNI %d is already the VNI of %s; this network is not served", tn.VNI, o))
			continue
		}
		if what, bad := reserved[int(tn.VNI)]; bad {
			d.warn(ls.Name, "vni-table", fmt.Sprintf("VNI %d: its VRF's table %d is %s; this network is not served", tn.VNI, tn.VNI, what))
			continue
		}
		owner[tn.VNI] = ls.Name
		name := VRFName(tn.VNI)
		var ports []plan.VRFPort
		for _, ln := range d.t.NBLocalnets(ls.UUID) {
			br, ok := bridgeOf[ln.Options["network_name"]]
			if !ok {
				continue
			}
			if ln.Tag == nil || *ln.Tag == 0 {
				d.warn(ls.Name, "flat-tenant", fmt.Sprintf("localnet %s is flat: ovnbgp routes a tenant VRF through the VLAN device of its provider network, so a tenant network must be a VLAN network; this network is not served", ln.Name))
				continue
			}
			if !plan.ValidVLAN(*ln.Tag) {
				continue // the northbound driver warns about it
			}
			p := plan.VRFPort{Bridge: br, VLAN: *ln.Tag}
			d.wires.Add(p, name, ln.Name)
			ports = append(ports, p)
		}
		if len(ports) == 0 {
			continue // its provider network is not on this chassis
		}
		network := ls.ExternalIDs["neutron:network_name"]
		if network == "" {
			network = ls.Name
		}
		rd := tn.RD
		if rd == "" && d.cfg.EVPNLocalIP != "" && !strings.Contains(d.cfg.EVPNLocalIP, ":") {
			rd = fmt.Sprintf("%s:%d", d.cfg.EVPNLocalIP, tn.VNI)
		}
		d.vrfs = append(d.vrfs, plan.VRF{Name: name, VNI: tn.VNI, Table: int(tn.VNI), RD: rd,
			ImportRT: tn.ImportRT, ExportRT: tn.ExportRT, Network: network, Ports: ports})
	}
}

func (d *Driver) warn(row, reason, detail string) {
	d.warnings = plan.Warn(d.warnings, nbdb.LogicalSwitchTable, row, reason, detail)
}

// Sources are the northbound driver's.
func (d *Driver) Sources() []plan.RowRef { return d.nb.Sources() }

// Plan is the northbound driver's contribution, each entry put in the VRF
// of the tenant network it is wired on; entries on other networks are
// dropped.
func (d *Driver) Plan(src plan.RowRef) plan.Contribution {
	return d.relabel(d.nb.Plan(src))
}

func (d *Driver) relabel(c plan.Contribution) plan.Contribution { return d.wires.Into(c) }

// Affected is the northbound driver's (tenant changes re-plan all in Reset).
func (d *Driver) Affected(src plan.RowRef) ([]plan.RowRef, bool) { return d.nb.Affected(src) }

// Bridges are the northbound driver's.
func (d *Driver) Bridges() []plan.BridgeWiring { return d.nb.Bridges() }

// Flows are the northbound driver's MAC-rewrite flows of the tenants'
// provider networks only (plan.TenantWires.Flows).
func (d *Driver) Flows() []plan.Flow { return d.wires.Flows(d.nb.Flows()) }

// VRFs are the tenant VRFs whose provider network is on this chassis.
func (d *Driver) VRFs() []plan.VRF { return plan.CloneVRFs(d.vrfs) }

// Warnings returns and clears the warnings of both.
func (d *Driver) Warnings() []plan.Warning {
	w := append(d.nb.Warnings(), d.warnings...)
	d.warnings = nil
	return w
}
