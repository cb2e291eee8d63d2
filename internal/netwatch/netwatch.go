// Package netwatch subscribes to the network namespace's address events,
// for the watchers that follow the host's addresses (the address guard's
// protected facts in internal/agent, the service VIPs in internal/vip).
package netwatch

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// Addrs subscribes to the address events of the caller's network namespace
// until done is closed. errs receives the subscription's first error (a
// lost event on overflow, a closed socket): the caller subscribes again and
// re-reads what it needs.
func Addrs(done <-chan struct{}) (updates <-chan netlink.AddrUpdate, errs <-chan error, err error) {
	ch := make(chan netlink.AddrUpdate, 256)
	errc := make(chan error, 1)
	err = netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errc <- err:
			default:
			}
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("address subscription: %w", err)
	}
	return ch, errc, nil
}
