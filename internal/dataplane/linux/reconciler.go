package linux

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// Announce methods (Options.AnnounceMethod).
const (
	AnnounceConnected = config.AnnounceConnected // address on bgp_nic in bgp_vrf
	AnnounceTable     = config.AnnounceTable     // route in announce_table_id
	AnnounceNone      = "none"                   // wire only: the speaker announces by itself
)

// rtprotBoot is the protocol of upstream's routes (`proto boot`), adopted
// in bridge tables.
const rtprotBoot = 3

// Rule modes (Options.RuleMode).
const (
	// RulePerPrefix writes one rule per exposure, `to <prefix> lookup
	// <bridge table>` (upstream's layout, with explicit priorities). The
	// kernel keeps rules in a list: every packet walks it, and inserting N
	// rules of one priority costs O(N²) (about 1 s for 10,000 on the lab
	// host).
	RulePerPrefix = "prefix"
	// RulePerTable writes one rule per bridge table and family, `lookup
	// <bridge table> suppress_prefixlength 0`: a packet whose destination
	// has a route in the table (an exposure) uses it, any other falls
	// through to the next rule, and the table's default route is ignored.
	// Constant cost per packet and per exposure. Overlaps between bridges
	// are resolved by bridge order instead of prefix length.
	RulePerTable = "table"
)

// Options configures a Reconciler. OptionsFromConfig fills it from the
// agent's configuration.
type Options struct {
	AnnounceMethod  string // "connected" | "table" | "none"
	BGPVRF, BGPNic  string // connected method: VRF and dummy device names
	BGPVRFTableID   int    // connected method: the VRF's table
	AnnounceTableID int    // table method: the table FRR imports (IPv4)
	// AnnounceTable6ID is the table method's table for IPv6 prefixes
	// (default AnnounceTableID). FRR 8.4 has no `ipv6 import-table`, so
	// OptionsFromConfig puts them in the main table, where zebra sees them
	// as kernel routes that bgpd redistributes (see internal/speaker/frr).
	AnnounceTable6ID int
	RouteProtocol    int    // protocol number of ovnbgp's routes (ownership marker)
	RulePriority     int    // first priority of ovnbgp's rules
	RulePriorityMax  int    // last priority of ovnbgp's rules (inclusive)
	BridgeTableBase  int    // table of bridge N = base + N, unless rt_tables names the bridge
	RuleMode         string // RulePerTable (default) or RulePerPrefix
	RTTablesDir      string // default /etc/iproute2
	Logger           *slog.Logger
	// NetNS, when set, is the network namespace to work in (tests); nil
	// means the caller's.
	NetNS *netns.NsHandle
}

// OptionsFromConfig maps the agent configuration to Options.
func OptionsFromConfig(cfg *config.Config) Options {
	return Options{
		AnnounceMethod:   cfg.OVNBGP.AnnounceMethod,
		BGPVRF:           cfg.BGPVRF,
		BGPNic:           cfg.BGPNic,
		BGPVRFTableID:    cfg.BGPVRFTableID,
		AnnounceTableID:  cfg.AnnounceTable(),
		AnnounceTable6ID: unix.RT_TABLE_MAIN,
		RouteProtocol:    cfg.OVNBGP.RouteProtocol,
		RulePriority:     cfg.OVNBGP.RulePriority,
		RulePriorityMax:  cfg.OVNBGP.RulePriorityMax,
		RuleMode:         cfg.OVNBGP.RuleMode,
		BridgeTableBase:  cfg.OVNBGP.BridgeTableBase,
	}
}

// Stats is a snapshot of the reconciler.
type Stats struct {
	Objects     map[string]int // owned objects in the kernel, by kind
	Desired     int            // objects the remembered state needs
	Exposures   int            // remembered exposures
	Failed      map[string]int // exposures that could not be wired, by cause
	Repairs     int            // objects restored after drift
	LastRepair  time.Time
	Resyncs     int
	Errors      int // errors counted since start
	LastError   string
	NLRequests  uint64 // netlink requests sent
	NLSyscalls  uint64 // netlink sendto/recvfrom calls on the request socket
	SysctlWrite int    // sysctl values written
}

// owner identifies who needs an object: an exposure (by key) or a bridge
// (key zero).
type owner struct {
	bridge string
	key    plan.Key
}

type obj struct {
	id  objID
	val objVal
}

type dent struct {
	val  objVal
	refs int
}

