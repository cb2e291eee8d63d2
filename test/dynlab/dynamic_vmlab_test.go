//go:build vmlab

package dynlab

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/agent/dynrun"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
	"github.com/ovnbgp/ovnbgp/test/lab"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

func logger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// needDynamicOVN skips on an OVN without dynamic routing (the bookworm
// guest: 23.03), whose refusal e2e's TestDynamicTooOldOVN covers.
func needDynamicOVN(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(ovsdbserver.SBSchema)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Version string                     `json:"version"`
		Tables  map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Tables["Advertised_Route"]; !ok {
		t.Skipf("this OVN (southbound schema %s) has no dynamic routing; TestDynamicTooOldOVN covers the refusal", s.Version)
	}
}

// TestVMDynamicRouting runs ovnbgp's exposing_method = dynamic beside the
// real OVN 25.03 (Debian 13 guest) and FRR 10: a dynamic-routing router
// whose gateway port is on chassis c1 gets its VRF (created by ovnbgp: the
// port does not ask OVN to maintain it), the routing interface towards the
// ToR in it, and an FRR VRF instance that sends the routes ovn-controller
// writes there to the ToR; the ToR's default route comes back into the
// VRF and OVN learns it (SB Learned_Route). When the router stops being a
// dynamic-routing router, its routes are withdrawn at the ToR and ovnbgp
// removes the VRF instance and the VRF.
func TestVMDynamicRouting(t *testing.T) {
	needDynamicOVN(t)
	// The guest loads no module by itself: netdev bridges need /dev/net/tun.
	if out, err := exec.Command("modprobe", "-a", "tun", "vrf").CombinedOutput(); err != nil {
		t.Fatalf("modprobe tun vrf: %v: %s", err, out)
	}
	l := lab.New(t)
	central := l.StartCentral()
	ch := l.AddChassis(central, "c1", lab.ChassisOptions{Gateway: true})
	tor := l.NetNS("tor", true)
	l.Veth(ch.NS, "c1-tor", nil, tor, "tor-c1", nil)
	torFRR := l.StartFRR(tor, lab.ToRUnnumbered(65000, "10.255.0.1", "tor-c1"))
	c1FRR := l.StartFRR(ch.NS, "hostname c1\n")
	ch.VSCtl("set", "Open_vSwitch", ".", "external_ids:dynamic-routing-port-mapping=bgp-tor=c1-tor")

	// The router: a gateway port on the provider network, hosted on c1,
	// and a tenant network; OVN advertises its connected networks.
	nb := central.NBCtl
	nb("ls-add", "public")
	nb("lsp-add", "public", "provnet-public", "--", "lsp-set-type", "provnet-public", "localnet",
		"--", "lsp-set-addresses", "provnet-public", "unknown", "--", "lsp-set-options", "provnet-public", "network_name=physnet1")
	nb("ls-add", "net1")
	nb("lr-add", "bgp-lr-main", "--", "set", "Logical_Router", "bgp-lr-main",
		"options:dynamic-routing=true", "options:dynamic-routing-redistribute=connected")
	nb("lrp-add", "bgp-lr-main", "lrp-pub", "fa:16:3e:00:01:01", "172.24.4.1/24",
		"--", "set", "Logical_Router_Port", "lrp-pub", "options:dynamic-routing-port-name=bgp-tor")
	nb("lrp-set-gateway-chassis", "lrp-pub", "c1", "10")
	nb("lsp-add", "public", "public-lr", "--", "lsp-set-type", "public-lr", "router",
		"--", "lsp-set-addresses", "public-lr", "router", "--", "lsp-set-options", "public-lr", "router-port=lrp-pub")
	nb("lrp-add", "bgp-lr-main", "lrp-net1", "fa:16:3e:00:01:02", "10.0.0.1/24")
	nb("lsp-add", "net1", "net1-lr", "--", "lsp-set-type", "net1-lr", "router",
		"--", "lsp-set-addresses", "net1-lr", "router", "--", "lsp-set-options", "net1-lr", "router-port=lrp-net1")
	nb("--wait=hv", "sync")
	key := strings.TrimSpace(central.SBCtl("--bare", "--columns=tunnel_key", "find", "Datapath_Binding", "external_ids:name=bgp-lr-main"))
	vrf := "ovnvrf" + key
	t.Logf("SB Advertised_Route:\n%s", central.SBCtl("--columns=ip_prefix,logical_port", "list", "Advertised_Route"))

	// ovnbgp, in-process, in c1's namespace.
	cfg := config.Default()
	cfg.ExposingMethod = config.ExposingDynamic
	cfg.OVSDBConnection = ch.OVS.Remote()
	cfg.BGPRouterID = "10.255.0.2"
	cfg.OVNBGP.FRRPathspace = c1FRR.Pathspace
	cfg.OVNBGP.StateDir = t.TempDir()
	cfg.ReconcileInterval = 10 * time.Second
	log := logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := agent.NewSource(cfg, log, agent.Identity{})
	defer src.Close()
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if f := dynrun.Features(cfg, src); !f.Routing {
		t.Fatalf("features: %s", f.Reason)
	}
	h, err := netns.GetFromName(ch.NS.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	parts, err := dynrun.New(cfg, src, log, &h, frr.Options{StateFile: filepath.Join(t.TempDir(), "frr-applied.conf"), OperatorConfig: "-"})
	if err != nil {
		t.Fatal(err)
	}
	defer parts.VRFs.Close()
	if err := parts.Speaker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- parts.Controller.Run(ctx) }()
	defer func() { cancel(); <-done }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("c1 running-config:\n%s", c1FRR.Vtysh("show running-config"))
			t.Logf("c1 zebra:\n%s", c1FRR.Vtysh("show ip route vrf all"))
			t.Logf("c1 bgp:\n%s", c1FRR.Vtysh("show bgp vrf all ipv4 unicast"))
			t.Logf("c1 links:\n%s", ch.NS.IP("-d", "link"))
			t.Logf("c1 VRF routes:\n%s", ch.NS.IP("route", "show", "vrf", vrf))
			t.Logf("tor bgp:\n%s", torFRR.Vtysh("show bgp vrf all summary"))
			b, _ := os.ReadFile(filepath.Join(ch.Dir, "ovn", "ovn-controller.log"))
			t.Logf("ovn-controller.log:\n%s", b)
		}
	})

	l.Eventually(120*time.Second, "VRF "+vrf+" with c1-tor in it", func() bool {
		out := ch.NS.IP("-d", "link", "show", "c1-tor")
		return strings.Contains(out, "master "+vrf)
	})
	if alias := ch.NS.IP("-d", "link", "show", vrf); !strings.Contains(alias, "alias ovnbgp:dynamic") {
		t.Errorf("%s is not marked as ovnbgp's:\n%s", vrf, alias)
	}
	atToR := func(p string) bool { return strings.Contains(tor.IP("route", "show", p), p) }
	took := l.Eventually(90*time.Second, "10.0.0.0/24 (OVN's connected route) at the ToR", func() bool { return atToR("10.0.0.0/24") })
	t.Logf("the router's network reached the ToR %s after the VRF (software emulation: not a figure)", took.Round(time.Millisecond))
	t.Logf("c1 VRF %s routes:\n%s", vrf, ch.NS.IP("route", "show", "vrf", vrf))
	l.Eventually(180*time.Second, "the ToR's default route learned by OVN (SB Learned_Route)", func() bool {
		out, _ := ovnSB(central, "--bare", "--columns=ip_prefix", "list", "Learned_Route")
		return strings.Contains(out, "0.0.0.0/0")
	})
	t.Logf("SB Learned_Route:\n%s", central.SBCtl("--columns=ip_prefix,nexthop,logical_port", "list", "Learned_Route"))

	// Not a dynamic-routing router any more: withdrawn and removed.
	nb("remove", "Logical_Router", "bgp-lr-main", "options", "dynamic-routing")
	l.Eventually(180*time.Second, "10.0.0.0/24 withdrawn at the ToR", func() bool { return !atToR("10.0.0.0/24") })
	l.Eventually(60*time.Second, "the VRF instance and the VRF removed", func() bool {
		run := c1FRR.Vtysh("show running-config")
		_, err := ch.NS.Try("ip", "link", "show", vrf)
		return !strings.Contains(run, "router bgp 64999 vrf "+vrf) && err != nil
	})
}

func ovnSB(c *lab.Central, args ...string) (string, error) {
	out, err := exec.Command("ovn-sbctl", append([]string{"--db=" + c.SBRemote()}, args...)...).CombinedOutput()
	return string(out), err
}
