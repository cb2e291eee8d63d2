package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/nbvrf"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/plan/sbevpn"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
)

// configFlags are the oslo.config-style options every command that reads
// bgp-agent.conf takes.
type configFlags struct {
	files []string
	dirs  []string
}

func (c *configFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&c.files, "config-file", nil, "bgp-agent.conf to read (repeatable; later files override earlier ones)")
	f.StringArrayVar(&c.dirs, "config-dir", nil, "directory whose *.conf files are read after the files, in lexical order (repeatable)")
}

// paths are the files and directories to read; with neither flag, the
// file upstream's packages install.
func (c *configFlags) paths() (files, dirs []string) {
	files = c.files
	if len(files) == 0 && len(c.dirs) == 0 {
		files = []string{"/etc/ovn-bgp-agent/bgp-agent.conf"}
	}
	return files, c.dirs
}

// load reads the configuration; warnings (unknown options) go to log.
func (c *configFlags) load(log *slog.Logger) (*config.Config, error) {
	cfg, warnings, err := config.Load(c.paths())
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn("configuration: " + w)
	}
	return cfg, nil
}

// newLogger logs to stderr (or [DEFAULT] log_file), at debug level when
// [DEFAULT] debug is set.
func newLogger(cfg *config.Config) (*slog.Logger, io.Closer, error) {
	setLogLevel(cfg)
	var w io.Writer = os.Stderr
	var closer io.Closer = io.NopCloser(nil)
	if path := cfg.LogPath(); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("log_file: %w", err)
		}
		w, closer = f, f
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: &logLevel})), closer, nil
}

// logLevel follows [DEFAULT] debug, also across SIGHUP reloads.
var logLevel slog.LevelVar

func setLogLevel(cfg *config.Config) {
	if cfg != nil && cfg.Debug {
		logLevel.Set(slog.LevelDebug)
	} else {
		logLevel.Set(slog.LevelInfo)
	}
}

// newPlanner builds the incremental planner of the configured driver over
// the source's topology, its address guard protecting the host's own
// addresses, connected networks, peers and OVSDB remotes as they are now,
// and the watch that keeps those facts current (the controller runs it).
// need is set for the southbound driver.
func newPlanner(cfg *config.Config, src *agent.Source) (p agent.Planner, need func() []string, protected *agent.ProtectedWatch) {
	facts := func() plan.Protected { return agent.ProtectedFacts(cfg, src.ID) }
	if cfg.Driver == config.DriverNB && cfg.ExposingMethod == config.ExposingVRF {
		d := nbvrf.New(cfg, src.Topo, northbound.Identity{Hostname: src.ID.Hostname, ChassisName: src.ID.SystemID})
		return plan.NewIncremental(d, src.ID.SystemID), nil, agent.NewProtectedWatch(facts, d.Guard().SetProtected)
	}
	if cfg.Driver == config.DriverNB {
		d := northbound.New(cfg, src.Topo, northbound.Identity{Hostname: src.ID.Hostname, ChassisName: src.ID.SystemID})
		return plan.NewIncremental(d, src.ID.SystemID), nil, agent.NewProtectedWatch(facts, d.Guard().SetProtected)
	}
	if cfg.Driver == config.DriverEVPN {
		d := sbevpn.New(cfg, src.Topo, src.ID.SystemID, cfg.EVPNLocalIP)
		return plan.NewIncremental(d, src.ID.SystemID), d.NeededDatapaths, agent.NewProtectedWatch(facts, d.Guard().SetProtected)
	}
	d := southbound.New(cfg, src.Topo, src.ID.SystemID)
	return plan.NewIncremental(d, src.ID.SystemID), d.NeededDatapaths, agent.NewProtectedWatch(facts, d.Guard().SetProtected)
}
