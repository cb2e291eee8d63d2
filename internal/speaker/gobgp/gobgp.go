// Package gobgp is the embedded BGP speaker: GoBGP (github.com/osrg/gobgp/v4)
// running inside the ovnbgp process, for hosts without FRR and for the demo.
// It implements speaker.Speaker.
//
// # Paths
//
// Every announcement of the default VRF becomes one locally originated path
// of the global RIB (origin IGP). IPv4 paths carry the next hop 0.0.0.0 and
// IPv6 paths "::": GoBGP replaces an unspecified next hop by the local
// address of each session when it exports the path, so every peer learns
// the address it talks to.
//
// That rule cannot give an IPv6 path a valid next hop over an IPv4 session
// (GoBGP would put the IPv4 local address into the MP_REACH_NLRI of an IPv6
// route, which is only legal with the extended next hop capability the other
// way round). So IPv6 unicast is negotiated on IPv6 sessions only, and IPv4
// unicast on IPv4 sessions only, unless Options.IPv6NextHop is set: then
// every IPv6 path carries that address as its next hop and IPv6 unicast is
// negotiated on IPv4 sessions too (the usual "one IPv4 session per peer, the
// host's IPv6 address as next hop" design). IPv4 over IPv6 sessions (RFC
// 8950) is not offered.
//
// maximum_paths is not used: the embedded speaker only originates paths and
// installs nothing in the kernel, so multipath selection has no effect.
//
// Announcements with a VRF are not supported yet: they are skipped with a
// warning and counted in ovnbgp_gobgp_skipped_announcements_total.
//
// # Sync
//
// The speaker keeps the paths it added, by prefix. Sync adds the missing
// ones and deletes the extra ones (by path, not by UUID: GoBGP's delete by
// UUID walks the whole RIB) and nothing else, so a change of one prefix costs
// one AddPath or DeletePath call whatever the table size.
//
// # Start and restarts
//
// Start starts the server and adds the peers administratively down; the
// first Sync installs the whole set and only then enables the peers, so the
// first UPDATEs a peer receives already carry every prefix, followed by
// End-of-RIB. With graceful_restart the peers are added with the Restart
// State bit set ("I am restarting, keep my routes"), and the forwarding
// state bit set for each family.
//
// Stop(withdraw=false) with graceful restart stops GoBGP with
// AllowGracefulRestart: GoBGP closes the TCP sessions WITHOUT a
// NOTIFICATION. A peer that negotiated graceful restart with us (RFC 4724
// helper; FRR by default, gobgpd when its neighbour has graceful-restart
// enabled) marks our routes stale and keeps forwarding to them for the
// restart time we advertised (Options.RestartTime, 120 s). When ovnbgp comes
// back, its OPEN carries the Restart State bit and the forwarding bits, so
// the peer keeps the stale routes until our End-of-RIB, which GoBGP sends
// after the full table: routes that are still wanted never flap; routes no
// longer wanted are removed at End-of-RIB. Without graceful restart (or when
// the peer does not do it) GoBGP sends a Cease NOTIFICATION (subcode 3, peer
// de-configured) and the peer drops our routes at once.
//
// Stop(withdraw=true) deletes every path, waits (bounded by ctx, at most
// 3 s) until no peer has any of our prefixes advertised, then stops with a
// Cease NOTIFICATION whatever the graceful restart setting, so the peer
// flushes anything left.
package gobgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
)

var _ speaker.Speaker = (*Speaker)(nil)

// Speaker is the embedded GoBGP speaker.
type Speaker struct {
	cfg *settings
	log *slog.Logger
	m   *metrics

	mu          sync.Mutex
	srv         *server.BgpServer
	running     bool // between a successful Start and Stop
	stopped     bool
	enabled     bool // peers enabled (after the first Sync)
	paths       map[netip.Prefix]*apiutil.Path
	attrs       map[netip.Prefix]plan.PathAttrs // the attributes of the paths that have any
	want        map[netip.Prefix]plan.PathAttrs // scratch set of sync
	skipped     map[plan.Key]bool               // VRF announcements already warned about
	applied     time.Time
	cancelWatch context.CancelFunc
}

// New validates cfg and returns a speaker that is not started yet.
func New(cfg *config.Config, log *slog.Logger) (*Speaker, error) {
	return NewWithOptions(cfg, log, Options{})
}

