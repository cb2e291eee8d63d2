package ovsdb_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestModifiesMatchAFreshRead changes every kind of column a row can have
// (scalar, optional, set, map: add, change, remove, clear) through
// ovn-sbctl. After each change the row a live client built from update2
// differences must equal the row a new client reads whole.
func TestModifiesMatchAFreshRead(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	ch1 := addChassis(s, "ch1", "10.1.0.1")
	ch2 := addChassis(s, "ch2", "10.1.0.2")
	pb := addPB(t, s, dp, "lp1", 1)
	live := connectSB(t, s.Remote(), nil, nil)

	steps := [][]string{
		{"set", "Port_Binding", pb, "tunnel_key=7", "type=virtual"},         // scalars
		{"set", "Port_Binding", pb, "chassis=" + ch1, "up=true", "tag=42"},  // optionals from empty
		{"set", "Port_Binding", pb, "chassis=" + ch2, "up=false", "tag=43"}, // optionals changed
		{"clear", "Port_Binding", pb, "chassis"},                            // optional cleared
		{"clear", "Port_Binding", pb, "up", "tag"},
		{"set", "Port_Binding", pb, `mac="fa:16:3e:00:00:01 10.0.0.1"`},                       // set from empty
		{"add", "Port_Binding", pb, "mac", `"fa:16:3e:00:00:02 10.0.0.2"`, `"unknown"`},       // set grows
		{"remove", "Port_Binding", pb, "mac", `"fa:16:3e:00:00:01 10.0.0.1"`},                 // set shrinks
		{"set", "Port_Binding", pb, "additional_chassis=" + ch1 + "," + ch2},                  // set of UUIDs
		{"remove", "Port_Binding", pb, "additional_chassis", ch1},                             //
		{"set", "Port_Binding", pb, "options:a=1", "options:b=2", "external_ids:x=y"},         // map from empty
		{"set", "Port_Binding", pb, "options:a=10", "options:c=3"},                            // map: change and add
		{"remove", "Port_Binding", pb, "options", "b"},                                        // map: remove
		{"set", "Port_Binding", pb, "options:a=1", "options:b=1", "options:c=1"},              // same value in another key
		{"clear", "Port_Binding", pb, "options", "mac", "additional_chassis", "external_ids"}, // clear everything
	}
	for _, st := range steps {
		s.Ctl("ovn-sbctl", st...)
		want := freshRow(t, s.Remote(), pb)
		waitFor(t, "the live row after "+st[0]+" "+st[len(st)-1], func() bool {
			got, ok, err := live.Get(sbdb.PortBindingTable, pb)
			require.NoError(t, err)
			require.True(t, ok)
			return equalPB(got.(*sbdb.PortBinding), want)
		})
	}
	got, _, _ := live.Get(sbdb.PortBindingTable, pb)
	require.Empty(t, got.(*sbdb.PortBinding).Options)
	require.Nil(t, got.(*sbdb.PortBinding).Chassis)
}

// freshRow reads the row through a new connection.
func freshRow(t *testing.T, remote, uuid string) *sbdb.PortBinding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: remote, Logger: testLogger(t), Tables: []string{sbdb.PortBindingTable}})
	require.NoError(t, err)
	defer c.Close()
	row, ok, err := c.Get(sbdb.PortBindingTable, uuid)
	require.NoError(t, err)
	require.True(t, ok)
	return row.(*sbdb.PortBinding)
}

// equalPB compares two rows: sets in any order, a nil map or slice equal
// to an empty one (an initial row omits empty columns; a modify that
// empties one leaves an empty value).
func equalPB(a, b *sbdb.PortBinding) bool {
	norm := func(p *sbdb.PortBinding) sbdb.PortBinding {
		c := *p
		if len(c.Options) == 0 {
			c.Options = nil
		}
		if len(c.ExternalIDs) == 0 {
			c.ExternalIDs = nil
		}
		set := func(s []string) []string {
			if len(s) == 0 {
				return nil
			}
			return slices.Sorted(slices.Values(s))
		}
		c.MAC, c.AdditionalChassis, c.NatAddresses = set(c.MAC), set(c.AdditionalChassis), set(c.NatAddresses)
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
