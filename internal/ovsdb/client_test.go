package ovsdb_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// recorder collects events and resyncs.
type recorder struct {
	mu      sync.Mutex
	events  []ovsdb.Event
	resyncs []ovsdb.Resync
}

func (r *recorder) onEvent(e ovsdb.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) onResync(s ovsdb.Resync) {
	r.mu.Lock()
	r.resyncs = append(r.resyncs, s)
	r.mu.Unlock()
}

// waitEvent waits for an event matching fn and returns it.
func (r *recorder) waitEvent(t *testing.T, what string, fn func(ovsdb.Event) bool) ovsdb.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, e := range r.events {
			if fn(e) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no event: %s", what)
	return ovsdb.Event{}
}

func (r *recorder) resyncCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.resyncs)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func connectSB(t *testing.T, remote string, rec *recorder, conds map[string][]ovsdb.Condition) *ovsdb.Client {
	t.Helper()
	return connectOpts(t, rec, ovsdb.Options{Remote: remote, Conditions: conds, MaxBackoff: 500 * time.Millisecond})
}

// connectOpts connects to the southbound with opts, the test's logger and
// rec's callbacks (when rec is not nil); the client is closed at cleanup.
func connectOpts(t *testing.T, rec *recorder, opts ovsdb.Options) *ovsdb.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Logger = testLogger(t)
	if rec != nil {
		opts.OnEvent, opts.OnResync = rec.onEvent, rec.onResync
	}
	c, err := ovsdb.Connect(ctx, ovsdb.Southbound, opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// sbFixture creates a datapath and returns its uuid.
func sbFixture(t *testing.T, s *ovsdbserver.Server) string {
	return s.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=1", "external_ids:name=net1")
}

// addChassis registers a chassis (Chassis and its Encap) and returns the
// Chassis row's UUID.
func addChassis(s *ovsdbserver.Server, name, ip string) string {
	return lastLine(s.Ctl("ovn-sbctl", "--id=@e", "create", "Encap", "type=geneve", "ip="+ip, "chassis_name="+name,
		"--", "create", "Chassis", "name="+name, "encaps=@e"))
}

func addPB(t *testing.T, s *ovsdbserver.Server, dp, name string, key int, extra ...string) string {
	args := append([]string{"create", "Port_Binding", "logical_port=" + name, fmt.Sprintf("tunnel_key=%d", key), "datapath=" + dp}, extra...)
	return s.Ctl("ovn-sbctl", args...)
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

func waitFor(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInitialDumpAndEvents(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	addPB(t, s, dp, "lp1", 1, `mac="fa:16:3e:00:00:01 10.0.0.1"`)
	addPB(t, s, dp, "lp2", 2, "type=localnet", "options:network_name=physnet1")

	rec := &recorder{}
	c := connectSB(t, s.Remote(), rec, nil)
	require.Equal(t, 2, c.Count(sbdb.PortBindingTable), "initial dump")
	require.Equal(t, 1, rec.resyncCount())
	require.True(t, rec.resyncs[0].Initial)

	var names []string
	c.ForEach(sbdb.PortBindingTable, func(_ string, row any) bool {
		names = append(names, row.(*sbdb.PortBinding).LogicalPort)
		return true
	})
	require.ElementsMatch(t, []string{"lp1", "lp2"}, names)

	// Insert.
	u3 := addPB(t, s, dp, "lp3", 3, `mac="fa:16:3e:00:00:03 10.0.0.3"`)
	e := rec.waitEvent(t, "add lp3", func(e ovsdb.Event) bool { return e.UUID == u3 && e.Op == ovsdb.OpAdd })
	nr, err := e.New()
	require.NoError(t, err)
	require.Equal(t, "lp3", nr.(*sbdb.PortBinding).LogicalPort)
	require.Equal(t, []string{"fa:16:3e:00:00:03 10.0.0.3"}, nr.(*sbdb.PortBinding).MAC)

	// Update: old and new rows.
	s.Ctl("ovn-sbctl", "set", "Port_Binding", u3, "type=virtual", "up=true")
	e = rec.waitEvent(t, "update lp3", func(e ovsdb.Event) bool { return e.UUID == u3 && e.Op == ovsdb.OpUpdate })
	or, _ := e.Old()
	nr, _ = e.New()
	require.Equal(t, "", or.(*sbdb.PortBinding).Type)
	require.Equal(t, "virtual", nr.(*sbdb.PortBinding).Type)
	require.NotNil(t, nr.(*sbdb.PortBinding).Up)
	require.True(t, *nr.(*sbdb.PortBinding).Up)
	row, ok, err := c.Get(sbdb.PortBindingTable, u3)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "virtual", row.(*sbdb.PortBinding).Type)

	// Delete.
	s.Ctl("ovn-sbctl", "destroy", "Port_Binding", u3)
	e = rec.waitEvent(t, "delete lp3", func(e ovsdb.Event) bool { return e.UUID == u3 && e.Op == ovsdb.OpDelete })
	or, _ = e.Old()
	require.Equal(t, "lp3", or.(*sbdb.PortBinding).LogicalPort)
	_, ok, _ = c.Get(sbdb.PortBindingTable, u3)
	require.False(t, ok)

	// No Add echo of the initial dump reached the consumer.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		if e.Op == ovsdb.OpAdd {
			require.Equal(t, u3, e.UUID, "only lp3 was added after the initial dump")
		}
	}
}