// NewWithOptions is New with the settings the configuration does not carry.
func NewWithOptions(cfg *config.Config, log *slog.Logger, opts Options) (*Speaker, error) {
	st, err := parse(cfg, opts)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Speaker{
		cfg:     st,
		log:     log.With("speaker", "gobgp"),
		paths:   map[netip.Prefix]*apiutil.Path{},
		skipped: map[plan.Key]bool{},
	}
	s.m = newMetrics(s)
	return s, nil
}

// Name returns "gobgp".
func (s *Speaker) Name() string { return config.SpeakerGoBGP }

// Start starts the BGP server and adds the configured peers (disabled until
// the first Sync). ctx only bounds the peer-state watcher.
func (s *Speaker) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped {
		return fmt.Errorf("gobgp: Start called twice")
	}
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelInfo)
	sopts := []server.ServerOption{server.LoggerOption(slog.New(quietHandler{s.log.Handler()}).With("component", "gobgpd"), lv)}
	if s.cfg.apiAddress != "" {
		// GoBGP's own gRPC API, for `gobgp -u HOST -p PORT` (the v4 CLI:
		// the 3.x CLI of Debian 12 speaks an older API). A listen failure
		// is logged by GoBGP and leaves BGP running.
		sopts = append(sopts, server.GrpcListenAddress(s.cfg.apiAddress))
		s.log.Info("serving the GoBGP gRPC API", "address", s.cfg.apiAddress)
	}
	srv := server.NewBgpServer(sopts...)
	go srv.Serve()

	g := &api.Global{
		Asn:             s.cfg.as,
		RouterId:        s.cfg.routerID.String(),
		ListenPort:      s.cfg.listenPort,
		ListenAddresses: s.cfg.opts.ListenAddresses,
	}
	if err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: g}); err != nil {
		srv.Stop()
		return fmt.Errorf("gobgp: start BGP (AS %d, router id %s, listen port %d): %w", s.cfg.as, s.cfg.routerID, s.cfg.listenPort, err)
	}
	for _, p := range s.cfg.peers {
		if err := srv.AddPeer(ctx, &api.AddPeerRequest{Peer: s.apiPeer(p)}); err != nil {
			_ = srv.StopBgp(context.Background(), &api.StopBgpRequest{})
			srv.Stop()
			return fmt.Errorf("gobgp: add peer %s (remote AS %s): %w", p.addr, p.raw, err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	kick := make(chan struct{}, 1)
	err := srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
			if ev.Type == apiutil.PEER_EVENT_STATE {
				s.log.Info("bgp peer state", "peer", ev.Peer.State.NeighborAddress.String(),
					"state", stateName(ev.Peer.State.SessionState), "as", ev.Peer.State.PeerASN,
					"reason", ev.Peer.State.DisconnectMessage)
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		},
	}, server.WatchPeer())
	if err != nil {
		s.log.Warn("gobgp: cannot watch peer states", "err", err)
	}
	s.srv, s.running, s.cancelWatch = srv, true, cancel
	// The metric is recomputed outside the watcher callback: ListPeer goes
	// through the server loop that also feeds the watcher.
	go func() {
		for {
			select {
			case <-wctx.Done():
				return
			case <-kick:
				s.updatePeerMetric()
			}
		}
	}()
	kick <- struct{}{}
	s.applied = time.Now()
	if !s.cfg.opts.IPv6NextHop.IsValid() {
		var v4 []string
		for _, p := range s.cfg.peers {
			if p.addr.Is4() {
				v4 = append(v4, p.addr.String())
			}
		}
		if len(v4) > 0 {
			s.log.Info("gobgp speaker: IPv6 prefixes are not announced over IPv4 sessions without an IPv6 next hop", "ipv4_peers", v4)
		}
	}
	s.log.Info("gobgp speaker started", "as", s.cfg.as, "router_id", s.cfg.routerID.String(),
		"listen_port", s.cfg.listenPort, "peers", len(s.cfg.peers), "graceful_restart", s.cfg.gr)
	return nil
}

