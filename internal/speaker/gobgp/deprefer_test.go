package gobgp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// pathOf describes the receiver's path for prefix: "med=N aspath=[...]",
// "" when it has none.
func (r *receiver) pathOf(t testing.TB, prefix string) string {
	out := ""
	err := r.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: bgp.RF_IPv4_UC}, func(p bgp.NLRI, paths []*apiutil.Path) {
		if p.String() != prefix || len(paths) == 0 {
			return
		}
		med, asPath := "none", ""
		for _, a := range paths[0].Attrs {
			switch v := a.(type) {
			case *bgp.PathAttributeMultiExitDisc:
				med = fmt.Sprint(v.Value)
			case *bgp.PathAttributeAsPath:
				var as []string
				for _, seg := range v.Value {
					for _, n := range seg.GetAS() {
						as = append(as, fmt.Sprint(n))
					}
				}
				asPath = strings.Join(as, " ")
			}
		}
		out = "med=" + med + " aspath=" + asPath
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeprefer: a service VIP's path attributes reach the peer, and a
// change of attributes alone (same prefix) replaces the path, through Sync
// and through SyncDelta (fails before the speaker compared attributes: the
// path stays as first announced).
func TestDeprefer(t *testing.T) {
	port := freePort(t, "127.0.0.2")
	rcv := startReceiver(t, "127.0.0.2", port, 65001, "127.0.0.1", 64999)
	c := baseConfig()
	c.BGPRouterID = "127.0.0.1"
	c.OVNBGP.GracefulRestart = false
	c.OVNBGP.Peers = []config.Peer{{Address: "127.0.0.2", RemoteAS: "65001"}}
	sp, err := NewWithOptions(c, testLogger(t), Options{RemotePort: port, ConnectRetry: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Stop(context.Background(), false) })

	vip := func(at plan.PathAttrs) plan.Announcement {
		return plan.Announcement{Prefix: netip.MustParsePrefix("203.0.113.10/32"), Kind: plan.KindServiceVIP, Port: "api", Attrs: at}
	}
	plain, med, prepend := vip(plan.PathAttrs{}), vip(plan.PathAttrs{MED: 1000, SetMED: true}), vip(plan.PathAttrs{Prepend: 3})
	const p = "203.0.113.10/32"
	for _, step := range []struct {
		name  string
		apply func() error
		want  string
	}{
		{"plain", func() error { return sp.Sync(ctx, []plan.Announcement{plain}) }, "med=none aspath=64999"},
		{"med by delta", func() error {
			return sp.SyncDelta(ctx, []plan.Announcement{med}, []plan.Announcement{plain})
		}, "med=1000 aspath=64999"},
		{"prepend by sync", func() error { return sp.Sync(ctx, []plan.Announcement{prepend}) }, "med=none aspath=64999 64999 64999 64999"},
		{"healthy again by delta", func() error {
			return sp.SyncDelta(ctx, []plan.Announcement{plain}, []plan.Announcement{prepend})
		}, "med=none aspath=64999"},
	} {
		if err := step.apply(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		lab.Eventually(t, 20*time.Second, step.name+": the peer has "+step.want, func() bool { return rcv.pathOf(t, p) == step.want })
	}
	if err := sp.SyncDelta(ctx, nil, []plan.Announcement{plain}); err != nil {
		t.Fatal(err)
	}
	lab.Eventually(t, 20*time.Second, "withdrawn", func() bool { return rcv.pathOf(t, p) == "" })
}
