package plan

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// TestSpecialRanges checks the table against rows of the IANA IPv4 and
// IPv6 special-purpose registries and the multicast registries: for each
// prefix, whether it is refused for every kind, for tenants only, or never.
func TestSpecialRanges(t *testing.T) {
	const (
		never = iota
		tenantOnly
		always
	)
	cases := []struct {
		prefix string
		want   int
	}{
		{"0.0.0.0/32", always},         // unspecified, 0.0.0.0/8 row
		{"0.1.2.3/32", always},         // this network
		{"0.0.0.0/1", always},          // covers 0/8 and 127/8
		{"128.0.0.0/1", always},        // covers 169.254/16, 224/4, 240/4
		{"127.0.0.1/32", always},       // loopback
		{"169.254.169.254/32", always}, // link local (metadata)
		{"169.254.3.3/32", always},     // ovnbgp's link address of bridge 3
		{"224.0.0.5/32", always},       // OSPF multicast
		{"239.255.255.255/32", always},
		{"240.0.0.1/32", always},
		{"255.255.255.255/32", always}, // limited broadcast
		{"192.0.0.170/32", tenantOnly}, // NAT64 discovery, in 192.0.0.0/24
		{"10.0.0.0/8", never},
		{"172.16.0.0/12", never},
		{"192.168.1.0/24", never},
		{"100.64.0.0/10", never}, // shared address space: forwardable
		{"192.0.2.10/32", never}, // documentation: harmless, used by labs
		{"8.8.8.8/32", never},
		{"223.255.255.255/32", never}, // last unicast before multicast
		{"169.253.255.255/32", never},
		{"::/128", always},
		{"::1/128", always},
		{"::ffff:10.0.0.1/128", never}, // unmapped first: 10.0.0.1
		{"::ffff:127.0.0.1/128", always},
		{"fe80::1/128", always},
		{"febf:ffff::1/128", always}, // still fe80::/10
		{"fec0::1/128", never},
		{"ff02::5/128", always},
		{"fd53:d91e:400:7f17::3:3/128", always}, // ovnbgp's own
		{"fd53:d91e:400:7f18::1/128", never},
		{"fd00:1::/64", never}, // ULA: private, routed
		{"fd00::/8", always},   // covers ovnbgp's fd53:d91e:400:7f17::/64
		{"::2/128", tenantOnly},
		{"100::1/128", tenantOnly},
		{"100:0:0:1::1/128", never}, // past discard-only 100::/64
		{"2001::1/128", tenantOnly}, // TEREDO, in 2001::/23
		{"2001:200::1/128", never},  // past 2001::/23
		{"2001:db8::1/128", never},
		{"5f00::1/128", tenantOnly},
		{"2000::/3", tenantOnly}, // covers 2001::/23
		{"2a00:10::/64", never},
	}
	g := NewGuard(&config.Config{})
	for _, tc := range cases {
		p := netip.MustParsePrefix(tc.prefix)
		_, _, okProvider := g.check(p, false)
		_, _, okTenant := g.check(p, true)
		got := never
		switch {
		case !okProvider:
			got = always
			require.False(t, okTenant, tc.prefix)
		case !okTenant:
			got = tenantOnly
		}
		require.Equal(t, tc.want, got, tc.prefix)
	}
}

func TestGuardTenantRules(t *testing.T) {
	cfg := config.Default()
	cfg.OVNBGP.TenantAllowedPrefixes = []string{"10.0.0.0/8", "2a00::/16"}
	g := NewGuard(cfg)
	g.SetProtected(Protected{
		Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2a00:1::1")},
		Nets:  []netip.Prefix{netip.MustParsePrefix("10.200.0.0/16")},
	})
	cases := []struct {
		prefix string
		tenant bool
		reason string
	}{
		{"10.1.0.0/24", true, ""},
		{"10.0.0.0/9", true, ""}, // longer than the minimum, inside the allowed list
		{"10.0.0.0/7", true, "short-prefix"},
		{"11.0.0.0/8", true, "prefix-not-allowed"},
		{"10.200.1.0/24", true, "protected-prefix"}, // inside a connected network
		{"10.200.0.0/15", true, "protected-prefix"}, // covers a connected network
		{"10.200.1.5/32", false, ""},                // provider addresses may be in a connected network
		{"192.0.2.1/32", false, "protected-prefix"}, // but never a protected address
		{"2a00:1::/64", true, "protected-prefix"},
		{"2a00:2::/64", true, ""},
		{"2a00::/15", true, "short-prefix"},
		{"2a00::/31", true, "short-prefix"},
		{"2a00::/32", true, ""},
	}
	for _, tc := range cases {
		reason, detail, ok := g.check(netip.MustParsePrefix(tc.prefix), tc.tenant)
		require.Equal(t, tc.reason == "", ok, "%s: %s", tc.prefix, detail)
		require.Equal(t, tc.reason, reason, "%s: %s", tc.prefix, detail)
	}
}
