// Package frr is the FRR speaker: it renders the part of FRR's
// configuration that ovnbgp owns (the announce pieces, and on request the
// fabric side: peers, BFD, ECMP, the host-route prefix list, graceful
// restart), applies it with `vtysh -f` touching only ovnbgp's lines,
// re-applies it within a second of a zebra or bgpd restart, and reads the
// peers' and prefixes' state from the json forms of FRR's show commands.
//
// The prefixes themselves reach bgpd through kernel objects made by the
// Linux dataplane (an address on bgp_nic in bgp_vrf, or a route in the
// announce table); Sync only records what bgpd should advertise so that
// Status can tell what is missing or extra. See docs/frr.md for the
// boundary with operator-written configuration.
package frr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
)

// Options overrides what New derives from the configuration (for tests and
// unusual installs). Zero values mean "from the configuration".
type Options struct {
	// Vtysh is the vtysh binary (default frr_vtysh).
	Vtysh string
	// Pathspace is FRR's -N pathspace (default frr_pathspace).
	Pathspace string
	// RunDir holds the daemons' pid files and vty sockets (default
	// frr_vty_socket, plus /<pathspace> when there is one).
	RunDir string
	// StateFile keeps the last applied rendering across agent restarts, so
	// that a later run can remove lines the new configuration drops
	// (default <state_dir>/frr-applied.conf; "-" keeps it in memory only).
	StateFile string
	// OperatorConfig is the operator's FRR file; lines it has are never
	// removed (default <frr_config_dir>[/<pathspace>]/frr.conf; "-" for
	// none).
	OperatorConfig string
	// Poll is the restart-detection period (default 250 ms).
	Poll time.Duration
	// UseFile applies with `vtysh -f FILE` instead of one `vtysh -c ...`
	// session.
	UseFile bool
	// Daemons are the daemons watched for restarts (default zebra, bgpd,
	// and bfdd when bfd is on).
	Daemons []string
}

// Speaker is the FRR speaker. It implements speaker.Speaker.
type Speaker struct {
	cfg  *config.Config
	log  *slog.Logger
	opts Options

	mu        sync.Mutex   // serialises applies and guards the fields below
	prev      []*Node      // what the last successful apply rendered
	visible   []string     // line paths of prev that show up in running-config
	vipNets   []Network    // service VIPs' network statements rendered (under mu)
	routerID  string       // resolved router id (config or bgpd's)
	vrfs      []VRF        // the per-VRF instances the drivers asked for (SetVRFs)
	vrfsSet   bool         // SetVRFs was called: until then the saved rendering's VRFs are kept
	dynamic   []DynamicVRF // exposing_method = dynamic: the VRFs (SetDynamic)
	withdrawn bool         // Stop(withdraw=true) ran
	applied   time.Time
	restarts  int
	lastErr   error

	dmu      sync.Mutex // guards the prefix bookkeeping, never held across vtysh
	expected map[netip.Prefix]bool
	missing  []netip.Prefix
	extra    []netip.Prefix

	cancel context.CancelFunc
	done   chan struct{}
}

var _ speaker.Speaker = (*Speaker)(nil)

// New returns an FRR speaker for cfg. It does not talk to FRR yet.
func New(cfg *config.Config, log *slog.Logger) (*Speaker, error) {
	return NewWithOptions(cfg, log, Options{})
}

