package dynamic_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

func readSchema(t *testing.T, path string) ovsdb.DatabaseSchema {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var s ovsdb.DatabaseSchema
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// TestFeaturesFromRealSchemas: Debian 12's OVN 23.03 has no dynamic
// routing, and says so in one line; Debian 13's OVN 25.03 has it.
func TestFeaturesFromRealSchemas(t *testing.T) {
	out, err := exec.Command("../../../scripts/ovn-schemas.sh").Output()
	require.NoError(t, err, "scripts/ovn-schemas.sh (fetches Debian 13's OVN 25.03 schemas)")
	trixie := strings.TrimSpace(string(out))

	old := dynamic.SouthboundFeatures(readSchema(t, ovsdbserver.SBSchema))
	require.False(t, old.Routing)
	require.Contains(t, old.Reason, "needs OVN 25.03 or later")
	require.Contains(t, old.Reason, "Advertised_Route or Learned_Route")
	require.NotContains(t, old.Reason, "\n")

	oldNB := dynamic.NorthboundFeatures(readSchema(t, ovsdbserver.NBSchema))
	require.False(t, oldNB.Routing)
	require.Contains(t, oldNB.Reason, "schema 7.0.0")

	require.Equal(t, dynamic.Features{Routing: true}, dynamic.SouthboundFeatures(readSchema(t, filepath.Join(trixie, "ovn-sb.ovsschema"))))
	require.Equal(t, dynamic.Features{Routing: true}, dynamic.NorthboundFeatures(readSchema(t, filepath.Join(trixie, "ovn-nb.ovsschema"))))
}

func TestNorthboundVersions(t *testing.T) {
	for v, ok := range map[string]bool{
		"7.11.0": true, "7.12.0": true, "7.11.3": true, "8.0.0": true, "10.0.0": true,
		"7.10.9": false, "7.2.0": false, "6.99.99": false, "": false, "7.x.0": false, "7.11": false,
	} {
		require.Equal(t, ok, dynamic.NorthboundFeatures(ovsdb.DatabaseSchema{Version: v}).Routing, v)
	}
}
