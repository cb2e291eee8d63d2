package frr

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

var (
	medAttrs     = plan.PathAttrs{MED: 1000, SetMED: true}
	prependAttrs = plan.PathAttrs{Prepend: 3}
)

func TestVIPRouteMapNames(t *testing.T) {
	for _, tc := range []struct {
		attrs plan.PathAttrs
		name  string
	}{
		{plan.PathAttrs{}, ""},
		{medAttrs, "ovnbgp-vip-med-1000"},
		{plan.PathAttrs{SetMED: true}, "ovnbgp-vip-med-0"},
		{prependAttrs, "ovnbgp-vip-prepend-3"},
		{plan.PathAttrs{MED: 7, SetMED: true, Prepend: 2}, "ovnbgp-vip-med-7-prepend-2"},
		{plan.PathAttrs{MED: 7}, ""}, // MED without SetMED sets nothing
	} {
		if got := vipRouteMap(tc.attrs); got != tc.name {
			t.Errorf("vipRouteMap(%+v) = %q, want %q", tc.attrs, got, tc.name)
		}
		if tc.name == "" {
			continue
		}
		if a, ok := parseVIPRouteMap(tc.name); !ok || vipRouteMap(a) != tc.name {
			t.Errorf("parseVIPRouteMap(%q) = %+v, %v", tc.name, a, ok)
		}
	}
	for _, bad := range []string{"ovnbgp-vip", "ovnbgp-vip-", "ovnbgp-vip-med", "ovnbgp-vip-med-x", "ovnbgp-vip-med-01",
		"ovnbgp-vip-prepend-0", "ovnbgp-vip-prepend-2-med-1", "ovnbgp-vip-med-1-med-2", "ovnbgp-vipmed-1", "ovnbgp-kernel6",
		"ovnbgp-vip-med-4294967296", "ovnbgp-vip-colour-1"} {
		if a, ok := parseVIPRouteMap(bad); ok {
			t.Errorf("parseVIPRouteMap(%q) = %+v, accepted", bad, a)
		}
	}
}

func FuzzParseVIPRouteMap(f *testing.F) {
	for _, s := range []string{"ovnbgp-vip-med-1000", "ovnbgp-vip-prepend-3", "ovnbgp-vip-med-1-prepend-1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := parseVIPRouteMap(s); ok && vipRouteMap(a) != s {
			t.Errorf("%q parsed to %+v, which names %q", s, a, vipRouteMap(a))
		}
	})
}

// TestRenderVIPDeprefer: a de-preferred VIP's statement names its
// route-map, rendered once per attribute set before the instance (the
// golden file is the variant's, TestRenderGolden); the saved rendering
// gives the VIPs back with their attributes.
func TestRenderVIPDeprefer(t *testing.T) {
	v := variantNamed("table-vips-deprefer")
	nodes, err := Render(v.input(v.config()))
	if err != nil {
		t.Fatal(err)
	}
	text := Text(nodes)
	if n := strings.Count(text, "route-map ovnbgp-vip-med-1000 permit 10"); n != 1 {
		t.Errorf("the MED route-map rendered %d times", n)
	}
	if strings.Index(text, "route-map ovnbgp-vip-") > strings.Index(text, "router bgp") {
		t.Errorf("a VIP route-map after the instance that uses it:\n%s", text)
	}
	// After a restart (the rendering read back from the state file) the
	// route-maps are still owned whole: removed with one `no route-map`.
	rm := Text(Removals(ParseText(text), nil, nil))
	for _, want := range []string{"no route-map ovnbgp-vip-med-1000 permit 10\n", "no route-map ovnbgp-vip-med-5-prepend-2 permit 10\n"} {
		if !strings.Contains(rm, want) {
			t.Errorf("removals after a restart lack %q:\n%s", want, rm)
		}
	}
	if strings.Contains(rm, "no set ") {
		t.Errorf("removals after a restart negate the route-maps' lines:\n%s", rm)
	}
	got := networksOf(ParseText(text), v.config().BGPAS)
	if len(got) != len(v.nets) {
		t.Fatalf("networksOf = %v", got)
	}
	for i := range v.nets {
		if got[i] != v.nets[i] {
			t.Errorf("networksOf[%d] = %v, want %v", i, got[i], v.nets[i])
		}
	}
}

