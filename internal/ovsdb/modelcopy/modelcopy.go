// Package modelcopy deep-copies OVSDB model structs without the JSON round
// trip libovsdb falls back to for models that do not implement
// model.CloneableModel. libovsdb clones every row it stores and every row it
// returns, so this is on the hot path of every update and every read.
//
// Supported field kinds are the ones OVSDB native types map to: string, int,
// float64, bool, pointers to those, slices of those and maps between them.
package modelcopy

import "reflect"

// Into deep-copies *src into *dst; both must be pointers to the same struct type.
func Into(dst, src any) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	copyStruct(d, s)
}

// New returns a deep copy of *src as a new pointer of the same type.
func New[T any](src *T) *T {
	dst := new(T)
	copyStruct(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
	return dst
}

func copyStruct(d, s reflect.Value) {
	for i := 0; i < s.NumField(); i++ {
		sf, df := s.Field(i), d.Field(i)
		switch sf.Kind() {
		case reflect.Pointer:
			if sf.IsNil() {
				df.Set(reflect.Zero(sf.Type()))
				continue
			}
			p := reflect.New(sf.Type().Elem())
			p.Elem().Set(sf.Elem())
			df.Set(p)
		case reflect.Slice:
			if sf.IsNil() {
				df.Set(reflect.Zero(sf.Type()))
				continue
			}
			c := reflect.MakeSlice(sf.Type(), sf.Len(), sf.Len())
			reflect.Copy(c, sf)
			df.Set(c)
		case reflect.Map:
			if sf.IsNil() {
				df.Set(reflect.Zero(sf.Type()))
				continue
			}
			if m, ok := sf.Interface().(map[string]string); ok {
				c := make(map[string]string, len(m))
				for k, v := range m {
					c[k] = v
				}
				df.Set(reflect.ValueOf(c))
				continue
			}
			c := reflect.MakeMapWithSize(sf.Type(), sf.Len())
			it := sf.MapRange()
			for it.Next() {
				c.SetMapIndex(it.Key(), it.Value())
			}
			df.Set(c)
		default:
			df.Set(sf)
		}
	}
}
