// Package config holds ovnbgp's configuration: the options of upstream
// ovn-bgp-agent's bgp-agent.conf, with the same names, types and defaults, plus
// ovnbgp's own options in the [ovnbgp] section.
package config

import (
	"path/filepath"
	"slices"
	"time"
)

// Driver names (upstream `driver`).
const (
	DriverSB        = "ovn_bgp_driver"
	DriverNB        = "nb_ovn_bgp_driver"
	DriverEVPN      = "ovn_evpn_driver"
	DriverStretched = "ovn_stretched_l2_bgp_driver"
)

// Exposing methods (upstream `exposing_method`).
const (
	ExposingUnderlay = "underlay"
	ExposingL2VNI    = "l2vni"
	ExposingVRF      = "vrf"
	ExposingDynamic  = "dynamic"
	ExposingOVN      = "ovn"
)

// Announce methods ([ovnbgp] announce_method): how a prefix reaches FRR.
const (
	// AnnounceConnected is upstream's: the address on the bgp_nic dummy in the
	// bgp_vrf VRF, FRR `redistribute connected` there and `import vrf` in the
	// default instance. Needs the vrf and dummy kernel modules.
	AnnounceConnected = "connected"
	// AnnounceTable puts a route per prefix in announce_table_id and lets FRR
	// import it (`ip import-table` + `redistribute table`). Needs neither vrf
	// nor dummy support in the kernel.
	AnnounceTable = "table"
)

// Rule modes ([ovnbgp] rule_mode): how traffic for exposed prefixes is
// steered into the bridge tables.
const (
	// RuleModeTable: one rule per bridge table and family, `lookup <table>
	// suppress_prefixlength 0`; constant cost per packet and per prefix.
	RuleModeTable = "table"
	// RuleModePrefix: one `to <prefix> lookup <table>` rule per prefix, as
	// upstream does (the kernel walks rules linearly).
	RuleModePrefix = "prefix"
)

// Link address schemes ([ovnbgp] link_addresses): which addresses a
// provider bridge gets for ARP and NDP, named after the upstream release
// that writes them (see dataplane/linux LinkAddresses).
const (
	// LinkAddresses40: upstream up to 4.0 (Debian 13's 4.0.0):
	// 169.254.<i/256>.<i%256>/32 and fd53:d91e:400:7f17::<i>/128.
	LinkAddresses40 = "4.0"
	// LinkAddresses50: upstream from 5.0 on: 169.254.<i%256>.<i%256>/32
	// and fd53:d91e:400:7f17::<i>:<i>/128.
	LinkAddresses50 = "5.0"
)

// Speakers ([ovnbgp] speaker).
const (
	SpeakerFRR   = "frr"
	SpeakerGoBGP = "gobgp"
)

// Config is the whole configuration.
type Config struct {
	// [DEFAULT], upstream names in comments.
	ReconcileInterval                    time.Duration // reconcile_interval (int seconds), 300
	FRRReconcileInterval                 time.Duration // frr_reconcile_interval (int seconds), 15
	ExposeTenantNetworks                 bool          // expose_tenant_networks, false
	AdvertisementMethodTenantNetworks    string        // advertisement_method_tenant_networks: host|subnet, host
	RequireSNATDisabledForTenantNetworks bool          // require_snat_disabled_for_tenant_networks, false
	ExposeIPv6GUATenantNetworks          bool          // expose_ipv6_gua_tenant_networks, false
	Driver                               string        // driver, ovn_bgp_driver
	OVSDBConnection                      string        // ovsdb_connection, unix:/usr/local/var/run/openvswitch/db.sock
	OVSDBConnectionTimeout               time.Duration // ovsdb_connection_timeout (int seconds), 180
	BGPAS                                uint32        // bgp_AS (string upstream), 64999
	BGPRouterID                          string        // bgp_router_id, unset
	EVPNLocalIP                          string        // evpn_local_ip
	EVPNNic                              string        // evpn_nic
	EVPNUDPDstPort                       int           // evpn_udp_dstport, 4789
	ClearVRFRoutesOnStartup              bool          // clear_vrf_routes_on_startup, false
	DeleteVRFOnDisconnect                bool          // delete_vrf_on_disconnect, true
	BGPNic                               string        // bgp_nic, bgp-nic
	BGPVRF                               string        // bgp_vrf, bgp-vrf
	BGPVRFTableID                        int           // bgp_vrf_table_id, 10
	AddressScopes                        []string      // address_scopes
	ExposingMethod                       string        // exposing_method, underlay
	Debug                                bool          // debug (oslo.log)
	LogFile                              string        // log_file (oslo.log; deprecated name logfile)
	LogDir                               string        // log_dir (oslo.log; deprecated name logdir)

	OVN             OVN             // [ovn]
	LocalOVNCluster LocalOVNCluster // [local_ovn_cluster], accepted for compatibility
	OVNBGP          OVNBGP          // [ovnbgp], ovnbgp's own options
	VIPs            []VIP           // [ovnbgp_vip:NAME] sections, sorted by name
}

