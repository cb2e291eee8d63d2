package frr

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/speaker"
)

func readJSON(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "json", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSummary(t *testing.T) {
	peers, id, as, err := parseSummary(readJSON(t, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []speaker.Peer{
		{Address: "10.0.1.1", RemoteAS: 65000, State: "Established", Uptime: 2 * time.Second, PrefixesSent: 5, PrefixesRecvd: 1},
		{Address: "2001:db8:1::1", RemoteAS: 65000, State: "Active"},
		{Address: "eth1", State: "Idle"},
	}
	if !reflect.DeepEqual(peers, want) {
		t.Errorf("peers\n got %+v\nwant %+v", peers, want)
	}
	if id != "10.0.3.2" || as != 64999 {
		t.Errorf("router id %q as %d", id, as)
	}
	for _, in := range []string{"", "  \n"} {
		if p, _, _, err := parseSummary([]byte(in)); err != nil || p != nil {
			t.Errorf("empty summary %q: %v %v", in, p, err)
		}
	}
	if _, _, _, err := parseSummary([]byte("% BGP instance not found")); err == nil {
		t.Error("non-json summary accepted")
	}
}

func TestParseBFD(t *testing.T) {
	m, err := parseBFD(readJSON(t, "bfd.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"10.0.1.1": "up", "fe80::1": "down", "eth1": "down"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v want %v", m, want)
	}
	if _, err := parseBFD([]byte("{")); err == nil {
		t.Error("bad json accepted")
	}
}

func TestParseLocal(t *testing.T) {
	for _, tc := range []struct {
		vrf  string
		want []string
	}{
		{"bgp-vrf", []string{"172.24.4.10/32", "172.24.4.20/32", "172.24.4.30/32", "198.51.100.0/24"}},
		{"", []string{"172.24.4.10/32", "172.24.4.20/32", "198.51.100.0/24"}},
	} {
		ps, err := parseLocal(readJSON(t, "rib4.json"), tc.vrf)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("vrf %q: got %v want %v", tc.vrf, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	mp := netip.MustParsePrefix
	exp := map[netip.Prefix]bool{mp("10.0.0.1/32"): true, mp("10.0.0.2/32"): true, mp("2001:db8::1/128"): true}
	missing, extra := compare(exp, []netip.Prefix{mp("10.0.0.2/32"), mp("10.0.0.3/32"), mp("2001:db8::1/128")})
	if !reflect.DeepEqual(missing, []netip.Prefix{mp("10.0.0.1/32")}) || !reflect.DeepEqual(extra, []netip.Prefix{mp("10.0.0.3/32")}) {
		t.Errorf("missing %v extra %v", missing, extra)
	}
	if m, e := compare(map[netip.Prefix]bool{}, nil); m != nil || e != nil {
		t.Errorf("empty: %v %v", m, e)
	}
}

func TestParseRunning(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "json", "running.conf"))
	if err != nil {
		t.Fatal(err)
	}
	run := parseRunning(string(b))
	for _, p := range []string{
		"ip import-table 10",
		"router bgp 64999\x00neighbor 10.0.3.1 timers connect 2",
		"router bgp 64999\x00address-family ipv4 unicast\x00redistribute table 10",
		"bfd\x00profile ovnbgp\x00transmit-interval 100",
		"ip prefix-list ovnbgp-host4 seq 5 permit 0.0.0.0/0 ge 32",
	} {
		if !run[p] {
			t.Errorf("missing %q", strings.ReplaceAll(p, "\x00", " / "))
		}
	}
	for p := range run {
		if strings.Contains(p, "exit") || strings.HasPrefix(p, "!") {
			t.Errorf("unexpected %q", p)
		}
	}
}

func TestWithoutAnnounce(t *testing.T) {
	for _, v := range variants {
		nodes, err := Render(v.input(v.config()))
		if err != nil {
			t.Fatal(err)
		}
		text := Text(withoutAnnounce(nodes))
		for _, bad := range []string{"import-table", "redistribute", "import vrf", " vrf "} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: %q left after withoutAnnounce:\n%s", v.name, bad, text)
			}
		}
		if len(v.config().OVNBGP.Peers) > 0 && !strings.Contains(text, "neighbor ") {
			t.Errorf("%s: the peers went too:\n%s", v.name, text)
		}
	}
}

func TestNewOptions(t *testing.T) {
	c := config.Default()
	c.OVNBGP.FRRPathspace = "c1"
	c.OVNBGP.StateDir = "/var/lib/x"
	s, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.RunDir != "/var/run/frr/c1" || s.opts.OperatorConfig != "/etc/frr/c1/frr.conf" ||
		s.opts.StateFile != "/var/lib/x/frr-applied.conf" || !reflect.DeepEqual(s.opts.Daemons, []string{"zebra", "bgpd"}) {
		t.Errorf("options %+v", s.opts)
	}
	if got := s.vtyshArgs(); !reflect.DeepEqual(got, []string{"-H", "/dev/null", "-N", "c1"}) {
		t.Errorf("vtysh args %v", got)
	}
	c.OVNBGP.FRRPathspace = "../etc"
	if _, err := New(c, nil); err == nil {
		t.Error("pathspace with a slash accepted")
	}
	c = config.Default()
	c.OVNBGP.AnnounceMethod = "bogus"
	if _, err := New(c, nil); err == nil {
		t.Error("bad announce method accepted by New")
	}
	c = config.Default()
	c.OVNBGP.FRRVtySocket = "/srv/frr"
	c.OVNBGP.Peers = []config.Peer{{Address: "10.0.0.1"}}
	c.OVNBGP.BFD = true
	s, err = New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.vtyshArgs(); !reflect.DeepEqual(got, []string{"-H", "/dev/null", "--vty_socket", "/srv/frr"}) {
		t.Errorf("vtysh args %v", got)
	}
	if !reflect.DeepEqual(s.opts.Daemons, []string{"zebra", "bgpd", "bfdd"}) {
		t.Errorf("daemons %v", s.opts.Daemons)
	}
}

func TestStateFile(t *testing.T) {
	c := config.Default()
	c.OVNBGP.StateDir = t.TempDir()
	s, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.prev, err = Render(Input{Config: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.saveState(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if Text(s2.prev) != Text(s.prev) || len(s2.prev) == 0 {
		t.Errorf("state file round trip:\n%s\n---\n%s", Text(s2.prev), Text(s.prev))
	}
	// The vrf instance is recognised as owned again, so it is removed whole.
	if got := Text(Removals(s2.prev, nil, nil)); !strings.Contains(got, "no router bgp 64999 vrf bgp-vrf\n") {
		t.Errorf("removals after reload:\n%s", got)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{
		"FRRouting 8.4.4 (vm) on Linux(6.18.44).\nCopyright": "8.4.4",
		"FRRouting 10.3 (host) on Linux":                     "10.3",
		"garbage":                                            "",
	} {
		if got := parseVersion(in); got != want {
			t.Errorf("parseVersion(%q) = %q want %q", in, got, want)
		}
	}
}

// TestSyncDelta: the recorded prefixes follow a delta as they follow Sync;
// a changed key (in both lists) stays, VRF announcements are not bgpd's.
func TestSyncDelta(t *testing.T) {
	s, err := New(config.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ann := func(p, vrf string) plan.Announcement {
		return plan.Announcement{Prefix: netip.MustParsePrefix(p), VRF: vrf}
	}
	ctx := context.Background()
	if err := s.Sync(ctx, []plan.Announcement{ann("192.0.2.1/32", ""), ann("192.0.2.2/32", "")}); err != nil {
		t.Fatal(err)
	}
	err = s.SyncDelta(ctx, []plan.Announcement{ann("192.0.2.3/32", ""), ann("192.0.2.2/32", ""), ann("10.0.0.1/32", "blue")},
		[]plan.Announcement{ann("192.0.2.1/32", ""), ann("192.0.2.2/32", "")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Prefix]bool{netip.MustParsePrefix("192.0.2.2/32"): true, netip.MustParsePrefix("192.0.2.3/32"): true}
	if !reflect.DeepEqual(s.expected, want) {
		t.Errorf("expected prefixes %v, want %v", s.expected, want)
	}
}