// Reconciler makes the kernel match the wiring part of a plan.State, for
// the objects it owns (see the package documentation).
type Reconciler struct {
	o     Options
	log   *slog.Logger
	ns    netns.NsHandle
	h     *netlink.Handle
	cnt   nlCounters
	proto uint8

	ready     chan struct{} // closed once Run listens
	readyOnce sync.Once

	mu      sync.Mutex
	fresh   bool // the index was just read from the kernel: rules need no NLM_F_EXCL
	c       *conn
	synced  bool
	links   map[string]linkInfo
	actual  map[objID]objVal
	desired map[objID]*dent
	owners  map[owner][]obj
	orphans map[objID]struct{}

	exposures map[plan.Key]plan.Exposure
	failed    map[plan.Key]string
	bridges   []plan.BridgeWiring
	// derived from bridges
	tables      map[string]uint32 // bridge -> table
	vlanDevs    map[string]string // "bridge/vlan" -> device name
	ownVLANs    map[string]bool   // VLAN device names ovnbgp created or owns
	ownTables   map[uint32]bool   // bridge tables (plan + ovnbgp.conf)
	adoptTables map[uint32]bool   // tables named after a bridge elsewhere (upstream's)
	provDevs    map[int32]bool    // ifindexes of provider devices
	nicIdx      int32
	annTable    uint32 // table method: IPv4 announce routes
	annTable6   uint32 // table method: IPv6 announce routes

	stats Stats
}

// New checks the options and opens the netlink sockets; it does not touch
// the kernel state (the first Wire reads it).
func New(o Options) (*Reconciler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RTTablesDir == "" {
		o.RTTablesDir = "/etc/iproute2"
	}
	if o.RouteProtocol == 0 {
		o.RouteProtocol = 201
	}
	if o.RulePriority == 0 {
		o.RulePriority, o.RulePriorityMax = 1000, 1999
	}
	if o.RulePriorityMax < o.RulePriority {
		return nil, fmt.Errorf("rule_priority_max %d is below rule_priority %d", o.RulePriorityMax, o.RulePriority)
	}
	if o.RouteProtocol < 5 || o.RouteProtocol > 255 {
		return nil, fmt.Errorf("route_protocol %d: must be 5..255 (below 5 are the kernel's own)", o.RouteProtocol)
	}
	if o.BridgeTableBase <= 0 {
		o.BridgeTableBase = 200
	}
	switch o.RuleMode {
	case "":
		o.RuleMode = RulePerTable
	case RulePerPrefix, RulePerTable:
	default:
		return nil, fmt.Errorf("unknown rule mode %q (prefix or table)", o.RuleMode)
	}
	switch o.AnnounceMethod {
	case "", AnnounceConnected:
		o.AnnounceMethod = AnnounceConnected
		if o.BGPVRF == "" || o.BGPNic == "" || o.BGPVRFTableID <= 0 {
			return nil, errors.New("announce method connected needs bgp_vrf, bgp_nic and bgp_vrf_table_id")
		}
	case AnnounceTable:
		if o.AnnounceTableID <= 0 {
			o.AnnounceTableID = o.BGPVRFTableID
		}
		if o.AnnounceTableID <= 0 {
			return nil, errors.New("announce method table needs announce_table_id")
		}
		if o.AnnounceTable6ID <= 0 {
			o.AnnounceTable6ID = o.AnnounceTableID
		}
	case AnnounceNone:
	default:
		return nil, fmt.Errorf("unknown announce method %q (connected, table or none)", o.AnnounceMethod)
	}
	r := &Reconciler{o: o, log: o.Logger, ns: netns.None(), proto: uint8(o.RouteProtocol), ready: make(chan struct{})}
	if o.NetNS != nil {
		r.ns = *o.NetNS
	}
	var err error
	if r.ns.IsOpen() {
		r.h, err = netlink.NewHandleAt(r.ns)
	} else {
		r.h, err = netlink.NewHandle()
	}
	if err != nil {
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	if r.c, err = openConn(r.ns, 0, &r.cnt); err != nil {
		r.h.Close()
		return nil, err
	}
	if o.AnnounceMethod == AnnounceTable {
		r.annTable, r.annTable6 = uint32(o.AnnounceTableID), uint32(o.AnnounceTable6ID)
	}
	r.actual = map[objID]objVal{}
	r.desired = map[objID]*dent{}
	r.owners = map[owner][]obj{}
	r.orphans = map[objID]struct{}{}
	r.exposures = map[plan.Key]plan.Exposure{}
	r.failed = map[plan.Key]string{}
	r.links = map[string]linkInfo{}
	r.tables = map[string]uint32{}
	r.vlanDevs = map[string]string{}
	r.ownVLANs = map[string]bool{}
	r.ownTables = map[uint32]bool{}
	r.adoptTables = map[uint32]bool{}
	r.provDevs = map[int32]bool{}
	r.stats.Failed = map[string]int{}
	return r, nil
}

// Listening is closed once Run receives notifications: drift from then on
// is repaired.
func (r *Reconciler) Listening() <-chan struct{} { return r.ready }

// Close releases the netlink sockets.
func (r *Reconciler) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.close()
	r.h.Close()
}

// ---------------------------------------------------------------- errors

// errSet aggregates errors by cause: a count and the first few messages.
type errSet struct {
	count map[string]int
	first []error
}

func (e *errSet) add(cause string, err error) {
	if e.count == nil {
		e.count = map[string]int{}
	}
	e.count[cause]++
	if len(e.first) < 5 {
		e.first = append(e.first, err)
	}
}

