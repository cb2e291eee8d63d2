package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// nbLab is a Neutron-built OVN deployment: compute chassis c1 and c2 and
// gateway chassis gw1, all mapping physnet1 to br-ex and physnet2 to
// br-vlan, with real ovn-controllers binding the VMs.
type nbLab struct {
	l       *lab.Lab
	c       *lab.Central
	chassis []*lab.Chassis
	nb      *ovsdb.Client
}

// load reads every monitored northbound row through ovnbgp's OVSDB client
// into a fresh topology, plus the chassis' Open_vSwitch row (system-id,
// hostname and bridge mappings read from its real OVS database).
func (x *nbLab) load(t *testing.T, ch *lab.Chassis, patch func(row any) any) *topology.Topology {
	t.Helper()
	tp := topology.New()
	for table := range ovsdb.Northbound.Tables {
		if bad := x.nb.ForEach(table, func(_ string, row any) bool {
			if patch != nil {
				row = patch(row)
			}
			tp.Upsert(row)
			return true
		}); bad != 0 {
			t.Fatalf("%d malformed %s rows", bad, table)
		}
	}
	get := func(key string) string {
		return strings.Trim(ch.VSCtl("get", "Open_vSwitch", ".", "external_ids:"+key), `"`)
	}
	tp.Upsert(&vswitch.OpenVSwitch{UUID: "ovs-" + ch.Name, ExternalIDs: map[string]string{
		"system-id": get("system-id"), "hostname": get("hostname"), "ovn-bridge-mappings": get("ovn-bridge-mappings")}})
	return tp
}

