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
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/linux"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
)

// dynamicFeatures reads what the connected OVN database has of dynamic
// routing.
func dynamicFeatures(cfg *config.Config, src *agent.Source) dynamic.Features {
	if cfg.Driver == config.DriverNB {
		return dynamic.NorthboundFeatures(src.OVN().Schema())
	}
	return dynamic.SouthboundFeatures(src.OVN().Schema())
}

// dynamicPlanner returns the plan function of exposing_method = dynamic
// over the source's topology (the caller holds it read-locked).
func dynamicPlanner(cfg *config.Config, src *agent.Source) func() (*dynamic.State, []plan.Warning) {
	return func() (*dynamic.State, []plan.Warning) {
		var routers []dynamic.Router
		if cfg.Driver == config.DriverNB {
			routers = dynamic.NorthboundRouters(src.Topo, src.ID.SystemID)
		} else {
			routers = dynamic.SouthboundRouters(src.Topo, src.ID.SystemID, src.Topo.ChassisUUID(src.ID.SystemID))
		}
		return dynamic.Plan(cfg, src.ID.SystemID, routers, dynamic.LocalFrom(src.Topo))
	}
}

// dynKernel adapts linux.DynVRFs to the plan.
type dynKernel struct{ v *linux.DynVRFs }

func kernelVRFs(st *dynamic.State) []linux.DynVRF {
	out := make([]linux.DynVRF, 0, len(st.VRFs))
	for _, v := range st.VRFs {
		out = append(out, linux.DynVRF{Name: v.Name, Table: v.Table, Create: !v.OVNMaintains, Slaves: v.Interfaces})
	}
	return out
}

func (k dynKernel) Wire(st *dynamic.State) error   { return k.v.Wire(kernelVRFs(st)) }
func (k dynKernel) Unwire(st *dynamic.State) error { return k.v.Unwire(kernelVRFs(st)) }

// dynSpeaker adapts the FRR speaker to the plan.
type dynSpeaker struct{ s *frr.Speaker }

func frrVRFs(st *dynamic.State) []frr.DynamicVRF {
	out := make([]frr.DynamicVRF, 0, len(st.VRFs))
	for _, v := range st.VRFs {
		out = append(out, frr.DynamicVRF{Name: v.Name, Interfaces: v.Interfaces})
	}
	return out
}

func (d dynSpeaker) SetDynamic(ctx context.Context, st *dynamic.State) error {
	return d.s.SetDynamic(ctx, frrVRFs(st))
}

// runDynamic is runOnce for exposing_method = dynamic: the source is
// started; it checks the OVN has dynamic routing, then runs the dynamic
// controller until ctx ends or a reload asks for a restart.
func runDynamic(ctx context.Context, parent context.Context, cfg *config.Config, log *slog.Logger,
	reload <-chan *config.Config, src *agent.Source, current *atomic.Pointer[agent.Dynamic]) (*config.Config, error) {
	if f := dynamicFeatures(cfg, src); !f.Routing {
		log.Error(f.Reason)
		return nil, &config.InvalidError{Section: "DEFAULT", Option: "exposing_method", Value: cfg.ExposingMethod, Reason: f.Reason}
	}
	sp, err := frr.New(cfg, log.With("component", "frr"))
	if err != nil {
		return nil, err
	}
	vrfs, err := linux.NewDynVRFs(nil, log.With("component", "kernel"))
	if err != nil {
		return nil, err
	}
	defer vrfs.Close()
	d := agent.NewDynamic(cfg, log, agent.DynamicDeps{Source: src, Plan: dynamicPlanner(cfg, src),
		Kernel: dynKernel{vrfs}, Speaker: dynSpeaker{sp}})
	current.Store(d)
	defer current.CompareAndSwap(d, nil)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	startSpeaker(runCtx, sp, log)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	var next *config.Config
	select {
	case err := <-done:
		if err != nil && parent.Err() == nil {
			return nil, err
		}
	case next = <-reload:
		cancel()
		<-done
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
	if f := dynamicFeatures(cfg, src); !f.Routing {
		return &config.InvalidError{Section: "DEFAULT", Option: "exposing_method", Value: cfg.ExposingMethod, Reason: f.Reason}
	}
	src.Topo.RLock()
	st, warnings := dynamicPlanner(cfg, src)()
	src.Topo.RUnlock()
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w.String())
	}
	nodes, err := frr.Render(frr.Input{Config: cfg, RouterID: cfg.BGPRouterID, Dynamic: frrVRFs(st)})
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