func (e *errSet) err() error {
	if len(e.count) == 0 {
		return nil
	}
	causes := make([]string, 0, len(e.count))
	total := 0
	for c, n := range e.count {
		causes = append(causes, fmt.Sprintf("%s=%d", c, n))
		total += n
	}
	sort.Strings(causes)
	return fmt.Errorf("dataplane: %d errors (%s): %w", total, strings.Join(causes, " "), errors.Join(e.first...))
}

func (r *Reconciler) noteErr(es *errSet) error {
	err := es.err()
	if err != nil {
		for c, n := range es.count {
			r.stats.Errors += n
			metricErrors.WithLabelValues(c).Add(float64(n))
		}
		r.stats.LastError = err.Error()
	}
	return err
}

// ---------------------------------------------------------------- links and bridges

func (r *Reconciler) dumpLinks() error {
	links := map[string]linkInfo{}
	hdr := make([]byte, 16)
	err := r.c.dumpRetry(unix.RTM_GETLINK, hdr, func() { clear(links) }, func(typ uint16, msg []byte) {
		if l, ok := parseLink(msg); ok {
			links[l.name] = l
		}
	})
	if err != nil {
		return fmt.Errorf("dump links: %w", err)
	}
	r.links = links
	return nil
}

// setupBridges computes the bridge tables, writes ovnbgp.conf, creates the
// VRF, dummy and VLAN devices that are missing, sets the provider devices
// up and their sysctls. It refreshes the link index.
func (r *Reconciler) setupBridges(bridges []plan.BridgeWiring, es *errSet) {
	r.bridges = append([]plan.BridgeWiring(nil), bridges...)
	sort.Slice(r.bridges, func(i, j int) bool { return r.bridges[i].Bridge < r.bridges[j].Bridge })
	if err := r.dumpLinks(); err != nil {
		es.add("dump", err)
		return
	}
	rt, err := readRTTables(r.o.RTTablesDir)
	if err != nil {
		es.add("rt_tables", err)
		rt = &rtTables{byName: map[string]int{}, byID: map[int]string{}, from: map[string]string{}}
	}
	own := ownFile(r.o.RTTablesDir)
	clear(r.tables)
	clear(r.adoptTables)
	r.ownTables = readOwnTables(r.o.RTTablesDir)
	reserved := map[int]string{0: "unspec", 253: "default", 254: "main", 255: "local"}
	if r.o.AnnounceMethod == AnnounceConnected {
		reserved[r.o.BGPVRFTableID] = "bgp_vrf_table_id"
	}
	if r.o.AnnounceMethod == AnnounceTable {
		reserved[r.o.AnnounceTableID] = "announce_table_id"
	}
	write := map[int]string{}
	used := map[int]string{}
	for _, b := range r.bridges {
		id, named := rt.byName[b.Bridge]
		if !named {
			id = r.o.BridgeTableBase + b.Index
			if other, ok := rt.byID[id]; ok && other != b.Bridge {
				es.add("table_conflict", fmt.Errorf("bridge %s: table %d is already named %q in rt_tables", b.Bridge, id, other))
				continue
			}
		}
		if what, ok := reserved[id]; ok {
			es.add("table_conflict", fmt.Errorf("bridge %s: table %d is %s", b.Bridge, id, what))
			continue
		}
		if other, ok := used[id]; ok {
			es.add("table_conflict", fmt.Errorf("bridges %s and %s: both map to table %d", other, b.Bridge, id))
			continue
		}
		used[id] = b.Bridge
		r.tables[b.Bridge] = uint32(id)
		r.ownTables[uint32(id)] = true
		if named && rt.from[b.Bridge] != own {
			r.adoptTables[uint32(id)] = true // upstream's line: adopt the table and its rules
		} else {
			write[id] = b.Bridge
		}
	}
	if err := writeOwnTables(r.o.RTTablesDir, write); err != nil {
		es.add("rt_tables", err)
	}

	created := false
	if r.o.AnnounceMethod == AnnounceConnected {
		if c, err := r.ensureVRF(); err != nil {
			es.add("link", err)
		} else if c {
			created = true
		}
	}
	clear(r.vlanDevs)
	names := map[string]string{}
	for _, b := range r.bridges {
		br, ok := r.links[b.Bridge]
		if !ok {
			es.add("device_missing", fmt.Errorf("provider bridge %s: no such device", b.Bridge))
			continue
		}
		if !br.up {
			if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(br.index)}}); err != nil {
				es.add("link", fmt.Errorf("set %s up: %w", b.Bridge, err))
			}
		}
		for _, tag := range b.VLANs {
			name := VLANDeviceName(b.Bridge, tag)
			if other, ok := names[name]; ok && other != b.Bridge {
				es.add("vlan_conflict", fmt.Errorf("VLAN device name %s wanted by bridges %s and %s", name, other, b.Bridge))
				continue
			}
			names[name] = b.Bridge
			c, err := r.ensureVLAN(br, name, tag)
			if err != nil {
				es.add("vlan_conflict", err)
				continue
			}
			created = created || c
			r.vlanDevs[fmt.Sprintf("%s/%d", b.Bridge, tag)] = name
		}
	}
	if created {
		if err := r.dumpLinks(); err != nil {
			es.add("dump", err)
		}
	}
	r.deriveDevices()
	want := globalSysctls()
	for _, b := range r.bridges {
		if _, ok := r.links[b.Bridge]; ok {
			want = append(want, deviceSysctls(b.Bridge)...)
		}
	}
	for _, dev := range r.vlanDevs {
		if _, ok := r.links[dev]; ok {
			want = append(want, deviceSysctls(dev)...)
		}
	}
	n, err := applySysctls(r.ns, want)
	r.stats.SysctlWrite += n
	if err != nil {
		es.add("sysctl", err)
	}
}

