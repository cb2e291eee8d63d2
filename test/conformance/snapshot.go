// Package conformance compares what two BGP agents exposed on the same
// chassis: upstream ovn-bgp-agent and ovnbgp, run one after the other on
// the same OVN with the same bgp-agent.conf (make bench-upstream). A
// Snapshot reads the kernel and OVS state an agent of either kind writes,
// in a form where the differences that do not change what is exposed
// (table numbers, rule priorities, route protocols) are gone; Diff prints
// every remaining difference, so the harness finds them by itself.
package conformance

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Snapshot is the exposed state of one chassis. Every field is a sorted
// set of normalized lines.
type Snapshot struct {
	Announced  []string // addresses on bgp_nic: what FRR redistributes
	Rules      []string // "to <prefix> lookup <bridge>" / "lookup <bridge> suppress_prefixlength 0"
	Routes     []string // "<bridge>: <dst> [via <gw>] dev <dev>", routes of the bridge tables
	LinkAddrs  []string // "<dev> <addr>", the 169.254 / fd53:d91e:400:7f17:: addresses on provider devices
	Neighbours []string // "<dev> <ip> <mac>", permanent neighbours on provider devices
	ProxyNDP   []string // "<dev> <ip>"
	Flows      []string // "<bridge> <match> actions=<actions>", the cookie 0x3e7 flows
}

// Fields names the fields in the order Diff reports them.
func (s *Snapshot) fields() []struct {
	name string
	v    []string
} {
	return []struct {
		name string
		v    []string
	}{
		{"announced", s.Announced}, {"rule", s.Rules}, {"route", s.Routes}, {"link address", s.LinkAddrs},
		{"neighbour", s.Neighbours}, {"ndp proxy", s.ProxyNDP}, {"flow", s.Flows},
	}
}

// Runner runs a command (in the chassis' namespace) and returns its output.
type Runner func(prog string, args ...string) (string, error)

// InNetns is a Runner for network namespace ns ("" for the current one).
func InNetns(ns string) Runner {
	return func(prog string, args ...string) (string, error) {
		if ns != "" {
			args = append([]string{"netns", "exec", ns, prog}, args...)
			prog = "ip"
		}
		out, err := exec.Command(prog, args...).Output()
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", prog, strings.Join(args, " "), err)
		}
		return string(out), nil
	}
}

// Take reads the snapshot: bgpNic is the announce device, bridges the
// provider bridges (their VLAN devices are found by name, <bridge>.<tag>
// or cut). ofctl, when not nil, dumps a bridge's flows (ovs-ofctl
// dump-flows output); nil skips flows.
func Take(run Runner, bgpNic string, bridges []string, ofctl func(bridge string) (string, error)) (*Snapshot, error) {
	s := &Snapshot{}
	links, err := ipJSON[[]struct {
		Name string `json:"ifname"`
		Link string `json:"link"` // a VLAN device's bridge
	}](run, "link", "show")
	if err != nil {
		return nil, err
	}
	isBridge := map[string]bool{}
	for _, b := range bridges {
		isBridge[b] = true
	}
	prov := map[string]bool{}
	for _, l := range links {
		if isBridge[l.Name] || isBridge[l.Link] {
			prov[l.Name] = true
		}
	}
	type addrInfo struct {
		Local  string `json:"local"`
		Prefix int    `json:"prefixlen"`
	}
	addrs, err := ipJSON[[]struct {
		Name  string     `json:"ifname"`
		Addrs []addrInfo `json:"addr_info"`
	}](run, "addr", "show")
	if err != nil {
		return nil, err
	}
	for _, l := range addrs {
		for _, a := range l.Addrs {
			p := fmt.Sprintf("%s/%d", a.Local, a.Prefix)
			switch {
			case l.Name == bgpNic && !strings.HasPrefix(a.Local, "fe80:"):
				s.Announced = append(s.Announced, p)
			case prov[l.Name] && isLinkAddr(p):
				s.LinkAddrs = append(s.LinkAddrs, l.Name+" "+p)
			}
		}
	}
	// A bridge table is the table holding `default dev <bridge>`.
	type route struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
		Table   any    `json:"table"`
	}
	tableOf := map[string]string{} // table -> bridge
	var all []route
	for _, fam := range []string{"-4", "-6"} {
		rs, err := ipJSON[[]route](run, fam, "route", "show", "table", "all")
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	for _, r := range all {
		for _, b := range bridges {
			if r.Dst == "default" && r.Dev == b && r.Gateway == "" && tableName(r.Table) != "main" {
				tableOf[tableName(r.Table)] = b
			}
		}
	}
	for _, r := range all {
		b, ok := tableOf[tableName(r.Table)]
		if !ok || r.Dst == "default" {
			continue
		}
		line := b + ": " + hostPrefix(r.Dst)
		if r.Gateway != "" {
			line += " via " + r.Gateway
		}
		s.Routes = append(s.Routes, line+" dev "+r.Dev)
	}
	for _, fam := range []string{"-4", "-6"} {
		rules, err := ipJSON[[]struct {
			Dst      string `json:"dst"`
			DstLen   int    `json:"dstlen"`
			Table    any    `json:"table"`
			Suppress int    `json:"suppress_prefixlength"`
		}](run, fam, "rule", "show")
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			b, ok := tableOf[tableName(r.Table)]
			if !ok {
				continue
			}
			switch {
			case r.Dst != "" && r.Dst != "all":
				dst := r.Dst
				if r.DstLen != 0 {
					dst = fmt.Sprintf("%s/%d", r.Dst, r.DstLen)
				}
				s.Rules = append(s.Rules, "to "+hostPrefix(dst)+" lookup "+b)
			default:
				s.Rules = append(s.Rules, fmt.Sprintf("%s lookup %s suppress_prefixlength %d", fam, b, r.Suppress))
			}
		}
	}
	neigh, err := ipJSON[[]struct {
		Dst    string   `json:"dst"`
		Dev    string   `json:"dev"`
		MAC    string   `json:"lladdr"`
		States []string `json:"state"`
	}](run, "neigh", "show", "nud", "permanent")
	if err != nil {
		return nil, err
	}
	for _, n := range neigh {
		if prov[n.Dev] {
			s.Neighbours = append(s.Neighbours, n.Dev+" "+n.Dst+" "+strings.ToLower(n.MAC))
		}
	}
	proxy, err := ipJSON[[]struct {
		Dst string `json:"dst"`
		Dev string `json:"dev"`
	}](run, "-6", "neigh", "show", "proxy")
	if err != nil {
		return nil, err
	}
	for _, n := range proxy {
		if prov[n.Dev] {
			s.ProxyNDP = append(s.ProxyNDP, n.Dev+" "+n.Dst)
		}
	}
	if ofctl != nil {
		for _, b := range bridges {
			out, err := ofctl(b)
			if err != nil {
				return nil, err
			}
			s.Flows = append(s.Flows, ParseFlows(b, out)...)
		}
	}
	for _, f := range s.fields() {
		sort.Strings(f.v)
	}
	return s, nil
}

