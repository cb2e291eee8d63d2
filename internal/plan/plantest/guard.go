// Package plantest holds the test helpers the driver packages share.
package plantest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// GuardedDriver is a driver with its address guard.
type GuardedDriver interface {
	plan.Driver
	Guard() *plan.Guard
}

// CheckGuard plans d fully with the protected facts and compares the
// announced prefixes and the warnings ("row reason") with want and warn.
func CheckGuard(t testing.TB, d GuardedDriver, protected plan.Protected, want, warn []string) {
	t.Helper()
	d.Guard().SetProtected(protected)
	st, ws := plan.Full(d, "c1")
	require.Equal(t, sorted(want), Announced(st))
	require.Equal(t, sorted(warn), Warned(ws))
}

// Announced lists the announced prefixes, sorted.
func Announced(st *plan.State) []string {
	var out []string
	for _, a := range st.Announcements {
		out = append(out, a.Prefix.String())
	}
	slices.Sort(out)
	return out
}

// Warned lists the warnings as "row reason", sorted.
func Warned(ws []plan.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Row+" "+w.Reason)
	}
	slices.Sort(out)
	return out
}

// CheckVLANRefused: of the VMs on "bad" (VLAN tag) and "good" (VLAN 100,
// same physnet on br-vlan), only the good one is served, its tag alone on
// the bridge, and the bad localnet is named in a warning.
func CheckVLANRefused(t testing.TB, st *plan.State, ws []plan.Warning, tag int) {
	t.Helper()
	require.Equal(t, []string{"172.24.6.10/32"}, Announced(st), "tag %d", tag)
	require.Contains(t, Warned(ws), "provnet-bad bad-vlan-tag", "tag %d", tag)
	for _, b := range st.Wiring.Bridges {
		if b.Bridge == "br-vlan" {
			require.Equal(t, []int{100}, b.VLANs, "tag %d", tag)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