// apiPeer is the GoBGP configuration of one neighbour.
func (s *Speaker) apiPeer(p peerConf) *api.Peer {
	ap := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.addr.String(),
			PeerAsn:         p.remoteAS,
			AuthPassword:    s.cfg.password,
			AdminDown:       true, // enabled by the first Sync
		},
		Transport: &api.Transport{PassiveMode: false},
	}
	if s.cfg.opts.RemotePort > 0 {
		ap.Transport.RemotePort = uint32(s.cfg.opts.RemotePort)
	}
	if s.cfg.opts.ConnectRetry > 0 || s.cfg.opts.HoldTime > 0 {
		tc := &api.TimersConfig{ConnectRetry: uint64(s.cfg.opts.ConnectRetry / time.Second)}
		if s.cfg.opts.HoldTime > 0 {
			tc.HoldTime = uint64(s.cfg.opts.HoldTime / time.Second)
			tc.KeepaliveInterval = max(tc.HoldTime/3, 1)
		}
		ap.Timers = &api.Timers{Config: tc}
	}
	for _, f := range peerFamilies(p.addr, s.cfg.opts.IPv6NextHop.IsValid()) {
		af := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}}
		if s.cfg.gr {
			af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		ap.AfiSafis = append(ap.AfiSafis, af)
	}
	if s.cfg.gr {
		ap.GracefulRestart = &api.GracefulRestart{
			Enabled:         true,
			RestartTime:     s.cfg.restartTime,
			DeferralTime:    s.cfg.deferral,
			LocalRestarting: true,
		}
	}
	return ap
}

// peerFamilies lists the families negotiated with a peer at addr.
func peerFamilies(addr netip.Addr, v6NextHop bool) []*api.Family {
	v4 := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	v6 := &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	if addr.Is4() {
		if v6NextHop {
			return []*api.Family{v4, v6}
		}
		return []*api.Family{v4}
	}
	return []*api.Family{v6}
}

// Sync makes the set of announced prefixes equal to anns (VRF announcements
// excepted) and enables the peers after the first successful call.
func (s *Speaker) Sync(ctx context.Context, anns []plan.Announcement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		s.m.syncErrors.Inc()
		return fmt.Errorf("gobgp: Sync before Start or after Stop")
	}
	inputErr, applyErr := s.sync(anns)
	err := errors.Join(inputErr, applyErr)
	s.m.paths.Set(float64(len(s.paths)))
	// The peers come up once the set is in the RIB; announcements that
	// were refused (bad input) do not hold back the good ones.
	if applyErr == nil && !s.enabled {
		var e error
		for _, p := range s.cfg.peers {
			if ee := s.srv.EnablePeer(ctx, &api.EnablePeerRequest{Address: p.addr.String()}); ee != nil {
				e = errors.Join(e, fmt.Errorf("gobgp: enable peer %s: %w", p.addr, ee))
			}
		}
		if e == nil {
			s.enabled = true
		}
		err = errors.Join(err, e)
	}
	if err != nil {
		s.m.syncErrors.Inc()
	}
	return err
}

// sync applies the difference between s.paths and anns. inputErr reports
// announcements that were refused, applyErr GoBGP calls that failed.
func (s *Speaker) sync(anns []plan.Announcement) (inputErr, applyErr error) {
	// The desired set is rebuilt per call (the interface hands over the
	// whole list); the map is reused to spare its allocation.
	if s.want == nil {
		s.want = make(map[netip.Prefix]plan.PathAttrs, len(anns))
	}
	want := s.want
	clear(want)
	var bad []string
	var vrfKeys []plan.Key
	for _, a := range anns {
		if a.VRF != "" {
			k := a.Key()
			vrfKeys = append(vrfKeys, k)
			if !s.skipped[k] {
				s.skipped[k] = true
				s.m.skipped.WithLabelValues("vrf").Inc()
				s.log.Warn("gobgp speaker: announcements in a VRF are not supported, skipped", "prefix", k.String(), "kind", a.Kind, "port", a.Port)
			}
			continue
		}
		p, ok := canonical(a.Prefix)
		if !ok {
			s.m.skipped.WithLabelValues("invalid").Inc()
			bad = append(bad, fmt.Sprintf("%q (%s %s)", a.Prefix.String(), a.Kind, a.Port))
			continue
		}
		want[p] = a.Attrs
	}
	if len(bad) > 0 {
		inputErr = fmt.Errorf("gobgp: invalid prefixes skipped: %v", bad)
	}
	// Forget VRF announcements that went away, so that they are reported
	// again if they come back.
	if len(s.skipped) > len(vrfKeys) {
		cur := make(map[plan.Key]bool, len(vrfKeys))
		for _, k := range vrfKeys {
			cur[k] = true
		}
		s.skipped = cur
	}
	var del []netip.Prefix
	for p := range s.paths {
		if _, ok := want[p]; !ok {
			del = append(del, p)
		}
	}
	var add []netip.Prefix
	for p, at := range want {
		if _, ok := s.paths[p]; !ok || s.attrs[p] != at {
			add = append(add, p)
		}
	}
	addErr, applyErr := s.change(add, del, want)
	return errors.Join(inputErr, addErr), applyErr
}

