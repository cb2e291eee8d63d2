package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get returns the current text of an option, by section and name.
func get(t *testing.T, c *Config, section, name string) string {
	t.Helper()
	o, ok := optionIndex[optKey{section, name}]
	require.True(t, ok, "no option %s in [%s]", name, section)
	return o.get(c)
}

func load(t *testing.T, text string) (*Config, []string, error) {
	t.Helper()
	return LoadBytes("t.conf", []byte(text))
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// TestDefaults checks every option's default against upstream's
// ovn_bgp_agent/config.py (and ovnbgp's own for [ovnbgp]).
func TestDefaults(t *testing.T) {
	want := map[string]string{
		"DEFAULT/reconcile_interval":                        "300",
		"DEFAULT/frr_reconcile_interval":                    "15",
		"DEFAULT/expose_tenant_networks":                    "false",
		"DEFAULT/advertisement_method_tenant_networks":      "host",
		"DEFAULT/require_snat_disabled_for_tenant_networks": "false",
		"DEFAULT/expose_ipv6_gua_tenant_networks":           "false",
		"DEFAULT/driver":                                    "ovn_bgp_driver",
		"DEFAULT/ovsdb_connection":                          "unix:/usr/local/var/run/openvswitch/db.sock",
		"DEFAULT/ovsdb_connection_timeout":                  "180",
		"DEFAULT/bgp_AS":                                    "64999",
		"DEFAULT/bgp_router_id":                             "",
		"DEFAULT/evpn_local_ip":                             "",
		"DEFAULT/evpn_nic":                                  "",
		"DEFAULT/evpn_udp_dstport":                          "4789",
		"DEFAULT/clear_vrf_routes_on_startup":               "false",
		"DEFAULT/delete_vrf_on_disconnect":                  "true",
		"DEFAULT/bgp_nic":                                   "bgp-nic",
		"DEFAULT/bgp_vrf":                                   "bgp-vrf",
		"DEFAULT/bgp_vrf_table_id":                          "10",
		"DEFAULT/address_scopes":                            "",
		"DEFAULT/exposing_method":                           "underlay",
		"DEFAULT/debug":                                     "false",
		"DEFAULT/log_file":                                  "",
		"DEFAULT/log_dir":                                   "",
		"ovn/ovn_sb_private_key":                            "/etc/pki/tls/private/ovn_bgp_agent.key",
		"ovn/ovn_sb_certificate":                            "/etc/pki/tls/certs/ovn_bgp_agent.crt",
		"ovn/ovn_sb_ca_cert":                                "/etc/ipa/ca.crt",
		"ovn/ovn_sb_connection":                             "",
		"ovn/ovn_nb_private_key":                            "/etc/pki/tls/private/ovn_bgp_agent.key",
		"ovn/ovn_nb_certificate":                            "/etc/pki/tls/certs/ovn_bgp_agent.crt",
		"ovn/ovn_nb_ca_cert":                                "/etc/ipa/ca.crt",
		"ovn/ovn_nb_connection":                             "",
		"local_ovn_cluster/ovn_nb_connection":               "unix:/var/run/ovn/ovnnb_db.sock",
		"local_ovn_cluster/external_nics":                   "",
		"local_ovn_cluster/peer_ips":                        "",
		"local_ovn_cluster/provider_networks_pool_prefixes": "192.168.0.0/16",
		"local_ovn_cluster/bgp_chassis_id":                  "bgp",
		"ovnbgp/announce_method":                            "connected",
		"ovnbgp/announce_table_id":                          "0",
		"ovnbgp/route_protocol":                             "201",
		"ovnbgp/rule_priority":                              "1000",
		"ovnbgp/rule_priority_max":                          "1999",
		"ovnbgp/rule_mode":                                  "table",
		"ovnbgp/link_addresses":                             "5.0",
		"ovnbgp/tenant_networks_min_prefix_length_v4":       "8",
		"ovnbgp/tenant_networks_min_prefix_length_v6":       "32",
		"ovnbgp/tenant_networks_allowed_prefixes":           "",
		"ovnbgp/bridge_table_base":                          "200",
		"ovnbgp/speaker":                                    "frr",
		"ovnbgp/frr_vtysh":                                  "/usr/bin/vtysh",
		"ovnbgp/frr_reload":                                 "/usr/lib/frr/frr-reload.py",
		"ovnbgp/frr_config_dir":                             "/etc/frr",
		"ovnbgp/frr_vty_socket":                             "/var/run/frr",
		"ovnbgp/frr_pathspace":                              "",
		"ovnbgp/peers":                                      "",
		"ovnbgp/peer_group":                                 "",
		"ovnbgp/peer_password":                              "",
		"ovnbgp/bfd":                                        "false",
		"ovnbgp/bfd_profile":                                "ovnbgp",
		"ovnbgp/bfd_transmit_interval":                      "300",
		"ovnbgp/bfd_receive_interval":                       "300",
		"ovnbgp/bfd_detect_multiplier":                      "3",
		"ovnbgp/maximum_paths":                              "0",
		"ovnbgp/graceful_restart":                           "true",
		"ovnbgp/only_host_prefixes":                         "true",
		"ovnbgp/metrics_address":                            "127.0.0.1:9469",
		"ovnbgp/debug_pprof":                                "false",
		"ovnbgp/gobgp_api_address":                          "",
		"ovnbgp/withdraw_on_stop":                           "false",
		"ovnbgp/state_dir":                                  "/var/lib/ovnbgp",
		"ovnbgp/ovsdb_max_message_mb":                       "1024",
		"ovnbgp/ovsdb_max_queued_mb":                        "256",
		"ovnbgp/ovsdb_probe_interval":                       "60",
		"ovnbgp/gobgp_listen_port":                          "179",
		"ovnbgp/gobgp_router_id":                            "",
		"ovnbgp/gobgp_ipv6_next_hop":                        "",
		"ovnbgp/ovn":                                        "auto",
	}
	def := Default()
	require.NoError(t, def.Validate())
	// An empty file gives the defaults too.
	empty, warns, err := load(t, "")
	require.NoError(t, err)
	assert.Empty(t, warns)
	got := map[string]string{}
	for _, v := range def.Values() {
		got[v.Section+"/"+v.Name] = v.Value
		assert.Equal(t, v.Default, v.Value)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, def, empty)
	assert.Equal(t, 300*time.Second, def.ReconcileInterval)
	assert.Equal(t, 10, def.AnnounceTable())
	// No files at all: the defaults.
	none, warns, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, def, none)
}

