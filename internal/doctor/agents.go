package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// process is one process of this network namespace.
type process struct {
	pid  int
	argv []string
}

// name is the program's base name; for an interpreter (python3
// /usr/bin/ovn-bgp-agent) the script's.
func (p process) names() []string {
	var out []string
	for i, a := range p.argv {
		if i > 1 {
			break
		}
		out = append(out, filepath.Base(a))
	}
	return out
}

func (p process) is(name string) bool {
	for _, n := range p.names() {
		if n == name {
			return true
		}
	}
	return false
}

// processes lists the processes in this process' network namespace (the
// pid namespace is shared by every lab namespace and container on a host:
// only the ones in this network namespace would fight over its routes).
func (e *Env) processes() []process {
	self, err := os.Readlink(filepath.Join(e.Proc, "self/ns/net"))
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(e.Proc)
	var out []process
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if ns, err := os.Readlink(filepath.Join(e.Proc, d.Name(), "ns/net")); err != nil || ns != self {
			continue
		}
		b, err := os.ReadFile(filepath.Join(e.Proc, d.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		out = append(out, process{pid: pid, argv: strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")})
	}
	return out
}

// checkAgents: upstream's agent (fail: both would own the same routes,
// rules and FRR lines), another ovnbgp agent, other BGP speakers, and the
// BGP port of the embedded speaker.
func checkAgents(_ context.Context, e *Env) []Result {
	cfg := e.Config
	var out []Result
	others := map[string]bool{"gobgpd": true, "bird": true, "bird6": true, "exabgp": true}
	if cfg.OVNBGP.Speaker == config.SpeakerGoBGP {
		others["bgpd"] = true
	}
	clean := true
	for _, p := range e.processes() {
		cmd := strings.Join(p.argv, " ")
		switch {
		case p.is("ovn-bgp-agent"):
			clean = false
			out = append(out, fail("agents/upstream", fmt.Sprintf("upstream's ovn-bgp-agent runs here (pid %d: %s): it and ovnbgp would fight over the same routes, rules and FRR configuration", p.pid, oneLine(cmd)),
				"stop and disable it first: systemctl disable --now ovn-bgp-agent (docs/operations.md, rollout)"))
		case strings.HasPrefix(filepath.Base(p.argv[0]), "ovnbgp") && len(p.argv) > 1 && p.argv[1] == "agent":
			clean = false
			out = append(out, warn("agents/ovnbgp", fmt.Sprintf("an ovnbgp agent already runs here (pid %d): fine when checking a running node; a second one would fight it", p.pid),
				"start no second agent (systemctl status ovnbgp)"))
		default:
			for _, n := range p.names() {
				if others[n] {
					clean = false
					out = append(out, warn("agents/bgp", fmt.Sprintf("another BGP speaker runs here (pid %d: %s)", p.pid, oneLine(cmd)),
						"make sure it does not announce or route the prefixes ovnbgp announces, or stop it"))
					break
				}
			}
		}
	}
	if exists("/etc/systemd/system/multi-user.target.wants/ovn-bgp-agent.service") {
		clean = false
		out = append(out, warn("agents/upstream", "upstream's ovn-bgp-agent.service is enabled: it starts at the next boot",
			"systemctl disable ovn-bgp-agent"))
	}
	if clean {
		out = append(out, ok("agents", "no other BGP agent or speaker in this network namespace"))
	}
	if cfg.OVNBGP.Speaker == config.SpeakerGoBGP && cfg.OVNBGP.GoBGPListenPort > 0 {
		addr := net.JoinHostPort("", strconv.Itoa(cfg.OVNBGP.GoBGPListenPort))
		out = append(out, bindable("agents/bgp-port", addr, "the embedded GoBGP speaker's port (gobgp_listen_port)",
			"stop what listens there (FRR's bgpd? ss -ltnp), or set [ovnbgp] gobgp_listen_port = -1 (outgoing sessions only)"))
	}
	return out
}

// bindable binds addr for an instant to see whether it is free.
func bindable(name, addr, what, fix string) Result {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fail(name, fmt.Sprintf("%s %s is in use", what, addr), fix)
		}
		return fail(name, fmt.Sprintf("%s %s: %v", what, addr, err), fix)
	}
	ln.Close()
	return ok(name, fmt.Sprintf("%s %s is free", what, addr))
}
