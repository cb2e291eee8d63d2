package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Rows arrive in OVSDB's JSON notation (RFC 7047 section 5.1) and are read
// straight into the table's dynamic struct (see adaptedTable): one generic
// JSON decode per update, then one conversion per cell, driven by the
// column's schema. Cached rows are never modified: a change makes a new
// row that shares the unchanged cells.

// column is one monitored column of a dynamic struct.
type column struct {
	name  string
	field int          // index in the dynamic struct
	typ   reflect.Type // native type (libovsdb's ovsdb.NativeType)
	key   string       // atomic type of a scalar, or of a set's or a map's keys
	value string       // atomic type of a map's values
	// multi: the column holds more than one value (a set or map of max >
	// 1), so a modify carries the difference; a single-valued column's
	// modify carries the new value (ovsdb-server(7), update2).
	multi bool
}

func newColumn(name string, field int, cs *ovsdb.ColumnSchema) *column {
	c := &column{name: name, field: field, typ: ovsdb.NativeType(cs), key: string(cs.Type)}
	if cs.TypeObj != nil && cs.TypeObj.Key != nil && (cs.Type == ovsdb.TypeSet || cs.Type == ovsdb.TypeMap || cs.Type == ovsdb.TypeEnum) {
		c.key = string(cs.TypeObj.Key.Type)
	}
	if cs.Type == ovsdb.TypeMap && cs.TypeObj.Value != nil {
		c.value = string(cs.TypeObj.Value.Type)
	}
	if cs.TypeObj != nil && (cs.Type == ovsdb.TypeSet || cs.Type == ovsdb.TypeMap) {
		c.multi = cs.TypeObj.Max() == ovsdb.Unlimited || cs.TypeObj.Max() > 1
	}
	return c
}

// tableUpdates2 is an update2 notification's (or the monitor_cond reply's)
// table-updates2: table -> row UUID -> row update, with cells decoded
// generically.
type tableUpdates2 map[string]map[string]rowUpdate2

// rowUpdate2 is one row's update: the columns of a row in the initial
// download or inserted, or a modify's difference; none of them for a
// delete ("delete": null).
type rowUpdate2 struct {
	Initial map[string]any `json:"initial"`
	Insert  map[string]any `json:"insert"`
	Modify  map[string]any `json:"modify"`
}

func decodeUpdates(b json.RawMessage) (tableUpdates2, error) {
	var tu tableUpdates2
	if err := json.Unmarshal(b, &tu); err != nil {
		return nil, fmt.Errorf("table updates: %w", err)
	}
	return tu, nil
}

// decodeUpdate2Params reads update2's params: [monitor id, table-updates2],
// in one pass straight into both (the decoder fills the values the
// elements point to).
func decodeUpdate2Params(b json.RawMessage) (json.RawMessage, tableUpdates2, error) {
	var id json.RawMessage
	var tu tableUpdates2
	params := []any{&id, &tu}
	if err := json.Unmarshal(b, &params); err != nil {
		return nil, nil, fmt.Errorf("update2 params %.100s: %w", b, err)
	}
	if len(params) != 2 {
		return nil, nil, fmt.Errorf("update2 params: want [monitor id, table updates], got %.100s", b)
	}
	return bytes.TrimSpace(id), tu, nil
}

// newRow builds a row from an initial or insert row update.
func (at *adaptedTable) newRow(uuid string, cells map[string]any) (any, error) {
	v := reflect.New(at.dynamic)
	e := v.Elem()
	e.Field(at.uuidField).SetString(uuid)
	for name, cell := range cells {
		c := at.cols[name]
		if c == nil {
			continue // not monitored
		}
		nv, err := c.native(cell)
		if err != nil {
			return nil, err
		}
		e.Field(c.field).Set(nv)
	}
	return v.Interface(), nil
}

// modifyRow returns a new row: old with a modify row update applied (the
// update2 diff: a single-valued column's new value, the elements a set
// gains or loses, the pairs a map gains, loses or changes).
func (at *adaptedTable) modifyRow(old any, diff map[string]any) (any, error) {
	ov := reflect.ValueOf(old)
	if ov.Kind() != reflect.Pointer || ov.Elem().Type() != at.dynamic {
		return nil, fmt.Errorf("table %s: unexpected row type %T", at.name, old)
	}
	v := reflect.New(at.dynamic)
	e := v.Elem()
	e.Set(ov.Elem())
	for name, cell := range diff {
		c := at.cols[name]
		if c == nil {
			continue
		}
		f := e.Field(c.field)
		nv, err := c.apply(f, cell)
		if err != nil {
			return nil, err
		}
		f.Set(nv)
	}
	return v.Interface(), nil
}

// native converts a whole cell.
func (c *column) native(cell any) (reflect.Value, error) {
	switch c.typ.Kind() {
	case reflect.Map:
		pairs, err := mapPairs(cell)
		if err != nil {
			return reflect.Value{}, c.errorf(err)
		}
		m := reflect.MakeMapWithSize(c.typ, len(pairs))
		for _, p := range pairs {
			k, v, err := c.pair(p)
			if err != nil {
				return reflect.Value{}, err
			}
			m.SetMapIndex(k, v)
		}
		return m, nil
	case reflect.Slice, reflect.Pointer:
		return c.fromElems(nil, setElems(cell))
	default:
		return c.scalar(cell)
	}
}

