package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// GoBGP is a gobgpd peer whose RIB tests can read.
type GoBGP struct {
	lab     *Lab
	NS      *NetNS
	APIPort int
	pid     int
}

// GoBGPNeighbor is one neighbour of gobgpd.
type GoBGPNeighbor struct {
	Address string
	AS      uint32
}

// StartGoBGP starts gobgpd in ns with AS as and the given router id and
// neighbours (IPv4 and IPv6 unicast), and its API on 127.0.0.1:50051 of
// that namespace.
func (l *Lab) StartGoBGP(ns *NetNS, as uint32, routerID string, neighbors []GoBGPNeighbor) *GoBGP {
	l.T.Helper()
	g := &GoBGP{lab: l, NS: ns, APIPort: 50051}
	var b strings.Builder
	fmt.Fprintf(&b, "[global.config]\n  as = %d\n  router-id = %q\n", as, routerID)
	for _, n := range neighbors {
		fmt.Fprintf(&b, "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = %q\n    peer-as = %d\n", n.Address, n.AS)
		for _, af := range []string{"ipv4-unicast", "ipv6-unicast"} {
			fmt.Fprintf(&b, "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = %q\n", af)
		}
	}
	dir := l.Subdir("gobgp-" + ns.Name)
	conf := filepath.Join(dir, "gobgpd.toml")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	logf, err := os.Create(filepath.Join(dir, "gobgpd.log"))
	if err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	defer logf.Close()
	// gobgpd does not daemonize: start it in its own session and keep its pid.
	cmd := exec.Command("ip", "netns", "exec", ns.Name, "gobgpd", "-f", conf, "-p",
		"--api-hosts=127.0.0.1:"+strconv.Itoa(g.APIPort), "--pprof-disable")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		l.T.Fatalf("lab: gobgpd: %v", err)
	}
	g.pid = cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	_ = os.WriteFile(filepath.Join(dir, "gobgpd.pid"), []byte(strconv.Itoa(g.pid)), 0o644)
	l.Eventually(15*time.Second, "gobgpd API in "+ns.Name, func() bool {
		_, err := g.CLI("global")
		return err == nil
	})
	return g
}

// CLI runs the gobgp client (bounded by `timeout 3`: against a dead gobgpd
// each call would block).
func (g *GoBGP) CLI(args ...string) (string, error) {
	full := append([]string{"3", "ip", "netns", "exec", g.NS.Name, "gobgp", "-u", "127.0.0.1", "-p", strconv.Itoa(g.APIPort)}, args...)
	out, err := exec.Command("timeout", full...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// RIB returns the prefixes of the global RIB of family "ipv4" or "ipv6",
// each with its next hops.
func (g *GoBGP) RIB(family string) (map[string][]string, error) {
	out, err := g.CLI("global", "rib", "-a", family, "-j")
	if err != nil {
		return nil, fmt.Errorf("gobgp global rib: %v: %s", err, out)
	}
	var rib map[string][]struct {
		Attrs []struct {
			Type    int    `json:"type"`
			Nexthop string `json:"nexthop"`
		} `json:"attrs"`
	}
	if out == "" || out == "null" {
		return map[string][]string{}, nil
	}
	if err := json.Unmarshal([]byte(out), &rib); err != nil {
		return nil, fmt.Errorf("gobgp rib json: %v: %.300s", err, out)
	}
	res := map[string][]string{}
	for p, paths := range rib {
		for _, path := range paths {
			nh := ""
			for _, a := range path.Attrs {
				if a.Nexthop != "" {
					nh = a.Nexthop
				}
			}
			res[p] = append(res[p], nh)
		}
	}
	return res, nil
}

// NeighborEstablished reports whether the session with addr is established.
func (g *GoBGP) NeighborEstablished(addr string) bool {
	out, err := g.CLI("neighbor", addr, "-j")
	if err != nil {
		return false
	}
	var n struct {
		State struct {
			SessionState any `json:"session_state"`
		} `json:"state"`
	}
	if json.Unmarshal([]byte(out), &n) != nil {
		return false
	}
	switch v := n.State.SessionState.(type) {
	case float64:
		return v == 6
	case string:
		return strings.EqualFold(v, "established")
	}
	return false
}