// NewWithOptions is New with overrides.
func NewWithOptions(cfg *config.Config, log *slog.Logger, opts Options) (*Speaker, error) {
	if cfg == nil {
		return nil, errors.New("frr: nil config")
	}
	if log == nil {
		log = slog.Default()
	}
	o := &cfg.OVNBGP
	if opts.Vtysh == "" {
		opts.Vtysh = o.FRRVtysh
	}
	if opts.Pathspace == "" {
		opts.Pathspace = o.FRRPathspace
	}
	if opts.Pathspace != "" && strings.ContainsAny(opts.Pathspace, "/.") {
		return nil, fmt.Errorf("frr: pathspace %q must be a plain name", opts.Pathspace)
	}
	if opts.RunDir == "" {
		opts.RunDir = o.FRRVtySocket
		if opts.RunDir == "" {
			opts.RunDir = "/var/run/frr"
		}
		if opts.Pathspace != "" {
			opts.RunDir = filepath.Join(opts.RunDir, opts.Pathspace)
		}
	}
	if opts.OperatorConfig == "" {
		dir := o.FRRConfigDir
		if dir == "" {
			dir = "/etc/frr"
		}
		if opts.Pathspace != "" {
			dir = filepath.Join(dir, opts.Pathspace)
		}
		opts.OperatorConfig = filepath.Join(dir, "frr.conf")
	}
	if opts.StateFile == "" && o.StateDir != "" {
		opts.StateFile = filepath.Join(o.StateDir, "frr-applied.conf")
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if len(opts.Daemons) == 0 {
		opts.Daemons = []string{"zebra", "bgpd"}
		if o.BFD && len(o.Peers) > 0 {
			opts.Daemons = append(opts.Daemons, "bfdd")
		}
	}
	s := &Speaker{cfg: cfg, log: log.With("speaker", "frr"), opts: opts, routerID: cfg.BGPRouterID}
	// Validate the configuration now: a bad option is a start-up error.
	if _, err := Render(Input{Config: cfg, RouterID: cfg.BGPRouterID}); err != nil {
		return nil, err
	}
	if prev, err := s.loadState(); err != nil {
		s.log.Warn("frr: ignoring the saved rendering", "file", opts.StateFile, "err", err)
	} else {
		s.prev = prev
		// The service VIPs the previous run announced stay rendered until
		// the first Sync says which are wanted: Start's apply must not
		// withdraw them (an agent restart withdraws nothing).
		s.vipNets = networksOf(prev, cfg.BGPAS)
	}
	return s, nil
}

// Name is "frr".
func (s *Speaker) Name() string { return config.SpeakerFRR }

// Start applies ovnbgp's configuration and starts the watcher, which
// re-applies it after a zebra/bgpd restart (within Options.Poll plus the
// apply time) and every frr_reconcile_interval when running-config lost
// a line of it. When the first apply fails (FRR down, a vtysh error) the
// watcher is running anyway and keeps retrying; the error is returned.
func (s *Speaker) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.cancel != nil {
		s.mu.Unlock()
		return errors.New("frr: already started")
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan struct{})
	s.withdrawn = false
	s.mu.Unlock()
	ids := s.daemonIDs()
	err := s.Apply(ctx, "start")
	context.AfterFunc(ctx, cancel)
	go s.watch(wctx, ids)
	return err
}

// Sync records the prefixes bgpd should advertise (announcements of the
// default VRF; FRR learns them from the kernel objects the dataplane
// creates). It writes configuration only when the service VIPs changed
// (their `network` statements, see syncVIPs).
func (s *Speaker) Sync(ctx context.Context, anns []plan.Announcement) error {
	exp := make(map[netip.Prefix]bool, len(anns))
	vips := map[netip.Prefix]plan.PathAttrs{}
	for _, a := range anns {
		if a.VRF != "" {
			continue
		}
		exp[a.Prefix.Masked()] = true
		if a.Kind == plan.KindServiceVIP {
			vips[a.Prefix.Masked()] = a.Attrs
		}
	}
	s.dmu.Lock()
	s.expected = exp
	s.dmu.Unlock()
	return s.syncVIPs(ctx, vips)
}

// SyncDelta updates the recorded prefixes by a difference (the agent's
// incremental path): withdrawn keys first, then announced ones, so a
// changed key stays.
func (s *Speaker) SyncDelta(ctx context.Context, announce, withdraw []plan.Announcement) error {
	s.dmu.Lock()
	if s.expected == nil {
		s.expected = map[netip.Prefix]bool{}
	}
	vips, vipChange := s.vipSet(), false
	for _, a := range withdraw {
		if a.VRF == "" {
			delete(s.expected, a.Prefix.Masked())
			if a.Kind == plan.KindServiceVIP {
				delete(vips, a.Prefix.Masked())
				vipChange = true
			}
		}
	}
	for _, a := range announce {
		if a.VRF == "" {
			s.expected[a.Prefix.Masked()] = true
			if a.Kind == plan.KindServiceVIP {
				vips[a.Prefix.Masked()] = a.Attrs
				vipChange = true
			}
		}
	}
	s.dmu.Unlock()
	if !vipChange {
		return nil
	}
	return s.syncVIPs(ctx, vips)
}