// TestDevstack loads bgp-agent.conf exactly as the upstream devstack plugin
// writes it (iniset inserts each option right after its section header, so
// the options appear in reverse order; the file starts with an empty line).
func TestDevstack(t *testing.T) {
	check := func(t *testing.T, c *Config, warns []string, err error) {
		require.NoError(t, err)
		assert.Empty(t, warns)
		want := Default()
		want.OVSDBConnection = "tcp:127.0.0.1:6640"
		want.Debug = true
		want.Driver = DriverNB
		want.OVN = OVN{
			SBConnection:  "ssl:127.0.0.1:6642",
			NBConnection:  "ssl:127.0.0.1:6641",
			SBPrivateKey:  "/opt/stack/data/CA/int-ca/private/devstack-cert.key",
			SBCertificate: "/opt/stack/data/CA/int-ca/devstack-cert.crt",
			SBCACert:      "/opt/stack/data/CA/int-ca/ca-chain.pem",
			NBPrivateKey:  "/opt/stack/data/CA/int-ca/private/devstack-cert.key",
			NBCertificate: "/opt/stack/data/CA/int-ca/devstack-cert.crt",
			NBCACert:      "/opt/stack/data/CA/int-ca/ca-chain.pem",
		}
		assert.Equal(t, want, c)
	}
	t.Run("config-file", func(t *testing.T) {
		c, w, err := Load([]string{"testdata/devstack/bgp-agent.conf"}, nil)
		check(t, c, w, err)
	})
	t.Run("config-dir", func(t *testing.T) { // devstack runs --config-dir /etc/ovn-bgp-agent
		c, w, err := Load(nil, []string{"testdata/devstack"})
		check(t, c, w, err)
	})
}

// TestOperatorFile: upstream's documented sample plus the oslo sections
// installers write; nothing is warned about.
func TestOperatorFile(t *testing.T) {
	c, warns, err := Load([]string{"testdata/operator.conf"}, nil)
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.True(t, c.Debug)
	assert.Equal(t, 120*time.Second, c.ReconcileInterval)
	assert.True(t, c.ExposeTenantNetworks)
	assert.Equal(t, DriverSB, c.Driver)
	assert.Equal(t, "unix:/run/openvswitch/db.sock", c.OVSDBConnection)
	assert.Equal(t, "/var/log/ovn-bgp-agent/ovn-bgp-agent.log", c.LogPath())
	assert.Equal(t, "tcp:10.0.0.1:6642,tcp:10.0.0.2:6642,tcp:10.0.0.3:6642", c.OVN.SBConnection)
}

// TestEtcExample: the shipped example loads without warnings.
func TestEtcExample(t *testing.T) {
	c, warns, err := Load([]string{"../../etc/bgp-agent.conf"}, nil)
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.NotNil(t, c)
}

// TestDocsMentionEveryOption keeps docs/configuration.md complete: every
// option has a row in its section's table with its default and whether it
// needs a restart.
func TestDocsMentionEveryOption(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	rows := map[string]string{} // "section/name" → table row
	section := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "### [") {
			section = strings.TrimSuffix(strings.TrimPrefix(line, "### ["), "]")
			continue
		}
		if section != "" && strings.HasPrefix(line, "| `") {
			name := strings.SplitN(strings.TrimPrefix(line, "| `"), "`", 2)[0]
			rows[section+"/"+name] = line
		}
	}
	require.Greater(t, len(rows), len(options)) // plus [agent] root_helper
	for _, v := range Default().Values() {
		row, ok := rows[v.Section+"/"+v.Name]
		if !assert.True(t, ok, "docs/configuration.md lacks [%s] %s", v.Section, v.Name) {
			continue
		}
		cells := strings.Split(row, "|")
		require.GreaterOrEqual(t, len(cells), 6, row)
		def := strings.TrimSpace(cells[3])
		if v.Default == "" {
			assert.Equal(t, "unset", def, row)
		} else {
			assert.Equal(t, "`"+v.Default+"`", def, row)
		}
		r := strings.TrimSpace(cells[4])
		if v.Restart {
			assert.Equal(t, "restart", r, row)
		} else {
			assert.Equal(t, "R", r, row)
		}
	}
}

func TestBooleans(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"true", true}, {"True", true}, {"TRUE", true}, {"yes", true}, {"Yes", true},
		{"on", true}, {"ON", true}, {"1", true}, {" true ", true}, {`"true"`, true}, {"'on'", true},
		{"false", false}, {"False", false}, {"no", false}, {"NO", false}, {"off", false},
		{"Off", false}, {"0", false},
	} {
		c, _, err := load(t, "[DEFAULT]\nexpose_tenant_networks = "+tc.in+"\ndelete_vrf_on_disconnect = "+tc.in+"\n")
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, c.ExposeTenantNetworks, tc.in)
		assert.Equal(t, tc.want, c.DeleteVRFOnDisconnect, tc.in)
	}
}

// TestValues: one accepted value per type, read back through the option.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		section, name, in, want string
	}{
		{"DEFAULT", "reconcile_interval", "60", "60"},
		{"DEFAULT", "reconcile_interval", " +60 ", "60"},
		{"DEFAULT", "frr_reconcile_interval", "86400", "86400"},
		{"DEFAULT", "advertisement_method_tenant_networks", "subnet", "subnet"},
		{"DEFAULT", "driver", "nb_ovn_bgp_driver", "nb_ovn_bgp_driver"},
		{"DEFAULT", "ovsdb_connection", "unix:/run/openvswitch/db.sock", "unix:/run/openvswitch/db.sock"},
		{"DEFAULT", "ovsdb_connection", "ssl:10.0.0.1:6640", "ssl:10.0.0.1:6640"},
		{"DEFAULT", "ovsdb_connection_timeout", "30", "30"},
		{"DEFAULT", "bgp_AS", "65000", "65000"},
		{"DEFAULT", "bgp_AS", "4294967295", "4294967295"},
		{"DEFAULT", "bgp_AS", "1.10", "65546"}, // asdot
		{"DEFAULT", "bgp_AS", "0.1", "1"},
		{"DEFAULT", "bgp_AS", `"64512"`, "64512"},
		{"DEFAULT", "bgp_router_id", "192.0.2.1", "192.0.2.1"},
		{"DEFAULT", "bgp_router_id", "", ""},
		{"DEFAULT", "evpn_local_ip", "2001:db8::1", "2001:db8::1"},
		{"DEFAULT", "evpn_udp_dstport", "0", "0"},
		{"DEFAULT", "evpn_udp_dstport", "65535", "65535"},
		{"DEFAULT", "bgp_nic", "bgp-nic2", "bgp-nic2"},
		{"DEFAULT", "bgp_vrf", "v", "v"},
		{"DEFAULT", "bgp_vrf_table_id", "4294967295", "4294967295"},
		{"DEFAULT", "bgp_vrf_table_id", "252", "252"},
		{"DEFAULT", "address_scopes", "a, b ,c,", "a,b,c"},
		{"DEFAULT", "address_scopes", "", ""},
		{"DEFAULT", "log_file", "x.log", "x.log"},
		{"ovn", "ovn_sb_connection", "tcp:10.0.0.1:6642,tcp:10.0.0.2:6642", "tcp:10.0.0.1:6642,tcp:10.0.0.2:6642"},
		{"ovn", "ovn_nb_connection", "unix:/run/ovn/ovnnb_db.sock", "unix:/run/ovn/ovnnb_db.sock"},
		{"ovn", "ovn_sb_connection", "", ""}, // empty = unset: OVS external_ids:ovn-remote
		{"local_ovn_cluster", "peer_ips", "10.0.0.1, 2001:db8::1", "10.0.0.1,2001:db8::1"},
		{"local_ovn_cluster", "provider_networks_pool_prefixes", "172.16.0.0/12", "172.16.0.0/12"},
		{"local_ovn_cluster", "external_nics", "eth1,eth2", "eth1,eth2"},
		{"ovnbgp", "announce_method", "table", "table"},
		{"ovnbgp", "announce_table_id", "100", "100"},
		{"ovnbgp", "route_protocol", "5", "5"},
		{"ovnbgp", "rule_priority", "100", "100"},
		{"ovnbgp", "bridge_table_base", "1000", "1000"},
		{"ovnbgp", "bridge_table_base", "11", "11"},
		{"ovnbgp", "speaker", "gobgp", "gobgp"},
		{"ovnbgp", "frr_pathspace", "lab-1", "lab-1"},
		{"ovnbgp", "peers", "192.0.2.1:65000, 2001:db8::1:external, eth1:external", "192.0.2.1:65000,[2001:db8::1]:external,eth1:external"},
		{"ovnbgp", "peer_group", "fabric", "fabric"},
		{"ovnbgp", "bfd_transmit_interval", "10", "10"},
		{"ovnbgp", "bfd_detect_multiplier", "255", "255"},
		{"ovnbgp", "maximum_paths", "64", "64"},
		{"ovnbgp", "metrics_address", ":9469", ":9469"},
		{"ovnbgp", "metrics_address", "[::1]:9469", "[::1]:9469"},
		{"ovnbgp", "metrics_address", "", ""},
		{"ovnbgp", "gobgp_listen_port", "-1", "-1"},
		{"ovnbgp", "gobgp_router_id", "192.0.2.2", "192.0.2.2"},
		{"ovnbgp", "gobgp_ipv6_next_hop", "2001:db8::1", "2001:db8::1"},
	} {
		text := "[" + tc.section + "]\n" + tc.name + " = " + tc.in + "\n"
		c, warns, err := load(t, text)
		require.NoError(t, err, text)
		assert.Empty(t, warns, text)
		assert.Equal(t, tc.want, get(t, c, tc.section, tc.name), text)
	}
}

