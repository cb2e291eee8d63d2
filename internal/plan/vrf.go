package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// MaxVNI is the largest VXLAN network identifier (24 bits).
const MaxVNI = 1<<24 - 1

// VRF is one tenant VRF the plan's announcements of that VRF live in
// (Announcement.VRF == Name): with exposing_method = vrf, one per VNI.
type VRF struct {
	Name     string   `json:"name"`
	VNI      uint32   `json:"vni,omitempty"`
	Table    int      `json:"table"`
	RD       string   `json:"rd,omitempty"` // "" = the driver's default
	AS       uint32   `json:"as,omitempty"` // AS of its BGP instance; 0 = bgp_AS
	ImportRT []string `json:"import_rt,omitempty"`
	ExportRT []string `json:"export_rt,omitempty"`
	Network  string   `json:"network,omitempty"` // the network it serves
	// Ports are where the VRF meets its provider network on this chassis:
	// the VLAN device of (Bridge, VLAN) is enslaved to the VRF.
	Ports []VRFPort `json:"ports,omitempty"`
}

// VRFPort is one provider network of a VRF on this chassis.
type VRFPort struct {
	Bridge string `json:"bridge"`
	VLAN   int    `json:"vlan"`
}

// VRFPlanner is an optional Driver method: the tenant VRFs, recomputed on
// every call like Bridges and Flows.
type VRFPlanner interface {
	VRFs() []VRF
}

func driverVRFs(d Driver) []VRF {
	if v, ok := d.(VRFPlanner); ok {
		return v.VRFs()
	}
	return nil
}

func vrfEqual(a, b VRF) bool {
	return a.Name == b.Name && a.VNI == b.VNI && a.Table == b.Table && a.RD == b.RD && a.AS == b.AS && a.Network == b.Network &&
		slices.Equal(a.ImportRT, b.ImportRT) && slices.Equal(a.ExportRT, b.ExportRT) && slices.Equal(a.Ports, b.Ports)
}

// CloneVRFs copies a VRF list deeply.
func CloneVRFs(v []VRF) []VRF {
	if v == nil {
		return nil
	}
	out := make([]VRF, len(v))
	for i, x := range v {
		x.ImportRT, x.ExportRT, x.Ports = slices.Clone(x.ImportRT), slices.Clone(x.ExportRT), slices.Clone(x.Ports)
		out[i] = x
	}
	return out
}

// VRFTablesReserved are the routing tables a tenant VRF's table (= its
// VNI) must not be, with what each one is: the kernel's, bgp_vrf's, the
// announce table and the bridge tables.
func VRFTablesReserved(cfg *config.Config) map[int]string {
	r := map[int]string{253: "default", 254: "main", 255: "local"}
	r[cfg.BGPVRFTableID] = "bgp_vrf_table_id"
	if t := cfg.AnnounceTable(); t != 0 {
		r[t] = "the announce table"
	}
	for i := 0; i <= config.MaxBridges; i++ {
		r[cfg.OVNBGP.BridgeTableBase+i] = "a bridge table (bridge_table_base..+" + fmt.Sprint(config.MaxBridges) + ")"
	}
	return r
}

// TenantWires are where the tenant VRFs of a driver meet their provider
// networks: the VRF of each (bridge, VLAN) and the OVN patch ports of
// their localnets (ovn-controller names them patch-<localnet>-to-br-int).
// The zero value is empty.
type TenantWires struct {
	vrf     map[VRFPort]string
	patches map[string]bool
}

// Add puts provider network p (and the patch ports of its localnets) in
// VRF vrf.
func (w *TenantWires) Add(p VRFPort, vrf string, localnets ...string) {
	if w.vrf == nil {
		w.vrf, w.patches = map[VRFPort]string{}, map[string]bool{}
	}
	w.vrf[p] = vrf
	for _, ln := range localnets {
		w.patches["patch-"+ln+"-to-br-int"] = true
	}
}

// VRF is the VRF of provider network p.
func (w *TenantWires) VRF(p VRFPort) (string, bool) {
	v, ok := w.vrf[p]
	return v, ok
}

// Into puts each announcement of c in the VRF of its exposure's provider
// network; the others are dropped (the tenant VRF drivers announce only in
// VRFs).
func (w *TenantWires) Into(c Contribution) Contribution {
	var out Contribution
	for i, a := range c.Announcements {
		var e Exposure
		if i < len(c.Exposures) {
			e = c.Exposures[i]
		}
		vrf, ok := w.vrf[VRFPort{Bridge: e.Bridge, VLAN: e.VLAN}]
		if !ok {
			continue
		}
		a.VRF = vrf
		Add(&out, a, e)
	}
	return out
}

// Flows keeps the MAC-rewrite flows of the tenants' localnets: they send
// the VMs' traffic to the bridge's VLAN device, which is in the tenant's
// VRF; other provider networks are not served, so their traffic is left
// to OVS.
func (w *TenantWires) Flows(fs []Flow) []Flow {
	var out []Flow
	for _, f := range fs {
		if w.patches[f.Port] {
			out = append(out, f)
		}
	}
	return out
}

// String lists the wires in order (for fingerprints).
func (w *TenantWires) String() string { return fmt.Sprint(w.vrf, w.patches) }

// VRFByName returns the VRF of the state named name.
func (s *State) VRFByName(name string) (VRF, bool) {
	for _, v := range s.Wiring.VRFs {
		if v.Name == name {
			return v, true
		}
	}
	return VRF{}, false
}

// ValidRouteTarget accepts the forms FRR takes for a route target of a VRF
// instance: ASN:NN (a 2-byte AS with a 32-bit number, a 4-byte AS with a
// 16-bit one, asdot X.Y:NN) and IPv4:NN. (FRR 8.4 refuses the wildcard
// *:NN there: "Malformed Route Target list".)
func ValidRouteTarget(s string) error { return validRT(s) }

// ValidRouteDistinguisher accepts the same forms for a route distinguisher.
func ValidRouteDistinguisher(s string) error { return validRT(s) }

func validRT(s string) error {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return fmt.Errorf("%q is not <ASN>:<NN> or <IPv4>:<NN>", s)
	}
	admin, num := s[:i], s[i+1:]
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return fmt.Errorf("%q: %q is not a number", s, num)
	}
	if a, err := netip.ParseAddr(admin); err == nil {
		if !a.Is4() || n > 65535 {
			return fmt.Errorf("%q: an IPv4 administrator takes a 16-bit number", s)
		}
		return nil
	}
	if x, y, dot := strings.Cut(admin, "."); dot {
		hi, e1 := strconv.ParseUint(x, 10, 16)
		lo, e2 := strconv.ParseUint(y, 10, 16)
		if e1 != nil || e2 != nil {
			return fmt.Errorf("%q: %q is not an AS number", s, admin)
		}
		admin = strconv.FormatUint(hi<<16|lo, 10)
	}
	as, err := strconv.ParseUint(admin, 10, 32)
	if err != nil || as == 0 {
		return fmt.Errorf("%q: %q is not an AS number or an IPv4 address", s, admin)
	}
	if as > 65535 && n > 65535 {
		return fmt.Errorf("%q: a 4-byte AS takes a 16-bit number", s)
	}
	return nil
}
