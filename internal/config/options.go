package config

import (
	"slices"
	"time"
)

// Section names. oslo.config lower-cases every section name except DEFAULT
// ([AGENT] and [agent] are the same section); ovnbgp does the same.
const (
	SectionDefault         = "DEFAULT"
	SectionOVN             = "ovn"
	SectionAgent           = "agent"
	SectionLocalOVNCluster = "local_ovn_cluster"
	SectionOVNBGP          = "ovnbgp"
)

// optKey names an option in a section.
type optKey struct{ section, name string }

// option describes one option of the file: where it lives, how its text
// becomes a value of Config, and whether a change needs a restart.
type option struct {
	section    string
	name       string
	typ        string   // type for messages and docs
	deprecated []optKey // older places still read (oslo deprecated_group/name), lower precedence
	restart    bool     // a change takes effect only after a restart
	secret     bool     // never printed
	set        func(c *Config, raw string) error
	get        func(c *Config) string
	copy       func(dst, src *Config)
	check      func(c *Config) error // nil: any value of the type is fine
}

// field builds an option over the Config field that ptr returns.
func field[T any](section, name, typ string, ptr func(*Config) *T,
	parse func(string) (T, error), format func(T) string, clone func(T) T,
	check func(T) error) option {
	o := option{
		section: section, name: name, typ: typ,
		set: func(c *Config, raw string) error {
			v, err := parse(raw)
			if err != nil {
				return err
			}
			*ptr(c) = v
			return nil
		},
		get:  func(c *Config) string { return format(*ptr(c)) },
		copy: func(dst, src *Config) { *ptr(dst) = clone(*ptr(src)) },
	}
	if check != nil {
		o.check = func(c *Config) error { return check(*ptr(c)) }
	}
	return o
}

func same[T any](v T) T { return v }

func intOpt(sec, name string, ptr func(*Config) *int, check func(int) error) option {
	return field(sec, name, "int", ptr, parseInt, formatInt, same[int], check)
}

func secondsOpt(sec, name string, ptr func(*Config) *time.Duration, check func(time.Duration) error) option {
	return field(sec, name, "int (seconds)", ptr, parseSeconds, formatSeconds, same[time.Duration], check)
}

func boolOpt(sec, name string, ptr func(*Config) *bool) option {
	return field(sec, name, "bool", ptr, parseBool, formatBool, same[bool], nil)
}

func strOpt(sec, name string, ptr func(*Config) *string, check func(string) error) option {
	return field(sec, name, "str", ptr, parseString, formatString, same[string], check)
}

func listOpt(sec, name string, ptr func(*Config) *[]string, check func([]string) error) option {
	return field(sec, name, "list", ptr, parseList, formatList, slices.Clone[[]string], check)
}

// Modifiers.

func restart(o option) option { o.restart = true; return o }

func secret(o option) option { o.secret = true; return o }

func typed(typ string, o option) option { o.typ = typ; return o }

func deprecatedIn(o option, keys ...optKey) option { o.deprecated = keys; return o }

// options is every option ovnbgp reads, in documentation order.
var options = buildOptions()

// optionIndex maps a (section, name) — current or deprecated — to its option.
var optionIndex = func() map[optKey]*option {
	m := map[optKey]*option{}
	for i := range options {
		o := &options[i]
		m[optKey{o.section, o.name}] = o
		for _, k := range o.deprecated {
			m[k] = o
		}
	}
	return m
}()

