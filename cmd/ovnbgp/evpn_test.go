package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFirstGlobalIPv4(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		require.NoError(t, err)
		n.IP = ip
		return n
	}
	for _, tc := range []struct {
		addrs []net.Addr
		want  string
	}{
		{[]net.Addr{cidr("fe80::1/64"), cidr("2001:db8::1/64"), cidr("169.254.1.1/16"), cidr("10.0.1.2/30"), cidr("10.0.2.2/24")}, "10.0.1.2"},
		{[]net.Addr{cidr("127.0.0.1/8"), cidr("192.0.2.10/24")}, "192.0.2.10"},
		{[]net.Addr{cidr("2001:db8::1/64")}, ""},
		{nil, ""},
	} {
		got, err := firstGlobalIPv4(tc.addrs)
		if tc.want == "" {
			assert.Error(t, err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}
