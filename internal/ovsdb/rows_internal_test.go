package ovsdb

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
)

// portBindingTable fits the Port_Binding model to Debian's installed
// southbound schema, as a connection does.
func portBindingTable(t testing.TB) *adaptedTable {
	t.Helper()
	b, err := os.ReadFile("/usr/share/ovn/ovn-sb.ovsschema")
	require.NoError(t, err, "the OVN southbound schema (package ovn-common)")
	var s ovsdb.DatabaseSchema
	require.NoError(t, json.Unmarshal(b, &s))
	at, err := adaptTable(sbdb.PortBindingTable, &sbdb.PortBinding{}, s.Table(sbdb.PortBindingTable), sbdb.OptionalColumns[sbdb.PortBindingTable])
	require.NoError(t, err)
	return at
}

// static reads a cached row as the model type.
func static(t *testing.T, at *adaptedTable, row any) *sbdb.PortBinding {
	t.Helper()
	s, err := at.toStatic(row)
	require.NoError(t, err)
	return s.(*sbdb.PortBinding)
}

func cells(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &m))
	return m
}

// TestBadCellsAreErrors: a cell that does not fit its column's type is an
// error naming the column (the caller counts and skips the row), never a
// panic; unknown columns are ignored.
func TestBadCellsAreErrors(t *testing.T) {
	at := portBindingTable(t)
	for _, tc := range []struct{ name, row, err string }{
		{"string for an integer", `{"tunnel_key": "x"}`, "tunnel_key"},
		{"fraction for an integer", `{"tunnel_key": 1.5}`, "tunnel_key"},
		{"set for a map", `{"options": ["set", []]}`, "options"},
		{"short map pair", `{"options": ["map", [["a"]]]}`, "options"},
		{"number for a map key", `{"options": ["map", [[1, "b"]]]}`, "options"},
		{"two values for an optional", `{"chassis": ["set", [["uuid", "a"], ["uuid", "b"]]]}`, "chassis"},
		{"bad uuid", `{"chassis": ["uuid", 5]}`, "chassis"},
		{"string for a boolean", `{"up": "yes"}`, "up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := at.newRow("u1", cells(t, tc.row))
			require.Error(t, err)
			require.Contains(t, err.Error(), "column "+tc.err)
		})
	}
	row, err := at.newRow("u1", cells(t, `{"logical_port": "lp1", "mac": "fa:16:3e:00:00:01", "up": ["set", []], "no_such_column": 1}`))
	require.NoError(t, err)
	pb := static(t, at, row)
	require.Equal(t, "u1", pb.UUID)
	require.Equal(t, []string{"fa:16:3e:00:00:01"}, pb.MAC, "a set of one may be a bare atom")
	require.Nil(t, pb.Up)
}

// TestModifyNeverChangesTheCachedRow: readers hold cached rows without a
// lock, so a modify builds new maps and slices and leaves the old row as it
// was.
func TestModifyNeverChangesTheCachedRow(t *testing.T) {
	at := portBindingTable(t)
	old, err := at.newRow("u1", cells(t, `{"logical_port": "lp1", "mac": ["set", ["a", "b"]], "up": true,
		"options": ["map", [["k1", "v1"], ["k2", "v2"]]]}`))
	require.NoError(t, err)
	row, err := at.modifyRow(old, cells(t, `{"mac": ["set", ["a", "c"]], "up": false,
		"options": ["map", [["k1", "v1"], ["k2", "new"], ["k3", "v3"]]]}`))
	require.NoError(t, err)
	o, n := static(t, at, old), static(t, at, row)
	require.Equal(t, []string{"b", "c"}, n.MAC, "a and c toggled")
	require.False(t, *n.Up, "a single-valued column's modify is its new value")
	require.Equal(t, map[string]string{"k2": "new", "k3": "v3"}, n.Options, "k1 removed (same value), k2 changed, k3 added")
	require.Equal(t, "lp1", n.LogicalPort)

	require.Equal(t, []string{"a", "b"}, o.MAC)
	require.True(t, *o.Up)
	require.Equal(t, map[string]string{"k1": "v1", "k2": "v2"}, o.Options)
}

// TestDecodeUpdate2Params: the monitor id and every kind of row update come
// out of one decode; a delete carries no columns, an empty insert is still
// an insert; params that are not [id, updates] are an error.
func TestDecodeUpdate2Params(t *testing.T) {
	id, tu, err := decodeUpdate2Params(json.RawMessage(`["ovnbgp", {"Port_Binding": {
		"u1": {"modify": {"up": true}},
		"u2": {"insert": {}},
		"u3": {"delete": null},
		"u4": {"initial": {"logical_port": "p4"}}}}]`))
	require.NoError(t, err)
	require.Equal(t, `"ovnbgp"`, string(id))
	pb := tu["Port_Binding"]
	require.Len(t, pb, 4)
	require.Equal(t, map[string]any{"up": true}, pb["u1"].Modify)
	require.NotNil(t, pb["u2"].Insert)
	require.Empty(t, pb["u2"].Insert)
	require.Equal(t, rowUpdate2{}, pb["u3"])
	require.Equal(t, map[string]any{"logical_port": "p4"}, pb["u4"].Initial)
	for _, bad := range []string{`["ovnbgp"]`, `["ovnbgp", {}, 3]`, `{"a": 1}`, `["ovnbgp", [1]]`, `[`} {
		_, _, err := decodeUpdate2Params(json.RawMessage(bad))
		require.Error(t, err, bad)
	}
	// The decoder's own error says what did not fit.
	_, _, err = decodeUpdate2Params(json.RawMessage(`["ovnbgp", {"Port_Binding": {"u1": {"modify": 3}}}]`))
	require.ErrorContains(t, err, "cannot unmarshal number")
}