// vipSet is a copy of the VIPs rendered now, with their attributes.
func (s *Speaker) vipSet() map[netip.Prefix]plan.PathAttrs {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[netip.Prefix]plan.PathAttrs, len(s.vipNets))
	for _, n := range s.vipNets {
		out[n.Prefix] = n.Attrs
	}
	return out
}

// syncVIPs makes the service VIPs' `network` statements (and the
// route-maps of the de-preferred ones) those of want, at once: one vty
// session with the change (vipScript), not a whole Apply, which also
// checks the daemons and reads running-config back: too slow for a
// sub-second failover. Before the first apply the set is only recorded;
// Start's apply renders it.
func (s *Speaker) syncVIPs(ctx context.Context, want map[netip.Prefix]plan.PathAttrs) error {
	nets := make([]Network, 0, len(want))
	for p, a := range want {
		nets = append(nets, Network{Prefix: p, Attrs: a})
	}
	sortNetworks(nets)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Equal(nets, s.vipNets) {
		return nil
	}
	old := s.vipNets
	s.vipNets = nets
	if s.prev == nil || s.withdrawn {
		return nil
	}
	cur, script, err := s.vipChange(old, nets)
	if err != nil {
		return err
	}
	start := time.Now()
	via := "bgpd vty"
	out, err := vtyRun(ctx, s.vtySocket("bgpd"), vtyScript(script))
	if err != nil {
		s.log.Debug("frr: bgpd's vty socket refused the VIP change; using vtysh", "error", err)
		via = "vtysh"
		out, err = s.vtyshFile(ctx, script)
	}
	if err != nil {
		metricApplyErrors.Inc()
		s.vipNets = old // the next Sync tries again
		return errors.New(s.redact(err.Error()))
	}
	s.prev = cur
	metricApplies.WithLabelValues("vip").Inc()
	if err := s.saveState(); err != nil {
		s.log.Warn("frr: cannot save the applied rendering", "file", s.opts.StateFile, "err", err)
	}
	s.log.Info("frr: service VIPs applied", "networks", nets, "via", via, "took", time.Since(start).Round(time.Millisecond), "output", s.redact(strings.TrimSpace(out)))
	return nil
}

// vipChange renders the configuration with the VIPs nets (and the VRFs:
// their instances must not be removed) and the script that moves FRR to
// it from old.
func (s *Speaker) vipChange(old, nets []Network) ([]*Node, string, error) {
	cur, err := s.render()
	if err != nil {
		return nil, "", err
	}
	return cur, vipScript(s.prev, cur, old, nets, s.cfg.BGPAS, s.operatorLines()), nil
}

// SetVRFs records the per-VRF instances to render (vrf.go) and reports
// whether they differ from the recorded ones; the caller then applies
// (Apply), which renders them and removes the instances that went. The
// watcher's re-applies render the recorded ones.
func (s *Speaker) SetVRFs(vrfs []VRF) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The first call also changes what is rendered when the saved
	// rendering's VRF pieces were kept until now (render).
	kept := !s.vrfsSet && len(keepVRFs(nil, s.prev, s.cfg.BGPVRF)) > 0
	s.vrfsSet = true
	if slices.EqualFunc(s.vrfs, vrfs, vrfEqual) && !kept {
		return false
	}
	s.vrfs = slices.Clone(vrfs)
	return true
}

// Stop ends the watcher. With withdraw, the announce pieces
// (redistribution, import-table or the VRF leak) are removed first, so
// bgpd withdraws every prefix while the sessions stay up; without, FRR
// keeps announcing.
func (s *Speaker) Stop(ctx context.Context, withdraw bool) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if !withdraw {
		return nil
	}
	s.mu.Lock()
	s.withdrawn = true
	s.mu.Unlock()
	return s.Apply(ctx, "stop")
}

