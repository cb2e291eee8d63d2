package gobgp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("OVNBGP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func baseConfig() *config.Config {
	c := config.Default()
	c.OVNBGP.Speaker = config.SpeakerGoBGP
	c.BGPRouterID = "192.0.2.1"
	c.OVNBGP.GoBGPListenPort = -1
	return c
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *config.Config)
		wantErr string
		check   func(t *testing.T, s *settings)
	}{
		{name: "defaults", mod: func(c *config.Config) {}, check: func(t *testing.T, s *settings) {
			if s.routerID.String() != "192.0.2.1" || s.as != 64999 || s.listenPort != -1 || !s.gr || s.restartTime != 120 {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "no router id", mod: func(c *config.Config) { c.BGPRouterID = "" }, wantErr: "needs a router id"},
		{name: "gobgp router id wins", mod: func(c *config.Config) { c.BGPRouterID = ""; c.OVNBGP.GoBGPRouterID = "10.0.0.9" },
			check: func(t *testing.T, s *settings) {
				if s.routerID.String() != "10.0.0.9" {
					t.Errorf("router id %s", s.routerID)
				}
			}},
		{name: "ipv6 router id", mod: func(c *config.Config) { c.BGPRouterID = "2001:db8::1" }, wantErr: "not an IPv4 address"},
		{name: "garbage router id", mod: func(c *config.Config) { c.OVNBGP.GoBGPRouterID = "x" }, wantErr: "gobgp_router_id \"x\""},
		{name: "AS 0", mod: func(c *config.Config) { c.BGPAS = 0 }, wantErr: "bgp_AS"},
		{name: "listen default", mod: func(c *config.Config) { c.OVNBGP.GoBGPListenPort = 0 }, check: func(t *testing.T, s *settings) {
			if s.listenPort != 179 {
				t.Errorf("listen %d", s.listenPort)
			}
		}},
		{name: "listen out of range", mod: func(c *config.Config) { c.OVNBGP.GoBGPListenPort = 70000 }, wantErr: "out of range"},
		{name: "unnumbered", mod: func(c *config.Config) {
			c.OVNBGP.Peers = []config.Peer{{Address: "eth1", Interface: true, RemoteAS: "internal"}}
		}, wantErr: "BGP unnumbered"},
		{name: "peers", mod: func(c *config.Config) {
			c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "internal"}, {Address: "2001:db8::2", RemoteAS: "external"}, {Address: "192.0.2.3", RemoteAS: "65001"}}
		}, check: func(t *testing.T, s *settings) {
			got := fmt.Sprint(s.peers[0].remoteAS, s.peers[1].remoteAS, s.peers[2].remoteAS)
			if got != "64999 0 65001" {
				t.Errorf("remote ASes %s", got)
			}
		}},
		{name: "bad remote as", mod: func(c *config.Config) { c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "ibgp"}} }, wantErr: "remote_as \"ibgp\""},
		{name: "remote as 0", mod: func(c *config.Config) { c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "0"}} }, wantErr: "remote_as \"0\""},
		{name: "bad address", mod: func(c *config.Config) { c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.300", RemoteAS: "1"}} }, wantErr: "peer address"},
		{name: "duplicate peer", mod: func(c *config.Config) {
			c.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.2", RemoteAS: "1"}, {Address: "192.0.2.2", RemoteAS: "2"}}
		}, wantErr: "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.mod(c)
			s, err := parse(c, Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
	if _, err := parse(baseConfig(), Options{IPv6NextHop: netip.MustParseAddr("10.0.0.1")}); err == nil {
		t.Error("IPv4 address accepted as IPv6 next hop")
	}
}

func TestPeerFamilies(t *testing.T) {
	for _, tc := range []struct {
		addr string
		v6nh bool
		want string
	}{
		{"192.0.2.2", false, "[1]"},
		{"192.0.2.2", true, "[1 2]"},
		{"2001:db8::2", false, "[2]"},
		{"2001:db8::2", true, "[2]"},
	} {
		var afis []int
		for _, f := range peerFamilies(netip.MustParseAddr(tc.addr), tc.v6nh) {
			afis = append(afis, int(f.Afi))
		}
		if got := fmt.Sprint(afis); got != tc.want {
			t.Errorf("%s v6nh=%v: AFIs %s, want %s", tc.addr, tc.v6nh, got, tc.want)
		}
	}
}

// receiver is a plain GoBGP server in the test process that peers with the
// speaker and lets the test read what it learned.
type receiver struct {
	srv *server.BgpServer
}

// freePort returns a TCP port free on addr.
func freePort(t testing.TB, addr string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startReceiver(t testing.TB, listen string, port int, as uint32, neighbor string, neighborAS uint32) *receiver {
	t.Helper()
	srv := server.NewBgpServer(server.LoggerOption(testLogger(t).With("component", "receiver"), nil))
	go srv.Serve()
	if err := srv.StartBgp(context.Background(), &api.StartBgpRequest{Global: &api.Global{
		Asn: as, RouterId: "198.51.100.1", ListenPort: int32(port), ListenAddresses: []string{listen},
	}}); err != nil {
		t.Fatal(err)
	}
	var afs []*api.AfiSafi
	for _, afi := range []api.Family_Afi{api.Family_AFI_IP, api.Family_AFI_IP6} {
		afs = append(afs, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: afi, Safi: api.Family_SAFI_UNICAST}, Enabled: true}})
	}
	if err := srv.AddPeer(context.Background(), &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: neighbor, PeerAsn: neighborAS},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis:  afs,
	}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &receiver{srv: srv}
}

