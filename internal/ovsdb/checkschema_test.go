package ovsdb_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	libovsdb "github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestCheckSchema: the schemas of the releases ovnbgp supports fit its
// models whole; a schema lacking a table, or a column the models need and
// do not list as optional, is refused naming it; an optional column may be
// missing.
func TestCheckSchema(t *testing.T) {
	trixie := trixieSchemas(t)
	read := func(t *testing.T, path string, edit func(tables map[string]any)) libovsdb.DatabaseSchema {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			edit(m["tables"].(map[string]any))
			raw, _ = json.Marshal(m)
		}
		var s libovsdb.DatabaseSchema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	dropColumn := func(table, col string) func(map[string]any) {
		return func(tables map[string]any) {
			delete(tables[table].(map[string]any)["columns"].(map[string]any), col)
		}
	}
	cases := []struct {
		name   string
		spec   ovsdb.DBSpec
		schema string
		edit   func(map[string]any)
		want   string // "" = fits
	}{
		{"sb 23.03", ovsdb.Southbound, ovsdbserver.SBSchema, nil, ""},
		{"nb 23.03", ovsdb.Northbound, ovsdbserver.NBSchema, nil, ""},
		{"vswitch 3.1", ovsdb.VSwitch, ovsdbserver.VSwitchSchema, nil, ""},
		{"sb 25.03", ovsdb.Southbound, filepath.Join(trixie, "ovn-sb.ovsschema"), nil, ""},
		{"nb 25.03", ovsdb.Northbound, filepath.Join(trixie, "ovn-nb.ovsschema"), nil, ""},
		{"skewed sb (convertible types)", ovsdb.Southbound, ovsdbserver.SkewedSBSchema(t), nil, ""},
		{"optional column missing", ovsdb.Southbound, ovsdbserver.SBSchema, dropColumn("Port_Binding", "requested_chassis"), ""},
		{"needed column missing", ovsdb.Southbound, ovsdbserver.SBSchema, dropColumn("Port_Binding", "logical_port"), "logical_port"},
		{"table missing", ovsdb.Southbound, ovsdbserver.SBSchema, func(t map[string]any) { delete(t, "Load_Balancer") }, "no table Load_Balancer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ovsdb.CheckSchema(c.spec, read(t, c.schema, c.edit))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want fit, got %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("want an error naming %q, got %v", c.want, err)
			}
		})
	}
}
