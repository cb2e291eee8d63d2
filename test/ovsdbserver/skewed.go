package ovsdbserver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// SkewedSBSchema writes a southbound schema whose Port_Binding.chassis is
// an unlimited set and whose tag is a string, as an older or newer OVN
// could have: rows the model cannot read can then be written.
func SkewedSBSchema(t testing.TB) string {
	t.Helper()
	raw, err := os.ReadFile(SBSchema)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	cols := schema["tables"].(map[string]any)["Port_Binding"].(map[string]any)["columns"].(map[string]any)
	cols["chassis"].(map[string]any)["type"].(map[string]any)["max"] = "unlimited"
	cols["tag"] = map[string]any{"type": map[string]any{"key": "string", "min": 0, "max": 1}}
	path := filepath.Join(t.TempDir(), "sb-skewed.ovsschema")
	b, _ := json.Marshal(schema)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
