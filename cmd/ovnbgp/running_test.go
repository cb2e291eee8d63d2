package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
)

// TestRunningController: the HTTP endpoints see the dynamic controller
// when it is the one running (before, they saw only the agent: /readyz was
// 503 for ever in exposing_method = dynamic), and an untyped nil when none
// runs.
func TestRunningController(t *testing.T) {
	var r running
	if c := r.controller(); c != nil {
		t.Fatalf("nothing running: %v, want nil", c)
	}
	d := agent.NewDynamic(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)), agent.DynamicDeps{})
	r.dynamic.Store(d)
	if c := r.controller(); c != agent.Controller(d) {
		t.Fatalf("dynamic running: %v", c)
	}
	r.dynamic.Store(nil)
	if c := r.controller(); c != nil {
		t.Fatalf("dynamic stopped: %v, want nil", c)
	}
}
