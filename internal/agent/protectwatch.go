package agent

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/netwatch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// ProtectedWatch keeps the address guard's protected facts in step with
// the host: a netlink address subscription (in the agent's network
// namespace) says when to look again, Refresh recomputes the facts and
// hands them to the guard only when they differ from the current ones.
// The controller calls Refresh on Changed and before every periodic full
// pass (the level-triggered backstop: a lost event is caught there), and
// re-plans everything when the facts changed.
type ProtectedWatch struct {
	compute func() plan.Protected
	set     func(plan.Protected)
	// Debounce is how long the watch waits after an address event for
	// more before signalling (tests shorten it).
	Debounce time.Duration

	mu      sync.Mutex
	cur     plan.Protected
	changed chan struct{}
}

// NewProtectedWatch computes the facts, hands them to set and returns the
// watch that keeps them current.
func NewProtectedWatch(compute func() plan.Protected, set func(plan.Protected)) *ProtectedWatch {
	w := &ProtectedWatch{compute: compute, set: set, Debounce: time.Second, changed: make(chan struct{}, 1)}
	w.cur = normalProtected(compute())
	set(w.cur)
	gaugeProtected(w.cur)
	return w
}

// Changed receives after a host address changed (debounced); the facts may
// still be equal (an address ovnbgp added itself): Refresh tells.
func (w *ProtectedWatch) Changed() <-chan struct{} { return w.changed }

// Refresh recomputes the facts; when they differ from the current ones it
// hands them to the guard and returns what was added and removed.
func (w *ProtectedWatch) Refresh() (added, removed []string, changed bool) {
	p := normalProtected(w.compute())
	w.mu.Lock()
	defer w.mu.Unlock()
	added = append(diffSorted(p.Addrs, w.cur.Addrs, netip.Addr.Compare), diffSorted(p.Nets, w.cur.Nets, comparePrefix)...)
	removed = append(diffSorted(w.cur.Addrs, p.Addrs, netip.Addr.Compare), diffSorted(w.cur.Nets, p.Nets, comparePrefix)...)
	if len(added) == 0 && len(removed) == 0 {
		return nil, nil, false
	}
	w.cur = p
	w.set(p)
	gaugeProtected(p)
	metricProtectedChanges.Inc()
	return added, removed, true
}

// Run subscribes to the namespace's address events until ctx ends and
// signals Changed once per burst (Debounce after its first event). A
// subscription error (e.g. a lost event on overflow) signals too. Events
// of addresses that are never facts are dropped here; the others (also
// ovnbgp's own on bgp_nic) cost one recomputation per burst, which finds
// nothing changed.
func (w *ProtectedWatch) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	ch, errc, err := netwatch.Addrs(done)
	if err != nil {
		return err
	}
	// Whatever changed while not subscribed.
	w.signal()
	// fire: Debounce after the first event of a burst (not the last, so
	// that a stream of ovnbgp's own bgp_nic addresses delays nothing):
	// the events of the wait are covered by the one Refresh that follows.
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			w.signal()
			return fmt.Errorf("address subscription: %w", err)
		case u, ok := <-ch:
			if !ok {
				w.signal()
				return fmt.Errorf("address subscription closed")
			}
			if a, ok := netip.AddrFromSlice(u.LinkAddress.IP); ok && ownOrLinkLocal(a.Unmap()) {
				continue // never in the facts
			}
			if fire == nil {
				fire = time.After(w.Debounce)
			}
		case <-fire:
			fire = nil
			w.signal()
		}
	}
}

func gaugeProtected(p plan.Protected) {
	metricProtected.WithLabelValues("addrs").Set(float64(len(p.Addrs)))
	metricProtected.WithLabelValues("nets").Set(float64(len(p.Nets)))
}

func (w *ProtectedWatch) signal() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// ownOrLinkLocal: a or its network is never a protected fact: link-local
// addresses (which include ovnbgp's 169.254 link addresses on provider
// bridges) and ovnbgp's fd53 link addresses. The guard refuses every
// prefix overlapping them anyway (special-prefix), so leaving them out
// loses nothing, and ovnbgp adding them cannot change the facts.
func ownOrLinkLocal(a netip.Addr) bool {
	return a.IsLinkLocalUnicast() || plan.OwnLinkNet6.Contains(a)
}

// normalProtected sorts and deduplicates p, without the addresses
// ownOrLinkLocal leaves out, so that equal facts compare equal.
func normalProtected(p plan.Protected) plan.Protected {
	var out plan.Protected
	for _, a := range p.Addrs {
		if !ownOrLinkLocal(a) {
			out.Addrs = append(out.Addrs, a)
		}
	}
	for _, n := range p.Nets {
		if !ownOrLinkLocal(n.Addr()) {
			out.Nets = append(out.Nets, n)
		}
	}
	slices.SortFunc(out.Addrs, netip.Addr.Compare)
	out.Addrs = slices.Compact(out.Addrs)
	slices.SortFunc(out.Nets, comparePrefix)
	out.Nets = slices.Compact(out.Nets)
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// diffSorted lists, as strings, the elements of sorted a not in sorted b.
func diffSorted[T fmt.Stringer](a, b []T, cmp func(T, T) int) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearchFunc(b, x, cmp); !found {
			out = append(out, x.String())
		}
	}
	return out
}
