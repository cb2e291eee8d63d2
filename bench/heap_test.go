package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
	"github.com/ovnbgp/ovnbgp/internal/speaker/gobgp"
)

// TestHeapProfile loads the agent's pieces in this process against the
// benchmark's southbound (BENCH_HEAP=<ports>, e.g. 100000) and writes a heap
// profile after each stage to BENCH_HEAP_DIR (default a temp dir), logging
// the live heap. It is the memory half of the profiling: the agent binary
// serves no pprof.
//
//	BENCH_HEAP=100000 go test -run TestHeapProfile -v ./bench/
func TestHeapProfile(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BENCH_HEAP"))
	if n == 0 {
		t.Skip("set BENCH_HEAP=<ports> to run")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := os.Getenv("BENCH_HEAP_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	e, err := newEnv(hex.EncodeToString(b))
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	sb, err := dialRPC(e.sb.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.close()
	if _, err := fillSB(sb, n); err != nil {
		t.Fatal(err)
	}
	stage := func(name string) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		t.Logf("%-28s live heap %6.1f MB, heap in use %6.1f MB, sys %6.1f MB", name, float64(m.HeapAlloc)/(1<<20),
			float64(m.HeapInuse)/(1<<20), float64(m.Sys)/(1<<20))
		f, err := os.Create(filepath.Join(dir, "heap-"+name+".pprof"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
	}
	stage("0-empty")
	cfg := config.Default()
	cfg.OVSDBConnection = "unix:" + e.ovs.sock
	cfg.OVNBGP.GoBGPListenPort = -1
	cfg.BGPRouterID = "192.0.2.1"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src := agent.NewSource(cfg, log, agent.Identity{})
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	stage("1-ovsdb+topology")
	d := southbound.New(cfg, src.Topo, src.ID.SystemID)
	p := plan.NewIncremental(d, src.ID.SystemID)
	src.Topo.RLock()
	st, _ := p.Full()
	src.Topo.RUnlock()
	if len(st.Announcements) != (n+9)/10 {
		t.Fatalf("%d announcements, want %d", len(st.Announcements), (n+9)/10)
	}
	stage("2-planned")
	sp, err := gobgp.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sp.Sync(ctx, st.Announcements); err != nil {
		t.Fatal(err)
	}
	stage("3-gobgp")
	runtime.KeepAlive(st)
	_ = sp.Stop(ctx, false)
	t.Logf("profiles in %s (go tool pprof -sample_index=inuse_space -top bench.test %s/heap-3-gobgp.pprof)", dir, dir)
}
