package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
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
	return a.Name == b.Name && a.VNI == b.VNI && a.Table == b.Table && a.RD == b.RD && a.Network == b.Network &&
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