// SyncDelta announces and withdraws only the given announcements: the
// agent's incremental path, O(change) where Sync is O(announcements). Sync
// stays the level-triggered full pass of every full reconcile.
func (s *Speaker) SyncDelta(_ context.Context, announce, withdraw []plan.Announcement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || !s.enabled {
		s.m.syncErrors.Inc()
		return fmt.Errorf("gobgp: SyncDelta before the first Sync")
	}
	var bad []string
	attrs := map[netip.Prefix]plan.PathAttrs{}
	prefixes := func(anns []plan.Announcement) []netip.Prefix {
		var out []netip.Prefix
		for _, a := range anns {
			if a.VRF != "" {
				continue // counted and logged by the full Sync
			}
			p, ok := canonical(a.Prefix)
			if !ok {
				s.m.skipped.WithLabelValues("invalid").Inc()
				bad = append(bad, fmt.Sprintf("%q (%s %s)", a.Prefix.String(), a.Kind, a.Port))
				continue
			}
			out = append(out, p)
			attrs[p] = a.Attrs
		}
		return out
	}
	// A changed key is in both lists (old value withdrawn, new announced):
	// the prefix stays.
	del0 := prefixes(withdraw)
	clear(attrs) // the announced values win
	add := prefixes(announce)
	keep := make(map[netip.Prefix]bool, len(add))
	for _, p := range add {
		keep[p] = true
	}
	var del []netip.Prefix
	for _, p := range del0 {
		if _, ok := s.paths[p]; ok && !keep[p] {
			del = append(del, p)
		}
	}
	var newAdd []netip.Prefix
	for _, p := range add {
		if _, ok := s.paths[p]; !ok || s.attrs[p] != attrs[p] {
			newAdd = append(newAdd, p)
		}
	}
	var inputErr error
	if len(bad) > 0 {
		inputErr = fmt.Errorf("gobgp: invalid prefixes skipped: %v", bad)
	}
	addErr, applyErr := s.change(newAdd, del, attrs)
	s.m.paths.Set(float64(len(s.paths)))
	err := errors.Join(inputErr, addErr, applyErr)
	if err != nil {
		s.m.syncErrors.Inc()
	}
	return err
}

// change withdraws del and announces add (prefixes the caller checked
// against s.paths). inputErr: paths that could not be built; applyErr:
// GoBGP calls that failed.
func (s *Speaker) change(add, del []netip.Prefix, attrs map[netip.Prefix]plan.PathAttrs) (inputErr, applyErr error) {
	var errs []error
	// Withdraw first: fewer paths first keeps the peers' tables small.
	if len(del) > 0 {
		paths := make([]*apiutil.Path, 0, len(del))
		for _, p := range del {
			paths = append(paths, s.paths[p])
		}
		if err := s.srv.DeletePath(apiutil.DeletePathRequest{Paths: paths}); err != nil {
			errs = append(errs, fmt.Errorf("gobgp: withdraw %d prefixes: %w", len(del), err))
		} else {
			for _, p := range del {
				delete(s.paths, p)
				delete(s.attrs, p)
			}
			s.m.changes.WithLabelValues("withdraw").Add(float64(len(del)))
		}
	}
	var paths []*apiutil.Path
	var addKeys []netip.Prefix
	for _, p := range add {
		path, err := s.newPath(p, attrs[p])
		if err != nil {
			inputErr = errors.Join(inputErr, err)
			continue
		}
		paths = append(paths, path)
		addKeys = append(addKeys, p)
	}
	if len(paths) > 0 {
		n := 0
		if _, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: paths}); err == nil {
			for i, p := range addKeys {
				s.setPath(p, paths[i], attrs[p])
			}
			n = len(paths)
		} else {
			// On a per-path error GoBGP answers with the last error and no
			// per-path results, although the other paths are in the RIB:
			// add them one by one to know which are (adding an existing
			// path again is an implicit replace).
			for i, p := range addKeys {
				if _, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: paths[i : i+1]}); err != nil {
					errs = append(errs, fmt.Errorf("gobgp: announce %s: %w", p, err))
					continue
				}
				s.setPath(p, paths[i], attrs[p])
				n++
			}
		}
		s.m.changes.WithLabelValues("announce").Add(float64(n))
	}
	return inputErr, errors.Join(errs...)
}

