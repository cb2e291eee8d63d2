package frr

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// variant is one configuration the golden tests render.
type variant struct {
	name     string
	mod      func(c *config.Config)
	routerID string
	vrfs     []VRF
	dynamic  []DynamicVRF // exposing_method = dynamic when set
	nets     []Network    // service VIPs
}

// variantNamed is the variant of that name (the zero one if none).
func variantNamed(name string) variant {
	for _, v := range variants {
		if v.name == name {
			return v
		}
	}
	return variant{}
}

func evpnMethod(c *config.Config) {
	c.Driver = config.DriverNB
	c.ExposingMethod = config.ExposingVRF
	c.EVPNLocalIP = "192.0.2.10"
}

// tenantVRF is the EVPN VRF of VNI vni as the vrf exposing method asks
// for it.
func tenantVRF(vni uint32) VRF {
	return VRF{Name: fmt.Sprintf("vrf-%d", vni), Table: int(vni), VNI: vni,
		Redistribute: []Redistribute{{Source: "connected"}, {Source: "kernel"}}}
}

func (v variant) input(c *config.Config) Input {
	return Input{Config: c, RouterID: v.routerID, VRFs: v.vrfs, Networks: v.nets, Dynamic: v.dynamic}
}

func dynamicMode(c *config.Config) { c.ExposingMethod = config.ExposingDynamic }

func fabricPeers(c *config.Config) {
	c.OVNBGP.Peers = []config.Peer{
		{Address: "10.0.1.1", RemoteAS: "65000"},
		{Address: "2001:db8:1::1", RemoteAS: "65000"},
	}
}

