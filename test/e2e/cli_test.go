package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentRefusesBadConfig: an invalid value stops the agent before it
// touches anything, with one message naming the option and exit status 2;
// an unknown option is only a warning.
func TestAgentRefusesBadConfig(t *testing.T) {
	bin := agentBinary(t)
	dir := t.TempDir()
	cases := []struct {
		name, conf, want string
		code             int
	}{
		{"bad AS", "[DEFAULT]\nbgp_AS = sixty\n", "bgp_AS in [DEFAULT]", 2},
		{"bad driver", "[DEFAULT]\ndriver = ovn_evpn_driver\n", "driver", 2},
		{"bad peer", "[ovnbgp]\npeers = 2001:db8::1:2\n", "peers in [ovnbgp]", 2},
		{"missing file", "", "no-such.conf", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "no-such.conf")
			if c.conf != "" {
				path = filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".conf")
				if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command(bin, "agent", "--config-file", path).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != c.code {
				t.Fatalf("exit: %v, want status %d; output:\n%s", err, c.code, out)
			}
			if !strings.Contains(string(out), c.want) || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
				t.Errorf("want one line naming %q, got:\n%s", c.want, out)
			}
		})
	}
	// An unknown option is a warning, and `plan` goes on (to fail later on
	// the missing database, with status 1).
	path := filepath.Join(dir, "unknown.conf")
	if err := os.WriteFile(path, []byte("[DEFAULT]\nno_such_option = 1\novsdb_connection = unix:/nonexistent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "plan", "--config-file", path, "--timeout", "1s").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "unknown option no_such_option") {
		t.Errorf("unknown option: %v\n%s", err, out)
	}
}
