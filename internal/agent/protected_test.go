package agent

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

func TestRemoteAddrs(t *testing.T) {
	got := RemoteAddrs("tcp:10.0.0.1:6642, ssl:[fd00::2]:6642,unix:/run/ovn/ovnsb_db.sock,tcp:ovn-sb.example:6642,ssl:192.0.2.3:6642")
	require.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::2"), netip.MustParseAddr("192.0.2.3")}, got)
	require.Empty(t, RemoteAddrs(""))
}

func TestProtectedFactsConfig(t *testing.T) {
	cfg := config.Default()
	cfg.OVNBGP.Peers = []config.Peer{{Address: "10.9.0.1", RemoteAS: "65000"}, {Address: "eth1", Interface: true}}
	cfg.OVN.SBConnection = "ssl:10.9.1.5:6642"
	p := ProtectedFacts(cfg, Identity{NBRemote: "tcp:10.9.1.6:6641"})
	require.Contains(t, p.Addrs, netip.MustParseAddr("10.9.0.1"))
	require.Contains(t, p.Addrs, netip.MustParseAddr("10.9.1.5"))
	require.Contains(t, p.Addrs, netip.MustParseAddr("10.9.1.6"))
	require.Contains(t, p.Addrs, netip.MustParseAddr("127.0.0.1")) // lo, read from the host
}

func TestUnguardedTenantExposure(t *testing.T) {
	cfg := config.Default()
	require.Empty(t, UnguardedTenantExposure(cfg))
	cfg.ExposeTenantNetworks = true
	require.Contains(t, UnguardedTenantExposure(cfg), "neither [DEFAULT] address_scopes nor [ovnbgp] tenant_networks_allowed_prefixes")
	cfg.OVNBGP.TenantAllowedPrefixes = []string{"10.0.0.0/8"}
	require.Empty(t, UnguardedTenantExposure(cfg))
	cfg.OVNBGP.TenantAllowedPrefixes = nil
	cfg.AddressScopes = []string{"scope-a"}
	require.Empty(t, UnguardedTenantExposure(cfg))
}