// rib returns prefix -> next hop of the receiver's global RIB.
func (r *receiver) rib(t testing.TB) map[string]string {
	out := map[string]string{}
	for _, f := range []bgp.Family{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC} {
		err := r.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: f}, func(p bgp.NLRI, paths []*apiutil.Path) {
			for _, path := range paths {
				nh := ""
				for _, a := range path.Attrs {
					switch v := a.(type) {
					case *bgp.PathAttributeNextHop:
						nh = v.Value.String()
					case *bgp.PathAttributeMpReachNLRI:
						nh = v.Nexthop.String()
					}
				}
				out[p.String()] = nh
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func anns(prefixes ...string) []plan.Announcement {
	var out []plan.Announcement
	for _, p := range prefixes {
		out = append(out, plan.Announcement{Prefix: netip.MustParsePrefix(p), Kind: plan.KindProviderPort, Port: "p-" + p})
	}
	return out
}

func keys(m map[string]string) string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	sort.Strings(k)
	return strings.Join(k, " ")
}

// metricValue reads a gauge or counter.
func metricValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return m.Counter.GetValue()
}

func changes(op string) float64 { return metricValue(metricChanges.WithLabelValues(op)) }

// TestSyncDiff runs the speaker against an in-process GoBGP peer on the
// loopback: Sync applies exactly the difference and is idempotent.
func TestSyncDiff(t *testing.T) {
	port := freePort(t, "127.0.0.2")
	rcv := startReceiver(t, "127.0.0.2", port, 65001, "127.0.0.1", 64999)

	base := runtime.NumGoroutine()
	c := baseConfig()
	c.BGPRouterID = "127.0.0.1"
	c.OVNBGP.GracefulRestart = false
	c.OVNBGP.Peers = []config.Peer{{Address: "127.0.0.2", RemoteAS: "65001"}}
	sp, err := NewWithOptions(c, testLogger(t), Options{RemotePort: port, ConnectRetry: time.Second,
		IPv6NextHop: netip.MustParseAddr("2001:db8::1")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Stop(context.Background(), false) })

	st, err := sp.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Peers) != 1 || st.Peers[0].State != "Idle (Admin)" {
		t.Fatalf("before the first Sync the peer must be administratively down: %+v", st.Peers)
	}

	add0, del0 := changes("announce"), changes("withdraw")
	// The first Sync enables the peer, even when some announcements are
	// refused.
	first := append(anns("203.0.113.1/32", "203.0.113.2/32", "2001:db8:1::1/128"),
		plan.Announcement{Prefix: netip.MustParsePrefix("::ffff:10.0.0.1/128"), Port: "mapped"})
	if err := sp.Sync(ctx, first); err == nil || !strings.Contains(err.Error(), "mapped") {
		t.Fatalf("IPv4-mapped prefix: err = %v", err)
	}
	lab.Eventually(t, 20*time.Second, "3 prefixes at the receiver", func() bool { return len(rcv.rib(t)) == 3 })
	rib := rcv.rib(t)
	if rib["203.0.113.1/32"] != "127.0.0.1" || rib["2001:db8:1::1/128"] != "2001:db8::1" {
		t.Errorf("next hops: %v", rib)
	}
	if got := changes("announce") - add0; got != 3 {
		t.Errorf("announce changes %v, want 3", got)
	}

	// Idempotent: the same set changes nothing.
	for i := 0; i < 3; i++ {
		if err := sp.Sync(ctx, anns("203.0.113.2/32", "2001:db8:1::1/128", "203.0.113.1/32")); err != nil {
			t.Fatal(err)
		}
	}
	if a, d := changes("announce")-add0, changes("withdraw")-del0; a != 3 || d != 0 {
		t.Errorf("repeated Sync changed paths: +%v -%v", a, d)
	}

	// One prefix replaced by another: one withdraw, one announce. A VRF
	// announcement is skipped (counted once), a non-canonical prefix is
	// masked.
	vrf0 := metricValue(metricSkipped.WithLabelValues("vrf"))
	set := append(anns("203.0.113.1/32", "198.51.100.7/24", "2001:db8:1::1/128"),
		plan.Announcement{Prefix: netip.MustParsePrefix("10.9.9.9/32"), VRF: "blue", Kind: plan.KindFIP})
	for i := 0; i < 2; i++ {
		if err := sp.Sync(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	if a, d := changes("announce")-add0, changes("withdraw")-del0; a != 4 || d != 1 {
		t.Errorf("changes after replace: +%v -%v, want +4 -1", a, d)
	}
	if got := metricValue(metricSkipped.WithLabelValues("vrf")) - vrf0; got != 1 {
		t.Errorf("vrf skips counted %v, want 1", got)
	}
	if got := len(sp.skipped); got != 1 {
		t.Errorf("%d VRF announcements remembered, want 1", got)
	}
	want := "198.51.100.0/24 2001:db8:1::1/128 203.0.113.1/32"
	lab.Eventually(t, 10*time.Second, "receiver converged to "+want, func() bool { return keys(rcv.rib(t)) == want })

	st, err = sp.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(st.Prefixes, " "); got != "198.51.100.0/24 203.0.113.1/32 2001:db8:1::1/128" {
		t.Errorf("Status prefixes %q", got)
	}
	if len(st.Peers) != 1 || st.Peers[0].State != "Established" || st.Peers[0].PrefixesSent != 3 || st.Peers[0].RemoteAS != 65001 {
		t.Errorf("Status peers %+v", st.Peers)
	}
	if got := metricValue(metricPaths); got != 3 {
		t.Errorf("paths metric %v", got)
	}
	lab.Eventually(t, 5*time.Second, "peers metric", func() bool {
		return metricValue(metricPeers.WithLabelValues("Established")) == 1
	})

	// An invalid prefix is an error and a metric, the rest still applies.
	errs0 := metricValue(metricSyncErrors)
	bad := append(anns("203.0.113.1/32"), plan.Announcement{Kind: plan.KindFIP, Port: "broken"})
	if err := sp.Sync(ctx, bad); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("invalid prefix: err = %v", err)
	}
	if got := len(sp.skipped); got != 0 {
		t.Errorf("VRF announcement that went away still remembered (%d)", got)
	}
	if metricValue(metricSyncErrors) != errs0+1 {
		t.Error("sync error not counted")
	}
	lab.Eventually(t, 10*time.Second, "receiver converged to one prefix", func() bool { return keys(rcv.rib(t)) == "203.0.113.1/32" })

	// SyncDelta: only the difference. A changed key (in both lists) stays;
	// withdrawing what is not announced changes nothing.
	a1, d1 := changes("announce"), changes("withdraw")
	if err := sp.SyncDelta(ctx, anns("203.0.113.9/32", "203.0.113.1/32"), anns("203.0.113.1/32", "192.0.2.99/32")); err != nil {
		t.Fatal(err)
	}
	if a, d := changes("announce")-a1, changes("withdraw")-d1; a != 1 || d != 0 {
		t.Errorf("SyncDelta changes: +%v -%v, want +1 -0", a, d)
	}
	lab.Eventually(t, 10*time.Second, "receiver has the delta", func() bool { return keys(rcv.rib(t)) == "203.0.113.1/32 203.0.113.9/32" })
	if err := sp.SyncDelta(ctx, nil, anns("203.0.113.1/32")); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 10*time.Second, "receiver lost the withdrawn prefix", func() bool { return keys(rcv.rib(t)) == "203.0.113.9/32" })
	if got := metricValue(metricPaths); got != 1 {
		t.Errorf("paths metric after SyncDelta %v, want 1", got)
	}
	// A full Sync after deltas converges as usual.
	if err := sp.Sync(ctx, anns("203.0.113.1/32")); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 10*time.Second, "receiver back to one prefix", func() bool { return keys(rcv.rib(t)) == "203.0.113.1/32" })

	// Stop(true) withdraws everything before closing.
	if err := sp.Stop(ctx, true); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 10*time.Second, "receiver empty", func() bool { return len(rcv.rib(t)) == 0 })
	// GoBGP's goroutines (server loop, FSMs, watcher, BFD) end with Stop.
	lab.Eventually(t, 10*time.Second, "speaker goroutines gone", func() bool { return runtime.NumGoroutine() <= base+1 })
	if err := sp.Sync(ctx, anns("203.0.113.1/32")); err == nil {
		t.Error("Sync after Stop succeeded")
	}
	if err := sp.Stop(ctx, true); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// benchSpeaker starts a speaker for a benchmark, stopped at its end.
