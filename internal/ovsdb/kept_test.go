package ovsdb_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestMalformedRowKeepsLastGoodVersionAcrossResyncs makes a row unreadable
// (two chassis where the model has one) and checks that its last good
// version survives a server restart and a condition change, with no
// delete event; that a readable version replaces it; and that it goes
// when the row leaves the conditions or is deleted.
func TestMalformedRowKeepsLastGoodVersionAcrossResyncs(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SkewedSBSchema(t)})
	dp := sbFixture(t, s)
	ch1 := addChassis(s, "a", "10.0.0.1")
	ch2 := addChassis(s, "b", "10.0.0.2")
	vm1 := addPB(t, s, dp, "vm1", 1, "chassis="+ch1)
	vm2 := addPB(t, s, dp, "vm2", 2, "chassis="+ch1)
	addPB(t, s, dp, "other", 3)
	setChassis := func(uuid, cell string) {
		s.Transact(`["OVN_Southbound",{"op":"update","table":"Port_Binding","where":[["_uuid","==",["uuid","` + uuid + `"]]],"row":{"chassis":` + cell + `}}]`)
	}
	two := `["set",[["uuid","` + ch1 + `"],["uuid","` + ch2 + `"]]]`
	ports := func(names ...string) map[string][]ovsdb.Condition {
		var cs []ovsdb.Condition
		for _, n := range names {
			cs = append(cs, ovsdb.Equal("logical_port", n))
		}
		return map[string][]ovsdb.Condition{sbdb.PortBindingTable: cs}
	}
	rec := &recorder{}
	c := connectSB(t, s.Remote(), rec, ports("vm1", "vm2", "other"))
	chassisOf := func(uuid string) string {
		t.Helper()
		row, ok, err := c.Get(sbdb.PortBindingTable, uuid)
		require.NoError(t, err)
		if !ok {
			return "gone"
		}
		if ch := row.(*sbdb.PortBinding).Chassis; ch != nil {
			return *ch
		}
		return ""
	}
	deleted := func(uuid string) bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, e := range rec.events {
			if e.UUID == uuid && e.Op == ovsdb.OpDelete {
				return true
			}
		}
		return false
	}
	listed := func(uuid string) bool {
		found := false
		c.ForEach(sbdb.PortBindingTable, func(u string, _ any) bool { found = found || u == uuid; return true })
		return found
	}
	require.Equal(t, ch1, chassisOf(vm1))

	setChassis(vm1, two)
	setChassis(vm2, two)
	rec.waitEvent(t, "vm1 malformed", func(e ovsdb.Event) bool { _, err := e.New(); return e.UUID == vm1 && err != nil })
	require.Equal(t, ch1, chassisOf(vm1), "last good version within the generation")

	s.Restart()
	waitFor(t, "the reconnect", func() bool { return rec.resyncCount() == 2 })
	require.Equal(t, ch1, chassisOf(vm1), "last good version after a reconnect")
	require.True(t, listed(vm1))

	c.SetConditions(ports("vm1", "vm2", "third"))
	waitFor(t, "the condition change", func() bool { return rec.resyncCount() == 3 })
	require.Equal(t, ch1, chassisOf(vm1), "last good version after a condition change")
	require.True(t, listed(vm1))
	require.False(t, deleted(vm1), "no delete for a malformed row the server still has")

	// Readable again: the new version replaces the kept one.
	setChassis(vm1, `["uuid","`+ch2+`"]`)
	waitFor(t, "vm1 readable again", func() bool { return chassisOf(vm1) == ch2 })

	// A real delete removes a kept row.
	s.Ctl("ovn-sbctl", "destroy", "Port_Binding", vm2)
	waitFor(t, "vm2 deleted", func() bool { return chassisOf(vm2) == "gone" && deleted(vm2) })

	// A kept row that leaves the conditions goes.
	setChassis(vm1, two)
	waitFor(t, "vm1 malformed again", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, e := range rec.events {
			if _, err := e.New(); e.UUID == vm1 && err != nil {
				n++
			}
		}
		return n == 2
	})
	require.Equal(t, ch2, chassisOf(vm1))
	c.SetConditions(ports("other"))
	waitFor(t, "vm1 out of the conditions", func() bool { return rec.resyncCount() == 4 })
	require.Equal(t, "gone", chassisOf(vm1))
	require.False(t, listed(vm1))
	require.True(t, deleted(vm1))
}
