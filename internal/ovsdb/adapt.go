package ovsdb

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// adaptedTable is one table of a static model fitted to a server's schema.
//
// A static model may declare columns an older server lacks, and a Go type
// that differs from the column's native type (libovsdb's ovsdb.NativeType).
// So at connect time we build, with reflect.StructOf, a struct type holding
// only the columns the server has, each with the server's own native type:
// every cell the server sends fits it. The cache holds values of that type;
// readers get the static type, converted field by field. A cell that cannot
// be converted (e.g. a set of two where the static model wants an optional
// single value) makes that row malformed: it is reported and skipped, the
// other rows are unaffected.
type adaptedTable struct {
	name       string
	static     reflect.Type // static model struct type
	dynamic    reflect.Type // struct type of the cached rows
	columns    []string     // monitored columns, without _uuid
	cols       map[string]*column
	uuidField  int // index of _uuid in the dynamic struct
	fieldPairs []fieldPair
	same       bool // dynamic has exactly the static fields with the same types: convert by copy
}

type fieldPair struct {
	dyn, static int
	convert     bool
}

// adaptTable fits the static prototype to the server's table schema.
// optional lists the declared columns the server may lack.
func adaptTable(name string, proto any, ts *ovsdb.TableSchema, optional []string) (*adaptedTable, error) {
	st := reflect.TypeOf(proto)
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	opt := make(map[string]bool, len(optional))
	for _, c := range optional {
		opt[c] = true
	}
	at := &adaptedTable{name: name, static: st, same: true, cols: map[string]*column{}, uuidField: -1}
	var fields []reflect.StructField
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		col := f.Tag.Get("ovsdb")
		if col == "" {
			continue
		}
		if col == "_uuid" {
			at.uuidField = len(fields)
			at.fieldPairs = append(at.fieldPairs, fieldPair{dyn: len(fields), static: i})
			fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
			continue
		}
		cs := ts.Column(col)
		if cs == nil {
			if opt[col] {
				at.same = false
				continue
			}
			return nil, fmt.Errorf("table %s: server schema has no column %q", name, col)
		}
		nt := ovsdb.NativeType(cs)
		conv := nt != f.Type
		if conv {
			if !convertible(nt, f.Type) {
				return nil, fmt.Errorf("table %s column %s: server type %s cannot be read as %s", name, col, nt, f.Type)
			}
			at.same = false
		}
		at.fieldPairs = append(at.fieldPairs, fieldPair{dyn: len(fields), static: i, convert: conv})
		at.cols[col] = newColumn(col, len(fields), cs)
		fields = append(fields, reflect.StructField{Name: f.Name, Type: nt, Tag: f.Tag})
		at.columns = append(at.columns, col)
	}
	if at.uuidField < 0 {
		return nil, fmt.Errorf("table %s: the model has no _uuid field", name)
	}
	if at.same {
		at.dynamic = st
	} else {
		at.dynamic = reflect.StructOf(fields)
	}
	return at, nil
}

// toStatic converts a cached row (pointer to the dynamic type) to a pointer
// to the static model type. Maps and slices are shared with the cache, whose
// rows are replaced rather than mutated: callers must not modify them.
func (at *adaptedTable) toStatic(row any) (any, error) {
	src := reflect.ValueOf(row)
	if src.Kind() != reflect.Pointer || src.Elem().Type() != at.dynamic {
		return nil, fmt.Errorf("table %s: unexpected row type %T", at.name, row)
	}
	if at.same {
		return row, nil
	}
	dst := reflect.New(at.static)
	s, d := src.Elem(), dst.Elem()
	for _, p := range at.fieldPairs {
		sv, dv := s.Field(p.dyn), d.Field(p.static)
		if !p.convert {
			dv.Set(sv)
			continue
		}
		if err := convertValue(sv, dv); err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", at.name, at.static.Field(p.static).Tag.Get("ovsdb"), err)
		}
	}
	return dst.Interface(), nil
}