// planOf returns "prefix kind bridge/vlan mac via" lines of the chassis' NB plan.
func planOf(t *testing.T, tp *topology.Topology, cfg *config.Config, name string) ([]string, *plan.State) {
	t.Helper()
	tp.RLock()
	defer tp.RUnlock()
	st, w := plan.Full(northbound.New(cfg, tp, northbound.Identity{}), name)
	if len(w) != 0 {
		t.Errorf("%s: warnings %v", name, w)
	}
	exp := map[string]plan.Exposure{}
	for _, e := range st.Wiring.Exposures {
		exp[e.Key().String()] = e
	}
	var out []string
	for _, a := range st.Announcements {
		e := exp[a.Key().String()]
		via := ""
		if e.Via.IsValid() {
			via = " via " + e.Via.String()
		}
		out = append(out, fmt.Sprintf("%s %s %s/%d %s%s", a.Prefix, a.Kind, e.Bridge, e.VLAN, e.MAC, via))
	}
	sort.Strings(out)
	return out, st
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func requireLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("%s:\nwant:\n  %s\ngot:\n  %s", what, strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
}

// TestNBPlanLab builds a Neutron-like deployment with the lab builders on
// real OVN (ovn-northd, three ovn-controllers, VMs bound to their ports),
// reads the northbound database with ovnbgp's OVSDB client and checks the
// northbound plan of every chassis: provider VMs (flat and VLAN, v4 and
// v6) on their compute chassis, the distributed FIP on the VM's chassis,
// and the gateway-side kinds (cr-lrp, centralized FIP, tenant ports, LB
// VIP and FIP, port forwarding) on the gateway chassis only.
//
// The gateway side needs Logical_Router_Port status:hosting-chassis (OVN
// >= 23.09). On older OVN (Debian 12 ships 23.03) the test asserts what
// is knowable, that no chassis announces gateway kinds, then sets
// hosting-chassis=gw1 on the loaded gateway port, which is what 23.09
// northd writes for this deployment, and checks the gateway plan.
func TestNBPlanLab(t *testing.T) {
	lab.NeedRoot(t, "the OVN lab (network namespaces, OVS)")
	start := time.Now()
	x := &nbLab{l: lab.New(t)}
	x.c = x.l.StartCentral()
	maps := "physnet1:br-ex,physnet2:br-vlan"
	c1 := x.l.AddChassis(x.c, "c1", lab.ChassisOptions{EncapIP: "192.0.2.11", BridgeMappings: maps})
	c2 := x.l.AddChassis(x.c, "c2", lab.ChassisOptions{EncapIP: "192.0.2.12", BridgeMappings: maps})
	gw1 := x.l.AddChassis(x.c, "gw1", lab.ChassisOptions{EncapIP: "192.0.2.13", BridgeMappings: maps, Gateway: true})
	x.chassis = []*lab.Chassis{c1, c2, gw1}

	n := x.c.Neutron()
	n.SetFIPDistributed(true)
	pub := n.ProviderNetwork("public", "physnet1", 0)
	vlan := n.ProviderNetwork("vlan100", "physnet2", 100)
	priv := n.TenantNetwork("private")
	vm1 := n.Port(pub, "fa:16:3e:00:01:10", []string{"172.24.4.10/24", "2001:db8:24::10/64"}, lab.PortOptions{Host: "c1"})
	vm2 := n.Port(vlan, "fa:16:3e:00:02:10", []string{"172.24.5.10/24"}, lab.PortOptions{Host: "c2"})
	vm3 := n.Port(priv, "fa:16:3e:00:03:10", []string{"10.0.0.10/24"}, lab.PortOptions{Host: "c1"})
	vm4 := n.Port(priv, "fa:16:3e:00:04:10", []string{"10.0.0.11/24"}, lab.PortOptions{Host: "c2"})
	r := n.Router("router1")
	gw := r.SetGateway(pub, "fa:16:3e:00:00:01", "172.24.4.100/24", "gw1")
	r.AddInterface(priv, "fa:16:3e:00:00:02", "10.0.0.1/24", "scope-1", false)
	r.FIP(vm3, "172.24.4.150", "fa:16:3e:00:aa:03", true)
	r.FIP(vm4, "172.24.4.151", "fa:16:3e:00:aa:04", false)
	r.LoadBalancer("10.0.0.100", 80, priv, priv, []string{"10.0.0.10", "10.0.0.11"}, "172.24.4.160")
	r.PortForwarding("172.24.4.170", "tcp", 2222, "10.0.0.10", 22)
	for _, v := range []struct {
		ch    *lab.Chassis
		p     *lab.Port
		addrs []string
	}{
		{c1, vm1, []string{"172.24.4.10/24", "2001:db8:24::10/64"}},
		{c2, vm2, []string{"172.24.5.10/24"}},
		{c1, vm3, []string{"10.0.0.10/24"}},
		{c2, vm4, []string{"10.0.0.11/24"}},
	} {
		x.l.AddVM(x.c, v.ch, v.p.ID, v.p.MAC, v.addrs, nil)
	}
	x.c.NBCtl("--wait=sb", "sync")
	for _, p := range []*lab.Port{vm1, vm2, vm3, vm4} {
		x.l.Eventually(20*time.Second, "NB up of "+p.ID, func() bool {
			return x.c.NBCtl("get", "Logical_Switch_Port", p.ID, "up") == "true"
		})
	}
	built := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	x.nb, err = ovsdb.Connect(ctx, ovsdb.Northbound, ovsdb.Options{Remote: x.c.NBRemote(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("connect NB: %v", err)
	}
	t.Cleanup(x.nb.Close)
	hasStatus := x.nb.HasColumn(nbdb.LogicalRouterPortTable, "status")

	cfg := config.Default()
	cfg.Driver = config.DriverNB
	cfg.ExposeTenantNetworks = true
	wantC1 := sorted(
		"172.24.4.10/32 provider-port br-ex/0 fa:16:3e:00:01:10",
		"2001:db8:24::10/128 provider-port br-ex/0 fa:16:3e:00:01:10",
		"172.24.4.150/32 fip br-ex/0 fa:16:3e:00:aa:03")
	wantC2 := sorted("172.24.5.10/32 provider-port br-vlan/100 fa:16:3e:00:02:10")
	wantGW := sorted(
		"172.24.4.100/32 cr-lrp br-ex/0 fa:16:3e:00:00:01",
		"172.24.4.151/32 fip br-ex/0 fa:16:3e:00:00:01",
		"172.24.4.160/32 lb-fip br-ex/0 fa:16:3e:00:00:01",
		"172.24.4.170/32 pf-fip br-ex/0 fa:16:3e:00:00:01",
		"10.0.0.10/32 tenant-port br-ex/0  via 172.24.4.100",
		"10.0.0.11/32 tenant-port br-ex/0  via 172.24.4.100",
		"10.0.0.100/32 lb-vip br-ex/0  via 172.24.4.100")

	var patch func(any) any
	if hasStatus {
		x.l.Eventually(30*time.Second, "hosting-chassis of "+gw.LRP, func() bool {
			return strings.Trim(x.c.NBCtl("get", "Logical_Router_Port", gw.LRP, "status:hosting-chassis"), `"`) == "gw1"
		})
		t.Logf("OVN writes status:hosting-chassis: gateway plan from the real value")
	} else {
		t.Logf("OVN NB has no Logical_Router_Port.status (OVN < 23.09): gateway kinds are not knowable from the NB")
		for _, ch := range x.chassis {
			got, _ := planOf(t, x.load(t, ch, nil), cfg, ch.Name)
			want := map[string][]string{"c1": wantC1, "c2": wantC2, "gw1": nil}[ch.Name]
			requireLines(t, ch.Name+" without hosting-chassis", want, got)
		}
		// What 23.09's northd writes for this deployment.
		patch = func(row any) any {
			if p, ok := row.(*nbdb.LogicalRouterPort); ok && p.Name == gw.LRP {
				cp := *p
				cp.Status = map[string]string{"hosting-chassis": "gw1"}
				return &cp
			}
			return row
		}
	}
	var st *plan.State
	for _, ch := range x.chassis {
		got, s := planOf(t, x.load(t, ch, patch), cfg, ch.Name)
		want := map[string][]string{"c1": wantC1, "c2": wantC2, "gw1": wantGW}[ch.Name]
		requireLines(t, ch.Name, want, got)
		if ch == c2 {
			st = s
		}
	}
	if len(st.Wiring.Bridges) != 2 || fmt.Sprint(st.Wiring.Bridges[1].VLANs) != "[100]" {
		t.Errorf("c2 bridges: %+v", st.Wiring.Bridges)
	}

	// Row 11/12: vm1 is re-requested on c2, where it has no VIF: OVN
	// releases it on c1 and the port goes down: nobody announces it.
	x.c.NBCtl("lsp-set-options", vm1.ID, "requested-chassis=c2")
	x.l.Eventually(20*time.Second, "vm1 down", func() bool {
		return x.c.NBCtl("get", "Logical_Switch_Port", vm1.ID, "up") == "false"
	})
	for _, ch := range []*lab.Chassis{c1, c2} {
		got, _ := planOf(t, x.load(t, ch, patch), cfg, ch.Name)
		for _, l := range got {
			if strings.HasPrefix(l, "172.24.4.10/32") || strings.HasPrefix(l, "2001:db8:24::10/128") {
				t.Errorf("%s still announces vm1 after it moved and went down: %s", ch.Name, l)
			}
		}
	}
	t.Logf("lab built in %s (3 chassis, 4 VMs bound); plans checked in %s",
		built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
}