func TestConditionalMonitor(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	dp2 := s.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=2")
	ch := addChassis(s, "me", "10.1.0.1")
	other := addChassis(s, "other", "10.1.0.2")
	mine := addPB(t, s, dp, "mine", 1, "chassis="+ch)
	addPB(t, s, dp, "theirs", 2, "chassis="+other)
	addPB(t, s, dp, "provnet", 3, "type=localnet")
	tenant := addPB(t, s, dp2, "tenant-vm", 1, "chassis="+other)

	rec := &recorder{}
	need := ovsdb.SouthboundNeed{Chassis: "me", ChassisUUID: ch}
	c := connectSB(t, s.Remote(), rec, ovsdb.SouthboundConditions(need))
	seen := func() []string {
		var n []string
		c.ForEach(sbdb.PortBindingTable, func(_ string, row any) bool {
			n = append(n, row.(*sbdb.PortBinding).LogicalPort)
			return true
		})
		return n
	}
	require.ElementsMatch(t, []string{"mine", "provnet"}, seen())

	// A row outside the condition never arrives; one inside does.
	addPB(t, s, dp, "theirs2", 4, "chassis="+other)
	u5 := addPB(t, s, dp, "mine2", 5, "chassis="+ch)
	rec.waitEvent(t, "add mine2", func(e ovsdb.Event) bool { return e.UUID == u5 })
	require.ElementsMatch(t, []string{"mine", "provnet", "mine2"}, seen())

	// A row leaving the condition is deleted from the cache.
	s.Ctl("ovn-sbctl", "set", "Port_Binding", mine, "chassis="+other)
	rec.waitEvent(t, "mine leaves", func(e ovsdb.Event) bool { return e.UUID == mine && e.Op == ovsdb.OpDelete })

	// A condition change brings the tenant datapath's rows in.
	before := rec.resyncCount()
	need.Datapaths = []string{dp2}
	c.SetConditions(ovsdb.SouthboundConditions(need))
	rec.waitEvent(t, "tenant-vm arrives", func(e ovsdb.Event) bool { return e.UUID == tenant && e.Op == ovsdb.OpAdd })
	waitFor(t, "resync after condition change", func() bool { return rec.resyncCount() > before })
	require.ElementsMatch(t, []string{"provnet", "mine2", "tenant-vm"}, seen())

	// And taking it out again removes them, with a Delete event.
	need.Datapaths = nil
	c.SetConditions(ovsdb.SouthboundConditions(need))
	rec.waitEvent(t, "tenant-vm leaves", func(e ovsdb.Event) bool { return e.UUID == tenant && e.Op == ovsdb.OpDelete })
	require.ElementsMatch(t, []string{"provnet", "mine2"}, seen())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		r, _ := e.New()
		if pb, ok := r.(*sbdb.PortBinding); ok {
			require.NotContains(t, []string{"theirs", "theirs2"}, pb.LogicalPort, "row outside the condition delivered")
		}
	}
}

