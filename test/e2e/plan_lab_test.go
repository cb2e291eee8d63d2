package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// planJSON runs `ovnbgp plan -o json` on a chassis with the given driver
// and returns prefix -> kind.
func (c *cloud) planJSON(t *testing.T, name, driver string) map[string]string {
	t.Helper()
	n := c.nodes[name]
	conf := filepath.Join(c.l.Subdir(name), "plan-"+driver+".conf")
	extra := ""
	if driver == "nb_ovn_bgp_driver" {
		extra = "[ovn]\novn_nb_connection = " + c.central.NBRemote() + "\n"
	}
	body := strings.Replace(c.config(n), "driver = ovn_bgp_driver", "driver = "+driver, 1) + extra
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out string
	var err error
	c.l.Eventually(30*time.Second, "ovnbgp plan on "+name, func() bool {
		out, err = n.ch.NS.Try(agentBinary(t), "plan", "--config-file", conf, "-o", "json", "--timeout", "20s")
		return err == nil
	})
	var st struct {
		Chassis       string `json:"chassis"`
		Announcements []struct {
			Prefix string `json:"prefix"`
			Kind   string `json:"kind"`
			Port   string `json:"port"`
		} `json:"announcements"`
	}
	// Warnings go to stderr, mixed into out by Try: take the JSON object.
	if i := strings.Index(out, "{"); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("plan on %s: %v\n%s", name, err, out)
	}
	if st.Chassis != name {
		t.Errorf("plan on %s says chassis %q", name, st.Chassis)
	}
	got := map[string]string{}
	for _, a := range st.Announcements {
		got[a.Prefix] = a.Kind
	}
	return got
}

// TestPlanCommand builds the agent tests' workload (a gateway and two
// compute chassis) with the real OVN and checks `ovnbgp plan -o json` on
// each chassis with the southbound and the northbound driver.
func TestPlanCommand(t *testing.T) {
	c := newCloud(t, nodeSpec{name: "gw", gateway: true}, nodeSpec{name: "c1"}, nodeSpec{name: "c2"})
	c.buildWorkload()
	want := map[string]map[string]string{
		"c1": {"172.24.4.10/32": "provider-port", "2001:db8:24::10/128": "provider-port"},
		"c2": {"172.24.4.50/32": "fip"},
		"gw": {"172.24.4.100/32": "cr-lrp", "172.24.4.51/32": "fip", "10.0.0.10/32": "tenant-port",
			"10.0.0.20/32": "tenant-port", "10.0.0.100/32": "lb-vip"},
	}
	// Before OVN 23.09 the northbound database does not say which chassis
	// hosts a router gateway (Logical_Router_Port status:hosting-chassis),
	// so the northbound driver cannot announce what lives behind one: the
	// same limitation as upstream's NB driver. Debian 12 ships 23.03.
	hosting := c.central.HasNBColumn("Logical_Router_Port", "status")
	for _, driver := range []string{"ovn_bgp_driver", "nb_ovn_bgp_driver"} {
		for _, name := range c.names {
			got := c.planJSON(t, name, driver)
			w := want[name]
			if driver == "nb_ovn_bgp_driver" && name == "gw" && !hosting {
				t.Logf("OVN NB without Logical_Router_Port status: the NB driver announces nothing behind the gateway")
				w = map[string]string{}
			}
			if d := diffPlan(got, w); d != "" {
				t.Errorf("%s, chassis %s:\n%s", driver, name, d)
			}
		}
	}
}

func diffPlan(got, want map[string]string) string {
	var lines []string
	for p, k := range want {
		if got[p] != k {
			lines = append(lines, fmt.Sprintf("  %s: got %q, want %q", p, got[p], k))
		}
	}
	for p, k := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: unexpected %q", p, k))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
