package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSection: a section is appended once, replaced in place on the
// next write (names with digits too), the rest of the file is kept; and
// keepSections carries every section of an old file into a new report.
func TestWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ name, md string }{
		{"fleet", "one\n"}, {"fleet-probe5s", "two\n"}, {"fleet", "three\n"}, {"fleet-probe5s", "four\n"},
	} {
		if err := writeSection(path, step.name, step.md); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	want := "# results\n\n<!-- fleet:begin -->\nthree\n<!-- fleet:end -->\n\n<!-- fleet-probe5s:begin -->\nfour\n<!-- fleet-probe5s:end -->\n"
	if string(got) != want {
		t.Errorf("file =\n%q\nwant\n%q", got, want)
	}
	kept := keepSections(string(got), "# new report\n")
	wantKept := "# new report\n\n<!-- fleet:begin -->\nthree\n<!-- fleet:end -->\n\n<!-- fleet-probe5s:begin -->\nfour\n<!-- fleet-probe5s:end -->\n"
	if kept != wantKept {
		t.Errorf("keepSections =\n%q\nwant\n%q", kept, wantKept)
	}
}
