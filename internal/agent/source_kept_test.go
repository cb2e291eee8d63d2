package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestSourceKeepsMalformedRowAcrossResyncs runs the source against a local
// OVS database and a southbound whose schema lets a Port_Binding's tag be
// a string (a row the model cannot read): after the row turns malformed,
// a server restart and a condition change, the topology the planner reads
// still has the row at its last good version.
func TestSourceKeepsMalformedRowAcrossResyncs(t *testing.T) {
	sb := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SkewedSBSchema(t)})
	last := func(s string) string { l := strings.Split(strings.TrimSpace(s), "\n"); return l[len(l)-1] }
	ch1 := last(sb.Ctl("ovn-sbctl", "--id=@e", "create", "Encap", "type=geneve", "ip=10.0.0.1", "chassis_name=c1",
		"--", "create", "Chassis", "name=c1", "encaps=@e"))
	dp := sb.Ctl("ovn-sbctl", "create", "Datapath_Binding", "tunnel_key=1")
	vm1 := sb.Ctl("ovn-sbctl", "create", "Port_Binding", "logical_port=vm1", "tunnel_key=1", "datapath="+dp,
		"chassis="+ch1, `mac="fa:16:3e:00:00:01 172.24.4.10"`)
	vs := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.VSwitchSchema})
	vs.Ctl("ovs-vsctl", "--no-wait", "init")
	vs.Ctl("ovs-vsctl", "--no-wait", "set", "open", ".", "external_ids:system-id=c1", "external_ids:ovn-remote="+sb.Remote())

	cfg := config.Default()
	cfg.OVSDBConnection = vs.Remote()
	src := NewSource(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Identity{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// mac: the good version's is .10, the malformed one's .11.
	chassis := func() string {
		src.Topo.RLock()
		defer src.Topo.RUnlock()
		pb := src.Topo.PortBindingByUUID(vm1)
		if pb == nil {
			return "gone"
		}
		if pb.Chassis == nil || len(pb.MAC) != 1 {
			return "?"
		}
		return *pb.Chassis + " " + pb.MAC[0]
	}
	good := ch1 + " fa:16:3e:00:00:01 172.24.4.10"

	resync := func(what string) {
		t.Helper()
		select {
		case <-src.Resyncs():
			src.Drain()
			src.Reload()
		case <-ctx.Done():
			t.Fatalf("no resync after %s", what)
		}
	}
	if got := chassis(); got != good {
		t.Fatalf("vm1 bound to %q, want %q", got, good)
	}

	sb.Transact(`["OVN_Southbound",{"op":"update","table":"Port_Binding","where":[["_uuid","==",["uuid","` + vm1 +
		`"]]],"row":{"tag":"x","mac":"fa:16:3e:00:00:01 172.24.4.11"}}]`)
	select {
	case <-src.Kick():
	case <-ctx.Done():
		t.Fatal("no event for the malformed row")
	}
	src.Drain()
	if got := chassis(); got != good {
		t.Fatalf("after the malformed update: vm1 bound to %q, want its last good version %q", got, good)
	}

	sb.Restart()
	resync("the restart")
	if got := chassis(); got != good {
		t.Fatalf("after a reconnect: vm1 bound to %q, want its last good version %q", got, good)
	}

	if !src.SetNeededDatapaths([]string{dp}) {
		t.Fatal("the conditions did not change")
	}
	resync("the condition change")
	if got := chassis(); got != good {
		t.Fatalf("after a condition change: vm1 bound to %q, want its last good version %q", got, good)
	}
}
