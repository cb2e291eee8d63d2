package e2e

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// family is one metric family of a scrape: its type and the label names
// its samples carry.
type family struct {
	typ    string
	labels map[string]bool
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? `)

// scrape reads the node's /metrics (text format) into families.
func scrape(t *testing.T, n *node) map[string]*family {
	t.Helper()
	out, err := n.ch.NS.Try("curl", "-sf", "http://127.0.0.1:9469/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v\n%s", n.ch.Name, err, out)
	}
	fams := map[string]*family{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			fams[f[2]] = &family{typ: f[3], labels: map[string]bool{}}
			continue
		}
		m := sampleRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := m[1]
		fam := fams[name]
		if fam == nil {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if f := fams[strings.TrimSuffix(name, suf)]; f != nil && strings.HasSuffix(name, suf) {
					fam = f
				}
			}
		}
		if fam == nil {
			continue
		}
		for _, kv := range strings.Split(m[2], ",") {
			if k, _, ok := strings.Cut(kv, "="); ok {
				fam.labels[k] = true
			}
		}
	}
	return fams
}

// lookup finds the family of a name as a query writes it (a histogram's
// _bucket, _sum and _count belong to the histogram).
func lookup(fams map[string]*family, name string) *family {
	if f := fams[name]; f != nil {
		return f
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if f := fams[strings.TrimSuffix(name, suf)]; f != nil && strings.HasSuffix(name, suf) && f.typ == "histogram" {
			return f
		}
	}
	return nil
}

var metricNameRE = regexp.MustCompile(`\b(ovnbgp_[a-z0-9_]+|process_[a-z0-9_]+|go_[a-z0-9_]+)\b`)

// queryLine is a line holding a query: a rule's expr, a unit test's
// series, a Grafana target's "expr" (annotations may name metrics too).
var queryLine = regexp.MustCompile(`^\s*(- )?(expr:|series:|"expr":)`)

// usedNames are the metric names a file's queries use.
func usedNames(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if !queryLine.MatchString(l) {
			continue
		}
		for _, m := range metricNameRE.FindAllString(l, -1) {
			seen[m] = true
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("%s names no metric", path)
	}
	return out
}

// TestMetricsUsedExist scrapes running agents (one with FRR, one with the
// embedded GoBGP speaker) on a chassis with a provider VM, a provider
// network with a VLAN tag ovnbgp refuses (an invalid row) and a route
// deleted behind the agent's back (a repair), and checks that every metric
// contrib/prometheus/alerts.yml, its unit test's series and
// contrib/grafana/ovnbgp.json name is exported, and that every label of
// the unit test's series is a label the agent really puts on that metric.
// ovnbgp_frr_* must come from the FRR agent, ovnbgp_gobgp_* from the GoBGP
// one, every other from both.
func TestMetricsUsedExist(t *testing.T) {
	lab.NeedRoot(t, "the metrics lab")
	c := newCloud(t, nodeSpec{name: "c1"}, nodeSpec{name: "c2", speaker: "gobgp"})
	defer c.dumpLogs()
	n := c.neutron
	public := n.ProviderNetwork("public", "physnet1", 0)
	p := n.Port(public, "fa:16:3e:00:01:10", []string{"172.24.4.10/24"}, lab.PortOptions{Host: "c1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, p.ID, p.MAC, p.CIDRs, []string{"172.24.4.1"})
	// VLAN 4095 is outside 1-4094: the network is refused, its row warned about.
	bad := n.ProviderNetwork("badvlan", "physnet1", 4095)
	pb := n.Port(bad, "fa:16:3e:00:02:10", []string{"172.24.5.10/24"}, lab.PortOptions{Host: "c2"})
	c.l.AddVM(c.central, c.nodes["c2"].ch, pb.ID, pb.MAC, pb.CIDRs, []string{"172.24.5.1"})
	pb1 := n.Port(bad, "fa:16:3e:00:02:11", []string{"172.24.5.11/24"}, lab.PortOptions{Host: "c1"})
	c.l.AddVM(c.central, c.nodes["c1"].ch, pb1.ID, pb1.MAC, pb1.CIDRs, []string{"172.24.5.1"})
	for _, name := range c.names {
		c.startAgent(name)
	}
	for _, name := range c.names {
		waitReady(t, c.nodes[name])
	}
	c.waitAnnounced("172.24.4.10/32", "c1")
	// Drift: delete ovnbgp's routes (proto 201) on both; the agents restore them.
	for _, name := range c.names {
		c.nodes[name].ch.NS.IP("route", "flush", "table", "all", "proto", "201")
	}
	byNode := map[string]map[string]*family{}
	for _, name := range c.names {
		peers := "ovnbgp_frr_peers"
		if c.nodes[name].speaker == "gobgp" {
			peers = "ovnbgp_gobgp_peers"
		}
		lab.Eventually(t, 30*time.Second, "repairs, invalid rows and peers in the metrics of "+name, func() bool {
			f := scrape(t, c.nodes[name])
			byNode[name] = f
			return f["ovnbgp_dataplane_linux_repairs_total"] != nil && f["ovnbgp_plan_invalid_rows_total"] != nil && f[peers] != nil
		})
	}

	files := []string{"../../contrib/prometheus/alerts.yml", "../../contrib/prometheus/alerts_test.yml", "../../contrib/grafana/ovnbgp.json"}
	for _, file := range files {
		for _, name := range usedNames(t, file) {
			nodes := c.names
			switch {
			case strings.HasPrefix(name, "ovnbgp_frr_"):
				nodes = []string{"c1"}
			case strings.HasPrefix(name, "ovnbgp_gobgp_"):
				nodes = []string{"c2"}
			}
			for _, node := range nodes {
				if lookup(byNode[node], name) == nil {
					t.Errorf("%s uses %s, which the agent on %s does not export", file, name, node)
				}
			}
		}
	}

	// The unit test's series: name{labels} with the agent's label names
	// (job and instance come from the scrape, le from the histogram).
	b, err := os.ReadFile("../../contrib/prometheus/alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	series := regexp.MustCompile(`series: '([a-z_0-9]+)\{([^}]*)\}'`).FindAllStringSubmatch(string(b), -1)
	if len(series) == 0 {
		t.Fatal("no input series in alerts_test.yml")
	}
	for _, s := range series {
		name := s[1]
		if name == "up" {
			continue // Prometheus' own
		}
		var fam *family
		for _, node := range c.names {
			if f := lookup(byNode[node], name); f != nil {
				fam = f
			}
		}
		if fam == nil {
			continue // reported above
		}
		for _, kv := range strings.Split(s[2], ",") {
			k, _, _ := strings.Cut(kv, "=")
			if k == "job" || k == "instance" || (k == "le" && fam.typ == "histogram") {
				continue
			}
			if !fam.labels[k] {
				t.Errorf("alerts_test.yml series %s has label %s, which the agent does not put on it (its labels: %v)", name, k, fam.labels)
			}
		}
	}
}