// TestInvalid: each type error gives one *InvalidError naming the option,
// its section, the value and the file; exit status 2.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		section, name, in, reason string
	}{
		{"DEFAULT", "reconcile_interval", "abc", "must be an integer"},
		{"DEFAULT", "reconcile_interval", "1.5", "must be an integer"},
		{"DEFAULT", "reconcile_interval", "", "the value is empty"},
		{"DEFAULT", "reconcile_interval", "0", "must be between 1 and"},
		{"DEFAULT", "reconcile_interval", "-5", "must be between 1 and"},
		{"DEFAULT", "reconcile_interval", "99999999999", "at most"},
		{"DEFAULT", "reconcile_interval", "99999999999999999999", "out of range"},
		{"DEFAULT", "frr_reconcile_interval", "0", "must be between 1"},
		{"DEFAULT", "ovsdb_connection_timeout", "x", "must be an integer"},
		{"DEFAULT", "expose_tenant_networks", "maybe", "must be a boolean"},
		{"DEFAULT", "expose_tenant_networks", "", "must be a boolean"},
		{"DEFAULT", "expose_tenant_networks", "y", "must be a boolean"},
		{"DEFAULT", "advertisement_method_tenant_networks", "Host", "must be one of: host, subnet"},
		{"DEFAULT", "driver", "bgp_driver", "must be one of: ovn_bgp_driver, ovn_evpn_driver"},
		{"DEFAULT", "ovsdb_connection", "/run/openvswitch/db.sock", "must match ^(tcp|ssl|unix):.+"},
		{"DEFAULT", "ovsdb_connection", "tcp:", "must match"},
		{"DEFAULT", "ovsdb_connection", "", "must match"},
		{"DEFAULT", "ovsdb_connection", "ptcp:6640", "must match"},
		{"DEFAULT", "bgp_AS", "x", "must be an AS number"},
		{"DEFAULT", "bgp_AS", "0", "AS 0 is reserved"},
		{"DEFAULT", "bgp_AS", "0.0", "AS 0 is reserved"},
		{"DEFAULT", "bgp_AS", "4294967296", "must be an AS number"},
		{"DEFAULT", "bgp_AS", "-1", "must be an AS number"},
		{"DEFAULT", "bgp_AS", "1.65536", "must be an AS number"},
		{"DEFAULT", "bgp_AS", "1.", "must be an AS number"},
		{"DEFAULT", "bgp_AS", "65000 # my AS", "inline comments are not supported"},
		{"DEFAULT", "bgp_router_id", "2001:db8::1", "must be an IPv4 address"},
		{"DEFAULT", "bgp_router_id", "router1", "must be an IPv4 address"},
		{"DEFAULT", "evpn_local_ip", "1.2.3", "must be an IPv4 or IPv6 address"},
		{"DEFAULT", "evpn_udp_dstport", "65536", "must be between 0 and 65535"},
		{"DEFAULT", "evpn_udp_dstport", "vxlan", "must be an integer"},
		{"DEFAULT", "bgp_nic", "a-very-long-interface", "must be a Linux interface name"},
		{"DEFAULT", "bgp_nic", "", "must be a Linux interface name"},
		{"DEFAULT", "bgp_vrf", "bgp/vrf", "must be a Linux interface name"},
		{"DEFAULT", "bgp_vrf_table_id", "0", "must be a routing table number"},
		{"DEFAULT", "bgp_vrf_table_id", "254", "253, 254 and 255"},
		{"DEFAULT", "bgp_vrf_table_id", "4294967296", "must be a routing table number"},
		{"DEFAULT", "exposing_method", "bgp", "must be one of: underlay, l2vni, vrf, dynamic, ovn"},
		{"ovn", "ovn_sb_connection", "10.0.0.1:6642", "must match"},
		{"ovn", "ovn_nb_connection", "tcp:10.0.0.1:6641,10.0.0.2:6641", "must match"},
		{"local_ovn_cluster", "ovn_nb_connection", "x", "must match"},
		{"local_ovn_cluster", "peer_ips", "10.0.0.1,10.0.0", `item "10.0.0": must be an IP address`},
		{"local_ovn_cluster", "provider_networks_pool_prefixes", "10.0.0.0", "must be a CIDR prefix"},
		{"local_ovn_cluster", "external_nics", "eth1,eth:2", "must be a Linux interface name"},
		{"ovnbgp", "announce_method", "kernel", "must be one of: connected, table"},
		{"ovnbgp", "announce_table_id", "255", "253, 254 and 255"},
		{"ovnbgp", "route_protocol", "186", "belong to FRR"},
		{"ovnbgp", "route_protocol", "2", "belong to the kernel"},
		{"ovnbgp", "route_protocol", "256", "between 1 and 255"},
		{"ovnbgp", "rule_priority", "0", "between 1 and 32765"},
		{"ovnbgp", "rule_priority_max", "32766", "between 1 and 32765"},
		{"ovnbgp", "rule_mode", "both", "must be one of"},
		{"ovnbgp", "link_addresses", "4", "must be one of: 4.0, 5.0"},
		{"ovnbgp", "tenant_networks_min_prefix_length_v4", "0", "between 1 and 32"},
		{"ovnbgp", "tenant_networks_min_prefix_length_v4", "33", "between 1 and 32"},
		{"ovnbgp", "tenant_networks_min_prefix_length_v6", "129", "between 1 and 128"},
		{"ovnbgp", "tenant_networks_allowed_prefixes", "10.0.0.0/8,10.1.2.3", "is not a prefix"},
		{"ovnbgp", "tenant_networks_allowed_prefixes", "10.0.0.1/8", "host bits set (did you mean 10.0.0.0/8?)"},
		{"ovnbgp", "bridge_table_base", "0", "between 1 and"},
		{"ovnbgp", "speaker", "bird", "must be one of: frr, gobgp"},
		{"ovnbgp", "frr_vtysh", "vtysh", "must be an absolute path"},
		{"ovnbgp", "state_dir", "var/lib/ovnbgp", "must be an absolute path"},
		{"ovnbgp", "ovsdb_max_message_mb", "0", "must be between"},
		{"ovnbgp", "ovsdb_max_queued_mb", "x", "must be an integer"},
		{"ovnbgp", "ovsdb_probe_interval", "0", "must be between 1 and"},
		{"ovnbgp", "frr_pathspace", "a/b", "FRR -N pathspace"},
		{"ovnbgp", "peers", "192.0.2.300:65000", "not a valid IP address"},
		{"ovnbgp", "peers", "192.0.2.1:0", "remote AS"},
		{"ovnbgp", "peers", "192.0.2.1:ibgp", "remote AS"},
		{"ovnbgp", "peers", "2001:db8::1:2", "ambiguous"},
		{"ovnbgp", "peers", "eth1, eth1:internal", "listed twice"},
		{"ovnbgp", "peers", "fe80::1%eth1", "zones are not supported"},
		{"ovnbgp", "peer_group", "my group", "must be a name"},
		{"ovnbgp", "peer_password", "has space", "must not contain spaces"},
		{"ovnbgp", "bfd_profile", "", "must be a name"},
		{"ovnbgp", "bfd_transmit_interval", "5", "between 10 and 60000"},
		{"ovnbgp", "bfd_detect_multiplier", "1", "between 2 and 255"},
		{"ovnbgp", "maximum_paths", "-1", "between 0 and 256"},
		{"ovnbgp", "graceful_restart", "enabled", "must be a boolean"},
		{"ovnbgp", "metrics_address", "9469", "must be host:port"},
		{"ovnbgp", "metrics_address", "localhost:http", "port number"},
		{"ovnbgp", "gobgp_listen_port", "-2", "between -1 and 65535"},
		{"ovnbgp", "gobgp_router_id", "::1", "must be an IPv4 address"},
		{"ovnbgp", "gobgp_ipv6_next_hop", "192.0.2.1", "must be a global or unique-local IPv6 address"},
		{"ovnbgp", "gobgp_ipv6_next_hop", "fe80::1", "must be a global or unique-local IPv6 address"},
	} {
		text := "[" + tc.section + "]\n" + tc.name + " = " + tc.in + "\n"
		c, _, err := load(t, text)
		assert.Nil(t, c, text)
		var ie *InvalidError
		require.True(t, errors.As(err, &ie), "%s: %v", text, err)
		assert.Equal(t, tc.name, ie.Option, text)
		assert.Equal(t, tc.section, ie.Section, text)
		assert.Equal(t, "t.conf", ie.File, text)
		assert.Contains(t, ie.Reason, tc.reason, text)
		assert.Equal(t, 2, ie.ExitCode())
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, `invalid value "`), msg)
		assert.Contains(t, msg, " for option "+tc.name+" in ["+tc.section+"] of t.conf: ", msg)
		assert.NotContains(t, msg, "\n")
		if tc.name != "peer_password" {
			assert.Equal(t, strings.TrimSpace(tc.in), strings.TrimSpace(ie.Value), text)
		}
	}
}