func TestStandaloneRestartResyncs(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	keep := addPB(t, s, dp, "keep", 1)
	gone := addPB(t, s, dp, "gone", 2)

	rec := &recorder{}
	c := connectSB(t, s.Remote(), rec, nil)
	require.Equal(t, 2, c.Count(sbdb.PortBindingTable))

	// Outage: the server dies; while it is away the client still serves
	// the last known rows.
	s.Kill()
	time.Sleep(300 * time.Millisecond)
	_, ok, _ := c.Get(sbdb.PortBindingTable, keep)
	require.True(t, ok, "rows are kept during the outage")

	// The row is deleted while the client is away: edit the db file offline.
	ovsdbserver.Run(t, "ovsdb-tool", "transact", s.DBFile,
		fmt.Sprintf(`["OVN_Southbound",{"op":"delete","table":"Port_Binding","where":[["_uuid","==",["uuid","%s"]]]}]`, gone))
	s.Restart()

	waitFor(t, "resync after restart", func() bool { return rec.resyncCount() >= 2 })
	rec.mu.Lock()
	r := rec.resyncs[1]
	rec.mu.Unlock()
	require.Equal(t, "reconnect", r.Reason)
	require.False(t, r.Initial)
	rec.waitEvent(t, "delete of the row removed during the outage", func(e ovsdb.Event) bool {
		return e.UUID == gone && e.Op == ovsdb.OpDelete
	})
	_, ok, _ = c.Get(sbdb.PortBindingTable, gone)
	require.False(t, ok)
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable))
}

func TestClusterMemberKilled(t *testing.T) {
	cl := ovsdbserver.StartCluster(t, ovsdbserver.SBSchema, 3)
	first := cl.Members[0]
	dp := sbFixture(t, first)

	rec := &recorder{}
	c := connectSB(t, cl.Remote(), rec, nil)
	inUse := cl.Member(c.Endpoint())
	require.NotNil(t, inUse, "endpoint %s", c.Endpoint())

	var alive *ovsdbserver.Server
	for _, m := range cl.Members {
		if m != inUse {
			alive = m
			break
		}
	}
	inUse.Kill()
	// Updates made while the client moves to another member are not lost.
	var uuids []string
	for i := 0; i < 5; i++ {
		// The cluster may be electing a new leader: retry the write.
		var u string
		waitFor(t, "write to the surviving members", func() bool {
			out, err := exec.Command("ovn-sbctl", "--db="+alive.Remote(), "--no-leader-only", "create", "Port_Binding",
				fmt.Sprintf("logical_port=lp%d", i), fmt.Sprintf("tunnel_key=%d", i+1), "datapath="+dp).Output()
			u = strings.TrimSpace(string(out))
			return err == nil
		})
		uuids = append(uuids, u)
	}
	for _, u := range uuids {
		rec.waitEvent(t, "add "+u, func(e ovsdb.Event) bool { return e.UUID == u && e.Op == ovsdb.OpAdd })
	}
	require.Equal(t, 5, c.Count(sbdb.PortBindingTable))
	require.NotEqual(t, inUse, cl.Member(c.Endpoint()), "client moved to another member")
}

func TestOutageBeyondBackoffLimit(t *testing.T) {
	// A reconnect loop with a limit (libovsdb's gives up, and panics,
	// after 15 minutes by default) would leave the agent blind. Ours has
	// none: with a short max interval, many more attempts than any finite
	// limit would allow happen without a crash, and the client comes back.
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	sbFixture(t, s)
	rec := &recorder{}
	connectOpts(t, rec, ovsdb.Options{Remote: s.Remote(), MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	s.Kill()
	time.Sleep(2 * time.Second) // ~100 failed attempts at 20 ms
	s.Restart()
	waitFor(t, "reconnect after a long outage", func() bool { return rec.resyncCount() >= 2 })
}

func TestTLS(t *testing.T) {
	pki := ovsdbserver.NewPKI(t)
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema, PKI: pki})
	dp := sbFixture(t, s)
	addPB(t, s, dp, "lp1", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: s.SSLRemote(), Logger: testLogger(t),
		TLS: ovsdb.TLSFiles{PrivateKey: pki.ClientKey, Certificate: pki.ClientCert, CACert: pki.CACert}})
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable))

	// A certificate from another CA is refused: the client keeps retrying
	// until its context ends, and reports why.
	other := ovsdbserver.NewPKI(t)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	_, err = ovsdb.Connect(ctx2, ovsdb.Southbound, ovsdb.Options{Remote: s.SSLRemote(), Logger: testLogger(t),
		TLS: ovsdb.TLSFiles{PrivateKey: other.ClientKey, Certificate: other.ClientCert, CACert: other.CACert}})
	require.Error(t, err)
}

func TestMissingTLSFilesIsAClearError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: "ssl:127.0.0.1:1", Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		TLS: ovsdb.TLSFiles{PrivateKey: "/nonexistent/key.pem", Certificate: "/nonexistent/cert.pem", CACert: "/nonexistent/ca.pem"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "/nonexistent/cert.pem")
}