// variants are shared by the golden tests and the lab test that applies
// each of them to a real FRR.
var variants = []variant{
	{name: "connected-leak", routerID: "10.0.1.2"},
	{name: "connected-no-router-id"},
	{name: "table", mod: func(c *config.Config) { c.OVNBGP.AnnounceMethod = config.AnnounceTable }},
	{name: "table-announce-table-id", mod: func(c *config.Config) {
		c.OVNBGP.AnnounceMethod = config.AnnounceTable
		c.OVNBGP.AnnounceTableID = 42
	}},
	{name: "table-fabric-full", routerID: "10.0.1.2", mod: func(c *config.Config) {
		c.OVNBGP.AnnounceMethod = config.AnnounceTable
		fabricPeers(c)
		c.OVNBGP.PeerPassword = "s3cret"
		c.OVNBGP.BFD = true
		c.OVNBGP.BFDTransmitMs, c.OVNBGP.BFDReceiveMs = 100, 100
		c.OVNBGP.MaximumPaths = 8
	}},
	{name: "table-fabric-minimal", mod: func(c *config.Config) {
		c.OVNBGP.AnnounceMethod = config.AnnounceTable
		c.OVNBGP.Peers = []config.Peer{{Address: "10.0.1.1"}}
		c.OVNBGP.GracefulRestart = false
		c.OVNBGP.OnlyHostPrefixes = false
	}},
	{name: "connected-unnumbered-peer-group", routerID: "10.0.1.2", mod: func(c *config.Config) {
		c.OVNBGP.Peers = []config.Peer{
			{Address: "eth1", Interface: true, RemoteAS: "internal"},
			{Address: "eth2", Interface: true, RemoteAS: "internal"},
		}
		c.OVNBGP.PeerGroup = "uplink"
		c.OVNBGP.PeerPassword = "f00bar"
		c.OVNBGP.BFD = true
		c.OVNBGP.MaximumPaths = 2
	}},
	// Service VIPs, plain and de-preferred (issue 19).
	{name: "table-vips-deprefer", mod: func(c *config.Config) {
		c.OVNBGP.AnnounceMethod = config.AnnounceTable
		c.OVNBGP.Peers = []config.Peer{{Address: "10.0.1.1"}}
	}, nets: []Network{
		{Prefix: netip.MustParsePrefix("203.0.113.10/32")},
		{Prefix: netip.MustParsePrefix("203.0.113.20/32"), Attrs: plan.PathAttrs{MED: 1000, SetMED: true}},
		{Prefix: netip.MustParsePrefix("203.0.113.30/32"), Attrs: plan.PathAttrs{MED: 1000, SetMED: true}},
		{Prefix: netip.MustParsePrefix("203.0.113.40/32"), Attrs: plan.PathAttrs{Prepend: 3}},
		{Prefix: netip.MustParsePrefix("2001:db8::10/128"), Attrs: plan.PathAttrs{MED: 5, SetMED: true, Prepend: 2}},
	}},
	// EVPN (exposing_method = vrf): a VRF per VNI, type-5 over the
	// default instance's sessions.
	{name: "evpn-vrf-minimal", mod: evpnMethod, vrfs: []VRF{tenantVRF(100)}},
	{name: "evpn-vrf-full", routerID: "10.0.1.2", mod: func(c *config.Config) {
		evpnMethod(c)
		fabricPeers(c)
	}, vrfs: []VRF{
		func() VRF {
			v := tenantVRF(100)
			v.RD = "192.0.2.10:100"
			v.ImportRT, v.ExportRT = []string{"64999:100", "65000:100"}, []string{"64999:100"}
			return v
		}(),
		func() VRF {
			v := tenantVRF(16777215)
			v.RD = "64999:7"
			v.ImportRT = []string{"64999:200"}
			return v
		}(),
	}},
	{name: "evpn-vrf-ipv4", mod: evpnMethod, vrfs: []VRF{func() VRF {
		v := tenantVRF(300)
		v.Families = []string{"ipv4"}
		v.ExportRT = []string{"4200000000:300"}
		return v
	}()}},
	{name: "evpn-vrf-ipv6-peer-group", mod: func(c *config.Config) {
		evpnMethod(c)
		c.OVNBGP.Peers = []config.Peer{{Address: "eth1", Interface: true, RemoteAS: "internal"}}
		c.OVNBGP.PeerGroup = "uplink"
	}, vrfs: []VRF{func() VRF {
		v := tenantVRF(400)
		v.Families = []string{"ipv6"}
		v.RD = "10.0.0.1:400"
		return v
	}()}},
	// driver = ovn_evpn_driver: the VRFs of the plan (TenantVRFs), each
	// with the AS of its gateway's neutron_bgpvpn:as.
	{name: "evpn-driver-own-as", mod: func(c *config.Config) {
		c.Driver, c.EVPNLocalIP = config.DriverEVPN, "192.0.2.10"
	}, vrfs: TenantVRFs([]plan.VRF{
		{Name: "vrf-100", VNI: 100, Table: 100, AS: 65001, RD: "192.0.2.10:100"},
		{Name: "vrf-2000", VNI: 2000, Table: 2000, AS: 64999},
	})},
	// A VRF without VNI that peers inside (the shape of OVN dynamic
	// routing): neighbours of both families, a route-map on a
	// redistribution.
	{name: "vrf-peers", mod: func(c *config.Config) { c.OVNBGP.AnnounceMethod = config.AnnounceTable }, vrfs: []VRF{{
		Name: "ovnvrf7", Table: 7, AS: 65010, RouterID: "10.7.0.1",
		Redistribute: []Redistribute{{Source: "kernel", RouteMap: "ovnbgp-vrf7"}, {Source: "static"}},
		Neighbors:    []VRFNeighbor{{Address: "10.7.0.254", RemoteAS: "65100"}, {Address: "2001:db8:7::fe"}, {Address: "veth7", Interface: true, RemoteAS: "internal"}},
	}}},
	{name: "table-peer-group-mixed-as", mod: func(c *config.Config) {
		c.OVNBGP.AnnounceMethod = config.AnnounceTable
		c.OVNBGP.Peers = []config.Peer{
			{Address: "10.0.1.1", RemoteAS: "65000"},
			{Address: "10.0.2.1", RemoteAS: "65001"},
		}
		c.OVNBGP.PeerGroup = "tors"
	}},
	// exposing_method = dynamic: OVN's VRFs, one with two routing
	// interfaces (BFD, ECMP), one without a peer yet.
	{name: "dynamic", mod: func(c *config.Config) {
		dynamicMode(c)
		c.OVNBGP.BFD = true
		c.OVNBGP.MaximumPaths = 4
	}, dynamic: []DynamicVRF{{Name: "ovnvrf42"}, {Name: "ovnvrf10", Interfaces: []string{"bgp-eth2", "bgp-eth1"}}}},
	// dynamic with fabric peers in the default instance too, one VRF left.
	{name: "dynamic-fabric-one-vrf", routerID: "10.0.1.2", mod: func(c *config.Config) {
		dynamicMode(c)
		fabricPeers(c)
		c.OVNBGP.BFD = true
	}, dynamic: []DynamicVRF{{Name: "ovnvrf10", Interfaces: []string{"bgp-eth1"}}}},
}