// setPath records an added path and its attributes.
func (s *Speaker) setPath(p netip.Prefix, path *apiutil.Path, at plan.PathAttrs) {
	s.paths[p] = path
	if at == (plan.PathAttrs{}) {
		delete(s.attrs, p)
		return
	}
	if s.attrs == nil {
		s.attrs = map[netip.Prefix]plan.PathAttrs{}
	}
	s.attrs[p] = at
}

// withAttrs appends the de-preferring attributes to a path's.
func (s *Speaker) withAttrs(attrs []bgp.PathAttributeInterface, at plan.PathAttrs) []bgp.PathAttributeInterface {
	if at.SetMED {
		attrs = append(attrs, bgp.NewPathAttributeMultiExitDisc(at.MED))
	}
	if at.Prepend > 0 {
		as := make([]uint32, at.Prepend)
		for i := range as {
			as[i] = s.cfg.as
		}
		attrs = append(attrs, bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, as)}))
	}
	return attrs
}

// canonical returns the masked prefix, refusing invalid and IPv4-mapped
// ones.
func canonical(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// newPath builds the locally originated path of p, with the attributes
// that de-prefer it when at has any.
func (s *Speaker) newPath(p netip.Prefix, at plan.PathAttrs) (*apiutil.Path, error) {
	nlri, err := bgp.NewIPAddrPrefix(p)
	if err != nil {
		return nil, fmt.Errorf("gobgp: prefix %s: %w", p, err)
	}
	origin := bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)
	if p.Addr().Is4() {
		nh, err := bgp.NewPathAttributeNextHop(netip.IPv4Unspecified())
		if err != nil {
			return nil, fmt.Errorf("gobgp: next hop for %s: %w", p, err)
		}
		return &apiutil.Path{Family: bgp.RF_IPv4_UC, Nlri: nlri, Attrs: s.withAttrs([]bgp.PathAttributeInterface{origin, nh}, at)}, nil
	}
	nh := s.cfg.opts.IPv6NextHop
	if !nh.IsValid() {
		nh = netip.IPv6Unspecified()
	}
	mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, []bgp.PathNLRI{{NLRI: nlri}}, nh)
	if err != nil {
		return nil, fmt.Errorf("gobgp: next hop for %s: %w", p, err)
	}
	return &apiutil.Path{Family: bgp.RF_IPv6_UC, Nlri: nlri, Attrs: s.withAttrs([]bgp.PathAttributeInterface{origin, mp}, at)}, nil
}

// Status reports the peers (ListPeer) and the prefixes of the global RIB
// this speaker originates (ListPath).
func (s *Speaker) Status(ctx context.Context) (*speaker.Status, error) {
	s.mu.Lock()
	srv, running, applied := s.srv, s.running, s.applied
	s.mu.Unlock()
	st := &speaker.Status{Speaker: s.Name(), RouterID: s.cfg.routerID.String(), AS: s.cfg.as,
		Peers: []speaker.Peer{}, Prefixes: []string{}, Applied: applied}
	if !running {
		for _, p := range s.cfg.peers {
			st.Peers = append(st.Peers, speaker.Peer{Address: p.addr.String(), RemoteAS: p.remoteAS, State: "Stopped"})
		}
		return st, nil
	}
	peers, err := listPeers(ctx, srv)
	if err != nil {
		return nil, err
	}
	st.Peers = peers
	for _, f := range []bgp.Family{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC} {
		err := srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: f},
			func(prefix bgp.NLRI, paths []*apiutil.Path) {
				// The best path comes first; ours have no source peer.
				if len(paths) > 0 && paths[0].Best && !paths[0].Withdrawal &&
					(!paths[0].PeerAddress.IsValid() || paths[0].PeerAddress.IsUnspecified()) {
					st.Prefixes = append(st.Prefixes, prefix.String())
				}
			})
		if err != nil {
			return nil, fmt.Errorf("gobgp: list %s paths: %w", f, err)
		}
	}
	sortPrefixes(st.Prefixes)
	return st, nil
}

