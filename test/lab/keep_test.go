package lab

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDestroyKept: `labctl down demo` (make demo, make demo-down) removes
// only the labs kept by the demo; a lab OVNBGP_LAB_KEEP kept (no tag file),
// a lab of a running test and one kept with another tag stay. The labs here
// are directories only (prefixes no namespace has).
func TestDestroyKept(t *testing.T) {
	base := t.TempDir()
	owners := map[string][2]string{ // owner.pid, keep.tag ("" = none)
		"obtest01": {"keep", "demo"},
		"obtest02": {"keep", "inspect"},
		"obtest03": {"keep", ""},
		"obtest04": {"12345", ""},
		"obtest05": {"keep", "demo-test"},
		"obtest06": {"keep", "demo"},
	}
	for prefix, o := range owners {
		if err := os.MkdirAll(filepath.Join(base, prefix), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, prefix, "owner.pid"), []byte(o[0]), 0o644); err != nil {
			t.Fatal(err)
		}
		if o[1] != "" {
			if err := os.WriteFile(filepath.Join(base, prefix, keepTagFile), []byte(o[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	prefixes := func(ks []KeptLab) (out []string) {
		for _, k := range ks {
			out = append(out, k.Prefix+"/"+k.Tag)
		}
		return out
	}
	if got, want := prefixes(listKept(base)), []string{"obtest01/demo", "obtest02/inspect", "obtest03/inspect",
		"obtest05/demo-test", "obtest06/demo"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("listKept = %v, want %v", got, want)
	}
	for _, step := range []struct {
		match string
		gone  []string
		left  []string
	}{
		{"demo", []string{"obtest01/demo", "obtest06/demo"}, []string{"obtest02/inspect", "obtest03/inspect", "obtest05/demo-test"}},
		{"demo", nil, []string{"obtest02/inspect", "obtest03/inspect", "obtest05/demo-test"}},
		{"obtest03", []string{"obtest03/inspect"}, []string{"obtest02/inspect", "obtest05/demo-test"}},
		{"all", []string{"obtest02/inspect", "obtest05/demo-test"}, nil},
	} {
		if got := prefixes(destroyKept(base, step.match)); !reflect.DeepEqual(got, step.gone) {
			t.Errorf("destroyKept(%s) removed %v, want %v", step.match, got, step.gone)
		}
		if got := prefixes(listKept(base)); !reflect.DeepEqual(got, step.left) {
			t.Errorf("after destroyKept(%s): kept %v, want %v", step.match, got, step.left)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "obtest04")); err != nil {
		t.Errorf("the running test's lab was removed: %v", err)
	}
}