// Drift returns, from the last Status, the expected prefixes bgpd does not
// advertise and the prefixes it advertises that are not expected.
func (s *Speaker) Drift() (missing, extra []netip.Prefix) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	return append([]netip.Prefix(nil), s.missing...), append([]netip.Prefix(nil), s.extra...)
}

// Rendered returns the configuration text ovnbgp owns as last applied.
func (s *Speaker) Rendered() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Text(s.prev)
}

// Apply renders and applies ovnbgp's configuration now: removals of what
// the previous apply rendered and this one does not, then the whole
// rendering (re-applying an unchanged line is a no-op in FRR).
func (s *Speaker) Apply(ctx context.Context, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.applyLocked(ctx, reason)
	s.lastErr = err
	if err != nil {
		metricApplyErrors.Inc()
		s.log.Warn("frr: apply failed", "reason", reason, "err", err)
	}
	return err
}

func (s *Speaker) applyLocked(ctx context.Context, reason string) error {
	// vtysh -f skips the lines of a daemon that is down and still exits
	// 0: make sure every daemon is there first.
	out, err := s.vtysh(ctx, "show daemons")
	if err != nil {
		metricUp.Set(0)
		return fmt.Errorf("frr: FRR not reachable: %w", err)
	}
	have := strings.Fields(out)
	for _, d := range s.opts.Daemons {
		if !slices.Contains(have, d) {
			metricUp.Set(0)
			return fmt.Errorf("frr: %s is not running (vtysh sees %v)", d, have)
		}
	}
	if s.routerID == "" {
		if out, err := s.vtysh(ctx, "show bgp summary json"); err == nil {
			if _, id, _, err := parseSummary([]byte(out)); err == nil && id != "" && id != "0.0.0.0" {
				s.routerID = id
			}
		}
	}
	var cur []*Node
	if !s.withdrawn {
		var err error
		cur, err = s.render()
		if err != nil {
			return err
		}
	} else {
		// Keep the fabric side, drop the announce pieces.
		cur = withoutAnnounce(s.prev)
	}
	early, late := splitLate(Removals(s.prev, cur, s.operatorLines()))
	script := Text(early) + Text(cur) + Text(late)
	s.log.Debug("frr: applying", "reason", reason, "script", s.redact(script))
	start := time.Now()
	out, err = s.vtyshFile(ctx, script)
	d := time.Since(start)
	metricApplySeconds.Observe(d.Seconds())
	if err != nil {
		metricUp.Set(0)
		return errors.New(s.redact(err.Error()))
	}
	metricUp.Set(1)
	s.prev = cur
	s.applied = time.Now()
	metricApplies.WithLabelValues(reason).Inc()
	if err := s.saveState(); err != nil {
		s.log.Warn("frr: cannot save the applied rendering", "file", s.opts.StateFile, "err", err)
	}
	s.visible = s.visibleLines(ctx, cur)
	s.log.Info("frr: applied", "reason", reason, "took", d.Round(time.Millisecond), "output", s.redact(strings.TrimSpace(out)))
	return nil
}

// operatorLines returns the line paths of the operator's FRR file, which
// removals never touch; nil when it cannot be read.
func (s *Speaker) operatorLines() map[string]bool {
	if s.opts.OperatorConfig == "-" {
		return nil
	}
	b, err := os.ReadFile(s.opts.OperatorConfig)
	if err != nil {
		return nil
	}
	return parseRunning(string(b))
}