func TestInvalidMessage(t *testing.T) {
	_, _, err := load(t, "[DEFAULT]\nbgp_AS = x\n")
	assert.EqualError(t, err, `invalid value "x" for option bgp_AS in [DEFAULT] of t.conf: must be an AS number 1..4294967295 (asplain) or X.Y (asdot, X and Y 0..65535)`)
	_, _, err = load(t, "[ovnbgp]\npeer_password = a b\n")
	assert.EqualError(t, err, `invalid value "***" for option peer_password in [ovnbgp] of t.conf: must not contain spaces`)
	var coder interface{ ExitCode() int }
	require.True(t, errors.As(err, &coder))
	assert.Equal(t, 2, coder.ExitCode())
}

// TestCross: rules between options and what ovnbgp does not implement.
func TestCross(t *testing.T) {
	for _, tc := range []struct {
		text, section, name, reason string
	}{
		{"[DEFAULT]\ndriver = ovn_evpn_driver\n", "DEFAULT", "evpn_local_ip", "or evpn_nic"},
		{"[DEFAULT]\ndriver = ovn_evpn_driver\nevpn_nic = eth1\n[ovnbgp]\nspeaker = gobgp\n", "ovnbgp", "speaker", "needs FRR"},
		{"[DEFAULT]\ndriver = ovn_evpn_driver\nevpn_local_ip = 192.0.2.10\nevpn_udp_dstport = 0\n", "DEFAULT", "evpn_udp_dstport", "1..65535"},
		{"[DEFAULT]\ndriver = ovn_evpn_driver\nevpn_local_ip = 192.0.2.10\nexposing_method = vrf\n", "DEFAULT", "exposing_method", "must stay underlay"},
		{"[DEFAULT]\ndriver = ovn_stretched_l2_bgp_driver\n", "DEFAULT", "driver", "not supported by ovnbgp yet"},
		{"[DEFAULT]\nexposing_method = vrf\n", "DEFAULT", "exposing_method", "northbound driver only"},
		{"[DEFAULT]\ndriver = nb_ovn_bgp_driver\nexposing_method = vrf\n", "DEFAULT", "evpn_local_ip", "must be set"},
		{"[DEFAULT]\ndriver = nb_ovn_bgp_driver\nexposing_method = vrf\nevpn_local_ip = 192.0.2.10\n[ovnbgp]\nspeaker = gobgp\n", "ovnbgp", "speaker", "needs FRR"},
		{"[DEFAULT]\ndriver = nb_ovn_bgp_driver\nexposing_method = vrf\nevpn_local_ip = 192.0.2.10\nevpn_udp_dstport = 0\n", "DEFAULT", "evpn_udp_dstport", "1..65535"},
		{"[DEFAULT]\nexposing_method = ovn\n", "DEFAULT", "exposing_method", "use underlay, vrf or dynamic"},
		{"[DEFAULT]\nexposing_method = l2vni\n", "DEFAULT", "exposing_method", "nor by upstream"},
		{"[DEFAULT]\nexposing_method = dynamic\n[ovnbgp]\nspeaker = gobgp\n", "ovnbgp", "speaker", "needs speaker = frr"},
		{"[ovnbgp]\nrule_priority = 2000\n", "ovnbgp", "rule_priority", "lower than rule_priority_max (1999)"},
		{"[ovnbgp]\nrule_priority = 10\nrule_priority_max = 10\n", "ovnbgp", "rule_priority", "lower than rule_priority_max"},
		{"[ovnbgp]\nbridge_table_base = 230\n", "ovnbgp", "bridge_table_base", "reserved tables 253-255"},
		{"[ovnbgp]\nbridge_table_base = 255\n", "ovnbgp", "bridge_table_base", "reserved tables 253-255"},
		{"[ovnbgp]\nbridge_table_base = 5\n", "DEFAULT", "bgp_vrf_table_id", "collides with the bridge tables"},
		{"[DEFAULT]\nbgp_vrf_table_id = 232\n", "DEFAULT", "bgp_vrf_table_id", "collides with the bridge tables"},
		{"[DEFAULT]\nbgp_vrf_table_id = 200\n", "DEFAULT", "bgp_vrf_table_id", "collides with the bridge tables"},
		{"[ovnbgp]\nannounce_table_id = 210\n", "ovnbgp", "announce_table_id", "collides"},
		{"[ovnbgp]\nannounce_method = table\nannounce_table_id = 1000\n", "ovnbgp", "announce_table_id", "1-252"},
		{"[DEFAULT]\nbgp_vrf_table_id = 1000\n[ovnbgp]\nannounce_method = table\n", "DEFAULT", "bgp_vrf_table_id", "1-252"},
		{"[ovn]\novn_sb_connection = ssl:10.0.0.1:6642\novn_sb_private_key =\n", "ovn", "ovn_sb_private_key", "uses ssl:"},
		{"[ovn]\novn_nb_connection = tcp:10.0.0.2:6641,ssl:10.0.0.1:6641\novn_nb_ca_cert =\n", "ovn", "ovn_nb_ca_cert", "uses ssl:"},
	} {
		_, _, err := load(t, tc.text)
		var ie *InvalidError
		require.True(t, errors.As(err, &ie), "%s: %v", tc.text, err)
		assert.Equal(t, tc.section, ie.Section, tc.text)
		assert.Equal(t, tc.name, ie.Option, tc.text)
		assert.Contains(t, ie.Reason, tc.reason, tc.text)
	}
	// Allowed: table announce with gobgp does not go through FRR; a bridge
	// range above the reserved tables; announce table 252.
	for _, text := range []string{
		"[DEFAULT]\nbgp_vrf_table_id = 1000\n[ovnbgp]\nannounce_method = table\nspeaker = gobgp\n",
		"[ovnbgp]\nbridge_table_base = 256\n",
		"[ovnbgp]\nbridge_table_base = 220\n", // 220..252
		"[ovnbgp]\nannounce_method = table\nannounce_table_id = 252\nbridge_table_base = 300\n",
		"[ovn]\novn_sb_connection = tcp:10.0.0.1:6642\novn_sb_private_key =\n",
		"[DEFAULT]\ndriver = nb_ovn_bgp_driver\nexposing_method = vrf\nevpn_local_ip = 192.0.2.10\n",
		"[DEFAULT]\ndriver = nb_ovn_bgp_driver\nexposing_method = vrf\nevpn_local_ip = 2001:db8::10\nevpn_udp_dstport = 4790\n",
		// dynamic (OVN native dynamic routing) with either driver.
		"[DEFAULT]\nexposing_method = dynamic\ndriver = ovn_bgp_driver\n",
		"[DEFAULT]\nexposing_method = dynamic\ndriver = nb_ovn_bgp_driver\n",
		"[DEFAULT]\ndriver = ovn_evpn_driver\nevpn_local_ip = 192.0.2.10\n",
		"[DEFAULT]\ndriver = ovn_evpn_driver\nevpn_nic = eth1\nevpn_udp_dstport = 4790\n",
	} {
		_, _, err := load(t, text)
		assert.NoError(t, err, text)
	}
}

