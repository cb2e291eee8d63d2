package ovs

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// flowKey identifies one of our flows on a bridge: the address family and
// the OpenFlow port it matches. Priority and table are fixed per Reconciler.
type flowKey struct {
	IPv6   bool
	OFPort int
}

func (k flowKey) proto() string {
	if k.IPv6 {
		return "ipv6"
	}
	return "ip"
}

// desiredSet is the wanted state of one bridge: key -> canonical MAC.
type desiredSet map[flowKey]string

// dumpedFlow is one line of `ovs-ofctl dump-flows --no-stats --no-names`.
type dumpedFlow struct {
	Cookie   uint64
	Table    int
	Priority int
	Match    []string // match tokens in dump order, e.g. ["ip", "in_port=2"]
	Actions  string
	Raw      string
}

// Attribute keywords that dump-flows prints before the match but that are
// not part of it (with and without stats, any OpenFlow version).
var flowAttrs = map[string]bool{
	"cookie": true, "duration": true, "table": true, "n_packets": true, "n_bytes": true,
	"idle_timeout": true, "hard_timeout": true, "idle_age": true, "hard_age": true,
	"importance": true, "priority": true, "send_flow_rem": true, "check_overlap": true,
	"reset_counts": true, "no_packet_counts": true, "no_byte_counts": true, "out_port": true,
	"out_group": true,
}

// defaultPriority is what OpenFlow uses (and dump-flows omits) when a flow
// has no explicit priority.
const defaultPriority = 32768

// parseDump parses dump-flows output. Header lines (NXST_FLOW reply,
// OFPST_FLOW reply (OF1.3), ...) and blank lines are skipped; a flow line
// that cannot be parsed is returned in bad so that the caller can report it.
func parseDump(out string) (flows []dumpedFlow, bad []string) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || !strings.Contains(line, "actions=") {
			continue
		}
		f, err := parseFlowLine(line)
		if err != nil {
			bad = append(bad, line)
			continue
		}
		flows = append(flows, f)
	}
	return flows, bad
}

func parseFlowLine(line string) (dumpedFlow, error) {
	f := dumpedFlow{Raw: line, Priority: defaultPriority}
	head, actions, ok := strings.Cut(line, "actions=")
	if !ok {
		return f, fmt.Errorf("no actions")
	}
	f.Actions = strings.TrimSpace(actions)
	if f.Actions == "" {
		return f, fmt.Errorf("empty actions")
	}
	tokens := strings.FieldsFunc(head, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, tok := range tokens {
		k, v, hasV := strings.Cut(tok, "=")
		if !flowAttrs[k] {
			f.Match = append(f.Match, tok)
			continue
		}
		var err error
		switch k {
		case "cookie":
			if !hasV {
				return f, fmt.Errorf("cookie without value")
			}
			f.Cookie, err = strconv.ParseUint(v, 0, 64)
		case "table":
			if !hasV {
				return f, fmt.Errorf("table without value")
			}
			f.Table, err = strconv.Atoi(v)
		case "priority":
			if !hasV {
				return f, fmt.Errorf("priority without value")
			}
			f.Priority, err = strconv.Atoi(v)
		}
		if err != nil {
			return f, fmt.Errorf("%s: %w", k, err)
		}
	}
	return f, nil
}

// matchKey reports whether the flow sits in table 0 at priority prio with
// exactly the match of one of our flows, "ip|ipv6,in_port=N", whatever its
// cookie and actions.
func (f dumpedFlow) matchKey(prio int) (flowKey, bool) {
	var k flowKey
	if f.Table != 0 || f.Priority != prio || len(f.Match) != 2 {
		return k, false
	}
	var haveProto, havePort bool
	for _, m := range f.Match {
		switch {
		case (m == "ip" || m == "dl_type=0x0800") && !haveProto:
			haveProto, k.IPv6 = true, false
		case (m == "ipv6" || m == "dl_type=0x86dd") && !haveProto:
			haveProto, k.IPv6 = true, true
		case strings.HasPrefix(m, "in_port="):
			n, err := strconv.Atoi(strings.TrimPrefix(m, "in_port="))
			if err != nil || n <= 0 || havePort {
				return flowKey{}, false
			}
			havePort, k.OFPort = true, n
		default:
			return flowKey{}, false
		}
	}
	if !haveProto || !havePort {
		return flowKey{}, false
	}
	return k, true
}

// ours reports whether a dumped flow has exactly the shape of one of our
// flows at priority prio: table 0, match "ip|ipv6,in_port=N" (N compared as
// a number) and actions "mod_dl_dst:MAC,NORMAL" (or OpenFlow 1.2+'s
// rendering "set_field:MAC->eth_dst,NORMAL"). It returns the key and the
// canonical MAC.
func (f dumpedFlow) ours(prio int) (flowKey, string, bool) {
	k, ok := f.matchKey(prio)
	if !ok {
		return flowKey{}, "", false
	}
	acts := strings.Split(f.Actions, ",")
	if len(acts) != 2 || !strings.EqualFold(acts[1], "NORMAL") {
		return flowKey{}, "", false
	}
	var mac string
	switch a := acts[0]; {
	case strings.HasPrefix(a, "mod_dl_dst:"):
		mac = strings.TrimPrefix(a, "mod_dl_dst:")
	case strings.HasPrefix(a, "set_field:") && strings.HasSuffix(a, "->eth_dst"):
		mac = strings.TrimSuffix(strings.TrimPrefix(a, "set_field:"), "->eth_dst")
	default:
		return flowKey{}, "", false
	}
	c, err := canonicalMAC(mac)
	if err != nil {
		return flowKey{}, "", false
	}
	return k, c, true
}

func canonicalMAC(s string) (string, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", err
	}
	if len(hw) != 6 {
		return "", fmt.Errorf("%q is not a 48-bit MAC", s)
	}
	return hw.String(), nil
}

