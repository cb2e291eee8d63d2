package ovsdb

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"reflect"
	"testing"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// fuzzTables fits the southbound model to the installed OVN schema.
func fuzzTables(t testing.TB) map[string]*adaptedTable {
	t.Helper()
	b, err := os.ReadFile("/usr/share/ovn/ovn-sb.ovsschema")
	if err != nil {
		t.Fatalf("the OVN southbound schema (package ovn-common): %v", err)
	}
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	tables := map[string]*adaptedTable{}
	for name, proto := range Southbound.Tables {
		at, err := adaptTable(name, proto, s.Table(name), Southbound.Optional[name])
		if err != nil {
			t.Fatal(err)
		}
		tables[name] = at
	}
	return tables
}

// fuzzInitial is the cache fuzzGeneration starts from: one Port_Binding
// ("pb1") and one Chassis ("ch1").
const fuzzInitial = `["ovnbgp",{
	"Port_Binding":{"pb1":{"initial":{"logical_port":"lp1","tunnel_key":1,"mac":["set",["fa:16:3e:00:00:01 10.0.0.1"]],
		"chassis":["uuid","ch1"],"options":["map",[["requested-chassis","c1"]]],"up":true}}},
	"Chassis":{"ch1":{"initial":{"name":"c1","hostname":"h1","other_config":["map",[["ovn-bridge-mappings","physnet1:br-ex"]]]}}}}]`

// fuzzGeneration is a client and its generation over tables with the
// fuzzInitial rows cached.
func fuzzGeneration(t testing.TB, tables map[string]*adaptedTable) (*Client, *generation) {
	t.Helper()
	c := &Client{spec: Southbound, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	g := &generation{tables: tables, rows: map[string]map[string]any{}, kept: map[string]map[string]any{}}
	for name := range tables {
		g.rows[name] = map[string]any{}
	}
	c.gen = g
	_, tu, err := decodeUpdate2Params(json.RawMessage(fuzzInitial))
	if err != nil {
		t.Fatal(err)
	}
	c.apply(g, nil, tu, false)
	return c, g
}

// FuzzUpdate2 feeds update2 params through the decoder into the row cache
// of a real schema: nothing may panic, every cached row has its table's
// type, and every event and every row the readers return reads as the
// static model (a row that does not is malformed and is skipped or served
// at its last good version).
func FuzzUpdate2(f *testing.F) {
	for _, seed := range []string{
		`["ovnbgp",{"Port_Binding":{"pb1":{"modify":{"up":false}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb1":{"modify":{"chassis":["uuid","ch2"],"options":["map",[["requested-chassis","c0"]]],"up":true}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb1":{"modify":{"mac":["set",["fa:16:3e:00:00:01 10.0.0.1","x"]]}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb1":{"delete":null},"pb2":{"insert":{"logical_port":"lp2","tunnel_key":2}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb3":{"modify":{"up":true}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb1":{"modify":{"tunnel_key":1.5}}}}]`,
		`["ovnbgp",{"Port_Binding":{"pb1":{"modify":{"chassis":["set",[]]}}}}]`,
		`["ovnbgp",{"Chassis":{"ch1":{"modify":{"other_config":["map",[["ovn-bridge-mappings","physnet1:br-ex"],["k",1]]]}}}}]`,
		`["ovnbgp",{"Datapath_Binding":{"d1":{"insert":{"tunnel_key":7,"external_ids":["map",[["name","n"]]]}}}}]`,
		`["ovnbgp",{"Load_Balancer":{"lb1":{"insert":{"name":"lb","vips":["map",[["1.2.3.4:80","10.0.0.1:80"]]]}}}}]`,
		`["other",{"Port_Binding":{"pb1":{"delete":null}}}]`,
		`["ovnbgp",{"Nope":{"x":{"insert":{}}}}]`,
		`["ovnbgp"]`,
		`[`,
	} {
		f.Add([]byte(seed))
	}
	tables := fuzzTables(f)
	f.Fuzz(func(t *testing.T, params []byte) {
		c, g := fuzzGeneration(t, tables)
		_, tu, err := decodeUpdate2Params(json.RawMessage(params))
		if err != nil {
			return
		}
		for _, e := range c.apply(g, nil, tu, true) {
			e.db = c.spec.Name
			if _, err := e.Old(); err != nil {
				t.Fatalf("event %s %s: the old row was cached although it does not read: %v", e.Table, e.UUID, err)
			}
			_, _ = e.New()
		}
		for table, rows := range g.rows {
			at := g.tables[table]
			for u, r := range rows {
				if reflect.TypeOf(r) != reflect.PointerTo(at.dynamic) {
					t.Fatalf("%s %s: cached as %T", table, u, r)
				}
			}
			c.ForEach(table, func(u string, row any) bool {
				if reflect.TypeOf(row) != reflect.PointerTo(at.static) {
					t.Fatalf("%s %s: read as %T", table, u, row)
				}
				return true
			})
		}
	})
}
