package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// sbHasDynamicRouting reports whether the installed OVN's southbound
// schema has OVN 25.03's Advertised_Route table.
func sbHasDynamicRouting(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile(ovsdbserver.SBSchema)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	_, ok := s.Tables["Advertised_Route"]
	return ok
}

// TestDynamicTooOldOVN: with exposing_method = dynamic on an OVN without
// dynamic routing (Debian 12: 23.03), `ovnbgp plan` and `ovnbgp agent`
// stop with one line saying OVN 25.03 is needed, exit status 2, for both
// drivers, touching nothing. With an OVN that has it, `plan` succeeds and
// finds no VRF (the workload has no dynamic-routing router).
func TestDynamicTooOldOVN(t *testing.T) {
	c := newCloud(t, nodeSpec{name: "c1"})
	n := c.nodes["c1"]
	hasIt := sbHasDynamicRouting(t)
	for _, driver := range []string{"ovn_bgp_driver", "nb_ovn_bgp_driver"} {
		extra := ""
		if driver == "nb_ovn_bgp_driver" {
			extra = "[ovn]\novn_nb_connection = " + c.central.NBRemote() + "\n"
		}
		body := strings.Replace(c.config(n), "driver = ovn_bgp_driver", "driver = "+driver+"\nexposing_method = dynamic", 1) + extra
		conf := filepath.Join(c.l.Subdir("c1"), "dynamic-"+driver+".conf")
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"plan", "--timeout", "30s"}, {"agent"}} {
			args := append([]string{"netns", "exec", n.ch.NS.Name, agentBinary(t)}, cmd...)
			args = append(args, "--config-file", conf)
			x := exec.Command("ip", args...)
			x.Env = append(os.Environ(), "OVS_RUNDIR="+c.l.Subdir("c1", "ovs"))
			out, err := x.CombinedOutput()
			if hasIt {
				if cmd[0] == "plan" && (err != nil || !strings.Contains(string(out), "0 dynamic-routing VRFs")) {
					t.Errorf("%s %s on an OVN with dynamic routing: %v\n%s", driver, cmd[0], err, out)
				}
				continue
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("%s %s: exit %v, want status 2\n%s", driver, cmd[0], err, out)
			}
			if !strings.Contains(string(out), "exposing_method = dynamic needs OVN 25.03 or later") {
				t.Errorf("%s %s: no line saying OVN 25.03 is needed:\n%s", driver, cmd[0], out)
			}
		}
	}
}