// invalidFlow is a plan.Flow that cannot be installed, and why.
type invalidFlow struct {
	Flow   plan.Flow
	Reason string
}

// desiredByBridge groups the plan's flows per bridge, each giving an IPv4 and
// an IPv6 flow. Flows without an ofport or with a malformed MAC are
// returned as invalid; when two flows claim the same (bridge, ofport) with
// different MACs, the first one (in the order given) wins and the others are
// invalid.
func desiredByBridge(flows []plan.Flow) (map[string]desiredSet, []invalidFlow) {
	out := map[string]desiredSet{}
	var bad []invalidFlow
	for _, f := range flows {
		if f.Bridge == "" {
			bad = append(bad, invalidFlow{f, "no bridge"})
			continue
		}
		if f.OFPort == 0 {
			bad = append(bad, invalidFlow{f, "no ofport yet"})
			continue
		}
		if f.OFPort < 0 || f.OFPort >= 0xff00 {
			bad = append(bad, invalidFlow{f, fmt.Sprintf("ofport %d is not a usable OpenFlow port", f.OFPort)})
			continue
		}
		mac, err := canonicalMAC(f.DstMAC)
		if err != nil {
			bad = append(bad, invalidFlow{f, "bad MAC: " + err.Error()})
			continue
		}
		set := out[f.Bridge]
		if set == nil {
			set = desiredSet{}
			out[f.Bridge] = set
		}
		k4, k6 := flowKey{false, f.OFPort}, flowKey{true, f.OFPort}
		if prev, ok := set[k4]; ok {
			if prev != mac {
				bad = append(bad, invalidFlow{f, fmt.Sprintf("ofport %d already rewrites to %s", f.OFPort, prev)})
			}
			continue
		}
		set[k4], set[k6] = mac, mac
	}
	return out, bad
}

// diff computes the ovs-ofctl add-flows lines (the deletes first, then the
// adds: lines[dels:] are the adds) that turn the dumped flows
// (all carrying our cookie) into want. A dumped flow of the exact desired
// shape and MAC is kept (this is how upstream's cookie-999 flows are
// adopted); one with the desired match but another MAC is overwritten by an
// add; everything else with our cookie is removed with delete_strict.
// Flows with another cookie are never touched.
//
// blocked lists keys occupied by another cookie's flow with the same match
// and priority: an add would overwrite it, so these keys are not added.
func diff(cookie uint64, prio int, have []dumpedFlow, want desiredSet, blocked map[flowKey]bool) (lines []string, adds, dels int) {
	keep := map[flowKey]bool{}
	var delLines []string
	for _, f := range have {
		if f.Cookie != cookie {
			continue // never touch anybody else's flows
		}
		if k, mac, ok := f.ours(prio); ok {
			if w, wanted := want[k]; wanted {
				if w == mac {
					keep[k] = true
				}
				continue // same match and priority: an add overwrites it
			}
		}
		delLines = append(delLines, deleteLine(cookie, f))
	}
	keys := make([]flowKey, 0, len(want))
	for k := range want {
		if !keep[k] && !blocked[k] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].OFPort != keys[j].OFPort {
			return keys[i].OFPort < keys[j].OFPort
		}
		return !keys[i].IPv6 && keys[j].IPv6
	})
	if len(want) == 0 && len(delLines) > 1 {
		// Everything of ours goes: one non-strict delete by cookie (all
		// tables) instead of one strict delete per flow.
		return []string{fmt.Sprintf("delete cookie=%#x/-1", cookie)}, 0, len(delLines)
	}
	sort.Strings(delLines)
	lines = append(lines, delLines...)
	for _, k := range keys {
		lines = append(lines, addLine(cookie, prio, k, want[k]))
	}
	return lines, len(keys), len(delLines)
}

func addLine(cookie uint64, prio int, k flowKey, mac string) string {
	return fmt.Sprintf("add cookie=%#x,table=0,priority=%d,%s,in_port=%d,actions=mod_dl_dst:%s,NORMAL",
		cookie, prio, k.proto(), k.OFPort, mac)
}

// deleteLine removes exactly the dumped flow, and only if it still carries
// our cookie.
func deleteLine(cookie uint64, f dumpedFlow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "delete_strict cookie=%#x/-1,table=%d,priority=%d", cookie, f.Table, f.Priority)
	for _, m := range f.Match {
		b.WriteByte(',')
		b.WriteString(m)
	}
	return b.String()
}
