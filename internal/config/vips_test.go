package config

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVIPSections(t *testing.T) {
	cfg, warns, err := load(t, `
[ovnbgp_vip:api]
address = 198.51.100.10
check = http
target = 127.0.0.1
port = 8080
path = /healthcheck
expect_status = 204
interval = 200ms
timeout = 0.15
rise = 3
fall = 2
on_failure = prepend
deprefer_prepend = 4
maintenance_file = /etc/ovnbgp/maintenance-api

[OVNBGP_VIP:db6]
address = 2001:db8::10
mode = anycast
device = vip0
check = command
command = /usr/bin/test -e "/run/my file"
`)
	require.NoError(t, err)
	assert.Empty(t, warns)
	require.Len(t, cfg.VIPs, 2)
	api := cfg.VIPs[0]
	assert.Equal(t, VIP{Name: "api", Address: netip.MustParseAddr("198.51.100.10"), Mode: VIPActivePassive, Device: "lo",
		Check: CheckHTTP, Target: "127.0.0.1", Port: 8080, Path: "/healthcheck", ExpectStatus: 204,
		Interval: 200 * time.Millisecond, Timeout: 150 * time.Millisecond, Rise: 3, Fall: 2,
		OnFailure: OnFailurePrepend, DepreferMED: 1000, DepreferPrepend: 4, MaintenanceFile: "/etc/ovnbgp/maintenance-api"}, api)
	assert.Equal(t, netip.MustParsePrefix("198.51.100.10/32"), api.Prefix())
	db := cfg.VIPs[1]
	assert.Equal(t, "db6", db.Name)
	assert.Equal(t, VIPAnycast, db.Mode)
	assert.Equal(t, "vip0", db.Device)
	assert.Equal(t, []string{"/usr/bin/test", "-e", "/run/my file"}, db.Command)
	assert.Equal(t, time.Second, db.Interval)
	assert.Equal(t, time.Second, db.Timeout, "timeout defaults to interval")
	assert.Equal(t, netip.MustParsePrefix("2001:db8::10/128"), db.Prefix())

	// port alone means a TCP check; no port and no check: none.
	cfg, _, err = load(t, "[ovnbgp_vip:a]\naddress = 192.0.2.1\nport = 443\n[ovnbgp_vip:b]\naddress = 192.0.2.2\n")
	require.NoError(t, err)
	assert.Equal(t, CheckTCP, cfg.VIPs[0].Check)
	assert.Equal(t, CheckNone, cfg.VIPs[1].Check)
}

func TestVIPSectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no address", "[ovnbgp_vip:a]\nport = 80\n", `invalid value "" for option address in [ovnbgp_vip:a] of t.conf: every VIP section needs an address`},
		{"bad address", "[ovnbgp_vip:a]\naddress = 1.2.3\n", `option address in [ovnbgp_vip:a] of t.conf: must be an IPv4 or IPv6 address`},
		{"loopback", "[ovnbgp_vip:a]\naddress = 127.0.0.5\n", `must be a unicast address that can be announced`},
		{"link-local v6", "[ovnbgp_vip:a]\naddress = fe80::1\n", `must be a unicast address that can be announced`},
		{"unknown option", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nintervall = 1s\n", `invalid value "1s" for option intervall in [ovnbgp_vip:a] of t.conf: unknown option of a VIP section`},
		{"bad mode", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nmode = active\n", `option mode in [ovnbgp_vip:a] of t.conf: must be one of: active-passive, anycast`},
		{"http without port", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ncheck = http\n", `option port in [ovnbgp_vip:a] of t.conf: check = http needs a port`},
		{"command without argv", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ncheck = command\n", `check = command needs a command`},
		{"relative command", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ncheck = command\ncommand = curl -f http://x/\n", `the program must be an absolute path`},
		{"unterminated quote", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ncheck = command\ncommand = /bin/x \"y\n", `unterminated " quote`},
		{"timeout over interval", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nport = 80\ninterval = 100ms\ntimeout = 1s\n", `option timeout in [ovnbgp_vip:a] of t.conf: must not be longer than interval (100ms)`},
		{"bad interval", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ninterval = fast\n", `option interval in [ovnbgp_vip:a] of t.conf: must be a positive duration`},
		{"tiny interval", "[ovnbgp_vip:a]\naddress = 192.0.2.1\ninterval = 1ms\n", `must be at least 10ms`},
		{"rise zero", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nrise = 0\n", `option rise in [ovnbgp_vip:a] of t.conf: must be an integer 1-100`},
		{"bad on_failure", "[ovnbgp_vip:a]\naddress = 192.0.2.1\non_failure = drop\n", `must be one of: withdraw, med, prepend`},
		{"bad status", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nport = 80\ncheck = http\nexpect_status = 42\n", `must be an HTTP status 100-599`},
		{"relative maintenance file", "[ovnbgp_vip:a]\naddress = 192.0.2.1\nmaintenance_file = down\n", `must be an absolute path`},
		{"bad name", "[ovnbgp_vip:a b]\naddress = 192.0.2.1\n", `in [ovnbgp_vip:a b] of t.conf: a VIP section is [ovnbgp_vip:NAME]`},
		{"empty name", "[ovnbgp_vip:]\naddress = 192.0.2.1\n", `a VIP section is [ovnbgp_vip:NAME]`},
		{"same address twice", "[ovnbgp_vip:a]\naddress = 192.0.2.1\n[ovnbgp_vip:b]\naddress = 192.0.2.1\n", `option address in [ovnbgp_vip:b] of t.conf: the same address is already the VIP of [ovnbgp_vip:a]`},
		{"bad ovn", "[ovnbgp]\novn = maybe\n", `option ovn in [ovnbgp]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			var ec interface{ ExitCode() int }
			require.True(t, errors.As(err, &ec))
			assert.Equal(t, ExitInvalid, ec.ExitCode())
		})
	}
}

func TestVIPSectionsLaterFileWins(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.conf", "[ovnbgp_vip:api]\naddress = 192.0.2.1\nport = 80\nfall = 3\n")
	b := writeFile(t, dir, "b.conf", "[ovnbgp_vip:api]\nfall = 5\n")
	cfg, _, err := Load([]string{a, b}, nil)
	require.NoError(t, err)
	require.Len(t, cfg.VIPs, 1)
	assert.Equal(t, 5, cfg.VIPs[0].Fall)
	assert.Equal(t, 80, cfg.VIPs[0].Port)

	// Diff names the VIP sections that changed.
	old := cfg.Clone()
	cfg.VIPs[0].Fall = 2
	cfg.VIPs = append(cfg.VIPs, VIP{Name: "new"})
	assert.Equal(t, []string{"[ovnbgp_vip:api]: changed", "[ovnbgp_vip:new]: added"}, cfg.Diff(old))
	none := cfg.Clone()
	none.VIPs = nil
	assert.Equal(t, []string{"[ovnbgp_vip:api]: removed", "[ovnbgp_vip:new]: removed"}, none.Diff(cfg))
}

func TestSplitArgv(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"/bin/true", []string{"/bin/true"}},
		{"  /bin/x  a\tb ", []string{"/bin/x", "a", "b"}},
		{`/bin/x "a b" 'c d'`, []string{"/bin/x", "a b", "c d"}},
		{`/bin/x "a\"b" 'a\b'`, []string{"/bin/x", `a"b`, `a\b`}},
		{`/bin/x ""`, []string{"/bin/x", ""}},
		{`/bin/x $HOME;rm`, []string{"/bin/x", "$HOME;rm"}},
		{"", nil},
	} {
		got, err := SplitArgv(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
