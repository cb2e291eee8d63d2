package plan_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// TestIsGlobal6Registry checks the one global-IPv6 rule against every block
// of the IANA IPv6 Special-Purpose Address Registry: an address inside each
// block is global exactly when the block is "Globally Reachable: True"
// (the two "N/A" blocks, Teredo and 6to4, count as not global).
func TestIsGlobal6Registry(t *testing.T) {
	for _, c := range []struct {
		block, addr string
		global      bool
	}{
		{"::1/128 loopback", "::1", false},
		{"::/128 unspecified", "::", false},
		{"::ffff:0:0/96 IPv4-mapped", "::ffff:192.0.2.1", false},
		{"64:ff9b::/96 IPv4-IPv6 translation", "64:ff9b::c000:201", true},
		{"64:ff9b:1::/48 local-use translation", "64:ff9b:1::1", false},
		{"100::/64 discard-only", "100::1", false},
		{"100:0:0:1::/64 dummy prefix", "100:0:0:1::1", false},
		{"2001::/23 IETF protocol assignments", "2001:1ff::1", false},
		{"2001::/32 Teredo (N/A)", "2001:0:4136:e378::1", false},
		{"2001:1::1/128 PCP anycast", "2001:1::1", true},
		{"2001:1::2/128 TURN anycast", "2001:1::2", true},
		{"2001:1::3/128 DNS-SD SRP anycast", "2001:1::3", true},
		{"2001:2::/48 benchmarking", "2001:2::1", false},
		{"2001:3::/32 AMT", "2001:3::1", true},
		{"2001:4:112::/48 AS112-v6", "2001:4:112::1", true},
		{"2001:10::/28 deprecated ORCHID", "2001:10::1", false},
		{"2001:20::/28 ORCHIDv2", "2001:20::1", true},
		{"2001:30::/28 drone remote ID", "2001:30::1", true},
		{"2001:db8::/32 documentation", "2001:db8::1", false},
		{"2002::/16 6to4 (N/A)", "2002:c000:204::1", false},
		{"2620:4f:8000::/48 AS112 direct delegation", "2620:4f:8000::1", true},
		{"3fff::/20 documentation", "3fff::1", false},
		{"5f00::/16 SRv6 SIDs", "5f00::1", false},
		{"fc00::/7 unique local", "fd12:3456::1", false},
		{"fe80::/10 link-local", "fe80::1", false},
		{"ff00::/8 multicast (not unicast)", "ff0e::1", false},
		{"outside every block", "2a01:4f8::1", true},
		{"just past 2001::/23", "2001:200::1", true},
		{"IPv4", "192.0.2.1", false},
	} {
		require.Equal(t, c.global, plan.IsGlobal6(netip.MustParseAddr(c.addr)), "%s: %s", c.block, c.addr)
	}
}
