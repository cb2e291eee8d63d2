package gobgp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// Options are the settings of the embedded speaker that ovnbgp's
// configuration does not carry (yet); the zero value is the default.
type Options struct {
	// ListenAddresses restricts the BGP listener (when gobgp_listen_port is
	// not -1) to these addresses; empty listens on every address.
	ListenAddresses []string
	// IPv6NextHop, when valid, is the next hop of every IPv6 path, and IPv6
	// unicast is then also negotiated on IPv4 sessions. When invalid (the
	// default), IPv6 paths carry the unspecified next hop "::", which GoBGP
	// replaces by the local address of each session, and IPv6 unicast is
	// negotiated on IPv6 sessions only (see the package documentation).
	IPv6NextHop netip.Addr
	// RestartTime is the graceful restart time advertised to peers (how
	// long they keep our routes after we stop); default 120 s.
	RestartTime time.Duration
	// DeferralTime bounds how long a restarting speaker waits for the
	// peers' End-of-RIB before sending its routes; default 30 s.
	DeferralTime time.Duration
	// ConnectRetry is the connect retry interval; default GoBGP's (5 s).
	ConnectRetry time.Duration
	// HoldTime is the BGP hold time; default GoBGP's (90 s).
	HoldTime time.Duration
	// RemotePort is the TCP port peers are dialled on; default 179.
	RemotePort int
}

// peerConf is one validated neighbour.
type peerConf struct {
	addr     netip.Addr
	remoteAS uint32 // 0 = any AS ("external": GoBGP decides the type from the OPEN)
	raw      string // the configured remote_as, for messages
}

// settings is the validated configuration.
type settings struct {
	as          uint32
	routerID    netip.Addr
	listenPort  int32
	apiAddress  string // GoBGP gRPC API listen address, "" = none
	peers       []peerConf
	password    string
	gr          bool
	restartTime uint32
	deferral    uint32
	opts        Options
}

// parse validates cfg for the embedded speaker.
func parse(cfg *config.Config, opts Options) (*settings, error) {
	if cfg == nil {
		return nil, fmt.Errorf("gobgp: no configuration")
	}
	s := &settings{as: cfg.BGPAS, password: cfg.OVNBGP.PeerPassword, gr: cfg.OVNBGP.GracefulRestart, opts: opts}
	if s.as == 0 {
		return nil, fmt.Errorf("gobgp: bgp_AS must be set (not 0)")
	}
	rid := cfg.OVNBGP.GoBGPRouterID
	key := "[ovnbgp] gobgp_router_id"
	if rid == "" {
		rid, key = cfg.BGPRouterID, "bgp_router_id"
	}
	if rid == "" {
		return nil, fmt.Errorf("gobgp: the embedded speaker needs a router id: set bgp_router_id or [ovnbgp] gobgp_router_id")
	}
	a, err := netip.ParseAddr(rid)
	if err != nil || !a.Is4() {
		return nil, fmt.Errorf("gobgp: %s %q is not an IPv4 address", key, rid)
	}
	s.routerID = a
	s.apiAddress = cfg.OVNBGP.GoBGPAPIAddress

	switch p := cfg.OVNBGP.GoBGPListenPort; {
	case p == -1:
		s.listenPort = -1
	case p == 0:
		s.listenPort = 179
	case p > 0 && p <= 65535:
		s.listenPort = int32(p)
	default:
		return nil, fmt.Errorf("gobgp: [ovnbgp] gobgp_listen_port %d out of range (-1 = do not listen, or 1-65535)", p)
	}
	if opts.IPv6NextHop.IsValid() && (!opts.IPv6NextHop.Is6() || opts.IPv6NextHop.Is4In6() || opts.IPv6NextHop.IsUnspecified()) {
		return nil, fmt.Errorf("gobgp: IPv6 next hop %s is not a usable IPv6 address", opts.IPv6NextHop)
	}

	seen := map[netip.Addr]bool{}
	for _, p := range cfg.OVNBGP.Peers {
		if p.Interface {
			return nil, fmt.Errorf("gobgp: peer %q is an interface (BGP unnumbered), which the embedded GoBGP speaker does not support; use speaker = frr or a numbered peer address", p.Address)
		}
		addr, err := netip.ParseAddr(strings.TrimSpace(p.Address))
		if err != nil {
			return nil, fmt.Errorf("gobgp: peer address %q: %v", p.Address, err)
		}
		addr = addr.Unmap()
		if addr.Zone() != "" || addr.IsUnspecified() || addr.IsMulticast() {
			return nil, fmt.Errorf("gobgp: peer address %q is not a unicast address without zone", p.Address)
		}
		if seen[addr] {
			return nil, fmt.Errorf("gobgp: peer %s configured twice", addr)
		}
		seen[addr] = true
		pc := peerConf{addr: addr, raw: p.RemoteAS}
		switch ras := strings.ToLower(strings.TrimSpace(p.RemoteAS)); ras {
		case "internal":
			pc.remoteAS = s.as
		case "external":
			// GoBGP takes AS 0 as "whatever the OPEN says"; it then
			// classifies the session as iBGP or eBGP by comparing ASes.
			pc.remoteAS = 0
		default:
			n, err := strconv.ParseUint(ras, 10, 32)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("gobgp: peer %s: remote_as %q is neither a number (1-4294967295), \"internal\" nor \"external\"", addr, p.RemoteAS)
			}
			pc.remoteAS = uint32(n)
		}
		s.peers = append(s.peers, pc)
	}

	rt := opts.RestartTime
	if rt <= 0 {
		rt = 120 * time.Second
	}
	if rt > 4095*time.Second { // 12-bit field of the capability
		rt = 4095 * time.Second
	}
	s.restartTime = uint32(rt / time.Second)
	if s.restartTime == 0 {
		s.restartTime = 1
	}
	dt := opts.DeferralTime
	if dt <= 0 {
		dt = 30 * time.Second
	}
	s.deferral = uint32(max(dt/time.Second, 1))
	return s, nil
}
