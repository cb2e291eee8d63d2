package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/linux"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/ovs"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
	"github.com/ovnbgp/ovnbgp/internal/speaker/gobgp"
	"github.com/ovnbgp/ovnbgp/internal/vip"
)

func init() {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the agent: watch OVN, wire this chassis and announce its prefixes",
		Long: `Runs ovnbgp on this chassis. It reads upstream ovn-bgp-agent's bgp-agent.conf
(same options), watches the local Open_vSwitch database and the OVN
database of the configured driver, wires the host and announces through
the configured BGP speaker. SIGTERM stops it leaving everything announced
(unless [ovnbgp] withdraw_on_stop); SIGHUP re-reads the configuration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			boot := slog.New(slog.NewTextHandler(os.Stderr, nil))
			cfg, err := cf.load(boot)
			if err != nil {
				return err
			}
			log, closer, err := newLogger(cfg)
			if err != nil {
				return &config.InvalidError{Section: "DEFAULT", Option: "log_file", Value: cfg.LogPath(), Reason: err.Error()}
			}
			defer closer.Close()
			return runAgent(cmd.Context(), cfg, &cf, log)
		},
	}
	cf.add(cmd)
	rootCmd.AddCommand(cmd)
}

// The agent runs with Go's default GOGC (100) unless the environment sets
// one. Until the agent had its own OVSDB client it ran with 50 to keep its
// resident size down; at 100,000 southbound ports (10,000 on the chassis)
// the live heap is now about 67 MB, and with 50 a collection's mark phase
// (45-140 ms on 2 busy cores) came about once a second of a burst, and six
// of the seven slow reconciles of a traced run ran during one. Measured
// with go run ./bench -sizes 100000, 15 bursts each in one hour
// (bench/results/PROFILE.md section 11): per-burst p99 median 53 ms with
// 50, 39 with 75, 33 with 100 (worst 103, 149, 85 ms); RSS at
// convergence 127-140, 137-148, 141-145 MB; peak over the run 153-159,
// 163-182, 174-198 MB.

func runAgent(parent context.Context, cfg *config.Config, cf *configFlags, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	for _, w := range config.TCPWarnings(cfg) {
		log.Warn("configuration: " + w)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	reload := make(chan *config.Config, 1)
	cur := cfg // owned by the signal goroutine
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				if s != syscall.SIGHUP {
					log.Info("stopping", "signal", s.String(), "withdraw_on_stop", cur.OVNBGP.WithdrawOnStop)
					cancel()
					return
				}
				files, dirs := cf.paths()
				nc, report, err := config.Reload(cur, files, dirs)
				for _, w := range report.Warnings {
					log.Warn("configuration: " + w)
				}
				if err != nil {
					log.Error("SIGHUP: configuration not reloaded; the running one is kept", "error", err)
					continue
				}
				if len(report.NeedsRestart) > 0 {
					log.Warn("SIGHUP: these options change only when ovnbgp restarts; their running values are kept", "options", report.NeedsRestart)
				}
				if len(report.Changed) == len(report.NeedsRestart) {
					log.Info("SIGHUP: nothing to apply", "changed", report.Changed)
					continue
				}
				select {
				case reload <- nc:
					cur = nc
				default:
					log.Warn("SIGHUP: a reload is already pending; send SIGHUP again once it is applied")
				}
			}
		}
	}()

	driver := cfg.Driver
	if !useOVN(cfg) {
		driver = "none"
	}
	log.Info("ovnbgp starting", "driver", driver, "exposing_method", cfg.ExposingMethod, "speaker", cfg.OVNBGP.Speaker,
		"announce_method", cfg.OVNBGP.AnnounceMethod, "vips", len(cfg.VIPs))
	// One registry and one HTTP server for the life of the process (the
	// speaker, like the address, changes only with a restart).
	speakerCollectors := frr.Collectors()
	if cfg.OVNBGP.Speaker == config.SpeakerGoBGP {
		speakerCollectors = gobgp.Collectors()
	}
	reg := agent.Registry(agent.Collectors(), ovsdb.Collectors(), plan.Collectors(), linux.Collectors(), ovs.Collectors(),
		speakerCollectors, vip.Collectors())
	var current running
	if addr := cfg.OVNBGP.MetricsAddress; addr != "" {
		go func() {
			if err := agent.Serve(ctx, addr, reg, current.controller, cfg.OVNBGP.DebugPprof, log); err != nil {
				log.Error("metrics endpoint", "address", addr, "error", err)
			}
		}()
	}
	for {
		next, err := runOnce(ctx, cfg, log, reload, &current)
		if err != nil || next == nil {
			return err
		}
		log.Info("configuration reloaded: restarting the controller (nothing is withdrawn)", "changed", next.Diff(cfg))
		cfg = next
		setLogLevel(cfg)
	}
}

// startSpeaker starts the speaker. The FRR speaker's watcher retries a
// failed first apply itself (FRR not running yet); a GoBGP speaker that
// failed to start (its port still held) is started again in the background
// until it runs. The kernel side converges meanwhile, and the next
// reconcile's Sync catches up.
func startSpeaker(ctx context.Context, sp speaker.Speaker, log *slog.Logger) {
	err := sp.Start(ctx)
	if err == nil {
		return
	}
	if sp.Name() != config.SpeakerGoBGP {
		log.Error("speaker: first apply failed; its watcher retries", "speaker", sp.Name(), "error", err)
		return
	}
	log.Error("speaker start failed; retrying in the background", "speaker", sp.Name(), "error", err)
	go func() {
		delay := time.Second
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if err := sp.Start(ctx); err == nil {
				log.Info("speaker started", "speaker", sp.Name())
				return
			} else {
				log.Error("speaker start failed; retrying", "speaker", sp.Name(), "error", err, "retry_in", delay)
			}
			delay = min(2*delay, 30*time.Second)
		}
	}()
}

// runUntilReload runs run(ctx) until it returns (its error, unless the
// parent context ended) or a reload arrives (then ctx is cancelled, run
// awaited, and the new configuration returned).
func runUntilReload(parent context.Context, run func(context.Context) error, ctx context.Context, cancel context.CancelFunc,
	reload <-chan *config.Config) (*config.Config, error) {
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case err := <-done:
		if err != nil && parent.Err() == nil {
			return nil, err
		}
		return nil, nil
	case next := <-reload:
		cancel()
		<-done
		return next, nil
	}
}

// runOnce runs the controller with one configuration until ctx ends (nil,
// nil) or a reload asks for a restart with a new configuration. Nothing is
// withdrawn across a restart: the first full reconcile of the new
// controller adopts what the previous one left.
func runOnce(parent context.Context, cfg *config.Config, log *slog.Logger, reload <-chan *config.Config,
	current *running) (*config.Config, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var deps agent.Deps
	withOVN := useOVN(cfg)
	if withOVN {
		resolveEVPNLocalIP(cfg, log)
		src := agent.NewSource(cfg, log, agent.Identity{})
		defer src.Close()
		if err := src.Start(ctx); err != nil {
			if parent.Err() != nil {
				return nil, nil
			}
			return nil, err
		}
		log.Info("chassis identified", "system-id", src.ID.SystemID, "hostname", src.ID.Hostname)
		if cfg.ExposingMethod == config.ExposingDynamic {
			if len(cfg.VIPs) > 0 {
				log.Warn("exposing_method = dynamic: the [ovnbgp_vip:*] sections are not served in this mode yet", "vips", len(cfg.VIPs))
			}
			return runDynamic(ctx, parent, cfg, log, reload, src, &current.dynamic)
		}
		planner, need, protected := newPlanner(cfg, src)
		if w := agent.UnguardedTenantExposure(cfg); w != "" {
			log.Warn(w)
		}
		deps = agent.Deps{Source: src, Planner: planner, NeededDatapaths: need, Protected: protected}
	} else {
		log.Info("no OVN on this node: announcing the service VIPs only", "vips", len(cfg.VIPs), "ovn", cfg.OVNBGP.OVN)
	}
	if len(cfg.VIPs) > 0 {
		// Both speakers de-prefer (FRR through route-maps on the VIPs'
		// network statements).
		deps.VIPs = vip.New(cfg.VIPs, vip.Options{CanDeprefer: true, Logger: log.With("component", "vip")})
	}
	lo := linux.OptionsFromConfig(cfg)
	lo.Logger = log.With("component", "kernel")
	var sp speaker.Speaker
	switch cfg.OVNBGP.Speaker {
	case config.SpeakerGoBGP:
		lo.AnnounceMethod = linux.AnnounceNone // the embedded speaker announces itself
		var gopts gobgp.Options
		if nh := cfg.OVNBGP.GoBGPIPv6NextHop; nh != "" {
			gopts.IPv6NextHop = netip.MustParseAddr(nh) // validated by the config loader
		}
		g, err := gobgp.NewWithOptions(cfg, log.With("component", "gobgp"), gopts)
		if err != nil {
			return nil, err
		}
		sp = g
	default:
		f, err := frr.New(cfg, log.With("component", "frr"))
		if err != nil {
			return nil, err
		}
		sp = f
	}
	kernel, err := linux.New(lo)
	if err != nil {
		return nil, fmt.Errorf("kernel dataplane: %w", err)
	}
	defer kernel.Close()
	deps.Kernel = kernel
	if withOVN {
		deps.Flows = ovs.New(ovs.Options{Logger: log.With("component", "ovs")})
	}
	deps.Speaker = sp

	a := agent.New(cfg, log, deps)
	current.agent.Store(a)
	defer current.agent.CompareAndSwap(a, nil)
	startSpeaker(ctx, sp, log)
	if sp.Name() == config.SpeakerFRR {
		go a.PollSpeaker(ctx, 10*time.Second)
	}

	next, err := runUntilReload(parent, a.Run, ctx, cancel, reload)
	if err != nil {
		return nil, err
	}
	if next != nil {
		// A restart of the controller: leave everything in place. The
		// speaker stops without withdrawing (FRR keeps announcing; the
		// embedded GoBGP closes its sessions with graceful restart, so the
		// peers keep the routes until the new one has sent them again) and
		// frees its listen port for the next one.
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := sp.Stop(sctx, false); err != nil {
			log.Warn("speaker stop before the controller restart", "error", err)
		}
		return next, nil
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := a.Shutdown(sctx); err != nil {
		log.Error("shutdown", "error", err)
	}
	log.Info("stopped")
	return nil, nil
}

// useOVN tells whether this node reads OVN ([ovnbgp] ovn): auto means yes,
// unless the configuration has VIP sections and the local Open_vSwitch
// database's unix socket does not exist (a controller without OVN).
func useOVN(cfg *config.Config) bool {
	switch cfg.OVNBGP.OVN {
	case config.OVNOn:
		return true
	case config.OVNOff:
		return false
	}
	if len(cfg.VIPs) == 0 {
		return true
	}
	path, ok := strings.CutPrefix(cfg.OVSDBConnection, "unix:")
	if !ok {
		return true
	}
	_, err := os.Stat(path)
	return err == nil
}

// running holds the controller of the moment for the HTTP endpoints: the
// agent, or the dynamic-routing controller (nil both while none runs:
// starting, or restarting after SIGHUP).
type running struct {
	agent   atomic.Pointer[agent.Agent]
	dynamic atomic.Pointer[agent.Dynamic]
}

func (r *running) controller() agent.Controller {
	if a := r.agent.Load(); a != nil {
		return a
	}
	if d := r.dynamic.Load(); d != nil {
		return d
	}
	return nil // an untyped nil: Serve tests the interface against nil
}