// withoutAnnounce drops the lines that make bgpd originate prefixes.
func withoutAnnounce(nodes []*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if strings.Contains(n.Line, " import-table ") || strings.HasPrefix(n.Line, "redistribute ") ||
			strings.HasPrefix(n.Line, "import vrf ") || (strings.HasPrefix(n.Line, "router bgp ") && strings.Contains(n.Line, " vrf ")) {
			continue
		}
		c := &Node{Line: n.Line, Owned: n.Owned, Children: withoutAnnounce(n.Children)}
		if len(n.Children) > 0 && len(c.Children) == 0 && strings.HasPrefix(n.Line, "address-family ") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// visibleLines returns the line paths of cur that running-config shows
// (FRR hides lines equal to its defaults); the drift check looks for
// exactly these.
func (s *Speaker) visibleLines(ctx context.Context, cur []*Node) []string {
	out, err := s.vtysh(ctx, "show running-config")
	if err != nil {
		return nil
	}
	run := parseRunning(out)
	var vis []string
	for _, p := range paths(cur) {
		if run[p] {
			vis = append(vis, p)
		}
	}
	return vis
}

// drifted reports whether running-config lost a line ovnbgp applied.
func (s *Speaker) drifted(ctx context.Context) (bool, error) {
	s.mu.Lock()
	vis := s.visible
	s.mu.Unlock()
	out, err := s.vtysh(ctx, "show running-config")
	if err != nil {
		return false, err
	}
	run := parseRunning(out)
	for _, p := range vis {
		if !run[p] {
			return true, nil
		}
	}
	return false, nil
}

// watch re-applies after daemon restarts and drift, and retries failed
// applies.
func (s *Speaker) watch(ctx context.Context, ids map[string]string) {
	defer close(s.done)
	poll := time.NewTicker(s.opts.Poll)
	defer poll.Stop()
	interval := s.cfg.FRRReconcileInterval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	recon := time.NewTicker(interval)
	defer recon.Stop()
	pending := "" // reason of an apply still to do
	var backoff time.Duration
	var nextTry time.Time
	restarted := false
	s.mu.Lock()
	if s.lastErr != nil {
		pending = "retry"
	}
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			now := s.daemonIDs()
			for _, d := range s.opts.Daemons {
				if now[d] != "" && now[d] != ids[d] {
					s.log.Info("frr: daemon (re)started", "daemon", d, "was", ids[d], "now", now[d])
					metricRestarts.WithLabelValues(d).Inc()
					s.mu.Lock()
					s.restarts++
					s.mu.Unlock()
					pending = "restart"
					restarted = true
				}
			}
			ids = now
		case <-recon.C:
			if pending == "" {
				if d, err := s.drifted(ctx); err != nil {
					metricUp.Set(0)
					pending = "retry"
				} else if d {
					s.log.Warn("frr: running-config lost ovnbgp lines; re-applying")
					pending = "drift"
				}
			}
			_, _ = s.Status(ctx)
		}
		if pending != "" && (restarted || !time.Now().Before(nextTry)) {
			if err := s.Apply(ctx, pending); err == nil {
				pending, backoff = "", 0
			} else {
				// FRR down or refusing: retry at growing intervals (up to 2 s),
				// at once when a daemon (re)starts.
				backoff = min(max(2*backoff, s.opts.Poll), 2*time.Second)
				nextTry = time.Now().Add(backoff)
			}
		}
		restarted = false
	}
}

