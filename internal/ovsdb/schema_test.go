package ovsdb_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// trixieSchemas returns the directory with Debian 13's OVN 25.03 schemas,
// fetched by scripts/ovn-schemas.sh; the test fails if they cannot be had.
func trixieSchemas(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../../scripts/ovn-schemas.sh").Output()
	if err != nil {
		t.Fatalf("scripts/ovn-schemas.sh (fetches Debian 13's OVN 25.03 schemas): %v", err)
	}
	return strings.TrimSpace(string(out))
}

func connect(t *testing.T, spec ovsdb.DBSpec, remote string) *ovsdb.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ovsdb.Connect(ctx, spec, ovsdb.Options{Remote: remote, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestModelsAgainstSchemaVersions connects the three models to the schemas
// of OVN 23.03 / OVS 3.1 (Debian 12) and OVN 25.03 / OVS 3.5 (Debian 13) and
// reads rows written by the real ctl tools.
func TestModelsAgainstSchemaVersions(t *testing.T) {
	trixie := trixieSchemas(t)
	versions := []struct {
		name              string
		sb, nb, vs        string
		lrpStatus, lsDpGr bool
	}{
		{"ovn-23.03", ovsdbserver.SBSchema, ovsdbserver.NBSchema, ovsdbserver.VSwitchSchema, false, false},
		{"ovn-25.03", filepath.Join(trixie, "ovn-sb.ovsschema"), filepath.Join(trixie, "ovn-nb.ovsschema"),
			filepath.Join(trixie, "vswitch.ovsschema"), true, true},
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			sb := ovsdbserver.Start(t, ovsdbserver.Options{Schema: v.sb})
			dp := sb.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=7")
			sb.Ctl("ovn-sbctl", "create", "Port_Binding", "logical_port=vm1", "tunnel_key=1", "datapath="+dp,
				`mac="fa:16:3e:00:00:01 172.24.4.10"`, `external_ids:"neutron:cidrs"="172.24.4.10/24"`)
			sb.Ctl("ovn-sbctl", "create", "Load_Balancer", "name=lb1", `vips:"172.24.4.50:80"="10.0.0.5:80"`)
			c := connect(t, ovsdb.Southbound, sb.Remote())
			require.Equal(t, v.lsDpGr, c.HasColumn(sbdb.LoadBalancerTable, "ls_datapath_group"))
			var pb *sbdb.PortBinding
			c.ForEach(sbdb.PortBindingTable, func(_ string, r any) bool { pb = r.(*sbdb.PortBinding); return false })
			require.NotNil(t, pb)
			require.Equal(t, "vm1", pb.LogicalPort)
			require.Equal(t, dp, pb.Datapath)
			require.Equal(t, "172.24.4.10/24", pb.ExternalIDs["neutron:cidrs"])
			require.Equal(t, 1, c.Count(sbdb.LoadBalancerTable))

			nb := ovsdbserver.Start(t, ovsdbserver.Options{Schema: v.nb})
			nb.Ctl("ovn-nbctl", "lr-add", "r1", "--", "lrp-add", "r1", "lrp-gw", "fa:16:3e:00:00:01", "172.24.4.100/24")
			nc := connect(t, ovsdb.Northbound, nb.Remote())
			require.Equal(t, v.lrpStatus, nc.HasColumn(nbdb.LogicalRouterPortTable, "status"))
			var lrp *nbdb.LogicalRouterPort
			nc.ForEach(nbdb.LogicalRouterPortTable, func(_ string, r any) bool { lrp = r.(*nbdb.LogicalRouterPort); return false })
			require.NotNil(t, lrp)
			require.Equal(t, []string{"172.24.4.100/24"}, lrp.Networks)

			vs := ovsdbserver.Start(t, ovsdbserver.Options{Schema: v.vs})
			vs.Ctl("ovs-vsctl", "--no-wait", "init")
			vs.Ctl("ovs-vsctl", "--no-wait", "set", "open", ".", "external_ids:system-id=c1", "external_ids:ovn-bridge-mappings=physnet1:br-ex")
			vs.Ctl("ovs-vsctl", "--no-wait", "add-br", "br-ex")
			vc := connect(t, ovsdb.VSwitch, vs.Remote())
			var o *vswitch.OpenVSwitch
			vc.ForEach(vswitch.OpenVSwitchTable, func(_ string, r any) bool { o = r.(*vswitch.OpenVSwitch); return false })
			require.NotNil(t, o)
			require.Equal(t, "c1", o.ExternalIDs["system-id"])
			require.Equal(t, 1, vc.Count(vswitch.BridgeTable))
		})
	}
}

// TestMalformedCellsAreRowErrors runs the server with a schema in which
// columns have other types than the model expects, as an older or newer OVN
// could: Port_Binding.chassis as an unlimited set and external_ids as a map
// to integers. Rows whose cells fit the model still read; the others are an
// error for that row only.
func TestMalformedCellsAreRowErrors(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SkewedSBSchema(t)})
	dp := s.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=1")
	ch1 := addChassis(s, "a", "10.0.0.1")
	ch2 := addChassis(s, "b", "10.0.0.2")
	good := s.Ctl("ovn-sbctl", "create", "Port_Binding", "logical_port=good", "tunnel_key=1", "datapath="+dp, "chassis="+ch1)
	// ovn-sbctl checks values against its built-in schema: write raw.
	insert := func(row string) string {
		out := s.Transact(`["OVN_Southbound",{"op":"insert","table":"Port_Binding","row":` + row + `}]`)
		var res []map[string][]string
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		return res[0]["uuid"][1]
	}
	twoChassis := insert(`{"logical_port":"two","tunnel_key":2,"datapath":["uuid","` + dp +
		`"],"chassis":["set",[["uuid","` + ch1 + `"],["uuid","` + ch2 + `"]]]}`)
	badTag := insert(`{"logical_port":"badtag","tunnel_key":3,"datapath":["uuid","` + dp + `"],"tag":"x"}`)

	c := connect(t, ovsdb.Southbound, s.Remote())
	row, ok, err := c.Get(sbdb.PortBindingTable, good)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ch1, *row.(*sbdb.PortBinding).Chassis)

	_, _, err = c.Get(sbdb.PortBindingTable, twoChassis)
	require.Error(t, err, "two values in an optional column")
	_, _, err = c.Get(sbdb.PortBindingTable, badTag)
	require.Error(t, err, "a string where an integer is expected")

	var n []string
	malformed := c.ForEach(sbdb.PortBindingTable, func(_ string, r any) bool {
		n = append(n, r.(*sbdb.PortBinding).LogicalPort)
		return true
	})
	require.Equal(t, 2, malformed)
	require.Equal(t, []string{"good"}, n)
}