// TestValidateStruct: Validate works on a Config built in code.
func TestValidateStruct(t *testing.T) {
	c := Default()
	c.OVNBGP.Peers = []Peer{{Address: "192.0.2.1", RemoteAS: "65000"}, {Address: "eth1", Interface: true, RemoteAS: RemoteASExternal}}
	require.NoError(t, c.Validate())
	c.OVNBGP.Peers = append(c.OVNBGP.Peers, Peer{Address: "eth1", Interface: true, RemoteAS: "internal"})
	var ie *InvalidError
	require.ErrorAs(t, c.Validate(), &ie)
	assert.Equal(t, "peers", ie.Option)
	assert.Empty(t, ie.File)

	c = Default()
	c.OVNBGP.Peers = []Peer{{Address: "not an ip", RemoteAS: "1"}}
	require.ErrorAs(t, c.Validate(), &ie)
	c = Default()
	c.BGPAS = 0
	require.ErrorAs(t, c.Validate(), &ie)
	assert.Equal(t, "bgp_AS", ie.Option)
	c = Default()
	c.ReconcileInterval = 0
	require.ErrorAs(t, c.Validate(), &ie)
	assert.Equal(t, "reconcile_interval", ie.Option)
	assert.Equal(t, "0", ie.Value)
	c = Default()
	c.Driver = DriverEVPN
	require.ErrorAs(t, c.Validate(), &ie)
	assert.Equal(t, "evpn_local_ip", ie.Option)
	c.EVPNNic = "eth1"
	require.NoError(t, c.Validate())
	assert.True(t, c.TenantVRFsOnly())
}