// daemonIDs identifies the running daemons: pid (from the pid file, when
// that process is alive), else the inode of the vty socket.
func (s *Speaker) daemonIDs() map[string]string {
	m := map[string]string{}
	for _, d := range s.opts.Daemons {
		if b, err := os.ReadFile(filepath.Join(s.opts.RunDir, d+".pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 &&
				syscall.Kill(pid, 0) == nil {
				m[d] = "pid:" + strconv.Itoa(pid)
			}
			// a pid file of a dead process: the daemon is down
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(s.opts.RunDir, d+".vty"), &st); err == nil {
			m[d] = "vty:" + strconv.FormatUint(st.Ino, 10)
		}
	}
	return m
}

// Status reads peers (`show bgp summary json`), BFD (`show bfd peers
// json`) and the locally originated best paths (`show bgp ipv4|ipv6
// unicast json`), and updates the metrics.
func (s *Speaker) Status(ctx context.Context) (*speaker.Status, error) {
	st := &speaker.Status{Speaker: s.Name()}
	out, err := s.vtysh(ctx, "show bgp summary json")
	if err != nil {
		metricUp.Set(0)
		return nil, fmt.Errorf("frr: %w", err)
	}
	metricUp.Set(1)
	peers, id, as, err := parseSummary([]byte(out))
	if err != nil {
		return nil, err
	}
	st.Peers, st.RouterID, st.AS = peers, id, as
	if st.Peers == nil {
		st.Peers = []speaker.Peer{}
	}
	if s.cfg.OVNBGP.BFD {
		if out, err := s.vtysh(ctx, "show bfd peers json"); err == nil {
			if bfd, err := parseBFD([]byte(out)); err == nil {
				for i := range st.Peers {
					st.Peers[i].BFD = bfd[st.Peers[i].Address]
				}
			}
		}
	}
	var adv []netip.Prefix
	for _, af := range []string{"ipv4", "ipv6"} {
		out, err := s.vtysh(ctx, "show bgp "+af+" unicast json")
		if err != nil {
			return nil, fmt.Errorf("frr: %w", err)
		}
		ps, err := parseLocal([]byte(out), s.cfg.BGPVRF)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !s.cfg.OVNBGP.OnlyHostPrefixes || len(s.cfg.OVNBGP.Peers) == 0 || isHost(p) {
				adv = append(adv, p)
			}
		}
	}
	st.Prefixes = make([]string, 0, len(adv))
	for _, p := range adv {
		st.Prefixes = append(st.Prefixes, p.String())
	}
	byState := map[string]int{}
	for _, p := range st.Peers {
		byState[p.State]++
	}
	metricPeers.Reset()
	for k, v := range byState {
		metricPeers.WithLabelValues(k).Set(float64(v))
	}
	s.mu.Lock()
	st.Applied, st.Restarts = s.applied, s.restarts
	s.mu.Unlock()
	s.dmu.Lock()
	var missing, extra []netip.Prefix
	if s.expected != nil {
		missing, extra = compare(s.expected, adv)
	}
	s.missing, s.extra = missing, extra
	s.dmu.Unlock()
	metricPrefixes.WithLabelValues("advertised").Set(float64(len(adv)))
	metricPrefixes.WithLabelValues("missing").Set(float64(len(missing)))
	metricPrefixes.WithLabelValues("extra").Set(float64(len(extra)))
	return st, nil
}

// vtyshArgs are the arguments that select the FRR instance.
func (s *Speaker) vtyshArgs() []string {
	args := []string{"-H", "/dev/null"}
	if s.opts.Pathspace != "" {
		args = append(args, "-N", s.opts.Pathspace)
	} else if d := s.cfg.OVNBGP.FRRVtySocket; d != "" && filepath.Clean(d) != "/var/run/frr" && filepath.Clean(d) != "/run/frr" {
		args = append(args, "--vty_socket", d)
	}
	return args
}

