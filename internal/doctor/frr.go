package doctor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
)

// FRR releases the project is tested with (docs/frr.md): Debian 12's 8.4
// and Debian 13's 10.3. BFD profiles, which ovnbgp's BFD lines use, came
// with FRR 7.4.
var (
	frrTested     = [2]int{8, 4}
	frrBFDProfile = [2]int{7, 4}
)

var (
	frrVersionRE = regexp.MustCompile(`FRRouting (\d+)\.(\d+)`)
	routerBGPRE  = regexp.MustCompile(`^router bgp (\S+)(?: vrf (\S+))?\s*$`)
)

// checkFRR (speaker = frr): vtysh reaches the instance, its version suits
// the options, the daemons the options need run, and no BGP instance of
// another AS (in the running configuration or in frr.conf, which FRR reads
// at its next start) would make FRR reject ovnbgp's lines.
func checkFRR(ctx context.Context, e *Env) []Result {
	cfg := e.Config
	if cfg.OVNBGP.Speaker != config.SpeakerFRR {
		return nil
	}
	if _, err := os.Stat(cfg.OVNBGP.FRRVtysh); err != nil {
		return []Result{fail("frr/vtysh", fmt.Sprintf("frr_vtysh %s: %v", cfg.OVNBGP.FRRVtysh, err),
			"install FRR (apt-get install frr), set [ovnbgp] frr_vtysh, or use speaker = gobgp")}
	}
	s, err := frr.New(cfg, e.log)
	if err != nil {
		return []Result{fail("frr/config", err.Error(), "fix the [ovnbgp] FRR options (docs/frr.md)")}
	}
	ver, err := s.Vtysh(ctx, "show version")
	if err != nil {
		return []Result{fail("frr/vtysh", fmt.Sprintf("FRR does not answer: %v", err),
			"start FRR (systemctl start frr) with zebra and bgpd enabled in /etc/frr/daemons; check frr_pathspace / frr_vty_socket")}
	}
	var out []Result
	out = append(out, frrVersion(ver, cfg)...)
	out = append(out, frrDaemons(ctx, s)...)
	if run, err := s.Vtysh(ctx, "show running-config"); err != nil {
		out = append(out, fail("frr/running-config", err.Error(), "check that vtysh can read the running configuration"))
	} else {
		out = append(out, foreignBGP("frr/running-config", run, cfg, "running configuration")...)
	}
	if b, err := os.ReadFile(s.OperatorConfig()); err == nil {
		out = append(out, foreignBGP("frr/frr.conf", string(b), cfg, s.OperatorConfig())...)
		out = append(out, ovnbgpNames(string(b), s.OperatorConfig())...)
	}
	return out
}

func frrVersion(show string, cfg *config.Config) []Result {
	m := frrVersionRE.FindStringSubmatch(show)
	if m == nil {
		return []Result{warn("frr/version", "cannot read FRR's version from `show version`", "")}
	}
	maj, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	v := [2]int{maj, min}
	older := func(than [2]int) bool { return v[0] < than[0] || v[0] == than[0] && v[1] < than[1] }
	text := fmt.Sprintf("FRR %d.%d", maj, min)
	if cfg.OVNBGP.BFD && len(cfg.OVNBGP.Peers) > 0 && older(frrBFDProfile) {
		return []Result{fail("frr/version", text+" has no BFD profiles, which bfd = true configures",
			"upgrade FRR to 7.4 or later, or set [ovnbgp] bfd = false")}
	}
	if older(frrTested) {
		return []Result{warn("frr/version", fmt.Sprintf("%s is older than the releases ovnbgp is tested with (8.4, 10.3)", text),
			"upgrade FRR to 8.4 or later")}
	}
	return []Result{ok("frr/version", text)}
}

// frrDaemons: `show daemons` lists every daemon vtysh reaches.
func frrDaemons(ctx context.Context, s *frr.Speaker) []Result {
	out, err := s.Vtysh(ctx, "show daemons")
	if err != nil {
		return []Result{fail("frr/daemons", err.Error(), "start FRR's daemons")}
	}
	running := map[string]bool{}
	for _, d := range strings.Fields(out) {
		running[d] = true
	}
	var res []Result
	for _, d := range s.Daemons() {
		if !running[d] {
			why := "the agent needs it"
			if d == "bfdd" {
				why = "bfd = true needs it"
			}
			res = append(res, fail("frr/"+d, fmt.Sprintf("FRR daemon %s is not running (%s); running: %s", d, why, strings.TrimSpace(out)),
				fmt.Sprintf("enable it (%s=yes in /etc/frr/daemons) and restart FRR", d)))
			continue
		}
		res = append(res, ok("frr/"+d, d+" running"))
	}
	return res
}

// foreignBGP finds BGP instances ovnbgp's lines would collide with: the
// default instance or the bgp_vrf instance under another AS.
func foreignBGP(name, text string, cfg *config.Config, where string) []Result {
	var res []Result
	found := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := routerBGPRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		vrf := m[2]
		if vrf != "" && vrf != cfg.BGPVRF {
			continue // another VRF's instance: not ovnbgp's concern
		}
		found = true
		as, err := config.ParseAS(m[1])
		if err == nil && as == cfg.BGPAS {
			continue
		}
		inst := "the default BGP instance"
		if vrf != "" {
			inst = "the BGP instance of VRF " + vrf
		}
		res = append(res, fail(name, fmt.Sprintf("%s of the %s is `router bgp %s`, not bgp_AS %d: FRR rejects every line ovnbgp writes into it (\"BGP is already running\")", inst, where, m[1], cfg.BGPAS),
			fmt.Sprintf("set [DEFAULT] bgp_AS = %s, or remove that instance (another agent's?)", m[1])))
	}
	if len(res) == 0 {
		msg := "no BGP instance yet; ovnbgp creates router bgp " + strconv.FormatUint(uint64(cfg.BGPAS), 10)
		if found {
			msg = "BGP instances use bgp_AS " + strconv.FormatUint(uint64(cfg.BGPAS), 10)
		}
		res = append(res, ok(name, msg+" ("+where+")"))
	}
	return res
}

// ovnbgpNames: names starting with ovnbgp are ovnbgp's (docs/frr.md);
// the operator's file defining them would fight its lines.
func ovnbgpNames(text, where string) []Result {
	var res []Result
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			if (f[i] == "prefix-list" || f[i] == "profile" || f[i] == "route-map") && strings.HasPrefix(f[i+1], "ovnbgp") {
				res = append(res, warn("frr/frr.conf", fmt.Sprintf("%s defines %q: names starting with ovnbgp are ovnbgp's, it rewrites and removes them", where, strings.TrimSpace(l)),
					"rename the object in frr.conf"))
				break
			}
		}
	}
	return res
}
