package agent

import (
	"slices"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

func TestIdentityTCPWarnings(t *testing.T) {
	id := Identity{SBRemote: "tcp:10.0.0.1:6642,ssl:10.0.0.2:6642", NBRemote: "tcp:10.0.0.1:6641"}
	cfg := config.Default()
	if got, want := identityTCPWarnings(cfg, id, false), []string{
		"OVSDB remote tcp:10.0.0.1:6642 (external_ids:ovn-remote) is plain TCP, unencrypted and unauthenticated: ssl: is advised",
	}; !slices.Equal(got, want) {
		t.Errorf("SB: %q, want %q", got, want)
	}
	if got := identityTCPWarnings(cfg, id, true); len(got) != 1 {
		t.Errorf("NB: %q, want one warning", got)
	}
	// A configured remote wins over external_ids (and is warned about by
	// config.TCPWarnings).
	cfg.OVN.SBConnection = "ssl:10.0.0.9:6642"
	if got := identityTCPWarnings(cfg, id, false); got != nil {
		t.Errorf("with ovn_sb_connection set: %q, want none", got)
	}
}
