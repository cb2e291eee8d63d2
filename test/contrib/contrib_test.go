// Package contrib tests the operator files in contrib/: the Prometheus
// alert rules with Debian's promtool, the Grafana dashboard's structure.
// That every metric they name is exported by a running agent is checked
// in the host lab (test/e2e TestMetricsUsedExist).
package contrib

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const dir = "../../contrib"

func promtool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatal("promtool not found: scripts/install-deps.sh installs Debian's prometheus package (make deps)")
	}
	out, err := exec.Command("promtool", args...).CombinedOutput()
	return string(out), err
}

// TestAlertRules: `promtool check rules` accepts alerts.yml, and `promtool
// test rules` passes alerts_test.yml (each alert fires on series shaped
// like the agent's, with its labels and annotations, and stays quiet
// before); a unit test with one wrong expectation fails, so the unit test
// does assert.
func TestAlertRules(t *testing.T) {
	rules := filepath.Join(dir, "prometheus", "alerts.yml")
	if out, err := promtool(t, "check", "rules", rules); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests := filepath.Join(dir, "prometheus", "alerts_test.yml")
	if out, err := promtool(t, "test", "rules", tests); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}

	b, err := os.ReadFile(tests)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "15 failed reconciles in 15 minutes", "14 failed reconciles in 15 minutes", 1)
	if broken == string(b) {
		t.Fatal("the expectation to break is not in alerts_test.yml")
	}
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "alerts_test.yml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	rb, _ := os.ReadFile(rules)
	if err := os.WriteFile(filepath.Join(tmp, "alerts.yml"), rb, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := promtool(t, "test", "rules", filepath.Join(tmp, "alerts_test.yml")); err == nil {
		t.Fatalf("promtool test rules passed with a wrong expectation:\n%s", out)
	}
}

// TestDashboard: the dashboard is JSON Grafana imports (title, uid,
// panels each with a datasource and at least one query), every query
// reads the datasource variable, and the chassis variable filters every
// ovnbgp query.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dir, "grafana", "ovnbgp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title, UID string
		Panels     []struct {
			ID         int
			Title      string
			Datasource struct{ UID string }
			Targets    []struct {
				Expr, RefID string
				Datasource  struct{ UID string }
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("title %q uid %q, %d panels", d.Title, d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d targets", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" || q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a target without expr, refId or datasource: %+v", p.Title, q)
			}
			if strings.Contains(q.Expr, "ovnbgp_") && !strings.Contains(q.Expr, `instance=~"$instance"`) {
				t.Errorf("panel %q: %s is not filtered by the chassis variable", p.Title, q.Expr)
			}
		}
	}
}