// deriveDevices recomputes the provider device set and bgp-nic's index
// from the link index.
func (r *Reconciler) deriveDevices() {
	clear(r.provDevs)
	for _, b := range r.bridges {
		if l, ok := r.links[b.Bridge]; ok {
			r.provDevs[l.index] = true
		}
	}
	for _, dev := range r.vlanDevs {
		if l, ok := r.links[dev]; ok {
			r.provDevs[l.index] = true
		}
	}
	r.nicIdx = 0
	if r.o.AnnounceMethod == AnnounceConnected {
		if l, ok := r.links[r.o.BGPNic]; ok {
			r.nicIdx = l.index
		}
	}
}

// ensureVRF creates bgp_vrf (a VRF on bgp_vrf_table_id) and bgp_nic (a
// dummy enslaved to it) when missing, and sets both up. Existing devices
// of the wrong kind are reported, not replaced.
func (r *Reconciler) ensureVRF() (created bool, err error) {
	// An existing bgp_nic that is not a dummy (bgp_nic = eth1 by mistake)
	// is refused before anything is touched: it would be enslaved to the
	// VRF and its addresses managed as ovnbgp's.
	if nic, ok := r.links[r.o.BGPNic]; ok && nic.kind != "dummy" {
		return false, fmt.Errorf("bgp_nic %s exists and is not a dummy (kind %q): refusing to enslave it to %s and manage its addresses; name a free device or a dummy", r.o.BGPNic, nic.kind, r.o.BGPVRF)
	}
	vrf, ok := r.links[r.o.BGPVRF]
	if !ok {
		l := &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: r.o.BGPVRF}, Table: uint32(r.o.BGPVRFTableID)}
		if err := r.h.LinkAdd(l); err != nil {
			return false, fmt.Errorf("create VRF %s (table %d): %w (does the kernel have the vrf module? else use announce_method=table)", r.o.BGPVRF, r.o.BGPVRFTableID, err)
		}
		created = true
		vrf = linkInfo{index: int32(l.Index), name: r.o.BGPVRF, kind: "vrf", table: uint32(r.o.BGPVRFTableID)}
	} else if vrf.kind != "vrf" || vrf.table != uint32(r.o.BGPVRFTableID) {
		return false, fmt.Errorf("device %s exists but is not a VRF on table %d (kind %q table %d)", r.o.BGPVRF, r.o.BGPVRFTableID, vrf.kind, vrf.table)
	}
	if !vrf.up {
		if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(vrf.index)}}); err != nil {
			return created, fmt.Errorf("set %s up: %w", r.o.BGPVRF, err)
		}
	}
	nic, ok := r.links[r.o.BGPNic]
	if !ok {
		l := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: r.o.BGPNic, MasterIndex: int(vrf.index)}}
		if err := r.h.LinkAdd(l); err != nil {
			return created, fmt.Errorf("create dummy %s: %w", r.o.BGPNic, err)
		}
		created = true
		nic = linkInfo{index: int32(l.Index), name: r.o.BGPNic, kind: "dummy", master: vrf.index}
	}
	if nic.master != vrf.index {
		if err := r.h.LinkSetMasterByIndex(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(nic.index)}}, int(vrf.index)); err != nil {
			return created, fmt.Errorf("enslave %s to %s: %w", r.o.BGPNic, r.o.BGPVRF, err)
		}
		created = true
	}
	if !nic.up {
		if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(nic.index)}}); err != nil {
			return created, fmt.Errorf("set %s up: %w", r.o.BGPNic, err)
		}
		created = true
	}
	return created, nil
}

