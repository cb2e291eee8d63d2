package sbdb

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
)

// fill sets every field of the struct v points to to a non-zero value
// (pointers, slices and maps non-nil), distinct per field.
func fill(t testing.TB, v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		s := fmt.Sprintf("v%d", i)
		var set func(x reflect.Value)
		set = func(x reflect.Value) {
			switch x.Kind() {
			case reflect.String:
				x.SetString(s)
			case reflect.Int:
				x.SetInt(int64(i + 1))
			case reflect.Bool:
				x.SetBool(true)
			case reflect.Float64:
				x.SetFloat(float64(i) + .5)
			case reflect.Pointer:
				x.Set(reflect.New(x.Type().Elem()))
				set(x.Elem())
			case reflect.Slice:
				x.Set(reflect.MakeSlice(x.Type(), 2, 2))
				set(x.Index(0))
				set(x.Index(1))
			case reflect.Map:
				x.Set(reflect.MakeMap(x.Type()))
				k, e := reflect.New(x.Type().Key()).Elem(), reflect.New(x.Type().Elem()).Elem()
				set(k)
				set(e)
				x.SetMapIndex(k, e)
			default:
				t.Fatalf("field %s: kind %s not handled by the test", v.Type().Field(i).Name, x.Kind())
			}
		}
		set(f)
	}
}

// TestPortBindingClone: the hand-written copy equals modelcopy's and shares
// no pointer, slice or map with the original, for every field (a field
// added to PortBinding and forgotten in copyInto fails here).
func TestPortBindingClone(t *testing.T) {
	var src PortBinding
	fill(t, reflect.ValueOf(&src).Elem())
	got := src.CloneModel().(*PortBinding)
	if want := modelcopy.New(&src); !reflect.DeepEqual(got, want) {
		t.Fatalf("CloneModel = %+v, want %+v", got, want)
	}
	var into PortBinding
	src.CloneModelInto(&into)
	if !reflect.DeepEqual(&into, got) {
		t.Fatalf("CloneModelInto = %+v, want %+v", into, got)
	}
	for _, c := range []*PortBinding{got, &into} {
		sv, cv := reflect.ValueOf(&src).Elem(), reflect.ValueOf(c).Elem()
		for i := 0; i < sv.NumField(); i++ {
			switch sv.Field(i).Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map:
				if sv.Field(i).UnsafePointer() == cv.Field(i).UnsafePointer() {
					t.Errorf("field %s shares memory with the original", sv.Type().Field(i).Name)
				}
			}
		}
	}
	if c := (&PortBinding{}).CloneModel().(*PortBinding); c.MAC != nil || c.Options != nil || c.Up != nil {
		t.Errorf("nil fields became non-nil: %+v", c)
	}
}

func BenchmarkPortBindingClone(b *testing.B) {
	var src PortBinding
	fill(b, reflect.ValueOf(&src).Elem())
	b.Run("typed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = src.CloneModel()
		}
	})
	b.Run("reflect", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = modelcopy.New(&src)
		}
	})
}
