package linux

import (
	"errors"
	"fmt"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// Applying: adding, replacing and deleting kernel objects.

// order of removal (and reverse order of creation) by kind, after the
// announce objects.
func removalRank(k kind) int {
	switch k {
	case kindRule:
		return 0
	case kindRoute:
		return 1
	case kindNeigh:
		return 2
	case kindProxy:
		return 3
	}
	return 4
}

// write sends the changes, updates the index and counts the errors.
func (r *Reconciler) write(ids []objID, add bool, es *errSet) int {
	if len(ids) == 0 {
		return 0
	}
	reqs := make([]nlReq, len(ids))
	for i, id := range ids {
		var v objVal
		if add {
			v = r.desired[id].val
		} else {
			v = r.actual[id]
		}
		reqs[i] = encode(id, v, add, r.proto)
		if r.fresh && id.kind == kindRule {
			// The index was just dumped, so the rule is known to be absent:
			// skip the kernel's duplicate check, a walk of every rule.
			reqs[i].flags &^= unix.NLM_F_EXCL
		}
	}
	errs := r.c.exec(reqs)
	metricRequests.Add(float64(len(reqs)))
	failed := 0
	for i, id := range ids {
		err := errs[i]
		if add {
			if err == nil || (id.kind == kindRule && errors.Is(err, syscall.EEXIST)) {
				r.actual[id] = r.desired[id].val
				continue
			}
		} else {
			if err == nil || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EADDRNOTAVAIL) {
				delete(r.actual, id)
				delete(r.orphans, id)
				continue
			}
		}
		failed++
		op := "add"
		if !add {
			op = "delete"
		}
		es.add("netlink", fmt.Errorf("%s %s: %w", op, id, err))
	}
	return failed
}

func (r *Reconciler) needs(id objID) bool {
	d := r.desired[id]
	if d == nil {
		return false
	}
	a, ok := r.actual[id]
	return !ok || a != d.val
}

// wireOwners writes what the owners need: every wiring object first, then
// the announce objects of the owners whose wiring is complete.
func (r *Reconciler) wireOwners(owners []owner, es *errSet) {
	var wiring [4][]objID // neighbours+proxies, routes, rules, addresses (link addresses)
	seen := map[objID]bool{}
	for _, k := range owners {
		for _, o := range r.owners[k] {
			if r.isAnnounce(o.id) || seen[o.id] || !r.needs(o.id) {
				continue
			}
			seen[o.id] = true
			switch o.id.kind {
			case kindNeigh, kindProxy:
				wiring[0] = append(wiring[0], o.id)
			case kindRoute:
				wiring[1] = append(wiring[1], o.id)
			case kindRule:
				wiring[2] = append(wiring[2], o.id)
			default:
				wiring[3] = append(wiring[3], o.id)
			}
		}
	}
	r.write(append(append(append(wiring[3], wiring[0]...), wiring[1]...), wiring[2]...), true, es)
	var ann []objID
	for _, k := range owners {
		objs := r.owners[k]
		complete := true
		for _, o := range objs {
			if !r.isAnnounce(o.id) && r.needs(o.id) {
				complete = false
				break
			}
		}
		if !complete {
			continue
		}
		for _, o := range objs {
			if r.isAnnounce(o.id) && !seen[o.id] && r.needs(o.id) {
				seen[o.id] = true
				ann = append(ann, o.id)
			}
		}
	}
	r.write(ann, true, es)
}

func (r *Reconciler) allOwners() []owner {
	out := make([]owner, 0, len(r.owners))
	for _, b := range r.bridges {
		if _, ok := r.owners[owner{bridge: b.Bridge}]; ok {
			out = append(out, owner{bridge: b.Bridge})
		}
	}
	for k := range r.owners {
		if k.bridge == "" {
			out = append(out, k)
		}
	}
	return out
}

// removeIDs deletes owned objects: announce objects first, then rules,
// routes, neighbours, proxies, addresses.
func (r *Reconciler) removeIDs(ids []objID, es *errSet) {
	sort.Slice(ids, func(i, j int) bool {
		ai, aj := r.isAnnounce(ids[i]), r.isAnnounce(ids[j])
		if ai != aj {
			return ai
		}
		return removalRank(ids[i].kind) < removalRank(ids[j].kind)
	})
	r.write(ids, false, es)
}

func (r *Reconciler) publish() {
	counts := map[kind]int{}
	for id := range r.actual {
		counts[id.kind]++
	}
	for k := kindRule; k <= kindAddr; k++ {
		metricObjects.WithLabelValues(k.String()).Set(float64(counts[k]))
	}
}
