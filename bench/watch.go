package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	apiv3 "github.com/osrg/gobgp/v3/api"
	api "github.com/osrg/gobgp/v4/api"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// tracker records, for each prefix, when it last appeared and disappeared,
// with the time the notification was received.
type tracker struct {
	name    string
	mu      sync.Mutex
	present map[netip.Prefix]bool
	added   map[netip.Prefix]time.Time
	removed map[netip.Prefix]time.Time
	last    time.Time // time of the last change
	lost    atomic.Int64
}

func newTracker(name string) *tracker {
	return &tracker{name: name, present: map[netip.Prefix]bool{}, added: map[netip.Prefix]time.Time{}, removed: map[netip.Prefix]time.Time{}}
}

func (t *tracker) set(p netip.Prefix, present bool, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if present {
		if !t.present[p] {
			t.added[p] = at
		}
		t.present[p] = true
	} else {
		if t.present[p] {
			t.removed[p] = at
		}
		delete(t.present, p)
	}
	t.last = at
}

func (t *tracker) count() (int, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.present), t.last
}

// waitCount waits until n prefixes are present and returns the time of the
// change that made it so.
func (t *tracker) waitCount(n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, last := t.count()
		if c == n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: %d prefixes present after %v, want %d", t.name, c, timeout, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitAll waits, tracker after tracker, until p was added (or removed) at
// or after since in each, and returns when it happened in each, in order.
func waitAll(ts []*tracker, p netip.Prefix, add bool, since time.Time, timeout time.Duration) ([]time.Time, error) {
	at := make([]time.Time, len(ts))
	for i, t := range ts {
		var err error
		if at[i], err = t.wait(p, add, since, timeout); err != nil {
			return nil, err
		}
	}
	return at, nil
}

// wait waits until p is present, added at or after since (add), or absent,
// removed at or after since (or never present), and returns when.
func (t *tracker) wait(p netip.Prefix, add bool, since time.Time, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		t.mu.Lock()
		var at time.Time
		ok := false
		if add && t.present[p] {
			at, ok = t.added[p], true
		} else if !add && !t.present[p] {
			at, ok = t.removed[p], true
		}
		t.mu.Unlock()
		if ok && !at.Before(since) {
			return at, nil
		}
		if ok && !add && at.IsZero() {
			return since, nil // never present
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: %s not %s within %v", t.name, p, map[bool]string{true: "added", false: "removed"}[add], timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// watchKernel follows the routes of protocol proto in the namespace: /32
// routes in any table count as the kernel wiring of a prefix.
func watchKernel(ns string, proto int, t *tracker, done <-chan struct{}) error {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return err
	}
	ch := make(chan netlink.RouteUpdate, 1<<16)
	err = netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{
		Namespace: &h, ReceiveBufferSize: 64 << 20, ReceiveBufferForceSize: true,
		ErrorCallback: func(err error) {
			select {
			case <-done:
				return
			default:
			}
			t.lost.Add(1)
			fmt.Fprintf(os.Stderr, "bench: netlink: %v\n", err)
		},
	})
	if err != nil {
		h.Close()
		return err
	}
	go func() {
		defer h.Close()
		for u := range ch {
			now := time.Now()
			if int(u.Protocol) != proto || u.Dst == nil {
				continue
			}
			ones, bits := u.Dst.Mask.Size()
			if bits != 32 || ones != 32 {
				continue
			}
			a, ok := netip.AddrFromSlice(u.Dst.IP.To4())
			if !ok {
				continue
			}
			t.set(netip.PrefixFrom(a, 32), u.Type == unix.RTM_NEWROUTE, now)
		}
	}()
	return nil
}

// kernelCounts dumps the namespace: owned /32 routes (protocol proto) and
// ip rules with priority in [1000, 1999] (rule_priority..rule_priority_max).
func kernelCounts(ns string, proto int) (routes, rules int, err error) {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return 0, 0, err
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return 0, 0, err
	}
	defer nh.Close()
	rs, err := nh.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Protocol: netlink.RouteProtocol(proto), Table: unix.RT_TABLE_UNSPEC},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if r.Dst != nil {
			if ones, bits := r.Dst.Mask.Size(); ones == 32 && bits == 32 {
				routes++
			}
		}
	}
	ru, err := nh.RuleList(netlink.FAMILY_V4)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range ru {
		if r.Priority >= 1000 && r.Priority <= 1999 {
			rules++
		}
	}
	return routes, rules, nil
}

