package vip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ovnbgp/ovnbgp/internal/netwatch"
)

// addrWatch keeps the set of the namespace's addresses, by link, from one
// netlink address subscription: no polling. Subscribe first, then list, then
// apply the events in order: an event older than the list is replayed over
// it and the events that follow put the set right again.
type addrWatch struct {
	mu    sync.Mutex
	addrs map[netip.Addr]map[int]bool // address → links holding it
	// notify is called (outside mu) after every change of the set.
	notify func()
}

func newAddrWatch(notify func()) *addrWatch {
	return &addrWatch{addrs: map[netip.Addr]map[int]bool{}, notify: notify}
}

// present reports whether a is on any link; onLink whether it is on that one.
func (w *addrWatch) present(a netip.Addr) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.addrs[a]) > 0
}

func (w *addrWatch) onLink(a netip.Addr, link int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addrs[a][link]
}

func (w *addrWatch) set(a netip.Addr, link int, on bool) {
	w.mu.Lock()
	links := w.addrs[a]
	switch {
	case on && links == nil:
		links = map[int]bool{}
		w.addrs[a] = links
		fallthrough
	case on:
		links[link] = true
	default:
		delete(links, link)
		if len(links) == 0 {
			delete(w.addrs, a)
		}
	}
	w.mu.Unlock()
}

// run subscribes, lists and follows until ctx ends or the subscription
// fails (the caller runs it again: a new list repairs lost events).
func (w *addrWatch) run(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	ch, errc, err := netwatch.Addrs(done)
	if err != nil {
		return err
	}
	list, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("address list: %w", err)
	}
	fresh := map[netip.Addr]map[int]bool{}
	for _, a := range list {
		if ip, ok := addrOf(a.IPNet); ok {
			if fresh[ip] == nil {
				fresh[ip] = map[int]bool{}
			}
			fresh[ip][a.LinkIndex] = true
		}
	}
	w.mu.Lock()
	w.addrs = fresh
	w.mu.Unlock()
	w.notify()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return fmt.Errorf("address subscription: %w", err)
		case u, ok := <-ch:
			if !ok {
				return fmt.Errorf("address subscription closed")
			}
			ip, ok := addrOf(&u.LinkAddress)
			if !ok {
				continue
			}
			w.set(ip, u.LinkIndex, u.NewAddr)
			w.notify()
		}
	}
}

func addrOf(n *net.IPNet) (netip.Addr, bool) {
	if n == nil {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	return a.Unmap(), ok
}

// ensureAddr puts a (as a host prefix) on the device: the anycast mode.
// It returns the device's index.
func ensureAddr(device string, a netip.Addr) (int, error) {
	l, err := netlink.LinkByName(device)
	if err != nil {
		return 0, fmt.Errorf("device %s: %w", device, err)
	}
	bits := 32
	if a.Is6() {
		bits = 128
	}
	na := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, bits)}}
	if a.Is6() {
		na.Flags = unix.IFA_F_NODAD // usable at once, on any device
	}
	if err := netlink.AddrReplace(l, na); err != nil {
		return l.Attrs().Index, fmt.Errorf("add %s to %s: %w", a, device, err)
	}
	return l.Attrs().Index, nil
}