func benchSpeaker(b *testing.B, c *config.Config, opts Options) *Speaker {
	sp, err := NewWithOptions(c, testLogger(b), opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := sp.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sp.Stop(context.Background(), false) })
	return sp
}

// hostPrefixes returns n announcements of /32s in 10.0.0.0/8, from the
// first-th on.
func hostPrefixes(first, n int) []plan.Announcement {
	out := make([]plan.Announcement, n)
	for i := range out {
		j := first + i
		out[i] = plan.Announcement{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(j >> 16), byte(j >> 8), byte(j)}), 32)}
	}
	return out
}

// BenchmarkSyncOneChange measures a Sync that changes one prefix of a
// large set (no peer: the cost is the diff plus one GoBGP call).
func BenchmarkSyncOneChange(b *testing.B) {
	c := baseConfig()
	c.OVNBGP.GracefulRestart = false
	sp := benchSpeaker(b, c, Options{})
	ctx := context.Background()
	set := hostPrefixes(0, 10000)
	if err := sp.Sync(ctx, set); err != nil {
		b.Fatal(err)
	}
	alt := netip.MustParsePrefix("172.16.0.1/32")
	a0 := changes("announce")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each iteration swaps one prefix: one withdraw, one announce.
		set[0].Prefix, alt = alt, set[0].Prefix
		if err := sp.Sync(ctx, set); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := changes("announce") - a0; got != float64(b.N) {
		b.Fatalf("%v announcements for %d one-prefix changes", got, b.N)
	}
}