func buildOptions() []option {
	const D, O, L, B = SectionDefault, SectionOVN, SectionLocalOVNCluster, SectionOVNBGP
	return []option{
		// [DEFAULT]
		secondsOpt(D, "reconcile_interval", func(c *Config) *time.Duration { return &c.ReconcileInterval }, checkMinSeconds(1)),
		secondsOpt(D, "frr_reconcile_interval", func(c *Config) *time.Duration { return &c.FRRReconcileInterval }, checkMinSeconds(1)),
		boolOpt(D, "expose_tenant_networks", func(c *Config) *bool { return &c.ExposeTenantNetworks }),
		typed("str (host|subnet)", strOpt(D, "advertisement_method_tenant_networks", func(c *Config) *string { return &c.AdvertisementMethodTenantNetworks }, checkChoice("host", "subnet"))),
		boolOpt(D, "require_snat_disabled_for_tenant_networks", func(c *Config) *bool { return &c.RequireSNATDisabledForTenantNetworks }),
		boolOpt(D, "expose_ipv6_gua_tenant_networks", func(c *Config) *bool { return &c.ExposeIPv6GUATenantNetworks }),
		restart(typed("str (choice)", strOpt(D, "driver", func(c *Config) *string { return &c.Driver }, checkChoice(DriverSB, DriverEVPN, DriverStretched, DriverNB)))),
		restart(typed("str (ovsdb remote)", strOpt(D, "ovsdb_connection", func(c *Config) *string { return &c.OVSDBConnection }, checkRemote(false)))),
		restart(secondsOpt(D, "ovsdb_connection_timeout", func(c *Config) *time.Duration { return &c.OVSDBConnectionTimeout }, checkMinSeconds(1))),
		restart(field(D, "bgp_AS", "str (AS number)", func(c *Config) *uint32 { return &c.BGPAS }, parseAS, formatAS, same[uint32], func(as uint32) error {
			_, err := parseAS(formatAS(as))
			return err
		})),
		restart(typed("str (IPv4)", strOpt(D, "bgp_router_id", func(c *Config) *string { return &c.BGPRouterID }, checkIPv4OrEmpty))),
		restart(typed("IP", strOpt(D, "evpn_local_ip", func(c *Config) *string { return &c.EVPNLocalIP }, checkIPOrEmpty))),
		restart(strOpt(D, "evpn_nic", func(c *Config) *string { return &c.EVPNNic }, nil)),
		restart(typed("port", intOpt(D, "evpn_udp_dstport", func(c *Config) *int { return &c.EVPNUDPDstPort }, checkRange(0, 65535)))),
		restart(boolOpt(D, "clear_vrf_routes_on_startup", func(c *Config) *bool { return &c.ClearVRFRoutesOnStartup })),
		restart(boolOpt(D, "delete_vrf_on_disconnect", func(c *Config) *bool { return &c.DeleteVRFOnDisconnect })),
		restart(typed("str (interface name)", strOpt(D, "bgp_nic", func(c *Config) *string { return &c.BGPNic }, checkIfName))),
		restart(typed("str (interface name)", strOpt(D, "bgp_vrf", func(c *Config) *string { return &c.BGPVRF }, checkIfName))),
		restart(typed("int (table)", intOpt(D, "bgp_vrf_table_id", func(c *Config) *int { return &c.BGPVRFTableID }, checkTableID))),
		listOpt(D, "address_scopes", func(c *Config) *[]string { return &c.AddressScopes }, nil),
		restart(typed("str (choice)", strOpt(D, "exposing_method", func(c *Config) *string { return &c.ExposingMethod }, checkChoice(ExposingUnderlay, ExposingL2VNI, ExposingVRF, ExposingDynamic, ExposingOVN)))),
		// oslo.log options ovnbgp honours.
		boolOpt(D, "debug", func(c *Config) *bool { return &c.Debug }),
		deprecatedIn(restart(strOpt(D, "log_file", func(c *Config) *string { return &c.LogFile }, nil)), optKey{D, "logfile"}),
		deprecatedIn(restart(strOpt(D, "log_dir", func(c *Config) *string { return &c.LogDir }, nil)), optKey{D, "logdir"}),

		// [ovn]; each was in [DEFAULT] before (oslo deprecated_group).
		deprecatedIn(restart(strOpt(O, "ovn_sb_private_key", func(c *Config) *string { return &c.OVN.SBPrivateKey }, nil)), optKey{D, "ovn_sb_private_key"}),
		deprecatedIn(restart(strOpt(O, "ovn_sb_certificate", func(c *Config) *string { return &c.OVN.SBCertificate }, nil)), optKey{D, "ovn_sb_certificate"}),
		deprecatedIn(restart(strOpt(O, "ovn_sb_ca_cert", func(c *Config) *string { return &c.OVN.SBCACert }, nil)), optKey{D, "ovn_sb_ca_cert"}),
		deprecatedIn(restart(typed("str (ovsdb remote)", strOpt(O, "ovn_sb_connection", func(c *Config) *string { return &c.OVN.SBConnection }, checkRemote(true)))), optKey{D, "ovn_sb_connection"}),
		deprecatedIn(restart(strOpt(O, "ovn_nb_private_key", func(c *Config) *string { return &c.OVN.NBPrivateKey }, nil)), optKey{D, "ovn_nb_private_key"}),
		deprecatedIn(restart(strOpt(O, "ovn_nb_certificate", func(c *Config) *string { return &c.OVN.NBCertificate }, nil)), optKey{D, "ovn_nb_certificate"}),
		deprecatedIn(restart(strOpt(O, "ovn_nb_ca_cert", func(c *Config) *string { return &c.OVN.NBCACert }, nil)), optKey{D, "ovn_nb_ca_cert"}),
		deprecatedIn(restart(typed("str (ovsdb remote)", strOpt(O, "ovn_nb_connection", func(c *Config) *string { return &c.OVN.NBConnection }, checkRemote(true)))), optKey{D, "ovn_nb_connection"}),

		// [local_ovn_cluster]: read and checked, used only by exposing_method=ovn.
		restart(typed("str (ovsdb remote)", strOpt(L, "ovn_nb_connection", func(c *Config) *string { return &c.LocalOVNCluster.NBConnection }, checkRemote(false)))),
		restart(listOpt(L, "external_nics", func(c *Config) *[]string { return &c.LocalOVNCluster.ExternalNics }, checkEach(checkIfName))),
		restart(listOpt(L, "peer_ips", func(c *Config) *[]string { return &c.LocalOVNCluster.PeerIPs }, checkEach(checkIP))),
		restart(listOpt(L, "provider_networks_pool_prefixes", func(c *Config) *[]string { return &c.LocalOVNCluster.ProviderNetworksPoolPrefixes }, checkEach(checkPrefix))),
		restart(strOpt(L, "bgp_chassis_id", func(c *Config) *string { return &c.LocalOVNCluster.BGPChassisID }, nil)),

		// [ovnbgp]
		restart(typed("str (connected|table)", strOpt(B, "announce_method", func(c *Config) *string { return &c.OVNBGP.AnnounceMethod }, checkChoice(AnnounceConnected, AnnounceTable)))),
		restart(typed("int (table)", intOpt(B, "announce_table_id", func(c *Config) *int { return &c.OVNBGP.AnnounceTableID }, func(n int) error {
			if n == 0 {
				return nil
			}
			return checkTableID(n)
		}))),
		restart(intOpt(B, "route_protocol", func(c *Config) *int { return &c.OVNBGP.RouteProtocol }, checkRouteProtocol)),
		restart(intOpt(B, "rule_priority", func(c *Config) *int { return &c.OVNBGP.RulePriority }, checkRange(1, 32765))),
		restart(intOpt(B, "rule_priority_max", func(c *Config) *int { return &c.OVNBGP.RulePriorityMax }, checkRange(1, 32765))),
		restart(typed("str (table|prefix)", strOpt(B, "rule_mode", func(c *Config) *string { return &c.OVNBGP.RuleMode }, checkChoice(RuleModeTable, RuleModePrefix)))),
		restart(typed("str (4.0|5.0)", strOpt(B, "link_addresses", func(c *Config) *string { return &c.OVNBGP.LinkAddresses }, checkChoice(LinkAddresses40, LinkAddresses50)))),
		restart(typed("int (table)", intOpt(B, "bridge_table_base", func(c *Config) *int { return &c.OVNBGP.BridgeTableBase }, checkRange(1, MaxTableID-MaxBridges)))),
		restart(typed("str (frr|gobgp)", strOpt(B, "speaker", func(c *Config) *string { return &c.OVNBGP.Speaker }, checkChoice(SpeakerFRR, SpeakerGoBGP)))),
		restart(typed("str (path)", strOpt(B, "frr_vtysh", func(c *Config) *string { return &c.OVNBGP.FRRVtysh }, checkAbsPath))),
		restart(typed("str (path)", strOpt(B, "frr_reload", func(c *Config) *string { return &c.OVNBGP.FRRReload }, checkAbsPath))),
		restart(typed("str (path)", strOpt(B, "frr_config_dir", func(c *Config) *string { return &c.OVNBGP.FRRConfigDir }, checkAbsPath))),
		restart(typed("str (path)", strOpt(B, "frr_vty_socket", func(c *Config) *string { return &c.OVNBGP.FRRVtySocket }, checkAbsPath))),
		restart(strOpt(B, "frr_pathspace", func(c *Config) *string { return &c.OVNBGP.FRRPathspace }, checkPathspace)),
		field(B, "peers", "list (peers)", func(c *Config) *[]Peer { return &c.OVNBGP.Peers }, ParsePeers, formatPeers, slices.Clone[[]Peer], checkPeers),
		strOpt(B, "peer_group", func(c *Config) *string { return &c.OVNBGP.PeerGroup }, checkWord(true)),
		secret(strOpt(B, "peer_password", func(c *Config) *string { return &c.OVNBGP.PeerPassword }, checkPassword)),
		boolOpt(B, "bfd", func(c *Config) *bool { return &c.OVNBGP.BFD }),
		strOpt(B, "bfd_profile", func(c *Config) *string { return &c.OVNBGP.BFDProfile }, checkWord(false)),
		typed("int (ms)", intOpt(B, "bfd_transmit_interval", func(c *Config) *int { return &c.OVNBGP.BFDTransmitMs }, checkRange(10, 60000))),
		typed("int (ms)", intOpt(B, "bfd_receive_interval", func(c *Config) *int { return &c.OVNBGP.BFDReceiveMs }, checkRange(10, 60000))),
		intOpt(B, "bfd_detect_multiplier", func(c *Config) *int { return &c.OVNBGP.BFDMultiplier }, checkRange(2, 255)),
		intOpt(B, "maximum_paths", func(c *Config) *int { return &c.OVNBGP.MaximumPaths }, checkRange(0, 256)),
		boolOpt(B, "graceful_restart", func(c *Config) *bool { return &c.OVNBGP.GracefulRestart }),
		boolOpt(B, "only_host_prefixes", func(c *Config) *bool { return &c.OVNBGP.OnlyHostPrefixes }),
		restart(typed("str (host:port)", strOpt(B, "metrics_address", func(c *Config) *string { return &c.OVNBGP.MetricsAddress }, checkHostPortOrEmpty))),
		restart(boolOpt(B, "debug_pprof", func(c *Config) *bool { return &c.OVNBGP.DebugPprof })),
		boolOpt(B, "withdraw_on_stop", func(c *Config) *bool { return &c.OVNBGP.WithdrawOnStop }),
		restart(typed("str (path)", strOpt(B, "state_dir", func(c *Config) *string { return &c.OVNBGP.StateDir }, checkAbsPath))),
		intOpt(B, "tenant_networks_min_prefix_length_v4", func(c *Config) *int { return &c.OVNBGP.TenantMinPrefixLen4 }, checkRange(1, 32)),
		intOpt(B, "tenant_networks_min_prefix_length_v6", func(c *Config) *int { return &c.OVNBGP.TenantMinPrefixLen6 }, checkRange(1, 128)),
		typed("list (prefixes)", listOpt(B, "tenant_networks_allowed_prefixes", func(c *Config) *[]string { return &c.OVNBGP.TenantAllowedPrefixes }, checkPrefixList)),
		restart(typed("int (MiB)", intOpt(B, "ovsdb_max_message_mb", func(c *Config) *int { return &c.OVNBGP.OVSDBMaxMessageMB }, checkRange(1, 65536)))),
		restart(typed("int (MiB)", intOpt(B, "ovsdb_max_queued_mb", func(c *Config) *int { return &c.OVNBGP.OVSDBMaxQueuedMB }, checkRange(1, 65536)))),
		restart(secondsOpt(B, "ovsdb_probe_interval", func(c *Config) *time.Duration { return &c.OVNBGP.OVSDBProbeInterval }, checkMinSeconds(1))),
		restart(intOpt(B, "gobgp_listen_port", func(c *Config) *int { return &c.OVNBGP.GoBGPListenPort }, checkRange(-1, 65535))),
		restart(typed("str (IPv4)", strOpt(B, "gobgp_router_id", func(c *Config) *string { return &c.OVNBGP.GoBGPRouterID }, checkIPv4OrEmpty))),
		restart(typed("str (host:port)", strOpt(B, "gobgp_api_address", func(c *Config) *string { return &c.OVNBGP.GoBGPAPIAddress }, checkHostPortOrEmpty))),
		restart(typed("str (IPv6)", strOpt(B, "gobgp_ipv6_next_hop", func(c *Config) *string { return &c.OVNBGP.GoBGPIPv6NextHop }, checkIPv6OrEmpty))),
		restart(typed("str (auto|true|false)", strOpt(B, "ovn", func(c *Config) *string { return &c.OVNBGP.OVN }, checkChoice(OVNAuto, OVNOn, OVNOff)))),
	}
}

