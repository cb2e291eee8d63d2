package frr

import (
	"strings"
)

// Removals returns the commands that take out what prev rendered and cur
// no longer does, as a tree in the same syntax as the rendering: `no`
// lines inside the shared contexts, one `no <context>` for a context
// ovnbgp owns as a whole. It never touches a line prev did not render, so
// operator-written configuration is left alone; and it never removes a
// line the operator's own file also has (protected: line paths as
// parseRunning returns them, nil for none), so a line both wrote stays.
func Removals(prev, cur []*Node, protected map[string]bool) []*Node {
	keep := neighborsOf(cur)
	operatorOnly := map[string]bool{}
	// A neighbour the operator defines too stays; only ovnbgp's extra
	// lines about it go.
	for p := range protected {
		f := strings.Split(p, "\x00")
		if name, ok := neighborDefinition(f[len(f)-1]); ok && !keep[name] {
			keep[name] = true
			operatorOnly[name] = true
		}
	}
	return removals(prev, cur, keep, operatorOnly, protected, nil)
}

func removals(prev, cur []*Node, keep, operatorOnly, protected map[string]bool, pre []string) []*Node {
	curBy := map[string]*Node{}
	curNets := map[string]bool{} // the prefixes of cur's `network` statements
	for _, n := range cur {
		curBy[n.Line] = n
		if f := strings.Fields(n.Line); len(f) >= 2 && f[0] == "network" {
			curNets[f[1]] = true
		}
	}
	var out []*Node
	// Neighbours of prev that disappear entirely go with one
	// `no neighbor X`; their other lines are then gone too.
	gone := map[string]bool{}
	done := map[string]bool{}
	for _, n := range prev {
		if name, ok := neighborDefinition(n.Line); ok && !keep[name] {
			gone[name] = true
		}
	}
	// Members of a group that goes are deleted with it by FRR: a second
	// `no neighbor X` would be rejected.
	for _, n := range prev {
		f := strings.Fields(n.Line)
		if len(f) >= 4 && f[0] == "neighbor" && f[len(f)-2] == "peer-group" && gone[f[1]] && gone[f[len(f)-1]] {
			done[f[1]] = true
		}
	}
	for _, p := range prev {
		c, still := curBy[p.Line]
		path := append(append([]string(nil), pre...), p.Line)
		isCtx := len(p.Children) > 0 || isContext(p.Line)
		if !isCtx && protected[strings.Join(path, "\x00")] {
			continue
		}
		switch {
		case isCtx && still:
			if sub := removals(p.Children, c.Children, keep, operatorOnly, protected, path); len(sub) > 0 {
				out = append(out, &Node{Line: p.Line, Children: sub})
			}
		case isCtx && p.Owned:
			out = append(out, &Node{Line: "no " + p.Line})
		case isCtx:
			// A shared context ovnbgp no longer renders: remove its lines.
			if sub := removals(p.Children, nil, keep, operatorOnly, protected, path); len(sub) > 0 {
				out = append(out, &Node{Line: p.Line, Children: sub})
			}
		case still:
		case isNetwork(p.Line, curNets):
			// `network P` with another route-map (or none) in cur: entering
			// it again changes the statement in place, a `no` would withdraw.
		default:
			if name, ok := neighborOf(p.Line); ok {
				if gone[name] {
					if !done[name] {
						done[name] = true
						out = append(out, &Node{Line: "no neighbor " + name})
					}
					continue
				}
				if !keep[name] {
					// its neighbour is removed elsewhere (router level)
					continue
				}
				if operatorOnly[name] && strings.HasSuffix(p.Line, " activate") {
					// the operator's neighbour stays active as they set it up
					continue
				}
				if _, def := neighborDefinition(p.Line); def {
					// redefined by cur (e.g. a new remote-as): overwritten
					continue
				}
			}
			out = append(out, &Node{Line: negate(p.Line)})
		}
	}
	return out
}

// isNetwork reports whether line is a `network P ...` statement whose
// prefix is among nets.
func isNetwork(line string, nets map[string]bool) bool {
	f := strings.Fields(line)
	return len(f) >= 2 && f[0] == "network" && nets[f[1]]
}

// negate returns the `no` form of a line.
func negate(line string) string {
	if strings.HasPrefix(line, "no ") {
		return strings.TrimPrefix(line, "no ")
	}
	return "no " + line
}

// neighborOf returns the neighbour (address, interface or group) a
// `neighbor X ...` line is about.
func neighborOf(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) >= 3 && f[0] == "neighbor" {
		return f[1], true
	}
	return "", false
}

// neighborDefinition reports whether the line creates neighbour X (its
// remote-as, its interface, its group membership, or a peer-group).
func neighborDefinition(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "neighbor" {
		return "", false
	}
	switch f[2] {
	case "remote-as", "interface", "peer-group":
		return f[1], true
	}
	return "", false
}

// neighborsOf returns every neighbour and group cur defines.
func neighborsOf(nodes []*Node) map[string]bool {
	m := map[string]bool{}
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			if name, ok := neighborDefinition(n.Line); ok {
				m[name] = true
			}
			walk(n.Children)
		}
	}
	walk(nodes)
	return m
}
