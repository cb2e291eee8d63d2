// Package doctor checks, read-only, whether this host can run the ovnbgp
// agent with a given configuration: every prerequisite the configuration
// implies (kernel features of the announce method, FRR and its daemons,
// sysctls, the bridges of the mappings, each OVSDB's reachability and
// schema, another BGP agent or a foreign FRR instance that would fight
// ovnbgp, the metrics address). Each finding is one Result, ok, warn or
// fail, with the fix; CanStart says whether the agent can start.
//
// One file per concern: ovsdb.go (databases, identity), bridges.go,
// kernel.go, sysctl.go, frr.go, agents.go (other agents, BGP port),
// listen.go (metrics address, state directory).
//
// Nothing is changed: files and sockets are only read, OVSDB is only
// monitored (the small tables) and selected, FRR only gets `show`
// commands; the metrics address and the BGP port are bound for an instant
// to see whether they are free.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// Level is a result's verdict.
type Level int

const (
	OK   Level = iota // nothing to do
	Warn              // the agent starts, but something will not work or may surprise
	Fail              // the agent cannot start, or cannot do its job
)

func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "FAIL"
}

// MarshalText writes the level as ok, warn or FAIL.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Result is one finding.
type Result struct {
	Check string `json:"check"` // area/item, e.g. kernel/vrf
	Level Level  `json:"level"`
	Msg   string `json:"message"`
	Fix   string `json:"fix,omitempty"`
}

// Env is what the checks read. Only Config is required.
type Env struct {
	Config *config.Config
	// Warnings of the configuration loader (unknown options).
	ConfigWarnings []string
	// Timeout bounds each OVSDB connection (default 5 s).
	Timeout time.Duration
	// Proc is the procfs root (default /proc).
	Proc string

	log *slog.Logger
	// Filled by the OVSDB check for the later ones.
	ovs *ovsFacts
}

// check is one concern.
type check struct {
	name string
	run  func(ctx context.Context, e *Env) []Result
}

// checks run in this order: the local database first (identity and
// mappings are needed by the OVN and bridge checks).
var checks = []check{
	{"config", checkConfig},
	{"ovsdb", checkOVSDB},
	{"bridges", checkBridges},
	{"kernel", checkKernel},
	{"sysctl", checkSysctls},
	{"frr", checkFRR},
	{"agents", checkAgents},
	{"listen", checkListen},
}

// Run runs every check and returns the results in order.
func Run(ctx context.Context, e *Env) []Result {
	if e.Timeout <= 0 {
		e.Timeout = 5 * time.Second
	}
	if e.Proc == "" {
		e.Proc = "/proc"
	}
	e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	var out []Result
	for _, c := range checks {
		out = append(out, c.run(ctx, e)...)
	}
	return out
}

// CanStart is false when any result fails.
func CanStart(rs []Result) bool {
	for _, r := range rs {
		if r.Level == Fail {
			return false
		}
	}
	return true
}

// Write prints one line per result (level, check, message) with its fix
// indented below, then a summary line.
func Write(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	n := map[Level]int{}
	for _, r := range rs {
		n[r.Level]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Level, r.Check, oneLine(r.Msg))
		if r.Fix != "" && r.Level != OK {
			fmt.Fprintf(tw, "\t\tfix: %s\n", oneLine(r.Fix))
		}
	}
	verdict := "the agent can start"
	if !CanStart(rs) {
		verdict = "the agent cannot start (or cannot do its job) until the failures are fixed"
	}
	fmt.Fprintf(tw, "\ndoctor: %d ok, %d warn, %d fail: %s\n", n[OK], n[Warn], n[Fail], verdict)
	return tw.Flush()
}

// WriteJSON prints the results and the verdict as one JSON object.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		CanStart bool     `json:"can_start"`
		Results  []Result `json:"results"`
	}{CanStart(rs), rs})
}

// oneLine keeps a message on its line (an error may hold newlines or tabs,
// a name from OVSDB control characters).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func ok(check, msg string) Result { return Result{Check: check, Level: OK, Msg: msg} }
func warn(check, msg, fix string) Result {
	return Result{Check: check, Level: Warn, Msg: msg, Fix: fix}
}
func fail(check, msg, fix string) Result {
	return Result{Check: check, Level: Fail, Msg: msg, Fix: fix}
}

// checkConfig reports the loader's warnings and what the rest depends on.
func checkConfig(_ context.Context, e *Env) []Result {
	c := e.Config
	out := []Result{ok("config", fmt.Sprintf("driver %s, announce_method %s, speaker %s", c.Driver,
		c.OVNBGP.AnnounceMethod, c.OVNBGP.Speaker))}
	for _, w := range e.ConfigWarnings {
		out = append(out, warn("config", w, "remove or correct the option (docs/configuration.md lists every option)"))
	}
	return out
}

// exists tells whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