// ipJSON runs `ip -N -j ARGS` (numeric tables: upstream names its tables
// in rt_tables, ovnbgp in rt_tables.d) and decodes the output.
func ipJSON[T any](run Runner, args ...string) (T, error) {
	var v T
	out, err := run("ip", append([]string{"-N", "-j"}, args...)...)
	if err != nil {
		return v, err
	}
	if strings.TrimSpace(out) == "" {
		return v, nil
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return v, fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return v, nil
}

// tableName is a route's or rule's table as a string ("main" when absent).
func tableName(t any) string {
	switch x := t.(type) {
	case nil:
		return "main"
	case float64:
		switch int(x) {
		case 254:
			return "main"
		case 255:
			return "local"
		}
		return strconv.Itoa(int(x))
	case string:
		return x
	}
	return fmt.Sprint(t)
}

// hostPrefix writes a host route's destination with its length, as ip
// prints it without one.
func hostPrefix(dst string) string {
	if strings.Contains(dst, "/") {
		return dst
	}
	if strings.Contains(dst, ":") {
		return dst + "/128"
	}
	return dst + "/32"
}

func isLinkAddr(p string) bool {
	return (strings.HasPrefix(p, "169.254.") && strings.HasSuffix(p, "/32")) ||
		(strings.HasPrefix(p, "fd53:d91e:400:7f17::") && strings.HasSuffix(p, "/128"))
}

var flowField = regexp.MustCompile(`\b(duration|n_packets|n_bytes|idle_age|hard_age|idle_timeout|hard_timeout|table)=[^,\s]*,?\s*`)

// ParseFlows keeps the cookie 0x3e7 flows of one ovs-ofctl dump-flows
// output, without their counters: "<bridge> priority=900,ip,in_port=N
// actions=...".
func ParseFlows(bridge, dump string) []string {
	var out []string
	for _, l := range strings.Split(dump, "\n") {
		l = strings.TrimSpace(l)
		if !strings.Contains(l, "cookie=0x3e7") {
			continue
		}
		l = strings.Replace(l, "cookie=0x3e7,", "", 1)
		l = strings.Replace(l, "cookie=0x3e7", "", 1)
		l = flowField.ReplaceAllString(l, "")
		l = strings.Join(strings.Fields(strings.ReplaceAll(l, ", ", ",")), " ")
		out = append(out, bridge+" "+l)
	}
	sort.Strings(out)
	return out
}

// Diff lists what one snapshot has and the other has not, field by field:
// "- <field> <line>" only in a (named nameA), "+ <field> <line>" only in b.
// Empty: the two agents exposed the same.
func Diff(a, b *Snapshot) []string {
	var out []string
	fa, fb := a.fields(), b.fields()
	for i := range fa {
		inB := map[string]bool{}
		for _, l := range fb[i].v {
			inB[l] = true
		}
		inA := map[string]bool{}
		for _, l := range fa[i].v {
			inA[l] = true
			if !inB[l] {
				out = append(out, "- "+fa[i].name+" "+l)
			}
		}
		for _, l := range fb[i].v {
			if !inA[l] {
				out = append(out, "+ "+fb[i].name+" "+l)
			}
		}
	}
	return out
}