// scalar converts a scalar cell; a set of exactly one element (a column
// of min 1, max 1) may come as ["set", [atom]].
func (c *column) scalar(cell any) (reflect.Value, error) {
	if e := setElems(cell); len(e) == 1 {
		cell = e[0]
	}
	return c.atom(c.key, cell)
}

// apply returns the field's new value after a modify diff.
func (c *column) apply(cur reflect.Value, cell any) (reflect.Value, error) {
	if !c.multi {
		return c.native(cell)
	}
	switch c.typ.Kind() {
	case reflect.Map:
		pairs, err := mapPairs(cell)
		if err != nil {
			return reflect.Value{}, c.errorf(err)
		}
		m := reflect.MakeMapWithSize(c.typ, cur.Len()+len(pairs))
		for it := cur.MapRange(); it.Next(); {
			m.SetMapIndex(it.Key(), it.Value())
		}
		for _, p := range pairs {
			k, v, err := c.pair(p)
			if err != nil {
				return reflect.Value{}, err
			}
			if old := m.MapIndex(k); old.IsValid() && old.Interface() == v.Interface() {
				m.SetMapIndex(k, reflect.Value{}) // the same pair again: removed
			} else {
				m.SetMapIndex(k, v) // new key, or new value
			}
		}
		return m, nil
	case reflect.Slice:
		cur0 := make([]reflect.Value, cur.Len())
		for i := range cur0 {
			cur0[i] = cur.Index(i)
		}
		return c.fromElems(cur0, setElems(cell))
	default:
		return reflect.Value{}, c.errorf(fmt.Errorf("a multi-valued column of Go type %s", c.typ))
	}
}

// fromElems builds a set value from the elements of cur toggled by the
// diff's elements: cur's elements not in diff, then diff's not in cur.
// With no cur it is the set of diff's elements.
func (c *column) fromElems(cur []reflect.Value, diff []any) (reflect.Value, error) {
	toggled := make(map[any]bool, len(diff))
	var added []reflect.Value
	for _, d := range diff {
		v, err := c.atom(c.key, d)
		if err != nil {
			return reflect.Value{}, err
		}
		toggled[v.Interface()] = true
		added = append(added, v)
	}
	var out []reflect.Value
	inCur := make(map[any]bool, len(cur))
	for _, v := range cur {
		inCur[v.Interface()] = true
		if !toggled[v.Interface()] {
			out = append(out, v)
		}
	}
	for _, v := range added {
		if !inCur[v.Interface()] {
			out = append(out, v)
		}
	}
	if c.typ.Kind() == reflect.Pointer {
		switch len(out) {
		case 0:
			return reflect.Zero(c.typ), nil
		case 1:
			p := reflect.New(c.typ.Elem())
			p.Elem().Set(out[0])
			return p, nil
		default:
			return reflect.Value{}, c.errorf(fmt.Errorf("%d values for an optional value", len(out)))
		}
	}
	s := reflect.MakeSlice(c.typ, 0, len(out))
	return reflect.Append(s, out...), nil
}

func (c *column) pair(p []any) (reflect.Value, reflect.Value, error) {
	k, err := c.atom(c.key, p[0])
	if err != nil {
		return k, k, err
	}
	v, err := c.atom(c.value, p[1])
	return k, v, err
}

// atom converts one atom of the given atomic type.
func (c *column) atom(typ string, a any) (reflect.Value, error) {
	switch typ {
	case ovsdb.TypeString:
		if s, ok := a.(string); ok {
			return reflect.ValueOf(s), nil
		}
	case ovsdb.TypeInteger:
		if f, ok := a.(float64); ok && f == math.Trunc(f) {
			return reflect.ValueOf(int(f)), nil
		}
	case ovsdb.TypeReal:
		if f, ok := a.(float64); ok {
			return reflect.ValueOf(f), nil
		}
	case ovsdb.TypeBoolean:
		if b, ok := a.(bool); ok {
			return reflect.ValueOf(b), nil
		}
	case ovsdb.TypeUUID:
		if l, ok := a.([]any); ok && len(l) == 2 && (l[0] == "uuid" || l[0] == "named-uuid") {
			if s, ok := l[1].(string); ok {
				return reflect.ValueOf(s), nil
			}
		}
	}
	return reflect.Value{}, c.errorf(fmt.Errorf("%.60v is not a %s", a, typ))
}

func (c *column) errorf(err error) error { return fmt.Errorf("column %s: %w", c.name, err) }

// setElems returns a set's elements: ["set", [atoms]] or a single atom.
func setElems(cell any) []any {
	if l, ok := cell.([]any); ok && len(l) == 2 && l[0] == "set" {
		if elems, ok := l[1].([]any); ok {
			return elems
		}
	}
	return []any{cell}
}

// mapPairs returns a map's pairs: ["map", [[key, value], ...]].
func mapPairs(cell any) ([][]any, error) {
	l, ok := cell.([]any)
	if !ok || len(l) != 2 || l[0] != "map" {
		return nil, fmt.Errorf("%.60v is not a map", cell)
	}
	raw, ok := l[1].([]any)
	if !ok {
		return nil, fmt.Errorf("%.60v is not a map", cell)
	}
	pairs := make([][]any, 0, len(raw))
	for _, r := range raw {
		p, ok := r.([]any)
		if !ok || len(p) != 2 {
			return nil, fmt.Errorf("%.60v is not a map pair", r)
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}