// TestAPIAddress: with gobgp_api_address the embedded speaker serves GoBGP's
// gRPC API, and its global RIB holds what ovnbgp announced.
func TestAPIAddress(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	c := baseConfig()
	c.OVNBGP.GoBGPAPIAddress = addr
	sp := startSpeaker(t, c, Options{})
	ctx := context.Background()
	if err := sp.Sync(ctx, anns("203.0.113.1/32", "203.0.113.2/32")); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cli := api.NewGoBgpServiceClient(conn)
	var got []string
	lab.Eventually(t, 10*time.Second, "the API lists the two prefixes", func() bool {
		got = got[:0]
		stream, err := cli.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL,
			Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}})
		if err != nil {
			return false
		}
		for {
			r, err := stream.Recv()
			if err != nil {
				break
			}
			got = append(got, r.GetDestination().GetPrefix())
		}
		sort.Strings(got)
		return strings.Join(got, " ") == "203.0.113.1/32 203.0.113.2/32"
	})
}

// BenchmarkSyncDeltaBatch measures SyncDelta with batches of 1,000 prefixes
// (announced, then withdrawn) next to 10,000 announced ones, as in a burst
// of port changes: without a peer (GoBGP's RIB alone), and with an
// established in-process peer on the loopback (every prefix is also sent in
// UPDATEs and received; the time counted is SyncDelta's, the wait for the
// peer is not). Reported per prefix.
func BenchmarkSyncDeltaBatch(b *testing.B) {
	for _, c := range []struct {
		name        string
		peer, watch bool
	}{{"no-peer", false, false}, {"peer", true, false}, {"peer+watch", true, true}} {
		b.Run(c.name, func(b *testing.B) { benchmarkSyncDeltaBatch(b, c.peer, c.watch) })
	}
}