// TestWarnings: unknown sections and options are named with their section
// and file; oslo options are accepted silently; [DEFAULT] values do not
// leak into other sections (ini.v1's lookups would let them).
func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"none", "[DEFAULT]\nbgp_AS = 65000\ndebug = true\n[ovn]\n[ovnbgp]\npeers = eth1\n", nil},
		{"unknown in DEFAULT", "[DEFAULT]\nbgp_as_number = 1\n", []string{"unknown option bgp_as_number in [DEFAULT] of t.conf ignored"}},
		{"case of option names", "[DEFAULT]\nbgp_as = 65000\n", []string{"unknown option bgp_as in [DEFAULT] of t.conf ignored (option names are case-sensitive: did you mean bgp_AS?)"}},
		{"DEFAULT option in ovn", "[DEFAULT]\ndebug = true\n[ovn]\ndebug = true\n", []string{"unknown option debug in [ovn] of t.conf ignored"}},
		{"ovnbgp option in DEFAULT", "[DEFAULT]\nspeaker = frr\n", []string{"unknown option speaker in [DEFAULT] of t.conf ignored"}},
		{"unknown section", "[bgp]\nas = 1\n[ovn]\n", []string{"unknown section [bgp] of t.conf ignored"}},
		{"lowercase default", "[default]\ndebug = true\n", []string{"section [default] of t.conf ignored: it is not [DEFAULT] (only DEFAULT is case-sensitive, as in oslo.config)"}},
		{"section names are case-insensitive", "[AGENT]\nroot_helper = sudo\n[OVN]\novn_sb_connection = tcp:1.2.3.4:6642\n[OVNBGP]\nbfd = true\n", nil},
		{"oslo log options", "[DEFAULT]\nuse_stderr = false\nuse_journal = true\nlog_config_append = /etc/x\ndefault_log_levels = a=INFO\nverbose = true\n", nil},
		{"oslo sections", "[oslo_concurrency]\nlock_path = /tmp\n[privsep]\nhelper_command = x\n[privsep_vtysh]\nuser = root\n[privsep_ovs_vsctl]\ncapabilities = [1]\n", nil},
		{"unknown in oslo section", "[privsep]\nfoo = 1\n", []string{"unknown option foo in [privsep] of t.conf ignored"}},
		{"removed upstream", "[agent]\nroot_helper_daemon = sudo x\nuse_helper_for_ns_read = true\n", []string{
			"option root_helper_daemon in [agent] of t.conf ignored: removed from ovn-bgp-agent with rootwrap",
			"option use_helper_for_ns_read in [agent] of t.conf ignored: removed from ovn-bgp-agent with rootwrap",
		}},
		{"deprecated group", "[DEFAULT]\novn_sb_connection = tcp:1.2.3.4:6642\n", []string{"option ovn_sb_connection in [DEFAULT] of t.conf is deprecated: use ovn_sb_connection in [ovn]"}},
		{"deprecated name", "[DEFAULT]\nlogfile = /var/log/x.log\n", []string{"option logfile in [DEFAULT] of t.conf is deprecated: use log_file in [DEFAULT]"}},
		{"inline comment in a string", "[DEFAULT]\nevpn_nic = eth1 # uplink\n", []string{`option evpn_nic in [DEFAULT] of t.conf: the value contains " #" or " ;"; inline comments are not supported, the whole text is the value`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := load(t, tc.text)
			require.NoError(t, err)
			assert.Equal(t, tc.want, warns)
		})
	}
}

// TestNoLeak: a [DEFAULT] value never sets an option of another section,
// and same-named options of different sections stay apart.
func TestNoLeak(t *testing.T) {
	c, warns, err := load(t, `[DEFAULT]
bgp_AS = 65000
[local_ovn_cluster]
ovn_nb_connection = tcp:192.0.2.1:6641
[ovn]
`)
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, "", c.OVN.NBConnection)
	assert.Equal(t, "tcp:192.0.2.1:6641", c.LocalOVNCluster.NBConnection)

	c, warns, err = load(t, "[ovn]\novn_nb_connection = tcp:192.0.2.2:6641\n")
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, "tcp:192.0.2.2:6641", c.OVN.NBConnection)
	assert.Equal(t, "unix:/var/run/ovn/ovnnb_db.sock", c.LocalOVNCluster.NBConnection)

	// The deprecated [DEFAULT] place feeds [ovn] only.
	c, _, err = load(t, "[DEFAULT]\novn_nb_connection = tcp:192.0.2.3:6641\n")
	require.NoError(t, err)
	assert.Equal(t, "tcp:192.0.2.3:6641", c.OVN.NBConnection)
	assert.Equal(t, "unix:/var/run/ovn/ovnnb_db.sock", c.LocalOVNCluster.NBConnection)
}

// TestOverride: later files win option by option; the newest file holding
// an option under any of its names wins; within one file the current name
// wins over the deprecated one (oslo.config).
func TestOverride(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.conf", "[DEFAULT]\nbgp_AS = 65001\nreconcile_interval = 10\n[ovn]\novn_sb_connection = tcp:10.0.0.1:6642\n")
	b := writeFile(t, dir, "b.conf", "[DEFAULT]\nbgp_AS = 65002\novn_sb_connection = tcp:10.0.0.2:6642\n")
	both := writeFile(t, dir, "both.conf", "[DEFAULT]\novn_sb_connection = tcp:10.0.0.3:6642\n[ovn]\novn_sb_connection = tcp:10.0.0.4:6642\n")
	dup := writeFile(t, dir, "dup.conf", "[DEFAULT]\nbgp_AS = 1\nbgp_AS = 2\n[ovnbgp]\nbfd = true\n[DEFAULT]\nbgp_AS = 3\n")

	c, _, err := Load([]string{a, b}, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(65002), c.BGPAS)
	assert.Equal(t, 10*time.Second, c.ReconcileInterval)
	assert.Equal(t, "tcp:10.0.0.2:6642", c.OVN.SBConnection) // newer file, deprecated place

	c, _, err = Load([]string{b, a}, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(65001), c.BGPAS)
	assert.Equal(t, "tcp:10.0.0.1:6642", c.OVN.SBConnection)

	c, _, err = Load([]string{both}, nil)
	require.NoError(t, err)
	assert.Equal(t, "tcp:10.0.0.4:6642", c.OVN.SBConnection)

	c, _, err = Load([]string{dup}, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(3), c.BGPAS) // last occurrence in a file
	assert.True(t, c.OVNBGP.BFD)

	// An error names the file the value came from.
	bad := writeFile(t, dir, "bad.conf", "[DEFAULT]\nbgp_AS = 65003\n[ovnbgp]\nrule_priority = 5000\n")
	_, _, err = Load([]string{a, bad}, nil)
	var ie *InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, bad, ie.File)
	assert.Equal(t, "rule_priority", ie.Option)
	// A later file fixing the value makes it valid.
	fix := writeFile(t, dir, "fix.conf", "[ovnbgp]\nrule_priority = 1500\n")
	_, _, err = Load([]string{bad, fix}, nil)
	require.NoError(t, err)
}

// TestConfigDir: *.conf in lexical order after the files; hidden files,
// other suffixes and directories are skipped.
func TestConfigDir(t *testing.T) {
	c, warns, err := Load(nil, []string{"testdata/confdir"})
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, 200*time.Second, c.ReconcileInterval) // 20-override.conf after 10-base.conf
	assert.Equal(t, uint32(65001), c.BGPAS)
	assert.Equal(t, "192.0.2.10", c.BGPRouterID)

	dir := t.TempDir()
	f := writeFile(t, dir, "main.conf", "[DEFAULT]\nreconcile_interval = 50\nbgp_AS = 65009\nfrr_reconcile_interval = 7\n")
	c, _, err = Load([]string{f}, []string{"testdata/confdir"})
	require.NoError(t, err)
	assert.Equal(t, 200*time.Second, c.ReconcileInterval) // the directory comes after the files
	assert.Equal(t, uint32(65001), c.BGPAS)
	assert.Equal(t, 7*time.Second, c.FRRReconcileInterval)

	// Two directories: the second one wins.
	d2 := t.TempDir()
	writeFile(t, d2, "00.conf", "[DEFAULT]\nreconcile_interval = 33\n")
	c, _, err = Load(nil, []string{"testdata/confdir", d2})
	require.NoError(t, err)
	assert.Equal(t, 33*time.Second, c.ReconcileInterval)

	// Empty directory: defaults.
	c, _, err = Load(nil, []string{t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, Default(), c)
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "x.conf", "[DEFAULT]\n")
	for _, tc := range []struct {
		name        string
		files, dirs []string
		msg         string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.conf")}, nil, "no such file or directory"},
		{"missing dir", nil, []string{filepath.Join(dir, "nope")}, "no such file or directory"},
		{"dir is a file", nil, []string{f}, "not a directory (--config-dir takes a directory; use --config-file for a file)"},
		{"file is a dir", []string{dir}, nil, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(tc.files, tc.dirs)
			assert.Nil(t, c)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, 2, fe.ExitCode())
		})
	}
}

