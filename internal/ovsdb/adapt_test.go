package ovsdb

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConvertValue(t *testing.T) {
	s := func(v string) *string { return &v }
	i := func(v int) *int { return &v }
	cases := []struct {
		name    string
		src     any
		dst     any // pointer to a zero value of the target type
		want    any
		wantErr bool
	}{
		{"set of one to optional", []string{"a"}, new(*string), s("a"), false},
		{"empty set to optional", []string{}, new(*string), (*string)(nil), false},
		{"set of two to optional", []string{"a", "b"}, new(*string), nil, true},
		{"optional to set", s("a"), new([]string), []string{"a"}, false},
		{"scalar to optional", "a", new(*string), s("a"), false},
		{"nil optional to scalar", (*string)(nil), new(string), nil, true},
		{"string to int", s("42"), new(*int), i(42), false},
		{"bad string to int", s("x"), new(*int), nil, true},
		{"int to string", 7, new(string), "7", false},
		{"map of int values to strings", map[string]int{"a": 1}, new(map[string]string), map[string]string{"a": "1"}, false},
		{"map with bad values", map[string]string{"a": "x"}, new(map[string]int), nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := reflect.ValueOf(c.dst).Elem()
			err := convertValue(reflect.ValueOf(c.src), dst)
			if c.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, dst.Interface())
		})
	}
}

func TestConvertibleShapes(t *testing.T) {
	require.True(t, convertible(reflect.TypeOf([]string{}), reflect.TypeOf((*string)(nil))))
	require.False(t, convertible(reflect.TypeOf(map[string]string{}), reflect.TypeOf([]string{})))
	require.False(t, convertible(reflect.TypeOf(""), reflect.TypeOf(map[string]string{})))
}
