package frr

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

func TestRedact(t *testing.T) {
	cfg := config.Default()
	cfg.OVNBGP.PeerPassword = "hunter2"
	s := &Speaker{cfg: cfg}
	for _, tc := range []struct{ in, want string }{
		{"router bgp 64999\n neighbor 10.0.0.1 password hunter2\n", "router bgp 64999\n neighbor 10.0.0.1 password ***\n"},
		{"line 3: % Unknown command: neighbor uplink password hunter2", "line 3: % Unknown command: neighbor uplink password ***"},
		{"vtysh: exit status 1: hunter2", "vtysh: exit status 1: ***"},
		{"neighbor 10.0.0.1 password other", "neighbor 10.0.0.1 password ***"},
		{"show bgp summary json", "show bgp summary json"},
	} {
		if got := s.redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !hasSecret(" neighbor x password y\n") || hasSecret("neighbor x remote-as 1\n") {
		t.Error("hasSecret does not tell a password line")
	}
}
