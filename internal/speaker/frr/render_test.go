package frr

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// variant is one configuration the golden tests render.
type variant struct {
	name     string
	mod      func(c *config.Config)
	routerID string
	dynamic  []DynamicVRF // exposing_method = dynamic when set
}

func (v variant) input(c *config.Config) Input {
	return Input{Config: c, RouterID: v.routerID, Dynamic: v.dynamic}
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
