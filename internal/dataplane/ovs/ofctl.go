package ovs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ErrBridgeNotFound is wrapped by errors about a bridge whose management
// socket does not answer: the bridge does not exist, or ovs-vswitchd is not
// running.
var ErrBridgeNotFound = errors.New("bridge not found or ovs-vswitchd not running")

// The OpenFlow version arguments tried in turn: ovs-ofctl's default first
// (OpenFlow 1.0 for reads, 1.4 for bundles), then OpenFlow 1.3 for bridges
// whose `protocols` exclude the default (upstream retried the same way),
// then 1.4/1.5 for bridges limited to those.
var ofVersions = [][]string{nil, {"-O", "OpenFlow13"}, {"-O", "OpenFlow14,OpenFlow15"}}

// ofctlError is a failed ovs-ofctl run.
type ofctlError struct {
	Args   []string
	Err    error
	Stderr string
}

func (e *ofctlError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s", strings.Join(e.Args, " "), lastLines(msg, 3))
}

func (e *ofctlError) Unwrap() []error {
	errs := []error{e.Err}
	if e.missing() {
		errs = append(errs, ErrBridgeNotFound)
	}
	return errs
}

// versionMismatch reports whether ovs-ofctl failed to agree on an OpenFlow
// version with the bridge (or the bridge refused a bundle in that version).
func (e *ofctlError) versionMismatch() bool {
	s := e.Stderr
	return strings.Contains(s, "version negotiation failed") ||
		strings.Contains(s, "OFPBRC_BAD_VERSION") || strings.Contains(s, "OFPBFC_") ||
		strings.Contains(s, "bundle") && strings.Contains(s, "not supported")
}

func (e *ofctlError) missing() bool {
	s := e.Stderr
	return strings.Contains(s, "is not a bridge or a socket") ||
		strings.Contains(s, "No such file or directory") ||
		strings.Contains(s, "Connection refused") ||
		strings.Contains(s, "Connection reset by peer")
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// execCommand prepares prog with args and the extra environment; it is
// killed when ctx ends.
func execCommand(ctx context.Context, prog string, args, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, prog, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	// SIGTERM first: ovs-ofctl then removes its unixctl socket itself.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 2 * time.Second
	// A monitor must not outlive the agent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd
}

// ofctl runs ovs-ofctl with args, stdin (may be nil) and the extra
// environment, and returns its stdout.
func (r *Reconciler) ofctl(ctx context.Context, cmdName string, stdin []byte, args ...string) (string, error) {
	cmd := execCommand(ctx, r.o.OFCtl, args, r.o.Env)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		metricOFCtl.WithLabelValues(cmdName, "error").Inc()
		return stdout.String(), &ofctlError{Args: append([]string{r.o.OFCtl}, args...), Err: err, Stderr: stderr.String()}
	}
	metricOFCtl.WithLabelValues(cmdName, "ok").Inc()
	return stdout.String(), nil
}

// withVersions runs fn with the version arguments remembered for the
// bridge, and on a version mismatch with the others in turn; the first that
// works is remembered. kind separates the memory for reads and writes
// (bundles need OpenFlow 1.3+ while OpenFlow 1.0 reads may work).
func (r *Reconciler) withVersions(bridge, kind string, n int, fn func(ver int) error) error {
	key := kind + "\x00" + bridge
	r.vmu.Lock()
	start := r.version[key]
	r.vmu.Unlock()
	var first error
	for i := range n {
		ver := (start + i) % n
		err := fn(ver)
		if err == nil {
			if ver != start {
				args := strings.Join(r.versionArgs(kind, ver), " ")
				if args == "" {
					args = "plain add-flows (OpenFlow 1.0 only: no bundles, not atomic)"
				}
				r.log.Info("ovs-ofctl: bridge needs another OpenFlow version", "bridge", bridge, "op", kind, "args", args)
			}
			r.vmu.Lock()
			r.version[key] = ver
			r.vmu.Unlock()
			return nil
		}
		if first == nil {
			first = err
		}
		var oe *ofctlError
		if !errors.As(err, &oe) || !oe.versionMismatch() {
			return err
		}
	}
	return first
}

// The write variants: an atomic bundle in OpenFlow 1.4 (ovs-ofctl's choice
// for --bundle), a bundle in OpenFlow 1.3 (ONF extension), in 1.4/1.5, and, for bridges
// limited to OpenFlow 1.0, a plain non-atomic add-flows.
var writeVersions = [][]string{{"--bundle"}, {"-O", "OpenFlow13", "--bundle"}, {"-O", "OpenFlow14,OpenFlow15", "--bundle"}, nil}

func (r *Reconciler) versionArgs(kind string, ver int) []string {
	if kind == "write" {
		return writeVersions[ver]
	}
	return ofVersions[ver]
}

// readVersion returns the version arguments last known to work for reads.
func (r *Reconciler) readVersion(bridge string) []string {
	r.vmu.Lock()
	defer r.vmu.Unlock()
	return ofVersions[r.version["read\x00"+bridge]]
}

// dump returns the flows of the bridge that match filter (e.g.
// "cookie=0x3e7/-1").
func (r *Reconciler) dump(ctx context.Context, bridge, filter string) ([]dumpedFlow, error) {
	var out string
	err := r.withVersions(bridge, "read", len(ofVersions), func(ver int) error {
		args := append(append([]string{}, ofVersions[ver]...), "--no-stats", "--no-names",
			"dump-flows", r.o.Target(bridge), filter)
		var err error
		out, err = r.ofctl(ctx, "dump-flows", nil, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	flows, bad := parseDump(out)
	for _, line := range bad {
		metricInvalid.WithLabelValues("unparsable_dump_line").Inc()
		r.log.Warn("ovs: cannot parse a dump-flows line; leaving it alone", "bridge", bridge, "line", line)
	}
	return flows, nil
}

// apply sends the add-flows lines to the bridge in one ovs-ofctl call.
func (r *Reconciler) apply(ctx context.Context, bridge string, lines []string) error {
	input := []byte(strings.Join(lines, "\n") + "\n")
	return r.withVersions(bridge, "write", len(writeVersions), func(ver int) error {
		args := append(append([]string{}, writeVersions[ver]...), "add-flows", r.o.Target(bridge), "-")
		_, err := r.ofctl(ctx, "add-flows", input, args...)
		return err
	})
}
