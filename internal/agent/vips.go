package agent

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/vip"
)

// VIPs is the service VIP source (internal/vip.Source): the announcements
// this node wants for its [ovnbgp_vip:NAME] sections, a signal when they
// change, the checks' loop and the status.
type VIPs interface {
	Announcements() []plan.Announcement
	Changed() <-chan struct{}
	Settled() <-chan struct{}
	Run(ctx context.Context) error
	Status() []vip.Status
}

// vipSettleMax bounds the wait of the first full reconcile for the VIPs'
// first checks (a check's timeout is at most its interval).
const vipSettleMax = 3 * time.Second

// waitVIPs waits until every VIP had its first check, so that the first
// full reconcile after a start or a SIGHUP does not withdraw a healthy VIP
// that the previous run announced.
func (a *Agent) waitVIPs(ctx context.Context) {
	v := a.deps.VIPs
	if v == nil {
		return
	}
	select {
	case <-v.Settled():
	case <-ctx.Done():
	case <-time.After(vipSettleMax):
		a.log.Warn("VIP: not every VIP has its first check result yet; reconciling without them", "waited", vipSettleMax)
	}
}

// noPlanner stands in for the planner on a node without OVN: it plans
// nothing, and the agent announces only the VIPs.
type noPlanner struct{}

func (noPlanner) Full() (*plan.State, []plan.Warning)                { return &plan.State{}, nil }
func (noPlanner) Replan([]plan.RowRef) (*plan.Delta, []plan.Warning) { return &plan.Delta{}, nil }
func (noPlanner) State() *plan.State                                 { return &plan.State{} }

func (a *Agent) chassis() string {
	if a.deps.Source == nil {
		h, _ := os.Hostname()
		return h
	}
	return a.deps.Source.ID.SystemID
}

func (a *Agent) hostname() string {
	if a.deps.Source == nil {
		return a.chassis()
	}
	return a.deps.Source.ID.Hostname
}

func (a *Agent) driver() string {
	if a.deps.Source == nil {
		return "none"
	}
	return a.cfg.Driver
}

// vipsWanted are the VIP announcements the source wants, without the keys
// the OVN plan announces itself (those are the plan's: the VIP is skipped).
func (a *Agent) vipsWanted(planned func(plan.Key) bool) map[plan.Key]plan.Announcement {
	out := map[plan.Key]plan.Announcement{}
	if a.deps.VIPs == nil {
		return out
	}
	for _, an := range a.deps.VIPs.Announcements() {
		if planned(an.Key()) {
			a.log.Warn("VIP: the OVN plan announces the same prefix; the VIP is not announced separately", "vip", an.Port, "prefix", an.Prefix)
			continue
		}
		out[an.Key()] = an
	}
	return out
}

// withVIPs returns st with the VIP announcements added (a copy: st may be
// the planner's). A VIP needs no kernel object: its traffic is for the host
// itself, and the speaker announces it directly (GoBGP: a path; FRR: a
// `network` statement, see internal/speaker/frr).
func (a *Agent) withVIPs(st *plan.State) *plan.State {
	if a.deps.VIPs == nil {
		return st
	}
	keys := make(map[plan.Key]bool, len(st.Announcements))
	for _, an := range st.Announcements {
		keys[an.Key()] = true
	}
	for _, e := range st.Wiring.Exposures {
		keys[e.Key()] = true
	}
	want := a.vipsWanted(func(k plan.Key) bool { return keys[k] })
	if len(want) == 0 {
		return st
	}
	n := *st
	n.Announcements = slices.Clip(st.Announcements)
	for _, an := range want {
		n.Announcements = append(n.Announcements, an)
	}
	n.Sort()
	return &n
}

// vipsApplied records the VIP announcements of a state that was applied.
func (a *Agent) vipsApplied(st *plan.State) {
	a.vipApplied = map[plan.Key]plan.Announcement{}
	for _, an := range st.Announcements {
		if an.Kind == plan.KindServiceVIP {
			a.vipApplied[an.Key()] = an
		}
	}
}

// syncVIPs applies a change of the VIPs at once, as a speaker delta:
// announce what became healthy (or changed its attributes), withdraw what
// did not stay so. Keys the OVN plan announces are left to it.
func (a *Agent) syncVIPs(ctx context.Context) error {
	start := time.Now()
	want := a.vipsWanted(func(k plan.Key) bool {
		kind, ok := a.kinds[k]
		return ok && kind != plan.KindServiceVIP
	})
	d := &plan.Delta{}
	for k, an := range want {
		if old, ok := a.vipApplied[k]; !ok || old != an {
			d.Announce = append(d.Announce, an)
			if ok {
				d.Withdraw = append(d.Withdraw, old) // a changed key is in both lists
			}
		}
	}
	for k, old := range a.vipApplied {
		if _, ok := want[k]; !ok {
			d.Withdraw = append(d.Withdraw, old)
		}
	}
	if d.Empty() {
		return nil
	}
	ph := newPhases(start)
	err := a.apply(ctx, nil, d, ph)
	observe("vip", start, err)
	if a.kinds != nil {
		a.countDelta(d)
	}
	if err == nil {
		a.vipApplied = want
	}
	a.log.Info("VIP reconcile", "announce", len(d.Announce), "withdraw", len(d.Withdraw), "duration", time.Since(start), "phases", ph, "error", err)
	return err
}