// TestSyntax: quoting, comments, continuation lines and parse errors.
func TestSyntax(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		check      func(t *testing.T, c *Config)
		err        string
	}{
		{"double quotes", "[DEFAULT]\nbgp_AS = \"65000\"\nbgp_nic = \"nic0\"\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65000), c.BGPAS)
			assert.Equal(t, "nic0", c.BGPNic)
		}, ""},
		{"single quotes", "[DEFAULT]\nbgp_router_id = '192.0.2.1'\n", func(t *testing.T, c *Config) {
			assert.Equal(t, "192.0.2.1", c.BGPRouterID)
		}, ""},
		{"quoted list", "[DEFAULT]\naddress_scopes = \"a,b\"\n", func(t *testing.T, c *Config) {
			assert.Equal(t, []string{"a", "b"}, c.AddressScopes)
		}, ""},
		{"quoted password keeps inner quote", "[ovnbgp]\npeer_password = \"x'y\"\n", func(t *testing.T, c *Config) {
			assert.Equal(t, "x'y", c.OVNBGP.PeerPassword)
		}, ""},
		{"colon delimiter", "[DEFAULT]\nbgp_AS: 65010\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65010), c.BGPAS)
		}, ""},
		{"no spaces", "[DEFAULT]\nbgp_AS=65011\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65011), c.BGPAS)
		}, ""},
		{"comments", "# hash\n; semicolon\n[DEFAULT]\n  # indented\n;bgp_AS = 1\n#bgp_AS = 2\nbgp_AS = 65012\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65012), c.BGPAS)
		}, ""},
		{"hash inside a value", "[ovnbgp]\npeer_password = se#cr;et\n", func(t *testing.T, c *Config) {
			assert.Equal(t, "se#cr;et", c.OVNBGP.PeerPassword)
		}, ""},
		{"continuation line of a list", "[DEFAULT]\naddress_scopes = a,\n    b,\n    c\nbgp_AS = 65013\n", func(t *testing.T, c *Config) {
			assert.Equal(t, []string{"a", "b", "c"}, c.AddressScopes)
			assert.Equal(t, uint32(65013), c.BGPAS)
		}, ""},
		{"line of spaces after a value", "[DEFAULT]\nevpn_nic = eth1\n   \nbgp_AS = 65018\n", func(t *testing.T, c *Config) {
			assert.Equal(t, "eth1", c.EVPNNic)
			assert.Equal(t, uint32(65018), c.BGPAS)
		}, ""},
		{"CRLF", "[DEFAULT]\r\nbgp_AS = 65014\r\ndebug = true\r\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65014), c.BGPAS)
			assert.True(t, c.Debug)
		}, ""},
		{"UTF-8 BOM", "\xef\xbb\xbf[DEFAULT]\nbgp_AS = 65015\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65015), c.BGPAS)
		}, ""},
		{"no section header", "bgp_AS = 65016\n", func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(65016), c.BGPAS) // read as [DEFAULT]
		}, ""},
		{"repeated section", "[ovnbgp]\nbfd = true\n[DEFAULT]\n[ovnbgp]\nspeaker = gobgp\n", func(t *testing.T, c *Config) {
			assert.True(t, c.OVNBGP.BFD)
			assert.Equal(t, SpeakerGoBGP, c.OVNBGP.Speaker)
		}, ""},
		{"backslash is not a continuation", "[DEFAULT]\nevpn_nic = a\\\nbgp_AS = 65017\n", func(t *testing.T, c *Config) {
			assert.Equal(t, `a\`, c.EVPNNic)
			assert.Equal(t, uint32(65017), c.BGPAS)
		}, ""},
		{"line without delimiter", "[DEFAULT]\ndebug\n", nil, "cannot parse"},
		{"unclosed section", "[DEFAULT\n", nil, "cannot parse"},
		{"empty section name", "[]\n", nil, "cannot parse"},
		{"continuation into a string", "[DEFAULT]\nevpn_nic = eth1\n  eth2\n", nil, "single line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := load(t, tc.text)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Nil(t, c)
				var coder interface{ ExitCode() int }
				require.ErrorAs(t, err, &coder)
				assert.Equal(t, 2, coder.ExitCode())
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestParsePeer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Peer
		err  string
	}{
		{in: "192.0.2.1:65000", want: Peer{Address: "192.0.2.1", RemoteAS: "65000"}},
		{in: "192.0.2.1", want: Peer{Address: "192.0.2.1", RemoteAS: "external"}},
		{in: "192.0.2.1:internal", want: Peer{Address: "192.0.2.1", RemoteAS: "internal"}},
		{in: "192.0.2.1:External", want: Peer{Address: "192.0.2.1", RemoteAS: "external"}},
		{in: "192.0.2.1:1.10", want: Peer{Address: "192.0.2.1", RemoteAS: "65546"}},
		{in: "2001:db8::1:external", want: Peer{Address: "2001:db8::1", RemoteAS: "external"}},
		{in: "2001:db8::1", want: Peer{Address: "2001:db8::1", RemoteAS: "external"}},
		{in: "2001:DB8:0::1", want: Peer{Address: "2001:db8::1", RemoteAS: "external"}},
		{in: "[2001:db8::1]:65000", want: Peer{Address: "2001:db8::1", RemoteAS: "65000"}},
		{in: "[2001:db8::1:2]", want: Peer{Address: "2001:db8::1:2", RemoteAS: "external"}},
		{in: "::ffff:192.0.2.1:65000", want: Peer{Address: "192.0.2.1", RemoteAS: "65000"}},
		{in: "eth1:external", want: Peer{Address: "eth1", Interface: true, RemoteAS: "external"}},
		{in: "eth1", want: Peer{Address: "eth1", Interface: true, RemoteAS: "external"}},
		{in: "enp1s0f0.100:internal", want: Peer{Address: "enp1s0f0.100", Interface: true, RemoteAS: "internal"}},
		{in: " eth2:64512 ", want: Peer{Address: "eth2", Interface: true, RemoteAS: "64512"}},
		{in: "2001:db8::1:2", err: "ambiguous: write [2001:db8::1:2] for the address alone or [2001:db8::1]:2"},
		{in: "::1:2", err: "ambiguous"},
		{in: "[192.0.2.1]:65000", err: "brackets are for IPv6"},
		{in: "[2001:db8::1", err: "missing ']'"},
		{in: "[2001:db8::1]65000", err: "expected ':'"},
		{in: "[2001:db8::1]:", err: "remote AS"},
		{in: "192.0.2.1:", err: "remote AS"},
		{in: "192.0.2.1:4294967296", err: "remote AS"},
		{in: "192.0.2.300", err: "not a valid IP address"},
		{in: "0.0.0.0:1", err: "not a unicast address"},
		{in: "ff02::1", err: "not a unicast address"},
		{in: "fe80::1%eth1", err: "zones are not supported"},
		{in: "a-very-long-interface-name", err: "neither an IP address nor an interface name"},
		{in: "eth 1", err: "neither an IP address nor an interface name"},
		{in: "", err: "empty peer"},
	} {
		p, err := ParsePeer(tc.in)
		if tc.err != "" {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, p, tc.in)
		back, err := ParsePeer(p.String())
		require.NoError(t, err, p.String())
		assert.Equal(t, p, back, "round trip of %q", p.String())
	}
	peers, err := ParsePeers("192.0.2.1:65000, 2001:db8::1:external, eth1:external,")
	require.NoError(t, err)
	assert.Equal(t, []Peer{
		{Address: "192.0.2.1", RemoteAS: "65000"},
		{Address: "2001:db8::1", RemoteAS: "external"},
		{Address: "eth1", Interface: true, RemoteAS: "external"},
	}, peers)
	_, err = ParsePeers("192.0.2.1, ::ffff:192.0.2.1:65000")
	assert.ErrorContains(t, err, "listed twice")
}

func TestDiffAndReload(t *testing.T) {
	old := Default()
	c, _, err := load(t, "[DEFAULT]\nreconcile_interval = 60\ndebug = true\n[ovnbgp]\npeers = eth1\npeer_password = s3cret\n")
	require.NoError(t, err)
	assert.Equal(t, []string{
		`[DEFAULT] reconcile_interval: "300" -> "60"`,
		`[DEFAULT] debug: "false" -> "true"`,
		`[ovnbgp] peers: "" -> "eth1:external"`,
		`[ovnbgp] peer_password: changed`,
	}, c.Diff(old))
	ok, restart := c.ReloadableChange(old)
	assert.True(t, ok)
	assert.Empty(t, restart)
	assert.Empty(t, c.Diff(c.Clone()))

	c2, _, err := load(t, "[DEFAULT]\nreconcile_interval = 60\ndriver = nb_ovn_bgp_driver\nbgp_AS = 65000\n[ovnbgp]\nroute_protocol = 210\nbfd = true\n")
	require.NoError(t, err)
	ok, restart = c2.ReloadableChange(old)
	assert.False(t, ok)
	assert.Equal(t, []string{"[DEFAULT] driver", "[DEFAULT] bgp_AS", "[ovnbgp] route_protocol"}, restart)

	eff := c2.KeepRestartOptions(old)
	assert.Equal(t, DriverSB, eff.Driver)
	assert.Equal(t, uint32(64999), eff.BGPAS)
	assert.Equal(t, 201, eff.OVNBGP.RouteProtocol)
	assert.Equal(t, 60*time.Second, eff.ReconcileInterval)
	assert.True(t, eff.OVNBGP.BFD)
	ok, _ = eff.ReloadableChange(old)
	assert.True(t, ok)
	require.NoError(t, eff.Validate())
	// c2 itself is unchanged.
	assert.Equal(t, DriverNB, c2.Driver)

	// Clone is deep.
	cl := c.Clone()
	cl.OVNBGP.Peers[0].Address = "eth9"
	assert.Equal(t, "eth1", c.OVNBGP.Peers[0].Address)

	// Values masks secrets.
	for _, v := range c.Values() {
		if v.Name == "peer_password" {
			assert.Equal(t, "***", v.Value)
		}
	}
}

func TestLogPath(t *testing.T) {
	for _, tc := range []struct{ file, dir, want string }{
		{"", "", ""},
		{"/var/log/a.log", "", "/var/log/a.log"},
		{"a.log", "/var/log/ovnbgp", "/var/log/ovnbgp/a.log"},
		{"/x/a.log", "/var/log/ovnbgp", "/x/a.log"},
		{"", "/var/log/ovnbgp", "/var/log/ovnbgp/ovnbgp.log"},
	} {
		c := Default()
		c.LogFile, c.LogDir = tc.file, tc.dir
		assert.Equal(t, tc.want, c.LogPath())
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "bgp-agent.conf", "[DEFAULT]\nreconcile_interval = 100\n")
	cur, _, err := Load([]string{f}, nil)
	require.NoError(t, err)

	// A bad file: an error, and nothing to apply.
	writeFile(t, dir, "bgp-agent.conf", "[DEFAULT]\nreconcile_interval = soon\n")
	next, _, err := Reload(cur, []string{f}, nil)
	assert.Nil(t, next)
	var ie *InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "reconcile_interval", ie.Option)

	// A good file changing one reloadable and one restart option.
	writeFile(t, dir, "bgp-agent.conf", "[DEFAULT]\nreconcile_interval = 50\nbgp_AS = 65100\nfoo = 1\n")
	next, rep, err := Reload(cur, []string{f}, nil)
	require.NoError(t, err)
	assert.Equal(t, 50*time.Second, next.ReconcileInterval)
	assert.Equal(t, uint32(64999), next.BGPAS)
	assert.Equal(t, []string{`[DEFAULT] reconcile_interval: "100" -> "50"`, `[DEFAULT] bgp_AS: "64999" -> "65100"`}, rep.Changed)
	assert.Equal(t, []string{"[DEFAULT] bgp_AS"}, rep.NeedsRestart)
	assert.Equal(t, []string{"unknown option foo in [DEFAULT] of " + f + " ignored"}, rep.Warnings)
}

func TestContinuationHint(t *testing.T) {
	_, _, err := load(t, "[DEFAULT]\ndebug = true\n  bgp_AS = 65000\n")
	var ie *InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "debug", ie.Option)
	assert.Contains(t, ie.Reason, "an indented line continues the value")
	assert.NotContains(t, err.Error(), "\n")
}

// BenchmarkLoadDevstack measures loading and validating devstack's file.
func BenchmarkLoadDevstack(b *testing.B) {
	for b.Loop() {
		if _, _, err := Load([]string{"testdata/devstack/bgp-agent.conf"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFlags(t *testing.T) {
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	src := AddFlags(fs)
	require.NoError(t, fs.Parse([]string{
		"--config-file", "testdata/confdir/10-base.conf",
		"--config-file=testdata/operator.conf",
		"--config-dir", "testdata/confdir",
	}))
	assert.Equal(t, []string{"testdata/confdir/10-base.conf", "testdata/operator.conf"}, src.Files)
	assert.Equal(t, []string{"testdata/confdir"}, src.Dirs)
	c, warns, err := src.Load()
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, 200*time.Second, c.ReconcileInterval) // the directory last
	assert.Equal(t, uint32(65001), c.BGPAS)
	assert.Equal(t, DriverSB, c.Driver) // from operator.conf
	next, rep, err := src.Reload(c)
	require.NoError(t, err)
	assert.Equal(t, c, next)
	assert.Empty(t, rep.Changed)
}