// scalarKinds are the OVSDB atomic types' Go kinds.
func scalarOf(t reflect.Type) (reflect.Type, string) {
	switch t.Kind() {
	case reflect.Pointer:
		return t.Elem(), "opt"
	case reflect.Slice:
		return t.Elem(), "set"
	case reflect.Map:
		return t, "map"
	default:
		return t, "scalar"
	}
}

// convertible reports whether the server type has a shape the static type
// can be read from: scalars, optionals and sets read as each other, maps only
// as maps. Whether each value converts (a string "5" to an int, a set of
// one to an optional) is decided per row, and a value that does not is an
// error for that row only.
func convertible(from, to reflect.Type) bool {
	_, fs := scalarOf(from)
	_, ts := scalarOf(to)
	return (fs == "map") == (ts == "map")
}

// convertValue converts between the shapes scalar, optional (pointer), set
// (slice) and map. A set with more than one element cannot become a scalar or
// an optional; an empty set or nil optional cannot become a scalar.
func convertValue(src, dst reflect.Value) error {
	_, fs := scalarOf(src.Type())
	_, ts := scalarOf(dst.Type())
	if fs == "map" {
		m := reflect.MakeMapWithSize(dst.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(dst.Type().Key()).Elem()
			v := reflect.New(dst.Type().Elem()).Elem()
			if err := convertAtom(it.Key(), k); err != nil {
				return err
			}
			if err := convertAtom(it.Value(), v); err != nil {
				return err
			}
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
		return nil
	}
	// Collect the source atoms.
	var atoms []reflect.Value
	switch fs {
	case "scalar":
		atoms = []reflect.Value{src}
	case "opt":
		if !src.IsNil() {
			atoms = []reflect.Value{src.Elem()}
		}
	case "set":
		for i := 0; i < src.Len(); i++ {
			atoms = append(atoms, src.Index(i))
		}
	}
	switch ts {
	case "scalar":
		if len(atoms) != 1 {
			return fmt.Errorf("%d values where exactly one is expected", len(atoms))
		}
		return convertAtom(atoms[0], dst)
	case "opt":
		if len(atoms) > 1 {
			return fmt.Errorf("%d values where at most one is expected", len(atoms))
		}
		if len(atoms) == 0 {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		p := reflect.New(dst.Type().Elem())
		if err := convertAtom(atoms[0], p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case "set":
		s := reflect.MakeSlice(dst.Type(), len(atoms), len(atoms))
		for i, a := range atoms {
			if err := convertAtom(a, s.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	}
	return fmt.Errorf("cannot convert %s to %s", src.Type(), dst.Type())
}

func convertAtom(src, dst reflect.Value) error {
	if src.Type() == dst.Type() {
		dst.Set(src)
		return nil
	}
	switch {
	case src.Kind() == reflect.String && dst.Kind() == reflect.Int:
		n, err := strconv.Atoi(src.String())
		if err != nil {
			return fmt.Errorf("%q is not an integer", src.String())
		}
		dst.SetInt(int64(n))
		return nil
	case src.Kind() == reflect.String && dst.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(src.String())
		if err != nil {
			return fmt.Errorf("%q is not a boolean", src.String())
		}
		dst.SetBool(b)
		return nil
	case src.Kind() == reflect.Float64 && dst.Kind() == reflect.Int:
		if src.Float() != float64(int(src.Float())) {
			return fmt.Errorf("%v is not an integer", src.Float())
		}
		dst.SetInt(int64(src.Float()))
		return nil
	case src.Kind() == reflect.Int && dst.Kind() == reflect.Float64:
		dst.SetFloat(float64(src.Int()))
		return nil
	case dst.Kind() == reflect.String && (src.Kind() == reflect.Int || src.Kind() == reflect.Bool || src.Kind() == reflect.Float64):
		dst.SetString(fmt.Sprint(src.Interface()))
		return nil
	}
	return fmt.Errorf("cannot convert %s to %s", src.Type(), dst.Type())
}
