// Package dynrun assembles the exposing_method = dynamic controller
// (agent.Dynamic) from the source, the planner (internal/plan/dynamic),
// the VRF devices (dataplane/linux DynVRFs) and the FRR speaker: the glue
// the agent command and the full-kernel lab test share.
package dynrun

import (
	"context"
	"log/slog"

	"github.com/vishvananda/netns"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/dataplane/linux"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/dynamic"
	"github.com/ovnbgp/ovnbgp/internal/speaker/frr"
)

// Features reads what the connected OVN database has of dynamic routing.
func Features(cfg *config.Config, src *agent.Source) dynamic.Features {
	if cfg.Driver == config.DriverNB {
		return dynamic.NorthboundFeatures(src.OVN().Schema())
	}
	return dynamic.SouthboundFeatures(src.OVN().Schema())
}

// Planner returns the plan function over the source's topology (the
// caller holds it read-locked).
func Planner(cfg *config.Config, src *agent.Source) func() (*dynamic.State, []plan.Warning) {
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

// KernelVRFs are the plan's VRFs as the kernel reconciler takes them.
func KernelVRFs(st *dynamic.State) []linux.DynVRF {
	out := make([]linux.DynVRF, 0, len(st.VRFs))
	for _, v := range st.VRFs {
		out = append(out, linux.DynVRF{Name: v.Name, Table: v.Table, Create: !v.OVNMaintains, Slaves: v.Interfaces})
	}
	return out
}

// FRRVRFs are the plan's VRFs as the FRR speaker takes them.
func FRRVRFs(st *dynamic.State) []frr.DynamicVRF {
	out := make([]frr.DynamicVRF, 0, len(st.VRFs))
	for _, v := range st.VRFs {
		out = append(out, frr.DynamicVRF{Name: v.Name, Interfaces: v.Interfaces})
	}
	return out
}

type kernel struct{ v *linux.DynVRFs }

func (k kernel) Wire(st *dynamic.State) error   { return k.v.Wire(KernelVRFs(st)) }
func (k kernel) Unwire(st *dynamic.State) error { return k.v.Unwire(KernelVRFs(st)) }

type speaker struct{ s *frr.Speaker }

func (s speaker) SetDynamic(ctx context.Context, st *dynamic.State) error {
	return s.s.SetDynamic(ctx, FRRVRFs(st))
}

// Parts are the pieces New assembled; the caller starts the speaker, runs
// the controller and closes VRFs.
type Parts struct {
	Controller *agent.Dynamic
	Speaker    *frr.Speaker
	VRFs       *linux.DynVRFs
}

// New builds the controller for a started source. ns is the network
// namespace of the VRFs (nil: the caller's); fo overrides the FRR
// speaker's options (zero: from the configuration).
func New(cfg *config.Config, src *agent.Source, log *slog.Logger, ns *netns.NsHandle, fo frr.Options) (*Parts, error) {
	sp, err := frr.NewWithOptions(cfg, log.With("component", "frr"), fo)
	if err != nil {
		return nil, err
	}
	vrfs, err := linux.NewDynVRFs(ns, log.With("component", "kernel"))
	if err != nil {
		return nil, err
	}
	d := agent.NewDynamic(cfg, log, agent.DynamicDeps{Source: src, Plan: Planner(cfg, src),
		Kernel: kernel{vrfs}, Speaker: speaker{sp}})
	return &Parts{Controller: d, Speaker: sp, VRFs: vrfs}, nil
}