// TestLookupUUID reads a Chassis row's UUID by name through a one-off select.
func TestLookupUUID(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	ch := addChassis(s, "me", "10.1.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := ovsdb.Options{Remote: s.Remote(), Logger: testLogger(t)}
	u, err := ovsdb.LookupUUID(ctx, ovsdb.Southbound, opts, sbdb.ChassisTable, "name", "me")
	require.NoError(t, err)
	require.Equal(t, ch, u)
	u, err = ovsdb.LookupUUID(ctx, ovsdb.Southbound, opts, sbdb.ChassisTable, "name", "not-registered")
	require.NoError(t, err)
	require.Empty(t, u)
	_, err = ovsdb.LookupUUID(ctx, ovsdb.Southbound, opts, sbdb.ChassisTable, "no_such_column", "x")
	require.Error(t, err)
}

// TestProbeDetectsAHungServer stops the server (SIGSTOP: the connection
// stays open, nothing answers). The client's echo probe notices within
// its interval and reconnects once the server runs again; without the
// probe the old connection would simply resume.
func TestProbeDetectsAHungServer(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	rec := &recorder{}
	connectOpts(t, rec, ovsdb.Options{Remote: s.Remote(), ProbeInterval: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	require.NoError(t, syscall.Kill(s.Pid(), syscall.SIGSTOP))
	time.Sleep(time.Second) // several probe intervals
	require.NoError(t, syscall.Kill(s.Pid(), syscall.SIGCONT))
	waitFor(t, "a new generation after the hang", func() bool { return rec.resyncCount() >= 2 })
	require.Equal(t, "reconnect", rec.resyncs[1].Reason)
	u := addPB(t, s, dp, "after-hang", 9)
	rec.waitEvent(t, "add after the hang", func(e ovsdb.Event) bool { return e.UUID == u && e.Op == ovsdb.OpAdd })
}

// TestServerEchoIsAnswered keeps a TCP connection idle, with the client's
// own probes off, for longer than ovsdb-server's inactivity probe (5 s,
// then 5 s more for the reply) on TCP remotes: the client must answer the
// server's echo, or the server drops it.
func TestServerEchoIsAnswered(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema, TCP: true})
	dp := sbFixture(t, s)
	rec := &recorder{}
	connectOpts(t, rec, ovsdb.Options{Remote: s.TCPRemote(), ProbeInterval: -1})
	time.Sleep(12 * time.Second)
	u := addPB(t, s, dp, "after-idle", 9)
	rec.waitEvent(t, "add after the idle time", func(e ovsdb.Event) bool { return e.UUID == u && e.Op == ovsdb.OpAdd })
	require.Equal(t, 1, rec.resyncCount(), "the connection survived the server's probe")
}

// TestUpdatesDuringTheInitialDownload: rows change while a client loads
// 20,000 ports, so updates arrive while its initial rows are still being
// decoded and applied (they wait for them, in order). Once the writes stop,
// every row the client holds must equal the row a new client reads.
func TestUpdatesDuringTheInitialDownload(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	pbs := fillSB(t, s.Sock, 20000)
	tx, closeConn, err := rawTransactor(s.Sock)
	require.NoError(t, err)
	defer closeConn()
	stop, written, failed := make(chan struct{}), make(chan int, 1), make(chan error, 1)
	go func() {
		n := 0
		defer func() { written <- n }()
		for ; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := tx([]any{map[string]any{"op": "update", "table": "Port_Binding",
				"where": []any{[]any{"_uuid", "==", []any{"uuid", pbs[n%len(pbs)]}}},
				"row":   map[string]any{"up": n%3 == 0, "external_ids": []any{"map", []any{[]any{"n", fmt.Sprint(n)}}}}}}); err != nil {
				failed <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond) // writes under way
	live := connectOpts(t, nil, ovsdb.Options{Remote: s.Remote(), Tables: []string{sbdb.PortBindingTable}})
	time.Sleep(100 * time.Millisecond)
	close(stop)
	n := <-written
	select {
	case err := <-failed:
		t.Fatal(err)
	default:
	}
	fresh := connectOpts(t, nil, ovsdb.Options{Remote: s.Remote(), Tables: []string{sbdb.PortBindingTable}})
	waitFor(t, "the live client's rows equal to a fresh read", func() bool {
		for _, u := range pbs {
			a, _, _ := live.Get(sbdb.PortBindingTable, u)
			b, _, _ := fresh.Get(sbdb.PortBindingTable, u)
			if a == nil || b == nil || !equalPB(a.(*sbdb.PortBinding), b.(*sbdb.PortBinding)) {
				return false
			}
		}
		return true
	})
	t.Logf("%d transactions written while the client connected", n)
}
