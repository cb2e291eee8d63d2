//go:build !vmlab

package frr

import (
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// TestLabDynamicRouteMapPicksOVNRoutes: the route-map of exposing_method
// = dynamic, applied by a real FRR (Debian 12: 8.4) to its redistributed
// kernel routes, sends the routes as OVN writes them (blackhole, protocol
// ovn 84, metric 1000 or 100) to the ToR, and not kernel routes of other
// metrics. The host kernel has no VRF, so the route-map is used in the
// default instance here; test/dynlab runs it in OVN's VRF with FRR 10.
func TestLabDynamicRouteMapPicksOVNRoutes(t *testing.T) {
	needLabFRR(t)
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	tor := l.NetNS("tor", true)
	l.Veth(tor, "tor-c1", []string{"10.0.1.1/30"}, c1, "c1-tor", []string{"10.0.1.2/30"})
	c := config.Default()
	c.ExposingMethod = config.ExposingDynamic
	nodes, err := renderDynamic(c, []DynamicVRF{{Name: "ovnvrf42"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	var routeMap []*Node
	for _, n := range nodes {
		if strings.HasPrefix(n.Line, "route-map ") {
			routeMap = append(routeMap, n)
		}
	}
	if len(routeMap) != len(OVNRouteMetrics) {
		t.Fatalf("renderDynamic: want one route-map entry per OVN metric, got:\n%s", Text(nodes))
	}
	l.StartFRR(c1, "hostname c1\n"+Text(routeMap)+`router bgp 64999
 bgp router-id 10.0.1.2
 no bgp ebgp-requires-policy
 neighbor 10.0.1.1 remote-as 65000
 neighbor 10.0.1.1 timers connect 2
 address-family ipv4 unicast
  redistribute kernel route-map `+DynamicRouteMap+`
 exit-address-family
exit
`)
	torFRR := l.StartFRR(tor, `hostname tor
router bgp 65000
 bgp router-id 10.0.1.1
 no bgp ebgp-requires-policy
 neighbor 10.0.1.2 remote-as 64999
exit
`)
	l.Eventually(20*time.Second, "ToR session", func() bool { return torFRR.Established() == 1 })
	// What ovn-controller writes: blackhole routes of protocol ovn, metric
	// 1000, or 100 when the tracked port is bound here.
	c1.IP("route", "add", "blackhole", "203.0.113.5/32", "proto", "84", "metric", "1000")
	c1.IP("route", "add", "blackhole", "203.0.113.6/32", "proto", "84", "metric", "100")
	// Not OVN's: kernel routes of other metrics.
	c1.IP("route", "add", "198.51.100.6/32", "dev", "c1-tor", "proto", "84")
	c1.IP("route", "add", "blackhole", "198.51.100.7/32", "metric", "5")
	atToR := func(p string) bool { return tor.IP("route", "show", p) != "" }
	l.Eventually(15*time.Second, "OVN's routes at the ToR", func() bool { return atToR("203.0.113.5/32") && atToR("203.0.113.6/32") })
	// The other routes were added before OVN's arrived: had the route-map
	// let them through, they would be there by now.
	for _, p := range []string{"198.51.100.6/32", "198.51.100.7/32"} {
		if atToR(p) {
			t.Errorf("%s, not OVN's, reached the ToR through %s", p, DynamicRouteMap)
		}
	}
	c1.IP("route", "del", "blackhole", "203.0.113.5/32", "proto", "84", "metric", "1000")
	l.Eventually(15*time.Second, "OVN's route withdrawn at the ToR", func() bool { return !atToR("203.0.113.5/32") })
}