// TestVIPScriptTransitions: the script of each VIP change, from what was
// applied before. A VIP that stays announced (plainly or de-preferred) is
// never sent a `no network` (it would withdraw it at the peers): its
// statement is entered again; a route-map no VIP uses any more is removed
// only after the statements moved off it.
func TestVIPScriptTransitions(t *testing.T) {
	p := netip.MustParsePrefix("203.0.113.10/32")
	q := netip.MustParsePrefix("2001:db8::10/128")
	plain := []Network{{Prefix: p}, {Prefix: q}}
	med := []Network{{Prefix: p, Attrs: medAttrs}, {Prefix: q}}
	prepend := []Network{{Prefix: p, Attrs: prependAttrs}, {Prefix: q, Attrs: prependAttrs}}
	onlyQ := []Network{{Prefix: q}}
	for _, tc := range []struct {
		name      string
		from, to  []Network
		withdrawn []string // prefixes whose `no network` is expected
	}{
		{"withdrawn-to-announced", onlyQ, plain, nil},
		{"announced-to-med", plain, med, nil},
		{"med-to-prepend", med, prepend, nil},
		{"prepend-to-announced", prepend, plain, nil},
		{"med-to-withdrawn", med, onlyQ, []string{p.String()}},
		{"withdrawn-to-med", onlyQ, med, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.OVNBGP.AnnounceMethod = config.AnnounceTable
			prev, err := Render(Input{Config: c, Networks: tc.from})
			if err != nil {
				t.Fatal(err)
			}
			cur, err := Render(Input{Config: c, Networks: tc.to})
			if err != nil {
				t.Fatal(err)
			}
			script := vipScript(prev, cur, tc.from, tc.to, c.BGPAS, nil)
			golden(t, "vip-"+tc.name, script)
			for _, l := range strings.Split(script, "\n") {
				l = strings.TrimSpace(l)
				if rest, ok := strings.CutPrefix(l, "no network "); ok {
					pfx := strings.Fields(rest)[0]
					if !contains(tc.withdrawn, pfx) {
						t.Errorf("%q withdraws a VIP that stays announced:\n%s", l, script)
					}
				}
			}
			for _, w := range tc.withdrawn {
				if !strings.Contains(script, "no network "+w) {
					t.Errorf("no withdrawal of %s:\n%s", w, script)
				}
			}
			// Every route-map a statement names exists before it (defined
			// earlier in the script, or applied before); every removed one
			// goes after the last statement.
			lines := strings.Split(script, "\n")
			defined := map[string]bool{}
			lastNet, firstRm := -1, len(lines)
			for i, l := range lines {
				f := strings.Fields(l)
				switch {
				case len(f) == 4 && f[0] == "route-map" && f[2] == "permit":
					defined[f[1]] = true
				case len(f) == 4 && f[0] == "network" && f[2] == "route-map":
					if !defined[f[3]] && !strings.Contains(Text(prev), "route-map "+f[3]+" permit 10") {
						t.Errorf("%q before its route-map exists:\n%s", l, script)
					}
				}
				if len(f) > 0 && f[0] == "network" || len(f) > 1 && f[0] == "no" && f[1] == "network" {
					lastNet = i
				}
				if strings.HasPrefix(l, "no route-map ") && i < firstRm {
					firstRm = i
				}
			}
			if firstRm < lastNet {
				t.Errorf("a route-map removed before the statements moved off it:\n%s", script)
			}
			// Applying the script then the rendering again converges: the
			// removals from cur to cur are none.
			if r := Text(Removals(cur, cur, nil)); r != "" {
				t.Errorf("removals from cur to itself: %s", r)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestVIPChangeKeepsVRFs: with tenant VRFs set, a VIP change renders the
// VIPs and the VRFs together, and its script removes none of the VRF
// pieces (a rendering without the VRFs would remove their instances).
func TestVIPChangeKeepsVRFs(t *testing.T) {
	c := config.Default()
	evpnMethod(c)
	fabricPeers(c)
	s, err := NewWithOptions(c, testLogger(t), Options{StateFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	s.SetVRFs([]VRF{tenantVRF(100), tenantVRF(200)})
	s.prev, err = s.render() // as after an Apply
	if err != nil {
		t.Fatal(err)
	}
	vrfText := Text(s.prev)
	p := netip.MustParsePrefix("203.0.113.10/32")
	steps := [][]Network{
		{{Prefix: p}},
		{{Prefix: p, Attrs: medAttrs}},
		{{Prefix: p}},
		nil,
	}
	var old []Network
	for i, nets := range steps {
		s.vipNets = nets
		cur, script, err := s.vipChange(old, nets)
		if err != nil {
			t.Fatal(err)
		}
		text := Text(cur)
		for _, want := range []string{"router bgp 64999 vrf vrf-100", "router bgp 64999 vrf vrf-200", "vrf vrf-100\n vni 100", "advertise-all-vni"} {
			if !strings.Contains(text, want) {
				t.Errorf("step %d: the rendering lost %q:\n%s", i, want, text)
			}
		}
		for _, n := range nets {
			if !strings.Contains(text, networkLine(n)) {
				t.Errorf("step %d: %q not rendered", i, networkLine(n))
			}
		}
		for _, l := range strings.Split(script, "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "no ") && !strings.HasPrefix(l, "no network ") && !strings.HasPrefix(l, "no route-map "+VIPRouteMapPrefix) {
				t.Errorf("step %d: the VIP change removes %q:\n%s", i, l, script)
			}
		}
		s.prev, old = cur, nets
	}
	if Text(s.prev) != vrfText {
		t.Errorf("after the VIP went, the rendering differs from the VRFs' alone:\n%s\n---\n%s", Text(s.prev), vrfText)
	}
}
