package linux

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
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
// in bridge tables when of the shapes upstream writes (upstreamRoute).
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
	// LinkAddresses is the scheme of the provider bridges' link addresses
	// (config.LinkAddresses50, the default when empty, or LinkAddresses40).
	LinkAddresses string
	RTTablesDir   string // default /etc/iproute2
	// Tenant VRFs (plan.Wiring.VRFs, exposing_method = vrf): the VXLAN
	// source address and port of their L3VNIs, and whether their VRF
	// devices stay when they go (delete_vrf_on_disconnect = false).
	EVPNLocalIP netip.Addr
	EVPNUDPPort int
	KeepVRFs    bool
	Logger      *slog.Logger
	// NetNS, when set, is the network namespace to work in (tests); nil
	// means the caller's.
	NetNS *netns.NsHandle
}

// OptionsFromConfig maps the agent configuration to Options.
func OptionsFromConfig(cfg *config.Config) Options {
	o := Options{
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
		LinkAddresses:    cfg.OVNBGP.LinkAddresses,
		BridgeTableBase:  cfg.OVNBGP.BridgeTableBase,
		EVPNUDPPort:      cfg.EVPNUDPDstPort,
		KeepVRFs:         !cfg.DeleteVRFOnDisconnect,
	}
	if a, err := netip.ParseAddr(cfg.EVPNLocalIP); err == nil {
		o.EVPNLocalIP = a
	}
	if cfg.TenantVRFsOnly() {
		// Everything is announced from the tenant VRFs (FRR redistributes
		// their tables): no bgp-vrf, bgp-nic nor announce table.
		o.AnnounceMethod = AnnounceNone
	}
	return o
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
	tables    map[string]uint32 // bridge -> table
	vlanDevs  map[string]string // "bridge/vlan" -> device name
	ownVLANs  map[string]bool   // VLAN device names ovnbgp created or owns
	ownTables map[uint32]bool   // bridge tables (plan + ovnbgp.conf)
	provDevs  map[int32]provDev // provider devices by ifindex
	nicIdx    int32
	annTable  uint32            // table method: IPv4 announce routes
	annTable6 uint32            // table method: IPv6 announce routes
	vrfs      []plan.VRF        // the tenant VRFs last wired
	vrfTables map[string]uint32 // VRF name -> table, for the VRFs whose devices are wired
	inVRF     map[string]bool   // VLAN devices enslaved to a tenant VRF

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
	switch o.LinkAddresses {
	case "":
		o.LinkAddresses = config.LinkAddresses50
	case config.LinkAddresses40, config.LinkAddresses50:
	default:
		return nil, fmt.Errorf("unknown link address scheme %q (4.0 or 5.0)", o.LinkAddresses)
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
	r.provDevs = map[int32]provDev{}
	r.vrfTables = map[string]uint32{}
	r.inVRF = map[string]bool{}
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