// ensureVLAN makes sure the VLAN device name exists on br with tag. A
// device of that name that is not a VLAN (an OVS internal port given the
// name, for instance) is used as it is and never deleted; a VLAN device on
// another parent or tag is a conflict.
func (r *Reconciler) ensureVLAN(br linkInfo, name string, tag int) (bool, error) {
	l, ok := r.links[name]
	if ok {
		if l.kind != "vlan" {
			delete(r.ownVLANs, name)
			return false, nil
		}
		if l.parent != br.index || l.vlanID != tag {
			return false, fmt.Errorf("device %s exists as VLAN %d on ifindex %d, not VLAN %d on %s", name, l.vlanID, l.parent, tag, br.name)
		}
		r.ownVLANs[name] = true
		if !l.up {
			if err := r.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(l.index)}}); err != nil {
				return false, fmt.Errorf("set %s up: %w", name, err)
			}
			return true, nil
		}
		return false, nil
	}
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: int(br.index)}, VlanId: tag}
	if err := r.h.LinkAdd(v); err != nil {
		return false, fmt.Errorf("create VLAN device %s (%s tag %d): %w", name, br.name, tag, err)
	}
	r.ownVLANs[name] = true
	if err := r.h.LinkSetUp(v); err != nil {
		return true, fmt.Errorf("set %s up: %w", name, err)
	}
	return true, nil
}

// removeStaleVLANs deletes the VLAN devices ovnbgp would name for a
// provider bridge but that no bridge needs any more.
func (r *Reconciler) removeStaleVLANs(es *errSet) {
	wanted := map[string]bool{}
	for _, d := range r.vlanDevs {
		wanted[d] = true
	}
	removed := false
	for _, b := range r.bridges {
		br, ok := r.links[b.Bridge]
		if !ok {
			continue
		}
		for name, l := range r.links {
			if l.kind != "vlan" || l.parent != br.index || wanted[name] || name != VLANDeviceName(b.Bridge, l.vlanID) {
				continue
			}
			if err := r.h.LinkDel(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: int(l.index)}}); err != nil {
				es.add("link", fmt.Errorf("delete stale VLAN device %s: %w", name, err))
				continue
			}
			delete(r.ownVLANs, name)
			removed = true
		}
	}
	if removed {
		if err := r.dumpLinks(); err != nil {
			es.add("dump", err)
		}
		r.deriveDevices()
	}
}

// ---------------------------------------------------------------- ownership and dump

func (r *Reconciler) inRange(prio uint32) bool {
	return prio >= uint32(r.o.RulePriority) && prio <= uint32(r.o.RulePriorityMax)
}

func (r *Reconciler) ownsRule(p parsedRule) bool {
	if p.tableWide {
		return r.ownTables[p.id.table] && r.inRange(p.id.prio)
	}
	if !p.plain {
		return false
	}
	if r.adoptTables[p.id.table] {
		return true
	}
	return r.ownTables[p.id.table] && r.inRange(p.id.prio)
}

func (r *Reconciler) ownsRoute(id objID, v objVal) bool {
	if r.isAnnounceTable(id) {
		return v.proto == r.proto
	}
	if r.ownTables[id.table] || r.adoptTables[id.table] {
		return v.proto == r.proto || v.proto == rtprotBoot
	}
	return false
}

func (r *Reconciler) ownsNeigh(id objID) bool { return r.provDevs[id.link] }

func (r *Reconciler) ownsAddr(id objID) bool {
	if r.nicIdx != 0 && id.link == r.nicIdx {
		return !id.dst.Addr().IsLinkLocalUnicast()
	}
	return r.provDevs[id.link] && isLinkAddress(id.dst)
}

// isAnnounce tells the announce objects (last on wire, first on unwire).
func (r *Reconciler) isAnnounce(id objID) bool {
	switch id.kind {
	case kindAddr:
		return r.nicIdx != 0 && id.link == r.nicIdx
	case kindRoute:
		return r.isAnnounceTable(id)
	}
	return false
}

// isAnnounceTable: a route of the family's announce table.
func (r *Reconciler) isAnnounceTable(id objID) bool {
	if id.dst.Addr().Is4() {
		return r.annTable != 0 && id.table == r.annTable
	}
	return r.annTable6 != 0 && id.table == r.annTable6
}

// dumpInto is dumpObjects for a reconcile: a failure is recorded in es.
func (r *Reconciler) dumpInto(es *errSet) bool {
	if err := r.dumpObjects(); err != nil {
		es.add("dump", err)
		return false
	}
	return true
}