// Options accepted for compatibility and ignored without a warning: oslo.log,
// oslo.concurrency and oslo.privsep options, and [agent] root_helper (ovnbgp
// runs as root and has no privsep daemon).
var (
	osloLogOptions = []string{
		"log_config_append", "log_date_format", "watch_log_file", "use_syslog",
		"use_journal", "syslog_log_facility", "use_json", "use_stderr", "use_eventlog",
		"log_color", "log_rotate_interval", "log_rotate_interval_type",
		"max_logfile_count", "max_logfile_size_mb", "log_rotation_type",
		"logging_context_format_string", "logging_default_format_string",
		"logging_debug_format_suffix", "logging_exception_prefix",
		"logging_user_identity_format", "default_log_levels", "publish_errors",
		"instance_format", "instance_uuid_format", "rate_limit_interval",
		"rate_limit_burst", "rate_limit_except_level", "fatal_deprecations",
		"verbose", "config_source",
	}
	privsepOptions = []string{
		"user", "group", "capabilities", "thread_pool_size", "helper_command",
		"logger_name", "log_daemon_traceback",
	}
	quietSections = map[string][]string{
		SectionDefault:      osloLogOptions,
		SectionAgent:        {"root_helper"},
		"oslo_concurrency":  {"disable_process_locking", "lock_path"},
		"privsep":           privsepOptions,
		"privsep_ovs_vsctl": privsepOptions,
		"privsep_vtysh":     privsepOptions,
	}
	// removedOptions were upstream options once; they are ignored with a note.
	removedOptions = map[optKey]string{
		{SectionAgent, "use_helper_for_ns_read"}:      "removed from ovn-bgp-agent with rootwrap",
		{SectionAgent, "root_helper_daemon"}:          "removed from ovn-bgp-agent with rootwrap",
		{SectionDefault, "anycast_evpn_gateway_mode"}: "never existed in ovn-bgp-agent (documented only)",
	}
)

// knownSection reports whether ovnbgp knows the (normalized) section name.
func knownSection(s string) bool {
	switch s {
	case SectionDefault, SectionOVN, SectionAgent, SectionLocalOVNCluster, SectionOVNBGP:
		return true
	}
	if isVIPSection(s) {
		return true
	}
	_, ok := quietSections[s]
	return ok
}

func quiet(k optKey) bool {
	return slices.Contains(quietSections[k.section], k.name)
}
