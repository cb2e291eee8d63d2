package linux

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// DynVRF is a VRF of exposing_method = dynamic as the kernel needs it: a
// plain struct (the lead folds it onto the generic VRF device reconciler).
type DynVRF struct {
	Name  string
	Table uint32
	// Create: ovnbgp creates the device when missing (the router's ports do
	// not ask ovn-controller to maintain it, dynamic-routing-maintain-vrf).
	// A VRF OVN maintains is never created nor deleted by ovnbgp.
	Create bool
	// Slaves are the routing interfaces FRR peers on; they must be in the
	// VRF for `router bgp AS vrf NAME` to use them. One that does not exist
	// (yet) is skipped and retried at the next pass.
	Slaves []string
}

// DynVRFAlias is the alias (IFLA_IFALIAS) of the VRF devices ovnbgp
// creates for exposing_method = dynamic: its ownership marker. Only a VRF
// with it is ever deleted.
const DynVRFAlias = "ovnbgp:dynamic"

// DynVRFs reconciles the VRF devices of exposing_method = dynamic.
type DynVRFs struct {
	h   *netlink.Handle
	log *slog.Logger
}

// NewDynVRFs works in ns (nil: the caller's namespace).
func NewDynVRFs(ns *netns.NsHandle, log *slog.Logger) (*DynVRFs, error) {
	if log == nil {
		log = slog.Default()
	}
	var h *netlink.Handle
	var err error
	if ns != nil {
		h, err = netlink.NewHandleAt(*ns)
	} else {
		h, err = netlink.NewHandle()
	}
	if err != nil {
		return nil, fmt.Errorf("dynamic VRFs: netlink: %w", err)
	}
	return &DynVRFs{h: h, log: log}, nil
}

// Close releases the netlink handle.
func (d *DynVRFs) Close() { d.h.Close() }

// Wire creates the missing VRFs ovnbgp owns, sets every wanted VRF that
// exists up, and enslaves the routing interfaces. A device of a wanted
// name that is not a VRF on the wanted table is an error naming it, and is
// left as it is; the other VRFs are still wired.
func (d *DynVRFs) Wire(want []DynVRF) error {
	var errs []error
	for _, v := range want {
		if err := d.wire(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *DynVRFs) wire(v DynVRF) error {
	l, err := d.h.LinkByName(v.Name)
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		if !v.Create {
			return nil // ovn-controller creates it; the next pass enslaves
		}
		nl := &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: v.Name}, Table: v.Table}
		if err := d.h.LinkAdd(nl); err != nil {
			return fmt.Errorf("create VRF %s (table %d): %w", v.Name, v.Table, err)
		}
		if err := d.h.LinkSetAlias(nl, DynVRFAlias); err != nil {
			return fmt.Errorf("mark VRF %s as ovnbgp's: %w", v.Name, err)
		}
		d.log.Info("dynamic: created VRF", "vrf", v.Name, "table", v.Table)
		if l, err = d.h.LinkByName(v.Name); err != nil {
			return fmt.Errorf("VRF %s: %w", v.Name, err)
		}
		if err := d.h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set VRF %s up: %w", v.Name, err)
		}
		d.renotify(v)
	case err != nil:
		return fmt.Errorf("VRF %s: %w", v.Name, err)
	}
	vrf, ok := l.(*netlink.Vrf)
	if !ok || vrf.Table != v.Table {
		table := uint32(0)
		if ok {
			table = vrf.Table
		}
		return fmt.Errorf("device %s exists but is not a VRF on table %d (kind %s, table %d): left alone, not used", v.Name, v.Table, l.Type(), table)
	}
	if vrf.Attrs().Flags&net.FlagUp == 0 {
		if err := d.h.LinkSetUp(vrf); err != nil {
			return fmt.Errorf("set VRF %s up: %w", v.Name, err)
		}
	}
	var errs []error
	for _, s := range v.Slaves {
		sl, err := d.h.LinkByName(s)
		if err != nil {
			d.log.Debug("dynamic: routing interface not there yet", "vrf", v.Name, "interface", s)
			continue
		}
		if sl.Attrs().MasterIndex == vrf.Attrs().Index {
			continue
		}
		if err := d.h.LinkSetMasterByIndex(sl, vrf.Attrs().Index); err != nil {
			errs = append(errs, fmt.Errorf("enslave %s to VRF %s: %w", s, v.Name, err))
			continue
		}
		d.log.Info("dynamic: routing interface put in its VRF", "vrf", v.Name, "interface", s)
	}
	return errors.Join(errs...)
}

// OVNRouteProtocol is the route protocol ovn-controller writes its routes
// with (RTPROT_OVN).
const OVNRouteProtocol = 84

// renotify deletes and adds back, unchanged, the routes OVN wrote into a
// VRF's table before ovnbgp created the VRF (ovn-controller writes into
// the table whether or not the device exists). FRR's zebra keeps such a
// route but never redistributes it to bgpd, and an identical replace does
// not change that (both seen with FRR 10.3: TestVMLabDynamicVRFRoutes);
// learned again inside the VRF, it is. The one change ovnbgp makes to
// OVN's routes, right after creating the VRF, and they end as they were
// (they are blackhole routes for announcing, no traffic uses them).
func (d *DynVRFs) renotify(v DynVRF) {
	n := 0
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := d.h.RouteListFiltered(fam, &netlink.Route{Table: int(v.Table), Protocol: OVNRouteProtocol},
			netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
		if err != nil {
			d.log.Warn("dynamic: cannot list OVN's routes of a new VRF", "vrf", v.Name, "error", err)
			continue
		}
		for i := range routes {
			// An identical replace is not enough: zebra keeps its misplaced
			// entry. Delete and add back, at once.
			if err := d.h.RouteDel(&routes[i]); err != nil {
				d.log.Warn("dynamic: cannot re-announce an OVN route to FRR", "vrf", v.Name, "route", routes[i].Dst, "error", err)
				continue
			}
			if err := d.h.RouteAdd(&routes[i]); err != nil {
				d.log.Warn("dynamic: cannot re-announce an OVN route to FRR", "vrf", v.Name, "route", routes[i].Dst, "error", err)
				continue
			}
			n++
		}
	}
	if n > 0 {
		d.log.Info("dynamic: OVN's routes written before the VRF existed notified again", "vrf", v.Name, "routes", n)
	}
}

// Unwire deletes the VRFs ovnbgp created (DynVRFAlias) whose name is not
// wanted any more: the router went away or moved to another chassis. Its
// enslaved interfaces are released by the kernel, not deleted.
func (d *DynVRFs) Unwire(want []DynVRF) error {
	keep := map[string]bool{}
	for _, v := range want {
		keep[v.Name] = true
	}
	owned, err := d.Owned()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range owned {
		if keep[name] {
			continue
		}
		l, err := d.h.LinkByName(name)
		if err != nil {
			continue
		}
		if err := d.h.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete VRF %s: %w", name, err))
			continue
		}
		d.log.Info("dynamic: deleted VRF", "vrf", name)
	}
	return errors.Join(errs...)
}

// Owned lists the VRF devices carrying ovnbgp's dynamic marker, sorted.
func (d *DynVRFs) Owned() ([]string, error) {
	links, err := d.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("dynamic VRFs: list links: %w", err)
	}
	var out []string
	for _, l := range links {
		if _, ok := l.(*netlink.Vrf); ok && l.Attrs().Alias == DynVRFAlias {
			out = append(out, l.Attrs().Name)
		}
	}
	sort.Strings(out)
	return out, nil
}
