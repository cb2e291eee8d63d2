package linux

import (
	"go/parser"
	"go/token"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

func TestVLANDeviceName(t *testing.T) {
	for _, c := range []struct {
		bridge string
		tag    int
		want   string
	}{
		{"br-ex", 100, "br-ex.100"},
		{"br-ex", 4094, "br-ex.4094"},
		{"br-provide", 4094, "br-provide.4094"}, // exactly 15: upstream's name
		{"br-provider", 1001, ""},               // 16: hashed
		{"br-provider-long-name", 7, ""},
	} {
		got := VLANDeviceName(c.bridge, c.tag)
		if len(got) > 15 {
			t.Errorf("%s/%d: %q is longer than IFNAMSIZ-1", c.bridge, c.tag, got)
		}
		if c.want != "" && got != c.want {
			t.Errorf("%s/%d = %q, want %q", c.bridge, c.tag, got, c.want)
		}
		if !strings.HasSuffix(got, "."+strconv.Itoa(c.tag)) {
			t.Errorf("%s/%d = %q: the tag is cut", c.bridge, c.tag, got)
		}
	}
	// Upstream's collisions: bridges sharing their first 10 characters, and
	// br-provider.1001 cut to br-provider.100.
	seen := map[string]string{}
	for _, b := range []string{"br-provider", "br-provider1", "br-provider2", "br-providerX"} {
		for _, tag := range []int{1, 100, 1001, 4094} {
			n := VLANDeviceName(b, tag)
			if prev, ok := seen[n]; ok {
				t.Errorf("%s/%d and %s collide on %q", b, tag, prev, n)
			}
			seen[n] = b + "/" + strconv.Itoa(tag)
		}
	}
	if VLANDeviceName("br-provider", 1001) == VLANDeviceName("br-provider", 100) {
		t.Error("tags 1001 and 100 collide")
	}
}

func TestLinkAddresses(t *testing.T) {
	// The values upstream writes: ovn_bgp_agent/utils/linux_net.py
	// ensure_arp_ndp_enabled_for_bridge at tag 4.0.0 (bridges only) and
	// from 5.0.0 on (bridges and VLAN devices).
	for _, c := range []struct {
		scheme      string
		index, vlan int
		v4, v6      string
	}{
		{config.LinkAddresses40, 1, 0, "169.254.0.1/32", "fd53:d91e:400:7f17::1/128"},
		{config.LinkAddresses40, 2, 0, "169.254.0.2/32", "fd53:d91e:400:7f17::2/128"},
		{config.LinkAddresses40, 300, 0, "169.254.1.44/32", "fd53:d91e:400:7f17::12c/128"},
		{config.LinkAddresses40, 1, 100, "169.254.1.100/32", "fd53:d91e:400:7f17::1:64/128"},
		{config.LinkAddresses50, 1, 0, "169.254.1.1/32", "fd53:d91e:400:7f17::1:1/128"},
		{config.LinkAddresses50, 2, 0, "169.254.2.2/32", "fd53:d91e:400:7f17::2:2/128"},
		{config.LinkAddresses50, 1, 100, "169.254.1.100/32", "fd53:d91e:400:7f17::1:64/128"},
		{config.LinkAddresses50, 3, 1001, "169.254.3.233/32", "fd53:d91e:400:7f17::3:e9/128"},
	} {
		a4, a6 := LinkAddresses(c.scheme, c.index, c.vlan)
		if a4.String() != c.v4 || a6.String() != c.v6 {
			t.Errorf("LinkAddresses(%s, %d, %d) = %s %s, want %s %s", c.scheme, c.index, c.vlan, a4, a6, c.v4, c.v6)
		}
		if !isLinkAddress(a4) || !isLinkAddress(a6) {
			t.Errorf("isLinkAddress rejects %s or %s", a4, a6)
		}
	}
	// Under the 4.0 scheme a VLAN device's addresses never equal a bridge's.
	for i := 1; i < 256; i++ {
		b4, b6 := LinkAddresses(config.LinkAddresses40, i, 0)
		for j := 1; j < 256; j++ {
			for _, tag := range []int{1, 255, 256, 4094} {
				v4, v6 := LinkAddresses(config.LinkAddresses40, j, tag)
				if v4 == b4 || v6 == b6 {
					t.Fatalf("bridge %d and VLAN device %d.%d share %s or %s", i, j, tag, v4, v6)
				}
			}
		}
	}
	for _, p := range []string{"169.254.1.1/24", "10.0.0.1/32", "fd53:d91e:400:7f18::1/128", "2001:db8::1/128"} {
		if isLinkAddress(netip.MustParsePrefix(p)) {
			t.Errorf("isLinkAddress(%s) = true", p)
		}
	}
}

func TestRulePriority(t *testing.T) {
	for _, c := range []struct {
		p    string
		want uint32
	}{
		{"10.0.0.1/32", 1000}, {"10.0.0.0/24", 1008}, {"0.0.0.0/0", 1032},
		{"2001:db8::1/128", 1000}, {"2001:db8::/64", 1064}, {"::/0", 1128},
	} {
		if got := rulePriority(netip.MustParsePrefix(c.p), 1000, 1999); got != c.want {
			t.Errorf("rulePriority(%s) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := rulePriority(netip.MustParsePrefix("::/0"), 1000, 1050); got != 1050 {
		t.Errorf("not clamped: %d", got)
	}
}

func TestRTTables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rt_tables"), []byte("# comment\n255 local\n254\tmain\n47 br-ex # upstream\nbogus line\n0x30 hex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rt_tables.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rt_tables.d", "a.conf"), []byte("47 other\n60 br-ex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err := readRTTables(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rt.byName["br-ex"] != 47 || rt.byID[47] != "br-ex" || rt.byName["hex"] != 48 || rt.byName["main"] != 254 {
		t.Errorf("parsed %v %v", rt.byName, rt.byID)
	}
	if err := writeOwnTables(dir, map[int]string{202: "br-two", 201: "br-one"}); err != nil {
		t.Fatal(err)
	}
	own := readOwnTables(dir)
	if !own[201] || !own[202] || len(own) != 2 {
		t.Errorf("own tables %v", own)
	}
	data, _ := os.ReadFile(ownFile(dir))
	if !strings.Contains(string(data), "201\tbr-one\n202\tbr-two\n") {
		t.Errorf("ovnbgp.conf: %q", data)
	}
}

func TestParseEncodeRoundTrip(t *testing.T) {
	rule := objID{kind: kindRule, table: 300, prio: 1000, dst: netip.MustParsePrefix("2001:db8::/64")}
	p, ok := parseRule(encRule(rule, 201, true).data)
	if !ok || !p.plain || p.id != rule || p.proto != 201 {
		t.Errorf("rule round trip: %+v %v", p, ok)
	}
	wide := objID{kind: kindRule, table: 201, prio: 1001, dst: netip.MustParsePrefix("0.0.0.0/0")}
	if p, ok := parseRule(encRule(wide, 201, true).data); !ok || !p.tableWide || p.plain || p.id != wide {
		t.Errorf("table rule round trip: %+v %v", p, ok)
	}
	route := objID{kind: kindRoute, table: 201, dst: netip.MustParsePrefix("10.0.0.0/24")}
	v := objVal{link: 7, via: netip.MustParseAddr("172.24.4.100"), proto: 201}
	if id, got, ok := parseRoute(encRoute(route, v, true).data); !ok || id != route || got != v {
		t.Errorf("route round trip: %v %+v %v", id, got, ok)
	}
	n := objID{kind: kindNeigh, link: 3, dst: netip.MustParsePrefix("172.24.4.10/32")}
	nv := objVal{mac: [6]byte{0xfa, 0x16, 0x3e, 0, 1, 0x10}}
	if id, got, ok := parseNeigh(encNeigh(n, nv, true).data); !ok || id != n || got != nv {
		t.Errorf("neighbour round trip: %v %+v %v", id, got, ok)
	}
	px := objID{kind: kindProxy, link: 3, dst: netip.MustParsePrefix("2001:db8::1/128")}
	if id, _, ok := parseNeigh(encNeigh(px, objVal{}, true).data); !ok || id != px {
		t.Errorf("proxy round trip: %v %v", id, ok)
	}
	a := objID{kind: kindAddr, link: 9, dst: netip.MustParsePrefix("fd53:d91e:400:7f17::1:1/128")}
	if id, ok := parseAddr(encAddr(a, true).data); !ok || id != a {
		t.Errorf("address round trip: %v %v", id, ok)
	}
	// Truncated and garbage messages are rejected, not a panic.
	for _, b := range [][]byte{nil, {1, 2, 3}, make([]byte, 12), {2, 32, 0, 0, 201, 0, 0, 1, 0, 0, 0, 0, 200, 0}} {
		parseRule(b)
		parseRoute(b)
		parseNeigh(b)
		parseAddr(b)
		parseLink(b)
	}
}

func TestOptions(t *testing.T) {
	o := OptionsFromConfig(config.Default())
	if o.AnnounceMethod != AnnounceConnected || o.BGPVRF != "bgp-vrf" || o.BGPVRFTableID != 10 || o.RouteProtocol != 201 ||
		o.RulePriority != 1000 || o.RulePriorityMax != 1999 || o.BridgeTableBase != 200 || o.AnnounceTableID != 10 {
		t.Errorf("options from defaults: %+v", o)
	}
	for _, bad := range []Options{
		{AnnounceMethod: "bogus"},
		{AnnounceMethod: AnnounceTable, AnnounceTableID: 10, RulePriority: 2000, RulePriorityMax: 1000},
		{AnnounceMethod: AnnounceTable, AnnounceTableID: 10, RouteProtocol: 2},
		{AnnounceMethod: AnnounceConnected},
		{AnnounceMethod: AnnounceTable, AnnounceTableID: 10, RuleMode: "x"},
	} {
		if r, err := New(bad); err == nil {
			r.Close()
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// TestNoFork: the package writes the kernel through netlink and /proc/sys
// only; no file of it imports os/exec or syscall's fork helpers.
func TestNoFork(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pf.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); p == "os/exec" {
				t.Errorf("%s imports %s", f, p)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