// vtysh runs one command (bounded to 10 s).
func (s *Speaker) vtysh(ctx context.Context, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := append(s.vtyshArgs(), "-c", cmd)
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, s.opts.Vtysh, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return stdout.String(), fmt.Errorf("vtysh -c %q: %w: %s", cmd, err, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	if strings.HasPrefix(cmd, "show ") && strings.HasSuffix(cmd, " json") && !json.Valid(stdout.Bytes()) &&
		len(bytes.TrimSpace(stdout.Bytes())) > 0 {
		return "", fmt.Errorf("vtysh -c %q: not json: %.200s", cmd, stdout.String())
	}
	return stdout.String(), nil
}

// errLine matches the lines vtysh -f prints for a command it rejects.
var errLine = regexp.MustCompile(`(?m)^(line \d+: )?% .*$`)

// vtyshFile applies a script. With Options.UseFile, or when the script
// holds a secret (a neighbor password), it is `vtysh -f FILE` with FILE a
// fresh 0600 temporary file, so that the secret never reaches vtysh's
// argv (/proc/PID/cmdline is readable by every local user); not `copy FILE
// running-config`, which crashed FRR 9's mgmtd upstream. Otherwise it is
// one vtysh session with `-c 'configure terminal' -c LINE ...`, which
// stops at the first rejected line and, unlike -f, does not put bgpd into
// its config-pending hold (new peers idle for a second or so).
func (s *Speaker) vtyshFile(ctx context.Context, script string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := s.vtyshArgs()
	if s.opts.UseFile || hasSecret(script) {
		f, err := os.CreateTemp("", "ovnbgp-frr-*.conf")
		if err != nil {
			return "", fmt.Errorf("frr: %w", err)
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(script); err != nil {
			f.Close()
			return "", fmt.Errorf("frr: %w", err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("frr: %w", err)
		}
		args = append(args, "-f", f.Name())
	} else {
		args = append(args, "-c", "configure terminal")
		for _, l := range strings.Split(script, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				args = append(args, "-c", l)
			}
		}
		args = append(args, "-c", "end")
	}
	out, err := exec.CommandContext(ctx, s.opts.Vtysh, args...).CombinedOutput()
	if errs := errLine.FindAllString(string(out), -1); len(errs) > 0 {
		return string(out), fmt.Errorf("frr: vtysh rejected %d line(s): %s", len(errs), strings.Join(errs, "; "))
	}
	if err != nil {
		return string(out), fmt.Errorf("frr: vtysh: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// loadState reads the saved rendering (frr.conf syntax).
func (s *Speaker) loadState() ([]*Node, error) {
	if s.opts.StateFile == "" || s.opts.StateFile == "-" {
		return nil, nil
	}
	b, err := os.ReadFile(s.opts.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseText(string(b)), nil
}

func (s *Speaker) saveState() error {
	if s.opts.StateFile == "" || s.opts.StateFile == "-" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.opts.StateFile), 0o750); err != nil {
		return err
	}
	tmp := s.opts.StateFile + ".tmp"
	// It holds the peer password: 0600 even over an older, wider file.
	if err := os.WriteFile(tmp, []byte(Text(s.prev)), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.opts.StateFile)
}

// ParseText reads a rendering back from its text (the saved state file).
// Contexts ovnbgp owns as a whole are recognised by their line.
func ParseText(text string) []*Node {
	type frame struct {
		indent int
		node   *Node
	}
	var top []*Node
	var stack []frame
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \r")
		t := strings.TrimSpace(line)
		if t == "" || t == "!" || t == "exit" || t == "exit-address-family" || t == "exit-vrf" {
			continue
		}
		ind := len(line) - len(strings.TrimLeft(line, " "))
		for len(stack) > 0 && stack[len(stack)-1].indent >= ind {
			stack = stack[:len(stack)-1]
		}
		n := &Node{Line: t, Owned: ownedContext(t)}
		if len(stack) == 0 {
			top = append(top, n)
		} else {
			p := stack[len(stack)-1].node
			p.Children = append(p.Children, n)
		}
		stack = append(stack, frame{ind, n})
	}
	return top
}

// ownedContext reports whether a context line is one ovnbgp owns whole.
func ownedContext(line string) bool {
	return strings.HasPrefix(line, "profile ") || strings.HasPrefix(line, "route-map "+Kernel6+" ") ||
		strings.HasPrefix(line, "route-map "+VIPRouteMapPrefix+"-") ||
		(strings.HasPrefix(line, "router bgp ") && strings.Contains(line, " vrf "))
}

// Vtysh runs one vtysh command against the FRR instance this speaker
// configures (its pathspace or vty socket directory), as the speaker
// itself does; `ovnbgp doctor` reads FRR's version, daemons and running
// configuration through it.
func (s *Speaker) Vtysh(ctx context.Context, cmd string) (string, error) { return s.vtysh(ctx, cmd) }

// OperatorConfig is the operator's frr.conf the speaker reads
// (`<frr_config_dir>[/<pathspace>]/frr.conf`).
func (s *Speaker) OperatorConfig() string { return s.opts.OperatorConfig }

// Daemons are the FRR daemons the speaker needs running (zebra, bgpd, and
// bfdd when it configures BFD).
func (s *Speaker) Daemons() []string { return append([]string(nil), s.opts.Daemons...) }
