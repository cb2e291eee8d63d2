package dynamic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Features says which parts of OVN's dynamic routing the connected OVN
// database has.
type Features struct {
	// Routing: dynamic-routing routers, VRFs, Advertised_Route and
	// Learned_Route (OVN 25.03).
	Routing bool
	// Reason is the one line an operator reads when Routing is false.
	Reason string
}

// Southbound tables of OVN 25.03's dynamic routing.
const (
	AdvertisedRouteTable = "Advertised_Route"
	LearnedRouteTable    = "Learned_Route"
)

// NorthboundMinVersion is the northbound schema version of OVN 25.03, the
// first release whose ovn-northd and ovn-controller implement
// dynamic-routing routers (its options are keys of option maps, so the
// northbound schema shows them only by its version).
const NorthboundMinVersion = "7.11.0"

// SouthboundFeatures reads the features from a southbound schema: OVN
// 25.03 added the Advertised_Route and Learned_Route tables.
func SouthboundFeatures(s ovsdb.DatabaseSchema) Features {
	var missing []string
	for _, t := range []string{AdvertisedRouteTable, LearnedRouteTable} {
		if s.Table(t) == nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return Features{Reason: fmt.Sprintf("exposing_method = dynamic needs OVN 25.03 or later: this southbound database (schema %s) has no %s table",
			s.Version, strings.Join(missing, " or "))}
	}
	return Features{Routing: true}
}

// NorthboundFeatures reads the features from a northbound schema, by its
// version (NorthboundMinVersion).
func NorthboundFeatures(s ovsdb.DatabaseSchema) Features {
	if versionLess(s.Version, NorthboundMinVersion) {
		return Features{Reason: fmt.Sprintf("exposing_method = dynamic needs OVN 25.03 or later: this northbound database has schema %s, OVN 25.03's is %s",
			s.Version, NorthboundMinVersion)}
	}
	return Features{Routing: true}
}

// versionLess compares dotted schema versions numerically; an unreadable
// version is older than every readable one.
func versionLess(a, b string) bool {
	pa, oka := parseVersion(a)
	pb, okb := parseVersion(b)
	if !oka || !okb {
		return !oka && okb
	}
	for i := range 3 {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
