// Package agent is ovnbgp's controller, one per chassis. It is the main
// path from the databases to the host:
//
//   - Source (source.go) owns the OVSDB connections (the OVN northbound or
//     southbound database and the local Open_vSwitch database), keeps the
//     topology current from their monitors and marks the rows that changed
//     (as plan.RowRef keys, drained by the controller).
//   - Agent (agent.go) plans everything once (Settle first makes sure the
//     southbound conditions cover the datapaths the plan needs), then
//     re-plans only the dirty rows through the Planner (plan.Incremental)
//     and drives the reconcilers in the safe order: wire (Kernel, Flows),
//     announce (speaker.Speaker), unwire what became stale. A failed pass is
//     retried with a full reconcile.
//   - ProtectedWatch (protectwatch.go) keeps the address guard's protected
//     facts (protected.go: host addresses and connected networks, peers,
//     OVSDB remotes) current: on a host address event and before each
//     periodic pass the controller recomputes them and, when they changed,
//     hands them to the guard and re-plans everything.
//   - http.go and metrics.go serve /status, /healthz, /readyz and /metrics.
//
// The agent owns no kernel, OVS or BGP state itself: the reconcilers do,
// and it never withdraws a healthy route because one row is bad (the
// planner skips it with a plan.Warning).
package agent