// dumpObjects rebuilds the index of owned objects from the kernel.
func (r *Reconciler) dumpObjects() error {
	act := map[objID]objVal{}
	reset := func(k kind) func() {
		return func() {
			for id := range act {
				if id.kind == k {
					delete(act, id)
				}
			}
		}
	}
	hdr12 := make([]byte, 12)
	if err := r.c.dumpRetry(unix.RTM_GETRULE, hdr12, reset(kindRule), func(_ uint16, m []byte) {
		if p, ok := parseRule(m); ok && r.ownsRule(p) {
			act[p.id] = objVal{}
		}
	}); err != nil {
		return fmt.Errorf("dump rules: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETROUTE, hdr12, reset(kindRoute), func(_ uint16, m []byte) {
		if id, v, ok := parseRoute(m); ok && r.ownsRoute(id, v) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump routes: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, hdr12, reset(kindNeigh), func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindNeigh && r.ownsNeigh(id) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump neighbours: %w", err)
	}
	proxyHdr := make([]byte, 12)
	proxyHdr[10] = unix.NTF_PROXY
	if err := r.c.dumpRetry(unix.RTM_GETNEIGH, proxyHdr, reset(kindProxy), func(_ uint16, m []byte) {
		if id, v, ok := parseNeigh(m); ok && id.kind == kindProxy && r.ownsNeigh(id) {
			act[id] = v
		}
	}); err != nil {
		return fmt.Errorf("dump NDP proxies: %w", err)
	}
	if err := r.c.dumpRetry(unix.RTM_GETADDR, make([]byte, 8), reset(kindAddr), func(_ uint16, m []byte) {
		if id, ok := parseAddr(m); ok && r.ownsAddr(id) {
			act[id] = objVal{}
		}
	}); err != nil {
		return fmt.Errorf("dump addresses: %w", err)
	}
	r.actual = act
	r.synced = true
	r.stats.Resyncs++
	metricResyncs.Inc()
	return nil
}

// ---------------------------------------------------------------- desired state

// devFor returns the device an exposure is wired to.
func (r *Reconciler) devFor(e plan.Exposure) string {
	if e.VLAN == 0 {
		return e.Bridge
	}
	if d, ok := r.vlanDevs[fmt.Sprintf("%s/%d", e.Bridge, e.VLAN)]; ok {
		return d
	}
	return VLANDeviceName(e.Bridge, e.VLAN)
}

// objsFor computes the objects one exposure needs; cause is set when it
// cannot be wired now.
func (r *Reconciler) objsFor(e plan.Exposure) (objs []obj, cause string, err error) {
	if !e.Prefix.IsValid() {
		return nil, "invalid", fmt.Errorf("exposure %s: invalid prefix", e.Key())
	}
	p := e.Prefix.Masked()
	table, ok := r.tables[e.Bridge]
	if !ok {
		return nil, "bridge_unknown", fmt.Errorf("exposure %s: bridge %q has no routing table (not in the bridge mappings, or a table conflict)", e.Key(), e.Bridge)
	}
	dev := r.devFor(e)
	l, ok := r.links[dev]
	if !ok {
		return nil, "device_missing", fmt.Errorf("exposure %s: device %s is missing", e.Key(), dev)
	}
	if e.Via.IsValid() && e.Via.Is4() != p.Addr().Is4() {
		return nil, "invalid", fmt.Errorf("exposure %s: next hop %s of the other family", e.Key(), e.Via)
	}
	objs = make([]obj, 0, 4+len(e.ProxyNDP))
	if e.MAC != "" {
		hw, err := net.ParseMAC(e.MAC)
		if err != nil || len(hw) != 6 {
			return nil, "invalid", fmt.Errorf("exposure %s: bad MAC %q", e.Key(), e.MAC)
		}
		if p.IsSingleIP() {
			var v objVal
			copy(v.mac[:], hw)
			objs = append(objs, obj{objID{kind: kindNeigh, link: l.index, dst: p}, v})
		}
	}
	for _, a := range e.ProxyNDP {
		if !a.Is6() || a.Is4In6() {
			return nil, "invalid", fmt.Errorf("exposure %s: NDP proxy address %s is not IPv6", e.Key(), a)
		}
		objs = append(objs, obj{objID{kind: kindProxy, link: l.index, dst: hostPrefix(a)}, objVal{}})
	}
	rv := objVal{link: l.index, via: e.Via, proto: r.proto}
	objs = append(objs, obj{objID{kind: kindRoute, table: table, dst: p}, rv})
	if r.o.RuleMode == RulePerPrefix {
		objs = append(objs, obj{objID{kind: kindRule, table: table, prio: rulePriority(p, r.o.RulePriority, r.o.RulePriorityMax), dst: p}, objVal{}})
	}
	if e.Announce {
		switch r.o.AnnounceMethod {
		case AnnounceConnected:
			if r.nicIdx == 0 {
				// Wire it anyway; announce once bgp_nic exists.
				return objs, "device_missing", fmt.Errorf("exposure %s: %s is missing, not announced", e.Key(), r.o.BGPNic)
			}
			objs = append(objs, obj{objID{kind: kindAddr, link: r.nicIdx, dst: e.Prefix}, objVal{}})
		case AnnounceTable:
			// The announce route only tells FRR what to export: no next
			// hop (zebra would have to resolve it, and a via on the
			// provider bridge does not resolve through the main table).
			table := r.annTable
			if p.Addr().Is6() {
				table = r.annTable6
			}
			objs = append(objs, obj{objID{kind: kindRoute, table: table, dst: p}, objVal{link: l.index, proto: r.proto}})
		}
	}
	return objs, "", nil
}

// bridgeObjs are the per-bridge objects: the default routes of the bridge
// table and the link addresses of the bridge and its VLAN devices.
func (r *Reconciler) bridgeObjs(b plan.BridgeWiring) []obj {
	table, ok := r.tables[b.Bridge]
	br, ok2 := r.links[b.Bridge]
	if !ok || !ok2 {
		return nil
	}
	v := objVal{link: br.index, proto: r.proto}
	objs := []obj{
		{objID{kind: kindRoute, table: table, dst: netip.MustParsePrefix("0.0.0.0/0")}, v},
		{objID{kind: kindRoute, table: table, dst: netip.MustParsePrefix("::/0")}, v},
	}
	if r.o.RuleMode == RulePerTable {
		prio := uint32(min(r.o.RulePriority+b.Index, r.o.RulePriorityMax))
		objs = append(objs,
			obj{objID{kind: kindRule, table: table, prio: prio, dst: netip.MustParsePrefix("0.0.0.0/0")}, objVal{}},
			obj{objID{kind: kindRule, table: table, prio: prio, dst: netip.MustParsePrefix("::/0")}, objVal{}})
	}
	a4, a6 := LinkAddresses(b.Index, 0)
	objs = append(objs, obj{objID{kind: kindAddr, link: br.index, dst: a4}, objVal{}}, obj{objID{kind: kindAddr, link: br.index, dst: a6}, objVal{}})
	for _, tag := range b.VLANs {
		l, ok := r.links[r.vlanDevs[fmt.Sprintf("%s/%d", b.Bridge, tag)]]
		if !ok {
			continue
		}
		a4, a6 := LinkAddresses(b.Index, tag)
		objs = append(objs, obj{objID{kind: kindAddr, link: l.index, dst: a4}, objVal{}}, obj{objID{kind: kindAddr, link: l.index, dst: a6}, objVal{}})
	}
	return objs
}

// setOwner replaces the objects an owner needs, keeping reference counts;
// objects nobody needs any more become orphans (removed by Unwire*).
func (r *Reconciler) setOwner(k owner, objs []obj) {
	for _, o := range objs {
		d := r.desired[o.id]
		if d == nil {
			d = &dent{}
			r.desired[o.id] = d
		}
		d.val = o.val
		d.refs++
		delete(r.orphans, o.id)
	}
	for _, o := range r.owners[k] {
		d := r.desired[o.id]
		if d == nil {
			continue
		}
		d.refs--
		if d.refs <= 0 {
			delete(r.desired, o.id)
			r.orphans[o.id] = struct{}{}
		}
	}
	if objs == nil {
		delete(r.owners, k)
	} else {
		r.owners[k] = objs
	}
}

// setExposure records e as desired and computes its objects.
func (r *Reconciler) setExposure(e plan.Exposure, es *errSet) []obj {
	k := e.Key()
	r.exposures[k] = e
	objs, cause, err := r.objsFor(e)
	if err != nil {
		r.failed[k] = cause
		es.add(cause, err)
	} else {
		delete(r.failed, k)
	}
	r.setOwner(owner{key: k}, objs)
	return objs
}

func (r *Reconciler) dropExposure(k plan.Key) {
	delete(r.exposures, k)
	delete(r.failed, k)
	r.setOwner(owner{key: k}, nil)
}

// recompute rebuilds every owner from the remembered bridges and exposures.
func (r *Reconciler) recompute(es *errSet) {
	seen := map[owner]bool{}
	for _, b := range r.bridges {
		k := owner{bridge: b.Bridge}
		seen[k] = true
		r.setOwner(k, r.bridgeObjs(b))
	}
	for _, e := range r.exposures {
		seen[owner{key: e.Key()}] = true
		r.setExposure(e, es)
	}
	for k := range r.owners {
		if !seen[k] {
			r.setOwner(k, nil)
		}
	}
}

// ---------------------------------------------------------------- applying

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

// ---------------------------------------------------------------- API

// Wire makes every object st needs present and up to date: bridges first
// (tables, devices, sysctls, link addresses, default routes), then every
// exposure's wiring, then the announce objects of the exposures whose
// wiring is complete. It removes nothing (objects no longer needed are
// removed by Unwire) and remembers st as the desired state. It re-reads
// the kernel state first, so it also heals anything missed.
func (r *Reconciler) Wire(ctx context.Context, st *plan.State) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	r.setupBridges(st.Wiring.Bridges, &es)
	if !r.dumpInto(&es) {
		return r.noteErr(&es)
	}
	clear(r.exposures)
	for _, e := range st.Wiring.Exposures {
		r.exposures[e.Key()] = e
	}
	clear(r.failed)
	r.recompute(&es)
	r.fresh = true
	r.wireOwners(r.allOwners(), &es)
	r.fresh = false
	r.publish()
	metricApply.WithLabelValues("wire").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// Unwire removes every owned object that st does not need: the announce
// objects first, then their wiring, then VLAN devices no bridge needs. It
// remembers st as the desired state.
func (r *Reconciler) Unwire(ctx context.Context, st *plan.State) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced {
		r.setupBridges(st.Wiring.Bridges, &es)
		if !r.dumpInto(&es) {
			return r.noteErr(&es)
		}
	} else if !sameBridges(r.bridges, st.Wiring.Bridges) {
		r.bridges = append([]plan.BridgeWiring(nil), st.Wiring.Bridges...)
		r.dropVLANDevs()
	}
	clear(r.exposures)
	for _, e := range st.Wiring.Exposures {
		r.exposures[e.Key()] = e
	}
	clear(r.failed)
	var ignore errSet
	r.recompute(&ignore)
	var stale []objID
	for id := range r.actual {
		if _, ok := r.desired[id]; !ok {
			stale = append(stale, id)
		}
	}
	r.removeIDs(stale, &es)
	clear(r.orphans)
	r.removeStaleVLANs(&es)
	r.publish()
	metricApply.WithLabelValues("unwire").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// dropVLANDevs forgets the VLAN devices of bridges no longer wired, so
// that removeStaleVLANs deletes them.
func (r *Reconciler) dropVLANDevs() {
	keep := map[string]bool{}
	for _, b := range r.bridges {
		for _, tag := range b.VLANs {
			keep[fmt.Sprintf("%s/%d", b.Bridge, tag)] = true
		}
	}
	for k := range r.vlanDevs {
		if !keep[k] {
			delete(r.vlanDevs, k)
		}
	}
}

func sameBridges(a, b []plan.BridgeWiring) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]plan.BridgeWiring{}
	for _, x := range a {
		m[x.Bridge] = x
	}
	for _, y := range b {
		x, ok := m[y.Bridge]
		if !ok || x.Index != y.Index || x.Physnet != y.Physnet || fmt.Sprint(x.VLANs) != fmt.Sprint(y.VLANs) {
			return false
		}
	}
	return true
}

