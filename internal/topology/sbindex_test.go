package topology_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

func ptr[T any](v T) *T { return &v }

func names(fn func(func(*sbdb.PortBinding))) []string {
	var out []string
	fn(func(p *sbdb.PortBinding) { out = append(out, p.LogicalPort) })
	sort.Strings(out)
	return out
}

func uuids(fn func(func(string))) []string {
	set := map[string]bool{}
	fn(func(u string) { set[u] = true })
	var out []string
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// The southbound indexes follow rows as they are replaced and deleted.
func TestSBIndexes(t *testing.T) {
	tp := topology.New()
	gw := &sbdb.PortBinding{UUID: "u-gw", LogicalPort: "gw", Type: "patch", Datapath: "pub",
		Options:      map[string]string{"peer": "lrp-gw"},
		NatAddresses: []string{`aa 1.2.3.4 is_chassis_resident("vm1")`, `bb 1.2.3.5 is_chassis_resident("cr-lrp-gw")`}}
	cr := &sbdb.PortBinding{UUID: "u-cr", LogicalPort: "cr-lrp-gw", Type: "chassisredirect", Datapath: "r", Chassis: ptr("ch1")}
	vm := &sbdb.PortBinding{UUID: "u-vm1", LogicalPort: "vm1", Datapath: "t1", Chassis: ptr("ch1")}
	for _, r := range []any{gw, cr, vm} {
		tp.Upsert(r)
	}
	require.Equal(t, []string{"gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachPatch("pub", f) }))
	require.Equal(t, []string{"cr-lrp-gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachChassisRedirect("r", f) }))
	require.True(t, tp.HasChassisRedirect("r"))
	require.Equal(t, []string{"gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachPeerOf("lrp-gw", f) }))
	require.Equal(t, []string{"gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachNATReferrer("vm1", f) }))
	require.Equal(t, []string{"gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachNATReferrer("cr-lrp-gw", f) }))
	require.Equal(t, []string{"cr-lrp-gw", "vm1"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachBoundTo("ch1", f) }))
	require.Equal(t, []string{"cr-lrp-gw", "gw"}, names(tp.ForEachNonVMPort))

	// Replace: the FIP no longer names vm1, the peer changes, vm1 moves.
	tp.Upsert(&sbdb.PortBinding{UUID: "u-gw", LogicalPort: "gw", Type: "patch", Datapath: "pub",
		Options: map[string]string{"peer": "lrp-gw2"}, NatAddresses: []string{`bb 1.2.3.5 is_chassis_resident("cr-lrp-gw")`}})
	tp.Upsert(&sbdb.PortBinding{UUID: "u-vm1", LogicalPort: "vm1", Datapath: "t1", Chassis: ptr("ch2")})
	require.False(t, tp.HasNATReferrer("vm1"))
	require.True(t, tp.HasNATReferrer("cr-lrp-gw"))
	require.Empty(t, names(func(f func(*sbdb.PortBinding)) { tp.ForEachPeerOf("lrp-gw", f) }))
	require.Equal(t, []string{"gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachPeerOf("lrp-gw2", f) }))
	require.Equal(t, []string{"cr-lrp-gw"}, names(func(f func(*sbdb.PortBinding)) { tp.ForEachBoundTo("ch1", f) }))

	// Delete.
	tp.Delete(sbdb.PortBindingTable, "u-cr")
	tp.Delete(sbdb.PortBindingTable, "u-gw")
	require.False(t, tp.HasChassisRedirect("r"))
	require.False(t, tp.HasNATReferrer("cr-lrp-gw"))
	require.Empty(t, names(func(f func(*sbdb.PortBinding)) { tp.ForEachPatch("pub", f) }))
	require.Empty(t, names(tp.ForEachNonVMPort))
}

// Load balancers are found from their datapaths, whichever column or
// group names them, and follow group and LB changes.
func TestSBLoadBalancerIndexes(t *testing.T) {
	tp := topology.New()
	tp.Upsert(&sbdb.LogicalDPGroup{UUID: "g1", Datapaths: []string{"t1", "t2"}})
	tp.Upsert(&sbdb.LoadBalancer{UUID: "lb-a", Datapaths: []string{"t3"}})
	tp.Upsert(&sbdb.LoadBalancer{UUID: "lb-b", LSDatapathGroup: ptr("g1")})
	tp.Upsert(&sbdb.LoadBalancer{UUID: "lb-c", LRDatapathGroup: ptr("g1"), DatapathGroup: ptr("g-old")})
	on := func(dp string) []string { return uuids(func(f func(string)) { tp.ForEachLBOn(dp, f) }) }
	require.Equal(t, []string{"lb-b", "lb-c"}, on("t1"))
	require.Equal(t, []string{"lb-a"}, on("t3"))
	require.Equal(t, []string{"lb-c"}, uuids(func(f func(string)) { tp.ForEachLBOfGroup("g-old", f) }))

	tp.Upsert(&sbdb.LogicalDPGroup{UUID: "g1", Datapaths: []string{"t2"}})
	require.Empty(t, on("t1"))
	require.Equal(t, []string{"lb-b", "lb-c"}, on("t2"))

	tp.Upsert(&sbdb.LoadBalancer{UUID: "lb-a", Datapaths: []string{"t1"}})
	require.Empty(t, on("t3"))
	require.Equal(t, []string{"lb-a"}, on("t1"))

	tp.Delete(sbdb.LoadBalancerTable, "lb-b")
	tp.Delete(sbdb.LogicalDPGroupTable, "g1")
	require.Empty(t, on("t2"))
	require.Equal(t, []string{"lb-c"}, uuids(func(f func(string)) { tp.ForEachLBOfGroup("g1", f) }), "the LB still names the group")
}

func TestResidentPort(t *testing.T) {
	for in, want := range map[string]string{
		`aa 1.2.3.4 is_chassis_resident("vm1")`:   "vm1",
		`aa 1.2.3.4 is_chassis_resident(\"vm1\")`: "vm1",
		`aa 1.2.3.4 is_chassis_resident( "x" )`:   "x",
		`aa 1.2.3.4`:                              "",
		`is_chassis_resident("")`:                 "",
		`is_chassis_resident("vm`:                 "",
	} {
		got, ok := topology.ResidentPort(in)
		require.Equal(t, want, got, in)
		require.Equal(t, want != "", ok, in)
	}
}

// Reset empties every table and index, and the localnet version still grows
// (the planner caches the bridges by it).
func TestReset(t *testing.T) {
	topo := topology.New()
	topo.Upsert(&sbdb.PortBinding{UUID: "ln", LogicalPort: "provnet", Type: "localnet", Datapath: "dp"})
	topo.Upsert(&sbdb.PortBinding{UUID: "vm", LogicalPort: "vm1", Datapath: "dp", Chassis: ptr("ch")})
	topo.Upsert(&sbdb.Chassis{UUID: "ch", Name: "c0"})
	v := topo.LocalnetVersion()
	topo.Reset()
	require.Greater(t, topo.LocalnetVersion(), v)
	require.Zero(t, topo.NumPortBindings())
	require.Empty(t, topo.AllLocalnets())
	require.Empty(t, topo.ChassisUUID("c0"))
	require.Empty(t, names(func(fn func(*sbdb.PortBinding)) { topo.ForEachBoundTo("ch", fn) }))
	topo.Upsert(&sbdb.PortBinding{UUID: "vm", LogicalPort: "vm1", Datapath: "dp", Chassis: ptr("ch")})
	require.Equal(t, []string{"vm1"}, names(func(fn func(*sbdb.PortBinding)) { topo.ForEachBoundTo("ch", fn) }))
}