// startPeer starts gobgpd in the peer namespace (the fabric) and follows
// its best paths into t until done is closed.
func startPeer(e *env, t *tracker, done <-chan struct{}) error {
	dir := filepath.Join(e.dir, "gobgp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf(`[global.config]
  as = %d
  router-id = %q
[[neighbors]]
  [neighbors.config]
    neighbor-address = %q
    peer-as = %d
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`, peerAS, peerAddr, chassisAddr, localAS)
	cf := filepath.Join(dir, "gobgpd.toml")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "gobgpd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", e.peerNS, "gobgpd", "-f", cf, "-p", "--api-hosts="+peerAPI, "--pprof-disable")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	e.addPid(cmd.Process.Pid)
	go func() { _ = cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := run("timeout", "3", "ip", "netns", "exec", e.peerNS, "gobgp", "global"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gobgpd API did not come up (see %s)", dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	follow(e.peerNS, t, done, followPeer)
	return nil
}

// follow runs fn (a stream of one speaker's best paths into t) until done
// is closed, reconnecting when the stream ends (the agent's speaker
// restarts with the agent).
func follow(ns string, t *tracker, done <-chan struct{}, fn func(context.Context, string, *tracker) error) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	go func() {
		for ctx.Err() == nil {
			if err := fn(ctx, ns, t); err != nil && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
}

// dialAPI connects to a gRPC API at addr in namespace ns.
func dialAPI(ns, addr string) (*grpc.ClientConn, error) {
	dial := nsDialer(ns)
	return grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }))
}

// followPeer records gobgpd's best paths through its gRPC API (GoBGP 3.x,
// the API of Debian's gobgpd): what the peer received over BGP. Reading the
// API directly costs the 2 cores less than `gobgp monitor -j`, a process
// printing JSON for the bench to parse.
func followPeer(ctx context.Context, ns string, t *tracker) error {
	conn, err := dialAPI(ns, peerAPI)
	if err != nil {
		return err
	}
	defer conn.Close()
	cli := apiv3.NewGobgpApiClient(conn)
	stream, err := cli.WatchEvent(ctx, &apiv3.WatchEventRequest{Table: &apiv3.WatchEventRequest_Table{
		Filters: []*apiv3.WatchEventRequest_Table_Filter{{Type: apiv3.WatchEventRequest_Table_Filter_BEST}}}})
	if err != nil {
		return err
	}
	list, err := cli.ListPath(ctx, &apiv3.ListPathRequest{TableType: apiv3.TableType_GLOBAL,
		Family: &apiv3.Family{Afi: apiv3.Family_AFI_IP, Safi: apiv3.Family_SAFI_UNICAST}})
	if err != nil {
		return err
	}
	return record(t, func() (string, error) {
		r, err := list.Recv()
		return r.GetDestination().GetPrefix(), err
	}, func() ([]pathEvent, time.Time, error) {
		r, err := stream.Recv()
		now := time.Now()
		var out []pathEvent
		for _, p := range r.GetTable().GetPaths() {
			var n apiv3.IPAddressPrefix
			if p.GetNlri().UnmarshalTo(&n) != nil {
				continue
			}
			if a, err := netip.ParseAddr(n.GetPrefix()); err == nil {
				out = append(out, pathEvent{netip.PrefixFrom(a, int(n.GetPrefixLen())), p.GetIsWithdraw()})
			}
		}
		return out, now, err
	})
}

// pathEvent is a best path announced or withdrawn in a speaker's RIB.
type pathEvent struct {
	prefix   netip.Prefix
	withdraw bool
}

// record puts a speaker's RIB into t: first what listed returns (until its
// error: the paths already there when the watch started, so none is
// missed), then what next returns with the time it was received (until its
// error, which record returns).
func record(t *tracker, listed func() (string, error), next func() ([]pathEvent, time.Time, error)) error {
	for {
		pfx, err := listed()
		if err != nil {
			break
		}
		if p, err := netip.ParsePrefix(pfx); err == nil {
			t.set(p, true, time.Now())
		}
	}
	for {
		evs, at, err := next()
		if err != nil {
			return err
		}
		for _, e := range evs {
			t.set(e.prefix, !e.withdraw, at)
		}
	}
}

// followSpeaker follows the best paths of the agent's embedded GoBGP
// speaker through its gRPC API (gobgp_api_address): the moment a prefix is
// "in the speaker". It asks for changes only, no initial dump of the RIB:
// the API starts with the speaker, before the agent's first announcement,
// and a dump would make the agent hold its whole RIB a second time as API
// messages (the RSS measured would be the bench's).
func followSpeaker(ctx context.Context, ns string, t *tracker) error {
	conn, err := dialAPI(ns, speakerAPI)
	if err != nil {
		return err
	}
	defer conn.Close()
	cli := api.NewGoBgpServiceClient(conn)
	stream, err := cli.WatchEvent(ctx, &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{
		Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_TYPE_BEST}}}})
	if err != nil {
		return err
	}
	list, err := cli.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL,
		Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}})
	if err != nil {
		return err
	}
	return record(t, func() (string, error) {
		r, err := list.Recv()
		return r.GetDestination().GetPrefix(), err
	}, func() ([]pathEvent, time.Time, error) {
		r, err := stream.Recv()
		now := time.Now()
		var out []pathEvent
		for _, p := range r.GetTable().GetPaths() {
			n := p.GetNlri().GetPrefix()
			if n == nil {
				continue
			}
			if a, err := netip.ParseAddr(n.GetPrefix()); err == nil {
				out = append(out, pathEvent{netip.PrefixFrom(a, int(n.GetPrefixLen())), p.GetIsWithdraw()})
			}
		}
		return out, now, err
	})
}