// WireDelta wires the exposures of d.Wire (and the bridges when
// d.BridgesChanged), touching only their keys: the kernel is not re-read.
// Objects a changed exposure no longer needs are removed by UnwireDelta.
func (r *Reconciler) WireDelta(ctx context.Context, d *plan.Delta) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced || d.BridgesChanged {
		bridges := r.bridges
		if d.BridgesChanged {
			bridges = d.Bridges
		}
		r.setupBridges(bridges, &es)
		if !r.synced {
			if !r.dumpInto(&es) {
				return r.noteErr(&es)
			}
		}
		for _, e := range d.Wire {
			r.exposures[e.Key()] = e
		}
		r.recompute(&es)
		r.wireOwners(r.allOwners(), &es)
	} else {
		owners := make([]owner, 0, len(d.Wire))
		for _, e := range d.Wire {
			r.setExposure(e, &es)
			owners = append(owners, owner{key: e.Key()})
		}
		r.retryFailed(&owners, &es)
		r.wireOwners(owners, &es)
	}
	metricApply.WithLabelValues("wire_delta").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// retryFailed adds the exposures that failed before (bounded) to a delta.
func (r *Reconciler) retryFailed(owners *[]owner, es *errSet) {
	n := 0
	for k := range r.failed {
		if n == 64 {
			break
		}
		n++
		if e, ok := r.exposures[k]; ok {
			r.setExposure(e, es)
			*owners = append(*owners, owner{key: k})
		}
	}
}