func benchmarkSyncDeltaBatch(b *testing.B, peer, watch bool) {
	c := baseConfig()
	c.OVNBGP.GracefulRestart = false
	var opts Options
	var rcv *receiver
	if peer {
		port := freePort(b, "127.0.0.2")
		rcv = startReceiver(b, "127.0.0.2", port, 65001, "127.0.0.1", 64999)
		c.BGPRouterID = "127.0.0.1"
		c.OVNBGP.Peers = []config.Peer{{Address: "127.0.0.2", RemoteAS: "65001"}}
		opts = Options{RemotePort: port, ConnectRetry: time.Second}
	}
	sp := benchSpeaker(b, c, opts)
	ctx := context.Background()
	if watch {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := sp.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
			OnBestPath: func([]*apiutil.Path, time.Time) {},
		}, server.WatchBestPath(false)); err != nil {
			b.Fatal(err)
		}
	}
	const base, batch = 10000, 1000
	if err := sp.Sync(ctx, hostPrefixes(0, base)); err != nil {
		b.Fatal(err)
	}
	// received waits until the peer holds n prefixes.
	received := func(n int) {
		if rcv == nil {
			return
		}
		lab.Eventually(b, 60*time.Second, fmt.Sprintf("%d prefixes at the peer", n), func() bool { return len(rcv.rib(b)) == n })
	}
	received(base)
	extra := hostPrefixes(base, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sp.SyncDelta(ctx, extra, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		received(base + batch)
		b.StartTimer()
		if err := sp.SyncDelta(ctx, nil, extra); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		received(base)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*batch*b.N), "ns/prefix")
}

// TestQuietHandler: GoBGP's debug messages (one per UPDATE, with every
// prefix) are dropped even when the agent logs at debug level; its info
// messages pass, and so does the agent's own debug output.
func TestQuietHandler(t *testing.T) {
	var buf strings.Builder
	agent := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gobgpLog := slog.New(quietHandler{agent.Handler()}).With("component", "gobgpd")
	gobgpLog.Debug("sent update", "nlri", "[10.0.0.1/32]")
	gobgpLog.Info("Peer Up", "Key", "192.0.2.1")
	gobgpLog.Error("failed to stop BGP server: BGP server is not running")
	gobgpLog.Error("listen failed")
	agent.Debug("incremental reconcile")
	out := buf.String()
	for _, want := range []string{"Peer Up", "listen failed", "incremental reconcile"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from the log:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"sent update", "failed to stop"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("%q logged:\n%s", unwanted, out)
		}
	}
	if gobgpLog.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("GoBGP's logger is enabled at debug level")
	}
}