// OVN is the [ovn] section.
type OVN struct {
	SBConnection  string // ovn_sb_connection; "" = OVS external_ids:ovn-remote
	NBConnection  string // ovn_nb_connection; "" = OVS external_ids:ovn-nb-remote
	SBPrivateKey  string // ovn_sb_private_key, /etc/pki/tls/private/ovn_bgp_agent.key
	SBCertificate string // ovn_sb_certificate, /etc/pki/tls/certs/ovn_bgp_agent.crt
	SBCACert      string // ovn_sb_ca_cert, /etc/ipa/ca.crt
	NBPrivateKey  string // ovn_nb_private_key
	NBCertificate string // ovn_nb_certificate
	NBCACert      string // ovn_nb_ca_cert
}

// LocalOVNCluster is upstream's [local_ovn_cluster] (exposing_method=ovn).
type LocalOVNCluster struct {
	NBConnection                 string   // ovn_nb_connection, unix:/var/run/ovn/ovnnb_db.sock
	ExternalNics                 []string // external_nics
	PeerIPs                      []string // peer_ips
	ProviderNetworksPoolPrefixes []string // provider_networks_pool_prefixes, 192.168.0.0/16
	BGPChassisID                 string   // bgp_chassis_id, bgp
}

// OVNBGP is the [ovnbgp] section: options upstream does not have.
type OVNBGP struct {
	AnnounceMethod   string // announce_method: connected|table, connected
	AnnounceTableID  int    // announce_table_id: table of the `table` method; default bgp_vrf_table_id
	RouteProtocol    int    // route_protocol: rtnetlink protocol number marking our routes, 201
	RulePriority     int    // rule_priority: priority of our per-prefix ip rules, 1000
	RulePriorityMax  int    // rule_priority_max: end of our rule priority range (inclusive), 1999
	RuleMode         string // rule_mode: table (one rule per bridge table) | prefix (one rule per prefix), table
	LinkAddresses    string // link_addresses: 4.0|5.0, the upstream release whose bridge link addresses to use, 5.0
	BridgeTableBase  int    // bridge_table_base: table of bridge N in the mappings = base + N, 200
	Speaker          string // speaker: frr|gobgp, frr
	FRRVtysh         string // frr_vtysh: path of vtysh, /usr/bin/vtysh
	FRRReload        string // frr_reload: path of frr-reload.py, /usr/lib/frr/frr-reload.py
	FRRConfigDir     string // frr_config_dir: where FRR's config lives, /etc/frr
	FRRVtySocket     string // frr_vty_socket: directory of the daemons' vty sockets, /var/run/frr
	FRRPathspace     string // frr_pathspace: FRR -N pathspace, ""
	Peers            []Peer // peers: fabric neighbours ovnbgp configures (empty: operator config)
	PeerGroup        string // peer_group, ""
	PeerPassword     string // peer_password, ""
	BFD              bool   // bfd: enable BFD on peers, false
	BFDProfile       string // bfd_profile name, ovnbgp
	BFDTransmitMs    int    // bfd_transmit_interval, 300
	BFDReceiveMs     int    // bfd_receive_interval, 300
	BFDMultiplier    int    // bfd_detect_multiplier, 3
	MaximumPaths     int    // maximum_paths (ECMP), 0 = FRR default
	GracefulRestart  bool   // graceful_restart, true
	OnlyHostPrefixes bool   // only_host_prefixes: prefix list letting only /32 and /128 out, true
	MetricsAddress   string // metrics_address: Prometheus, /healthz, /readyz, status; 127.0.0.1:9469
	DebugPprof       bool   // debug_pprof: also serve Go's /debug/pprof/ there, false
	WithdrawOnStop   bool   // withdraw_on_stop: withdraw and unwire on SIGTERM, false
	StateDir         string // state_dir, /var/lib/ovnbgp

	// OVSDB limits: one message (ovsdb_max_message_mb, 1024) and the
	// updates queued during an initial download (ovsdb_max_queued_mb, 256).
	OVSDBMaxMessageMB int
	OVSDBMaxQueuedMB  int
	// OVSDBProbeInterval is the echo probe interval of the OVN database
	// connection (ovsdb_probe_interval, int seconds, 60).
	OVSDBProbeInterval time.Duration

	// GoBGP speaker.
	// Tenant exposure guards (see docs/operations.md, "tenant prefixes").
	TenantMinPrefixLen4   int      // tenant_networks_min_prefix_length_v4: shortest tenant IPv4 subnet planned, 8
	TenantMinPrefixLen6   int      // tenant_networks_min_prefix_length_v6: shortest tenant IPv6 subnet planned, 32
	TenantAllowedPrefixes []string // tenant_networks_allowed_prefixes: tenant prefixes must lie inside one; empty = any
	GoBGPListenPort       int      // gobgp_listen_port: -1 = do not listen, 179
	GoBGPRouterID         string   // gobgp_router_id: default bgp_router_id
	// GoBGPAPIAddress (gobgp_api_address): host:port of the embedded
	// speaker's GoBGP gRPC API, for the gobgp v4 CLI; "" = none.
	GoBGPAPIAddress string
	// GoBGPIPv6NextHop (gobgp_ipv6_next_hop): next hop of IPv6 paths, which
	// then also go over IPv4 sessions; unset: IPv6 only over IPv6 sessions.
	GoBGPIPv6NextHop string
	// OVN (ovn): auto|true|false, auto. false runs without OVN and OVS (a
	// controller with only VIP sections); auto is false when VIP sections
	// exist and the Open_vSwitch database (ovsdb_connection) is absent.
	OVN string
}

