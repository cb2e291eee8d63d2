package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/agent/dynrun"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
)

// runDynamic is runOnce for exposing_method = dynamic: the source is
// started; it checks the OVN has dynamic routing, then runs the dynamic
// controller until ctx ends or a reload asks for a restart.
func runDynamic(ctx context.Context, parent context.Context, cfg *config.Config, log *slog.Logger,
	reload <-chan *config.Config, src *agent.Source, current *atomic.Pointer[agent.Dynamic]) (*config.Config, error) {
	if f := dynrun.Features(cfg, src); !f.Routing {
		log.Error(f.Reason)
		return nil, &config.InvalidError{Section: "DEFAULT", Option: "exposing_method", Value: cfg.ExposingMethod, Reason: f.Reason}
	}
	parts, err := dynrun.New(cfg, src, log, nil, frr.Options{})
	if err != nil {
		return nil, err
	}
	sp, vrfs, d := parts.Speaker, parts.VRFs, parts.Controller
	defer vrfs.Close()
	current.Store(d)
	defer current.CompareAndSwap(d, nil)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	startSpeaker(runCtx, sp, log)
	next, err := runUntilReload(parent, d.Run, runCtx, cancel, reload)
	if err != nil {
		return nil, err
	}
	// Stopping (or restarting with a new configuration) leaves FRR and the
	// VRFs in place: OVN keeps its routes in the VRFs and FRR announcing
	// them; the next start adopts both.
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if next == nil && cfg.OVNBGP.WithdrawOnStop {
		// withdraw_on_stop: FRR's VRF instances go first, then ovnbgp's VRFs.
		if err := sp.SetDynamic(sctx, nil); err != nil {
			log.Error("withdraw on stop: FRR", "error", err)
		} else if err := vrfs.Unwire(nil); err != nil {
			log.Error("withdraw on stop: VRFs", "error", err)
		}
	}
	if err := sp.Stop(sctx, false); err != nil {
		log.Warn("speaker stop", "error", err)
	}
	if next == nil {
		log.Info("stopped")
	}
	return next, nil
}

// planDynamic is `ovnbgp plan` for exposing_method = dynamic.
func planDynamic(cfg *config.Config, src *agent.Source, output string) error {
	if f := dynrun.Features(cfg, src); !f.Routing {
		return &config.InvalidError{Section: "DEFAULT", Option: "exposing_method", Value: cfg.ExposingMethod, Reason: f.Reason}
	}
	src.Topo.RLock()
	st, warnings := dynrun.Planner(cfg, src)()
	src.Topo.RUnlock()
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w.String())
	}
	nodes, err := frr.Render(frr.Input{Config: cfg, RouterID: cfg.BGPRouterID, Dynamic: dynrun.FRRVRFs(st)})
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*dynamic.State
			FRR string `json:"frr"`
		}{st, frr.Text(nodes)})
	}
	printDynamic(os.Stdout, st)
	fmt.Fprintf(os.Stdout, "\nFRR configuration ovnbgp renders:\n%s", frr.Text(nodes))
	return nil
}

// printDynamic prints a dynamic plan as a table.
func printDynamic(w io.Writer, st *dynamic.State) {
	fmt.Fprintf(w, "chassis %s: %d dynamic-routing VRFs\n", safe(st.Chassis), len(st.VRFs))
	for _, v := range st.VRFs {
		maint := "ovnbgp"
		if v.OVNMaintains {
			maint = "ovn"
		}
		fmt.Fprintf(w, "VRF %s table %d (device by %s) router %s ports %s interfaces %s\n", safe(v.Name), v.Table, maint,
			safe(v.Router), dashed(joinSafe(v.Ports)), dashed(joinSafe(v.Interfaces)))
	}
}

func joinSafe(xs []string) string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, safe(x))
	}
	return strings.Join(out, ",")
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
