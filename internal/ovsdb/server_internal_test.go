package ovsdb

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemberRefusal(t *testing.T) {
	healthy := serverDB{model: "clustered", connected: true, hasSchema: true, index: 10, hasIndex: true}
	with := func(f func(*serverDB)) *serverDB { d := healthy; f(&d); return &d }
	for _, tc := range []struct {
		name       string
		db         *serverDB
		minIndex   int64
		leaderOnly bool
		want       string
	}{
		{"no database row", nil, 0, false, refusedNoDatabase},
		{"standalone", &serverDB{model: "standalone"}, 99, true, ""},
		{"clustered healthy follower", &healthy, 10, false, ""},
		{"clustered not joined", with(func(d *serverDB) { d.hasSchema = false }), 0, false, refusedNotJoined},
		{"clustered disconnected", with(func(d *serverDB) { d.connected = false }), 0, false, refusedDisconnected},
		{"clustered follower, leader only", &healthy, 0, true, refusedNotLeader},
		{"clustered leader, leader only", with(func(d *serverDB) { d.leader = true }), 0, true, ""},
		{"clustered behind the last index seen", &healthy, 11, false, refusedStale},
		{"clustered ahead of the last index seen", &healthy, 9, false, ""},
		{"clustered without an index", with(func(d *serverDB) { d.hasIndex, d.index = false, 0 }), 11, false, ""},
		{"relay connected", &serverDB{model: "relay", connected: true, hasSchema: true}, 99, false, ""},
		{"relay without schema", &serverDB{model: "relay", connected: true}, 0, false, refusedNotJoined},
		{"relay disconnected", &serverDB{model: "relay", hasSchema: true}, 0, false, refusedDisconnected},
		{"relay, leader only", &serverDB{model: "relay", connected: true, hasSchema: true}, 0, true, refusedNotLeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, text := memberRefusal(tc.db, tc.minIndex, tc.leaderOnly)
			require.Equal(t, tc.want, got, text)
			require.Equal(t, got == "", text == "", "a refusal says why")
		})
	}
}

func TestDecodeServerRow(t *testing.T) {
	for _, tc := range []struct {
		row  string
		want serverDB
	}{
		{`{"name":"OVN_Southbound","model":"clustered","connected":true,"leader":false,"schema":"{}","index":42}`,
			serverDB{model: "clustered", connected: true, hasSchema: true, index: 42, hasIndex: true}},
		{`{"name":"OVN_Southbound","model":"clustered","connected":false,"leader":false,"schema":["set",[]],"index":["set",[]]}`,
			serverDB{model: "clustered"}},
		{`{"name":"OVN_Southbound","model":"standalone","connected":true,"leader":true,"schema":"{}","index":["set",[]]}`,
			serverDB{model: "standalone", connected: true, leader: true, hasSchema: true}},
	} {
		name, db, err := decodeServerRow(json.RawMessage(tc.row))
		require.NoError(t, err)
		require.Equal(t, "OVN_Southbound", name)
		require.Equal(t, tc.want, *db, tc.row)
	}
	_, _, err := decodeServerRow(json.RawMessage(`{"name":"x","model":"clustered","connected":"yes","leader":false}`))
	require.ErrorContains(t, err, "connected")
}