// Peer is one BGP neighbour: an address, or an interface for BGP unnumbered.
type Peer struct {
	Address   string // IP address, or interface name when Interface is true
	Interface bool
	RemoteAS  string // number, "internal" or "external"
}

// Default returns the configuration with every default applied.
func Default() *Config {
	return &Config{
		ReconcileInterval:                 300 * time.Second,
		FRRReconcileInterval:              15 * time.Second,
		AdvertisementMethodTenantNetworks: "host",
		Driver:                            DriverSB,
		OVSDBConnection:                   "unix:/usr/local/var/run/openvswitch/db.sock",
		OVSDBConnectionTimeout:            180 * time.Second,
		BGPAS:                             64999,
		EVPNUDPDstPort:                    4789,
		DeleteVRFOnDisconnect:             true,
		BGPNic:                            "bgp-nic",
		BGPVRF:                            "bgp-vrf",
		BGPVRFTableID:                     10,
		ExposingMethod:                    ExposingUnderlay,
		OVN: OVN{
			SBPrivateKey:  "/etc/pki/tls/private/ovn_bgp_agent.key",
			SBCertificate: "/etc/pki/tls/certs/ovn_bgp_agent.crt",
			SBCACert:      "/etc/ipa/ca.crt",
			NBPrivateKey:  "/etc/pki/tls/private/ovn_bgp_agent.key",
			NBCertificate: "/etc/pki/tls/certs/ovn_bgp_agent.crt",
			NBCACert:      "/etc/ipa/ca.crt",
		},
		LocalOVNCluster: LocalOVNCluster{
			NBConnection:                 "unix:/var/run/ovn/ovnnb_db.sock",
			ProviderNetworksPoolPrefixes: []string{"192.168.0.0/16"},
			BGPChassisID:                 "bgp",
		},
		OVNBGP: OVNBGP{
			AnnounceMethod:      AnnounceConnected,
			RouteProtocol:       201,
			RulePriority:        1000,
			RulePriorityMax:     1999,
			TenantMinPrefixLen4: 8,
			TenantMinPrefixLen6: 32,
			RuleMode:            RuleModeTable,
			LinkAddresses:       LinkAddresses50,
			BridgeTableBase:     200,
			Speaker:             SpeakerFRR,
			FRRVtysh:            "/usr/bin/vtysh",
			FRRReload:           "/usr/lib/frr/frr-reload.py",
			FRRConfigDir:        "/etc/frr",
			FRRVtySocket:        "/var/run/frr",
			BFDProfile:          "ovnbgp",
			BFDTransmitMs:       300,
			BFDReceiveMs:        300,
			BFDMultiplier:       3,
			GracefulRestart:     true,
			OnlyHostPrefixes:    true,
			MetricsAddress:      "127.0.0.1:9469",
			StateDir:            "/var/lib/ovnbgp",

			OVSDBMaxMessageMB:  1024,
			OVSDBMaxQueuedMB:   256,
			OVSDBProbeInterval: 60 * time.Second,

			GoBGPListenPort: 179,
			OVN:             OVNAuto,
		},
	}
}