// UnwireDelta removes what the exposures of d.Unwire needed (unless another
// exposure still needs it) and what changed exposures no longer need:
// announce objects first, then wiring.
func (r *Reconciler) UnwireDelta(ctx context.Context, d *plan.Delta) error {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var es errSet
	if !r.synced {
		r.setupBridges(r.bridges, &es)
		if !r.dumpInto(&es) {
			return r.noteErr(&es)
		}
	}
	for _, e := range d.Unwire {
		r.dropExposure(e.Key())
	}
	var stale []objID
	for id := range r.orphans {
		if _, ok := r.actual[id]; ok {
			stale = append(stale, id)
		} else {
			delete(r.orphans, id)
		}
	}
	r.removeIDs(stale, &es)
	if d.BridgesChanged {
		r.removeStaleVLANs(&es)
	}
	metricApply.WithLabelValues("unwire_delta").Observe(time.Since(t0).Seconds())
	return r.noteErr(&es)
}

// Stats returns a snapshot of the counters and of the owned objects.
func (r *Reconciler) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Objects = map[string]int{}
	for id := range r.actual {
		s.Objects[id.kind.String()]++
	}
	s.Failed = map[string]int{}
	for _, c := range r.failed {
		s.Failed[c]++
	}
	s.Desired = len(r.desired)
	s.Exposures = len(r.exposures)
	s.NLRequests = r.cnt.requests.Load()
	s.NLSyscalls = r.cnt.syscalls.Load()
	return s
}

// Tables returns the routing table of each provider bridge (after Wire).
func (r *Reconciler) Tables() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for b, t := range r.tables {
		out[b] = int(t)
	}
	return out
}
