package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestAgentRefusesHostileTenantSubnets: a tenant attaches subnets
// 0.0.0.0/1 and 128.0.0.0/1 to a router whose gateway is hosted on the
// chassis (subnet advertisement, no address_scopes). Wired, they would
// put `to 0.0.0.0/1 lookup <br-ex table>` ahead of main and send the
// chassis' own route to its BGP peer (and everything else) into br-ex.
// The agent refuses them with a warning naming the router port; the
// chassis keeps its route to the ToR, its session, and the healthy tenant
// subnet and gateway are served.
func TestAgentRefusesHostileTenantSubnets(t *testing.T) {
	c := newCloud(t, nodeSpec{name: "gw", gateway: true, extra: "advertisement_method_tenant_networks = subnet"})
	defer c.dumpLogs()
	n := c.neutron
	public := n.ProviderNetwork("public", "physnet1", 0)
	private := n.TenantNetwork("private")
	evil1 := n.TenantNetwork("evil1")
	evil2 := n.TenantNetwork("evil2")
	r := n.Router("router1")
	r.SetGateway(public, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw")
	r.AddInterface(private, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	r.AddInterface(evil1, "fa:16:3e:00:00:03", "0.0.0.1/1", "", false)
	r.AddInterface(evil2, "fa:16:3e:00:00:04", "128.0.0.1/1", "", false)
	c.central.NBCtl("--wait=sb", "sync")
	c.startAgent("gw")
	// The session is up and the gateway announced.
	c.waitAnnounced("172.24.4.100/32", "gw")

	var st map[string]any
	c.l.Eventually(30*time.Second, "the agent plans the healthy tenant subnet and warns about the hostile ones", func() bool {
		var err error
		st, err = c.agentStatus("gw")
		if err != nil {
			return false
		}
		b, _ := jsonString(st["state"])
		w := fmt.Sprint(st["warnings"])
		return strings.Contains(b, `"10.0.0.0/24"`) && strings.Count(w, "special-prefix") == 2
	})
	b, _ := jsonString(st["state"])
	for _, p := range []string{"0.0.0.0/1", "128.0.0.0/1"} {
		if strings.Contains(b, `"`+p+`"`) {
			t.Errorf("hostile tenant subnet %s planned: %s", p, b)
		}
	}
	// No rule for a hostile prefix; the host's routes to its peer and to
	// the world stay in main, on the link to the ToR.
	if rules := c.nodes["gw"].ch.NS.IP("rule", "show"); strings.Contains(rules, "0.0.0.0/1") || strings.Contains(rules, "128.0.0.0/1") {
		t.Errorf("ip rules for a hostile prefix:\n%s", rules)
	}
	for _, dst := range []string{c.nodes["gw"].torIP, "8.8.8.8", "169.254.169.254"} {
		if got := c.nodes["gw"].ch.NS.IP("route", "get", dst); strings.Contains(got, "br-ex") {
			t.Errorf("route to %s goes to br-ex: %s", dst, got)
		}
	}
	if got := c.nodes["gw"].ch.NS.IP("route", "get", c.nodes["gw"].torIP); !strings.Contains(got, "dev gw-tor") {
		t.Errorf("route to the peer %s: %s, want dev gw-tor", c.nodes["gw"].torIP, got)
	}
	// Still peered: the gateway is still announced after the plan.
	if hops := c.torNextHops("172.24.4.100/32"); len(hops) == 0 {
		t.Error("the ToR lost the gateway: the session broke")
	}
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestAgentProtectsHostAddressAddedLater: the host's addresses are
// protected as they change, not only as they were at start-up. After the
// agent converged with tenant subnet 10.0.0.0/24 planned and wired (its
// routes in the bridge tables), an address in it is added to the chassis'
// uplink (a host interface, not a provider bridge): the subnet now
// overlaps a network connected to the host and is refused (withdrawn, its
// routes removed) without a reload; when the address goes away it is
// planned and wired again.
func TestAgentProtectsHostAddressAddedLater(t *testing.T) {
	c := newCloud(t, nodeSpec{name: "gw", gateway: true, extra: "advertisement_method_tenant_networks = subnet"})
	defer c.dumpLogs()
	n := c.neutron
	public := n.ProviderNetwork("public", "physnet1", 0)
	private := n.TenantNetwork("private")
	r := n.Router("router1")
	r.SetGateway(public, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw")
	r.AddInterface(private, "fa:16:3e:00:00:02", "10.0.0.1/24", "", false)
	c.central.NBCtl("--wait=sb", "sync")
	c.startAgent("gw")
	c.waitAnnounced("172.24.4.100/32", "gw")
	ns := c.nodes["gw"].ch.NS

	planned := func(want bool) func() bool {
		return func() bool {
			st, err := c.agentStatus("gw")
			if err != nil {
				return false
			}
			b, _ := jsonString(st["state"])
			routes := ns.IP("route", "show", "table", "all", "proto", "201")
			return strings.Contains(b, `"10.0.0.0/24"`) == want && strings.Contains(routes, "10.0.0.0/24") == want
		}
	}
	c.l.Eventually(30*time.Second, "the tenant subnet planned and wired", planned(true))
	// The addresses ovnbgp added itself (its link addresses on br-ex) are
	// no protected facts: no re-plan for them, past the watch's debounce.
	if a := ns.IP("addr", "show", "dev", "br-ex"); !strings.Contains(a, "169.254.") {
		t.Fatalf("no ovnbgp link address on br-ex:\n%s", a)
	}
	time.Sleep(2 * time.Second)
	changes := func() int {
		b, _ := os.ReadFile(c.nodes["gw"].log)
		return strings.Count(string(b), "protected host addresses changed")
	}
	if n := changes(); n != 0 {
		t.Fatalf("%d protected-facts changes before any host address changed", n)
	}

	ns.IP("addr", "add", "10.0.0.200/24", "dev", "gw-tor")
	c.l.Eventually(30*time.Second, "the tenant subnet refused once it overlaps a host network", func() bool {
		st, err := c.agentStatus("gw")
		return err == nil && strings.Contains(fmt.Sprint(st["warnings"]), "protected-prefix") && planned(false)()
	})
	if got := ns.IP("route", "get", "10.0.0.200"); strings.Contains(got, "br-ex") {
		t.Errorf("route to the host's own address goes to br-ex: %s", got)
	}

	ns.IP("addr", "del", "10.0.0.200/24", "dev", "gw-tor")
	c.l.Eventually(30*time.Second, "the tenant subnet planned again once the host address is gone", planned(true))
	// The gateway was served throughout.
	c.waitAnnounced("172.24.4.100/32", "gw")
	if n := changes(); n != 2 {
		t.Errorf("%d protected-facts changes logged, want 2 (added, removed)", n)
	}
}
