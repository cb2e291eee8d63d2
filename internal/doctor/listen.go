package doctor

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// checkListen: the metrics address is free (the agent serves /metrics,
// /healthz, /readyz and /status there; when it cannot, it runs unobserved:
// no alert can tell it is down or not ready), and the state directory
// usable.
func checkListen(_ context.Context, e *Env) []Result {
	o := e.Config.OVNBGP
	var out []Result
	if o.MetricsAddress == "" {
		out = append(out, warn("listen/metrics", "metrics_address is empty: no /metrics, /healthz, /readyz or /status (no alert sees this agent)",
			"set [ovnbgp] metrics_address (default 127.0.0.1:9469)"))
	} else {
		out = append(out, bindable("listen/metrics", o.MetricsAddress, "metrics_address",
			"another process listens there (an ovnbgp agent already running? ss -ltnp): stop it or choose another [ovnbgp] metrics_address"))
	}
	if o.StateDir != "" {
		out = append(out, stateDir(o.StateDir))
	}
	return out
}

func stateDir(dir string) Result {
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return ok("listen/state_dir", fmt.Sprintf("state_dir %s does not exist yet (the unit's StateDirectory creates it; the agent creates it otherwise)", dir))
	case err != nil:
		return fail("listen/state_dir", fmt.Sprintf("state_dir %s: %v", dir, err), "fix the path or its permissions")
	case !st.IsDir():
		return fail("listen/state_dir", fmt.Sprintf("state_dir %s is not a directory", dir), "remove it or set [ovnbgp] state_dir elsewhere")
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fail("listen/state_dir", fmt.Sprintf("state_dir %s is not writable: %v (the FRR speaker keeps its record of the lines it wrote there)", dir, err),
			"make it writable for the agent (root)")
	}
	return ok("listen/state_dir", fmt.Sprintf("state_dir %s writable", dir))
}
