package sbevpn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Upstream's keys, on the Port_Binding external_ids of the switch-side
// port of a router gateway (the port named after "cr-lrp-").
const (
	KeyVNI = "neutron_bgpvpn:vni"
	KeyAS  = "neutron_bgpvpn:as"
)

// errNotEVPN: the row has neither key.
var errNotEVPN = errors.New("no EVPN keys")

// Keys are the EVPN keys of a router gateway.
type Keys struct {
	VNI uint32
	AS  uint32
}

// ParseKeys reads neutron_bgpvpn:vni (1..16777215) and neutron_bgpvpn:as
// (a 4-byte AS number, 1..4294967295, plain or asdot X.Y). Neither key:
// errNotEVPN; one without the other or a malformed value: an error naming
// the key.
func ParseKeys(ids map[string]string) (Keys, error) {
	vs, hasV := ids[KeyVNI]
	as, hasA := ids[KeyAS]
	if !hasV && !hasA {
		return Keys{}, errNotEVPN
	}
	if !hasV {
		return Keys{}, fmt.Errorf("%s=%q without %s", KeyAS, as, KeyVNI)
	}
	if !hasA {
		return Keys{}, fmt.Errorf("%s=%q without %s", KeyVNI, vs, KeyAS)
	}
	vni, err := strconv.ParseUint(strings.TrimSpace(vs), 10, 32)
	if err != nil || vni < 1 || vni > plan.MaxVNI {
		return Keys{}, fmt.Errorf("%s=%q is not a VNI 1..%d", KeyVNI, vs, plan.MaxVNI)
	}
	n, err := parseAS(strings.TrimSpace(as))
	if err != nil {
		return Keys{}, fmt.Errorf("%s=%q is not an AS number 1..4294967295 (or asdot X.Y)", KeyAS, as)
	}
	return Keys{VNI: uint32(vni), AS: n}, nil
}

func parseAS(s string) (uint32, error) {
	if hi, lo, dot := strings.Cut(s, "."); dot {
		h, e1 := strconv.ParseUint(hi, 10, 16)
		l, e2 := strconv.ParseUint(lo, 10, 16)
		if e1 != nil || e2 != nil || h<<16|l == 0 {
			return 0, errors.New("bad asdot")
		}
		return uint32(h<<16 | l), nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errors.New("bad AS")
	}
	return uint32(n), nil
}