// listPeers converts ListPeer's answer.
func listPeers(ctx context.Context, srv *server.BgpServer) ([]speaker.Peer, error) {
	out := []speaker.Peer{}
	err := srv.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		sp := speaker.Peer{}
		if c := p.GetConf(); c != nil {
			sp.Address, sp.RemoteAS = c.NeighborAddress, c.PeerAsn
		}
		if st := p.GetState(); st != nil {
			if st.PeerAsn != 0 {
				sp.RemoteAS = st.PeerAsn
			}
			sp.State = stateName(bgp.FSMState(st.SessionState - 1))
			if st.SessionState == api.PeerState_SESSION_STATE_UNSPECIFIED {
				sp.State = "Unknown"
			}
			if st.AdminState == api.PeerState_ADMIN_STATE_DOWN {
				sp.State = "Idle (Admin)"
			}
			if st.SessionState == api.PeerState_SESSION_STATE_ESTABLISHED {
				if up := p.GetTimers().GetState().GetUptime(); up != nil && up.GetSeconds() > 0 {
					sp.Uptime = time.Since(up.AsTime()).Truncate(time.Second)
				}
			}
		}
		for _, af := range p.GetAfiSafis() {
			if st := af.GetState(); st != nil {
				sp.PrefixesSent += int(st.Advertised)
				sp.PrefixesRecvd += int(st.Received)
			}
		}
		out = append(out, sp)
	})
	if err != nil {
		return nil, fmt.Errorf("gobgp: list peers: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// stateName renders a session state as FRR and `ovnbgp status` do.
func stateName(s bgp.FSMState) string {
	switch s {
	case bgp.BGP_FSM_IDLE:
		return "Idle"
	case bgp.BGP_FSM_CONNECT:
		return "Connect"
	case bgp.BGP_FSM_ACTIVE:
		return "Active"
	case bgp.BGP_FSM_OPENSENT:
		return "OpenSent"
	case bgp.BGP_FSM_OPENCONFIRM:
		return "OpenConfirm"
	case bgp.BGP_FSM_ESTABLISHED:
		return "Established"
	}
	return "Unknown"
}

// sortPrefixes orders prefix strings as plan.LessKey does.
func sortPrefixes(ps []string) {
	sort.Slice(ps, func(i, j int) bool {
		a, ea := netip.ParsePrefix(ps[i])
		b, eb := netip.ParsePrefix(ps[j])
		if ea != nil || eb != nil {
			return ps[i] < ps[j]
		}
		return plan.LessKey(plan.Key{Prefix: a}, plan.Key{Prefix: b})
	})
}

// Stop stops the speaker; see the package documentation for what the peers
// see. It is safe to call more than once.
func (s *Speaker) Stop(ctx context.Context, withdraw bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		s.stopped = true
		return nil
	}
	var errs []error
	if withdraw && len(s.paths) > 0 {
		n := len(s.paths)
		if err := s.srv.DeletePath(apiutil.DeletePathRequest{DeleteAll: true}); err != nil {
			errs = append(errs, fmt.Errorf("gobgp: withdraw all: %w", err))
		} else {
			s.paths = map[netip.Prefix]*apiutil.Path{}
			s.m.changes.WithLabelValues("withdraw").Add(float64(n))
			s.waitWithdrawn(ctx)
		}
		s.m.paths.Set(0)
	}
	// Watchers first (go-dependencies.md §4.1: watcher leak on shutdown).
	if s.cancelWatch != nil {
		s.cancelWatch()
	}
	gr := s.cfg.gr && !withdraw
	if err := s.srv.StopBgp(context.Background(), &api.StopBgpRequest{AllowGracefulRestart: gr}); err != nil {
		errs = append(errs, fmt.Errorf("gobgp: stop: %w", err))
	}
	// Stop also ends the BFD goroutine; its own StopBgp fails (already
	// stopped) and GoBGP logs that at error level: quietHandler drops it.
	s.srv.Stop()
	s.running, s.stopped = false, true
	metricPeers.Reset()
	s.log.Info("gobgp speaker stopped", "withdraw", withdraw, "graceful_restart", gr)
	return errors.Join(errs...)
}

// waitWithdrawn waits until no established peer has prefixes advertised,
// bounded by ctx and 3 s.
func (s *Speaker) waitWithdrawn(ctx context.Context) {
	deadline := time.Now().Add(3 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for time.Now().Before(deadline) {
		peers, err := listPeers(ctx, s.srv)
		if err != nil {
			return
		}
		left := 0
		for _, p := range peers {
			left += p.PrefixesSent
		}
		if left == 0 {
			// The UPDATEs are queued; give the send loop a moment to
			// write them before the sessions are closed.
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
