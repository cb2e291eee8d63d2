//go:build !vmlab

package frr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// syncBuffer is a bytes.Buffer safe for the speaker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLabPasswordNeverInArgv: with peer_password set, the speaker applies
// to a real FRR through a vtysh wrapper that records every argv; the
// password reaches bgpd (running-config has it) but no vtysh argv, no log
// line (debug level), no status and no error ever holds it, and the state
// file that keeps it is 0600.
func TestLabPasswordNeverInArgv(t *testing.T) {
	needLabFRR(t)
	l := newLab(t)
	c1 := l.NetNS("c1", true)
	f := l.StartFRR(c1, operatorFor("c1"))

	real, err := exec.LookPath("vtysh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argvLog := filepath.Join(dir, "argv.log")
	wrapper := filepath.Join(dir, "vtysh")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\nexec %s \"$@\"\n", argvLog, real)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	const password = "s3cr3t-Pa55"
	cfg := config.Default()
	cfg.BGPRouterID = "10.0.3.2"
	cfg.OVNBGP.AnnounceMethod = config.AnnounceTable
	cfg.OVNBGP.Peers = []config.Peer{{Address: "10.0.3.1", RemoteAS: "65001"}}
	cfg.OVNBGP.PeerPassword = password
	cfg.OVNBGP.FRRPathspace = f.Pathspace
	cfg.FRRReconcileInterval = 2 * time.Second
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	state := filepath.Join(dir, "state", "frr-applied.conf")
	s, err := NewWithOptions(cfg, log, Options{Vtysh: wrapper, StateFile: state, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Vtysh("show running-config"), "neighbor 10.0.3.1 password "+password) {
		t.Fatalf("the password did not reach bgpd:\n%s", f.Vtysh("show running-config"))
	}
	// A second apply (a new peer) re-sends the password line.
	cfg.OVNBGP.Peers = append(cfg.OVNBGP.Peers, config.Peer{Address: "10.0.3.5", RemoteAS: "65001"})
	if err := s.Apply(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stj, _ := json.Marshal(st)
	s.Stop(context.Background(), false)

	argv, err := os.ReadFile(argvLog)
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) == 0 {
		t.Fatal("the wrapper recorded no vtysh run")
	}
	if strings.Contains(string(argv), password) {
		t.Errorf("the password was on a vtysh command line:\n%s", argv)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the password is in the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "password ***") {
		t.Errorf("the debug log does not show the masked password line:\n%s", logs.String())
	}
	if strings.Contains(string(stj), password) {
		t.Errorf("the password is in the status: %s", stj)
	}
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file %s has mode %v, want 0600", state, fi.Mode().Perm())
	}
}
