package ovsdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestRelayChassisStartup: the agent's southbound start-up, entirely
// through an ovsdb-server relay (relay:OVN_Southbound:<source>), as a
// large deployment puts in front of the southbound: the chassis' own UUID
// read with LookupUUID (a transact the relay forwards to its source), the
// conditional monitor of that chassis (a port bound elsewhere is not
// sent), a condition change (a tenant datapath added: its ports arrive),
// and a binding committed on the source reaching the client.
func TestRelayChassisStartup(t *testing.T) {
	src := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	me := addChassis(src, "ch-me", "192.0.2.1")
	other := addChassis(src, "ch-other", "192.0.2.2")
	dp := sbFixture(t, src)
	tenant := src.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=2", "external_ids:name=tenant1")
	mine := addPB(t, src, dp, "vm-mine", 1, "chassis="+me)
	theirs := addPB(t, src, dp, "vm-theirs", 2, "chassis="+other)
	behind := addPB(t, src, tenant, "vm-behind", 1, "chassis="+other)
	relay := ovsdbserver.StartRelay(t, ovsdbserver.SBSchema, src.Remote())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var uuid string
	waitFor(t, "LookupUUID through the relay", func() bool {
		u, err := ovsdb.LookupUUID(ctx, ovsdb.Southbound, ovsdb.Options{Remote: relay.Remote(), Logger: testLogger(t)},
			sbdb.ChassisTable, "name", "ch-me")
		uuid = u
		return err == nil && u != ""
	})
	require.Equal(t, me, uuid)

	need := ovsdb.SouthboundNeed{Chassis: "ch-me", ChassisUUID: uuid}
	rec := &recorder{}
	c := connectSB(t, relay.Remote(), rec, ovsdb.SouthboundConditions(need))
	has := func(u string) bool {
		_, ok, err := c.Get(sbdb.PortBindingTable, u)
		require.NoError(t, err)
		return ok
	}
	require.True(t, has(mine), "own port through the relay")
	require.False(t, has(theirs), "another chassis' port is not sent")
	require.False(t, has(behind), "a tenant port before its datapath is needed")

	need.Datapaths = []string{tenant}
	c.SetConditions(ovsdb.SouthboundConditions(need))
	waitFor(t, "the tenant datapath's ports", func() bool { return has(behind) })

	src.Ctl("ovn-sbctl", "set", "Port_Binding", theirs, "chassis="+me)
	rec.waitEvent(t, "a binding here, committed on the source", func(e ovsdb.Event) bool { return e.UUID == theirs && e.Op == ovsdb.OpAdd })
}
