package ovsdb_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// refusals reads ovnbgp_ovsdb_member_refused_total for the southbound.
func refusals(t *testing.T, reason string) float64 {
	t.Helper()
	for _, c := range ovsdb.Collectors() {
		v, ok := c.(*prometheus.CounterVec)
		if !ok {
			continue
		}
		ch := make(chan *prometheus.Desc, 1)
		v.Describe(ch)
		if strings.Contains((<-ch).String(), "ovnbgp_ovsdb_member_refused_total") {
			var m dto.Metric
			require.NoError(t, v.WithLabelValues(ovsdb.Southbound.Name, reason).Write(&m))
			return m.GetCounter().GetValue()
		}
	}
	t.Fatal("no ovnbgp_ovsdb_member_refused_total")
	return 0
}

// lockedBuffer is a log sink the test reads while the client writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   *testing.T
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.Log(strings.TrimRight(string(p), "\n"))
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// createPB writes a Port_Binding through member m, retrying while the
// cluster elects a leader, and returns its UUID.
func createPB(t *testing.T, m *ovsdbserver.Server, dp, name string, key int) string {
	t.Helper()
	var u string
	waitFor(t, "write "+name, func() bool {
		out, err := exec.Command("ovn-sbctl", "--db="+m.Remote(), "--no-leader-only", "--timeout=2", "create", "Port_Binding",
			"logical_port="+name, fmt.Sprintf("tunnel_key=%d", key), "datapath="+dp).Output()
		u = strings.TrimSpace(string(out))
		return err == nil
	})
	return u
}

// A member that restarts alone, cut off from the two others (no quorum:
// _Server says connected=false), serves the data it had when it went down,
// which lacks a row written since. The client must not take it as the new
// generation (that would delete the row); it keeps the previous rows, says
// why it left the member, and moves on once a member is healthy again.
func TestClusterMemberCutOffIsNotUsed(t *testing.T) {
	cl := ovsdbserver.StartCluster(t, ovsdbserver.SBSchema, 3)
	m0, m1, m2 := cl.Members[0], cl.Members[1], cl.Members[2]
	dp := sbFixture(t, m0)
	a := createPB(t, m0, dp, "lpA", 1)
	m0.Kill()
	b := createPB(t, m1, dp, "lpB", 2) // m0 does not have it

	logs := &lockedBuffer{t: t}
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: cl.Remote(), MaxBackoff: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), OnEvent: rec.onEvent, OnResync: rec.onResync})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	waitFor(t, "both rows", func() bool { return c.Count(sbdb.PortBindingTable) == 2 })

	// m0 comes back alone with its old data. Between the two kills the
	// client may move to m2, which reports itself connected until its
	// election timer runs out: a generation with the same rows, so the
	// generation to keep is the one in use once m0 is refused, when m0 is
	// the only member left.
	before := refusals(t, "disconnected")
	m1.Kill()
	m2.Kill()
	m0.Restart()
	waitFor(t, "the cut-off member refused", func() bool { return refusals(t, "disconnected") > before })
	gen := c.Generation()
	require.Contains(t, logs.String(), "leaving a database member that cannot be used")
	require.Contains(t, logs.String(), m0.Remote())
	require.Contains(t, logs.String(), "disconnected from the cluster")
	time.Sleep(time.Second) // several more attempts, all refused
	require.Equal(t, gen, c.Generation(), "no generation from the cut-off member")
	// The one-shot select that finds the chassis' own row refuses it too
	// (it would answer "no such row").
	_, err = ovsdb.LookupUUID(ctx, ovsdb.Southbound, ovsdb.Options{Remote: m0.Remote(), Logger: testLogger(t)},
		sbdb.PortBindingTable, "logical_port", "lpB")
	require.ErrorContains(t, err, "disconnected from the cluster")
	for _, u := range []string{a, b} {
		_, ok, err := c.Get(sbdb.PortBindingTable, u)
		require.NoError(t, err)
		require.True(t, ok, "row %s kept", u)
	}

	// m1 comes back: m0 and m1 have a quorum, m0 catches up; the client
	// uses a healthy member and the rows are all there.
	m1.Restart()
	waitFor(t, "a new generation on a healthy member", func() bool { return c.Generation() > gen })
	require.NotEqual(t, m2, cl.Member(c.Endpoint()))
	require.Equal(t, 2, c.Count(sbdb.PortBindingTable))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		require.NotEqual(t, ovsdb.OpDelete, e.Op, "delete of %s %s", e.Table, e.UUID)
	}
}

// A relay (_Server model "relay") is used once it has its source's data;
// before that (its source down when it starts) it is refused. (A relay of
// OVS 3.1 goes on reporting connected=true after losing its source: the
// disconnected rule is in TestMemberRefusal.)
func TestRelayUsedOnceConnectedToItsSource(t *testing.T) {
	src := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, src)
	a := addPB(t, src, dp, "lpA", 1)
	src.Kill()
	relay := ovsdbserver.StartRelay(t, ovsdbserver.SBSchema, src.Remote())

	before := refusals(t, "not_joined")
	rec := &recorder{}
	var c *ovsdb.Client
	done := make(chan struct{})
	go func() {
		defer close(done)
		c = connectSB(t, relay.Remote(), rec, nil)
	}()
	waitFor(t, "the relay refused", func() bool { return refusals(t, "not_joined") > before })
	src.Restart()
	<-done
	_, ok, err := c.Get(sbdb.PortBindingTable, a)
	require.NoError(t, err)
	require.True(t, ok, "row through the relay")
	b := addPB(t, src, dp, "lpB", 2)
	rec.waitEvent(t, "add through the relay", func(e ovsdb.Event) bool { return e.UUID == b && e.Op == ovsdb.OpAdd })
}

// The member in use loses its quorum (the two others die): it is left as
// soon as its _Server row says it is disconnected, the rows are kept, and
// the client uses it again once the cluster is back.
func TestClusterMemberLosingQuorumIsLeft(t *testing.T) {
	cl := ovsdbserver.StartCluster(t, ovsdbserver.SBSchema, 3)
	m0, m1, m2 := cl.Members[0], cl.Members[1], cl.Members[2]
	dp := sbFixture(t, m0)
	a := createPB(t, m0, dp, "lpA", 1)
	rec := &recorder{}
	c := connectSB(t, m0.Remote(), rec, nil)
	gen := c.Generation()

	before := refusals(t, "disconnected")
	m1.Kill()
	m2.Kill()
	waitFor(t, "the member left", func() bool { return refusals(t, "disconnected") > before })
	require.Equal(t, gen, c.Generation())
	_, ok, err := c.Get(sbdb.PortBindingTable, a)
	require.NoError(t, err)
	require.True(t, ok, "row kept")

	m1.Restart()
	waitFor(t, "the member used again", func() bool { return c.Generation() > gen })
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable))
}