func (v variant) config() *config.Config {
	c := config.Default()
	c.BGPRouterID = v.routerID
	if v.mod != nil {
		v.mod(c)
	}
	return c
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".conf")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			nodes, err := Render(v.input(v.config()))
			if err != nil {
				t.Fatal(err)
			}
			text := Text(nodes)
			golden(t, v.name, text)
			// The text reads back into the same tree (the state file).
			if back := Text(ParseText(text)); back != text {
				t.Errorf("ParseText round trip differs:\n%s", back)
			}
		})
	}
}

func TestRemovalsGolden(t *testing.T) {
	byName := map[string]variant{}
	for _, v := range variants {
		byName[v.name] = v
	}
	render := func(name string) []*Node {
		v := byName[name]
		n, err := Render(v.input(v.config()))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct{ from, to string }{
		{"table-fabric-full", "table"},                                         // fabric side switched off
		{"connected-leak", "table"},                                            // announce method changed
		{"table", "table-announce-table-id"},                                   // table id changed
		{"table-fabric-full", "table-fabric-minimal"},                          // options turned off, a peer dropped
		{"connected-unnumbered-peer-group", "connected-leak"},                  // group and unnumbered peers dropped
		{"table-peer-group-mixed-as", "table-fabric-minimal"},                  // group dropped, a member stays
		{"connected-unnumbered-peer-group", "connected-unnumbered-peer-group"}, // nothing
		{"evpn-vrf-full", "evpn-vrf-minimal"},                                  // a VNI gone, rd and rts dropped
		{"table-vips-deprefer", "table-fabric-minimal"},                        // the VIPs withdrawn, their route-maps removed whole
		{"evpn-vrf-minimal", "connected-leak"},                                 // every VRF gone, the leak back
		{"evpn-vrf-ipv4", "evpn-vrf-ipv6-peer-group"},                          // one VRF replaced by another
		{"vrf-peers", "table"},                                                 // a peering VRF gone
		{"connected-leak", "dynamic"},                                          // underlay to dynamic
		{"dynamic", "dynamic-fabric-one-vrf"},                                  // a VRF gone, the fabric added
		{"dynamic-fabric-one-vrf", "connected-leak"},                           // back to underlay
	} {
		name := "removals-" + tc.from + "-to-" + tc.to
		t.Run(name, func(t *testing.T) {
			golden(t, name, Text(Removals(render(tc.from), render(tc.to), nil)))
		})
	}
	if r := Removals(render("table-fabric-full"), render("table-fabric-full"), nil); len(r) != 0 {
		t.Errorf("removals between equal renderings: %s", Text(r))
	}
}

func TestRemovalsProtected(t *testing.T) {
	v := variants[0]
	for _, x := range variants {
		if x.name == "table-fabric-full" {
			v = x
		}
	}
	prev, err := Render(v.input(v.config()))
	if err != nil {
		t.Fatal(err)
	}
	// The operator's file also has these lines: they must stay.
	operator := parseRunning("router bgp 64999\n no bgp ebgp-requires-policy\n neighbor 10.0.1.1 remote-as 65000\n" +
		" address-family ipv4 unicast\n  maximum-paths 8\n exit-address-family\nexit\n")
	got := Text(Removals(prev, nil, operator))
	for _, bad := range []string{"bgp ebgp-requires-policy", "no neighbor 10.0.1.1\n", "no neighbor 10.0.1.1 activate",
		"address-family ipv4 unicast\n  no maximum-paths 8\n"} {
		if strings.Contains(got, bad) {
			t.Errorf("removals touch the operator's line %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{"no neighbor 2001:db8:1::1\n", "  no maximum-paths ibgp 8\n", " no neighbor 10.0.1.1 password s3cret\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("removals lack %q:\n%s", want, got)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(c *config.Config)
		id   string
		want string
	}{
		{"zero AS", func(c *config.Config) { c.BGPAS = 0 }, "", "bgp_AS"},
		{"bad router id", func(c *config.Config) { c.BGPRouterID = "10.0.0.300" }, "", "router_id"},
		{"v6 router id", nil, "2001:db8::1", "router_id"},
		{"bad method", func(c *config.Config) { c.OVNBGP.AnnounceMethod = "magic" }, "", "announce_method"},
		{"table out of range", func(c *config.Config) {
			c.OVNBGP.AnnounceMethod = config.AnnounceTable
			c.OVNBGP.AnnounceTableID = 300
		}, "", "1-252"},
		{"bad peer address", func(c *config.Config) { c.OVNBGP.Peers = []config.Peer{{Address: "10.0.0"}} }, "", "peer address"},
		{"bad remote AS", func(c *config.Config) {
			c.OVNBGP.Peers = []config.Peer{{Address: "10.0.0.1", RemoteAS: "sixty"}}
		}, "", "remote AS"},
		{"interface with space", func(c *config.Config) {
			c.OVNBGP.Peers = []config.Peer{{Address: "eth0 remote-as 1", Interface: true}}
		}, "", "peer interface"},
		{"group with space", func(c *config.Config) {
			fabricPeers(c)
			c.OVNBGP.PeerGroup = "a b"
		}, "", "peer_group"},
		{"password with newline", func(c *config.Config) {
			fabricPeers(c)
			c.OVNBGP.PeerPassword = "x\nrouter bgp 1"
		}, "", "peer_password"},
		{"connected without vrf", func(c *config.Config) { c.BGPVRF = "" }, "", "bgp_vrf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			if tc.mod != nil {
				tc.mod(c)
			}
			_, err := Render(Input{Config: c, RouterID: tc.id})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRenderVRFErrors: a VRF the rendering cannot express is an error
// naming it, never a half-rendered instance.
func TestRenderVRFErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		vrfs []VRF
		want string
	}{
		{"vni too large", []VRF{{Name: "vrf-x", VNI: 16777216}}, "outside 1..16777215"},
		{"same vni twice", []VRF{{Name: "vrf-a", VNI: 5}, {Name: "vrf-b", VNI: 5}}, "vni 5 on both vrf vrf-a and vrf vrf-b"},
		{"same name twice", []VRF{{Name: "vrf-a"}, {Name: "vrf-a"}}, "listed twice"},
		{"name with space", []VRF{{Name: "vrf a"}}, "has a space"},
		{"bad rd", []VRF{{Name: "vrf-a", VNI: 1, RD: "100"}}, "rd"},
		{"rd with ipv6", []VRF{{Name: "vrf-a", VNI: 1, RD: "2001:db8::1:5"}}, "rd"},
		{"bad import rt", []VRF{{Name: "vrf-a", VNI: 1, ImportRT: []string{"*:5"}}}, "route-target import"},
		{"4-byte AS with 32-bit number", []VRF{{Name: "vrf-a", VNI: 1, ExportRT: []string{"4200000000:70000"}}}, "route-target export"},
		{"table in a vrf", []VRF{{Name: "vrf-a", Redistribute: []Redistribute{{Source: "table 5"}}}}, "not a route source"},
		{"bad family", []VRF{{Name: "vrf-a", Families: []string{"l2vpn"}}}, "family"},
		{"bad neighbour", []VRF{{Name: "vrf-a", Neighbors: []VRFNeighbor{{Address: "10.0.0"}}}}, "neighbor address"},
		{"bad router id", []VRF{{Name: "vrf-a", RouterID: "2001:db8::1"}}, "router id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			evpnMethod(c)
			_, err := Render(Input{Config: c, VRFs: tc.vrfs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSetVRFs: an equal list is no change (the agent applies only on a
// change); the recorded list is a copy.
func TestSetVRFs(t *testing.T) {
	s, err := NewWithOptions(config.Default(), testLogger(t), Options{StateFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	v := []VRF{tenantVRF(100)}
	if !s.SetVRFs(v) {
		t.Fatal("first SetVRFs: no change")
	}
	if s.SetVRFs([]VRF{tenantVRF(100)}) {
		t.Fatal("equal SetVRFs: a change")
	}
	v[0].RD = "1:1"
	if !s.SetVRFs(v) {
		t.Fatal("new rd: no change")
	}
	if s.SetVRFs(nil) != true || s.SetVRFs(nil) {
		t.Fatal("clearing: want one change")
	}
}

// TestRenderKeepsSavedVRFsUntilSet: after a restart the start apply runs
// before the first plan: the saved rendering's VRF pieces are kept until
// the drivers set the VRFs (removing them would withdraw every tenant's
// routes until the first full reconcile); once set, they follow the set.
func TestRenderKeepsSavedVRFsUntilSet(t *testing.T) {
	v := variantNamed("evpn-vrf-full")
	prev, err := Render(v.input(v.config()))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "frr-applied.conf")
	if err := os.WriteFile(state, []byte(Text(prev)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := v.config()
	cfg.BGPRouterID = v.routerID
	s, err := NewWithOptions(cfg, testLogger(t), Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	s.routerID = v.routerID
	cur, err := s.render()
	if err != nil {
		t.Fatal(err)
	}
	if r := Text(Removals(s.prev, cur, nil)); r != "" {
		t.Errorf("the start apply would remove:\n%s", r)
	}
	if !s.SetVRFs(nil) {
		t.Fatal("SetVRFs(nil) after a saved rendering with VRFs: no change")
	}
	cur, _ = s.render()
	r := Text(Removals(s.prev, cur, nil))
	for _, want := range []string{"no router bgp 64999 vrf vrf-100", "no vni 16777215", "no advertise-all-vni"} {
		if !strings.Contains(r, want) {
			t.Errorf("removals once the VRFs are set to none lack %q:\n%s", want, r)
		}
	}
	// Underlay: no saved VRFs, the first SetVRFs(nil) changes nothing.
	u, err := NewWithOptions(config.Default(), testLogger(t), Options{StateFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if u.SetVRFs(nil) {
		t.Error("SetVRFs(nil) without saved VRFs: a change (an extra apply per start)")
	}
}

// TestRenderVIPNetworks: the service VIPs are network statements in the
// default instance's address family of their IP version, with either
// announce method; removing one renders exactly its `no network`.
func TestRenderVIPNetworks(t *testing.T) {
	nets := []Network{{Prefix: netip.MustParsePrefix("203.0.113.10/32")}, {Prefix: netip.MustParsePrefix("2001:db8::10/128")}}
	for _, method := range []string{config.AnnounceTable, config.AnnounceConnected} {
		c := config.Default()
		c.OVNBGP.AnnounceMethod = method
		with, err := Render(Input{Config: c, Networks: nets})
		if err != nil {
			t.Fatal(err)
		}
		text := Text(with)
		for _, want := range []string{
			"router bgp 64999\n address-family ipv4 unicast\n",
			"  network 203.0.113.10/32\n",
			" address-family ipv6 unicast\n",
			"  network 2001:db8::10/128\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: %q missing in\n%s", method, want, text)
			}
		}
		without, err := Render(Input{Config: c, Networks: nets[:1]})
		if err != nil {
			t.Fatal(err)
		}
		rm := Text(Removals(with, without, nil))
		if !strings.Contains(rm, "no network 2001:db8::10/128") || strings.Contains(rm, "203.0.113.10") {
			t.Errorf("%s: removals of one VIP:\n%s", method, rm)
		}
	}
}

func TestVtyScript(t *testing.T) {
	got := vtyScript("router bgp 1\n address-family ipv4 unicast\n  network 192.0.2.1/32\n exit-address-family\nexit\n")
	want := []string{"enable", "configure terminal", "router bgp 1", "address-family ipv4 unicast", "network 192.0.2.1/32", "exit-address-family", "exit", "end"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("vtyScript = %q", got)
	}
}

// TestNetworksOf: the VIPs of a saved rendering are found again (a new
// agent keeps rendering them until its first Sync).
func TestNetworksOf(t *testing.T) {
	c := config.Default()
	nets := []Network{{Prefix: netip.MustParsePrefix("203.0.113.10/32")}, {Prefix: netip.MustParsePrefix("2001:db8::10/128")}}
	nodes, err := Render(Input{Config: c, Networks: nets})
	if err != nil {
		t.Fatal(err)
	}
	got := networksOf(ParseText(Text(nodes)), c.BGPAS)
	if len(got) != 2 || got[0] != nets[0] || got[1] != nets[1] {
		t.Errorf("networksOf = %v", got)
	}
}