// LogPath returns the file to log to, with oslo.log's rules: log_file,
// relative to log_dir when both are set; log_dir/ovnbgp.log when only
// log_dir is set; "" (standard error) when neither is.
func (c *Config) LogPath() string {
	switch {
	case c.LogFile != "" && c.LogDir != "" && !filepath.IsAbs(c.LogFile):
		return filepath.Join(c.LogDir, c.LogFile)
	case c.LogFile != "":
		return c.LogFile
	case c.LogDir != "":
		return filepath.Join(c.LogDir, "ovnbgp.log")
	}
	return ""
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := *c
	n.AddressScopes = slices.Clone(c.AddressScopes)
	n.LocalOVNCluster.ExternalNics = slices.Clone(c.LocalOVNCluster.ExternalNics)
	n.LocalOVNCluster.PeerIPs = slices.Clone(c.LocalOVNCluster.PeerIPs)
	n.LocalOVNCluster.ProviderNetworksPoolPrefixes = slices.Clone(c.LocalOVNCluster.ProviderNetworksPoolPrefixes)
	n.OVNBGP.Peers = slices.Clone(c.OVNBGP.Peers)
	n.VIPs = slices.Clone(c.VIPs)
	for i := range n.VIPs {
		n.VIPs[i].Command = slices.Clone(c.VIPs[i].Command)
	}
	return &n
}

// TenantVRFsOnly: everything is announced from tenant VRFs (FRR
// redistributes their tables; no bgp_nic, bgp_vrf nor announce table):
// exposing_method = vrf and the EVPN driver.
func (c *Config) TenantVRFsOnly() bool {
	return c.ExposingMethod == ExposingVRF || c.Driver == DriverEVPN
}

// AnnounceTable returns the table the `table` announce method writes.
func (c *Config) AnnounceTable() int {
	if c.OVNBGP.AnnounceTableID != 0 {
		return c.OVNBGP.AnnounceTableID
	}
	return c.BGPVRFTableID
}
