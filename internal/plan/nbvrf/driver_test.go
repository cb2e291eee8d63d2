package nbvrf_test

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/nbvrf"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// fx is a northbound topology on chassis c1/host1, whose OVS maps physnet1
// to br-ex.
type fx struct {
	t   *topology.Topology
	cfg *config.Config
	ls  map[string]*nbdb.LogicalSwitch
}

func newFx() *fx {
	f := &fx{t: topology.New(), cfg: config.Default(), ls: map[string]*nbdb.LogicalSwitch{}}
	f.cfg.Driver, f.cfg.ExposingMethod, f.cfg.EVPNLocalIP = config.DriverNB, config.ExposingVRF, "192.0.2.10"
	f.t.Upsert(&vswitch.OpenVSwitch{UUID: "ovs", ExternalIDs: map[string]string{
		"system-id": "c1", "hostname": "host1", "ovn-bridge-mappings": "physnet1:br-ex"}})
	return f
}

func ptr[T any](v T) *T { return &v }

// net adds provider switch neutron-<name> on physnet1 with VLAN vlan and
// the given external_ids besides its network name.
func (f *fx) net(name string, vlan int, ids ...string) {
	m := map[string]string{"neutron:network_name": name}
	for i := 0; i+1 < len(ids); i += 2 {
		m[ids[i]] = ids[i+1]
	}
	ln := &nbdb.LogicalSwitchPort{UUID: "provnet-" + name, Name: "provnet-" + name, Type: "localnet", Addresses: []string{"unknown"},
		Options: map[string]string{"network_name": "physnet1"}, ExternalIDs: map[string]string{}}
	if vlan != 0 {
		ln.Tag = ptr(vlan)
	}
	f.t.Upsert(ln)
	ls := &nbdb.LogicalSwitch{UUID: "ls-" + name, Name: "neutron-" + name, ExternalIDs: m, Ports: []string{ln.UUID}}
	f.ls[name] = ls
	f.t.Upsert(ls)
}

// vm adds an up VM port bound to host1 on network sw.
func (f *fx) vm(sw, name, mac, ip string) {
	p := &nbdb.LogicalSwitchPort{UUID: name, Name: name, Addresses: []string{mac + " " + ip}, Up: ptr(true),
		Options:     map[string]string{"requested-chassis": "host1"},
		ExternalIDs: map[string]string{"neutron:cidrs": ip + "/24", "neutron:network_name": "neutron-" + sw, "neutron:host_id": "host1"}}
	f.t.Upsert(p)
	ls := *f.ls[sw]
	ls.Ports = append(append([]string{}, ls.Ports...), p.UUID)
	f.ls[sw] = &ls
	f.t.Upsert(&ls)
}

func (f *fx) plan(t *testing.T) (*plan.State, []plan.Warning) {
	t.Helper()
	d := nbvrf.New(f.cfg, f.t, northbound.Identity{})
	return plan.Full(d, "c1")
}

func anns(st *plan.State) []string {
	var out []string
	for _, a := range st.Announcements {
		out = append(out, fmt.Sprintf("%s %s %s", a.VRF, a.Prefix, a.Kind))
	}
	sort.Strings(out)
	return out
}

// TestTwoTenantsOverlap: two tenant networks with the same CIDR and the
// same VM address, behind VNIs 100 and 200, are announced in their own
// VRFs, each wired on its own VLAN with its own VM's MAC; a provider
// network without bgpvpn keys is not announced (the method announces only
// in VRFs); the VRFs carry the default RD and the listed route targets.
func TestTwoTenantsOverlap(t *testing.T) {
	f := newFx()
	f.net("a", 101, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "100", nbvrf.KeyRT, "['64999:100']")
	f.net("b", 102, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "2000", nbvrf.KeyIT, "['64999:1']", nbvrf.KeyET, "['64999:2']", nbvrf.KeyRD, "['64999:200']")
	f.net("plain", 103)
	f.vm("a", "vm-a", "fa:16:3e:00:00:0a", "10.0.0.5")
	f.vm("b", "vm-b", "fa:16:3e:00:00:0b", "10.0.0.5")
	f.vm("plain", "vm-p", "fa:16:3e:00:00:0c", "10.9.0.5")
	st, ws := f.plan(t)
	if len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	want := []string{"vrf-100 10.0.0.5/32 provider-port", "vrf-2000 10.0.0.5/32 provider-port"}
	if got := anns(st); !reflect.DeepEqual(got, want) {
		t.Errorf("announcements %q, want %q", got, want)
	}
	for _, e := range st.Wiring.Exposures {
		wantVLAN, wantMAC := 101, "fa:16:3e:00:00:0a"
		if e.VRF == "vrf-2000" {
			wantVLAN, wantMAC = 102, "fa:16:3e:00:00:0b"
		}
		if e.Bridge != "br-ex" || e.VLAN != wantVLAN || e.MAC != wantMAC {
			t.Errorf("exposure %+v: want br-ex VLAN %d MAC %s", e, wantVLAN, wantMAC)
		}
	}
	wantVRFs := []plan.VRF{
		{Name: "vrf-100", VNI: 100, Table: 100, RD: "192.0.2.10:100", ImportRT: []string{"64999:100"}, ExportRT: []string{"64999:100"}, Network: "a", Ports: []plan.VRFPort{{Bridge: "br-ex", VLAN: 101}}},
		{Name: "vrf-2000", VNI: 2000, Table: 2000, RD: "64999:200", ImportRT: []string{"64999:1"}, ExportRT: []string{"64999:2"}, Network: "b", Ports: []plan.VRFPort{{Bridge: "br-ex", VLAN: 102}}},
	}
	if !reflect.DeepEqual(st.Wiring.VRFs, wantVRFs) {
		t.Errorf("VRFs %+v\nwant %+v", st.Wiring.VRFs, wantVRFs)
	}
}

// TestBadTenants: each kind of bad input is a warning naming the switch,
// and only that tenant is not served.
func TestBadTenants(t *testing.T) {
	f := newFx()
	f.cfg.OVNBGP.BridgeTableBase = 300 // VNI 300 collides with a bridge table
	f.net("good", 10, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "100")
	f.net("toolarge", 11, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "16777216")
	f.net("zdup", 12, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "100")
	f.net("badrt", 13, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "101", nbvrf.KeyRT, "64999:1")
	f.net("badrd", 14, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "102", nbvrf.KeyRD, "['nope']")
	f.net("main", 15, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "254")
	f.net("bridge", 16, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "301")
	f.net("l2", 17, nbvrf.KeyType, "l2", nbvrf.KeyVNI, "103")
	f.net("flat", 0, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "104")
	for i, n := range []string{"good", "toolarge", "zdup", "badrt", "badrd", "main", "bridge", "l2", "flat"} {
		f.vm(n, "vm-"+n, fmt.Sprintf("fa:16:3e:00:01:%02x", i), fmt.Sprintf("10.0.%d.5", i))
	}
	st, ws := f.plan(t)
	if got := anns(st); !reflect.DeepEqual(got, []string{"vrf-100 10.0.0.5/32 provider-port"}) {
		t.Errorf("announcements %q", got)
	}
	if len(st.Wiring.VRFs) != 1 || st.Wiring.VRFs[0].Name != "vrf-100" || st.Wiring.VRFs[0].Network != "good" {
		t.Errorf("VRFs %+v", st.Wiring.VRFs)
	}
	want := map[string]string{
		"neutron-toolarge": "bad-bgpvpn", "neutron-zdup": "duplicate-vni", "neutron-badrt": "bad-bgpvpn",
		"neutron-badrd": "bad-bgpvpn", "neutron-main": "vni-table", "neutron-bridge": "vni-table", "neutron-l2": "bad-bgpvpn",
		"neutron-flat": "flat-tenant",
	}
	got := map[string]string{}
	for _, w := range ws {
		if w.Table != nbdb.LogicalSwitchTable {
			t.Errorf("unexpected warning %s", w)
			continue
		}
		got[w.Row] = w.Reason
		if !strings.Contains(w.Detail, "not served") {
			t.Errorf("warning %s does not say the network is not served", w)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings %v\nwant %v", got, want)
	}
}

// TestIncrementalVRFChanges: a VNI added, changed and removed on a switch
// re-plans through Reset, and the incremental state equals a fresh plan
// each time (the VRF list included).
func TestIncrementalVRFChanges(t *testing.T) {
	f := newFx()
	f.net("a", 101)
	f.vm("a", "vm-a", "fa:16:3e:00:00:0a", "10.0.0.5")
	d := nbvrf.New(f.cfg, f.t, northbound.Identity{})
	inc := plan.NewIncremental(d, "c1")
	cur, _ := inc.Full()
	if len(cur.Announcements) != 0 {
		t.Fatalf("announced without a VNI: %v", anns(cur))
	}
	step := func(ids map[string]string, want []string) {
		t.Helper()
		ls := *f.ls["a"]
		ls.ExternalIDs = ids
		f.ls["a"] = &ls
		f.t.Upsert(&ls)
		delta, _ := inc.Replan([]plan.RowRef{{Table: nbdb.LogicalSwitchTable, UUID: ls.UUID}})
		cur.Apply(delta)
		fresh, _ := f.plan(t)
		if !reflect.DeepEqual(cur, fresh) {
			t.Fatalf("incremental %+v\nfresh %+v", cur, fresh)
		}
		if got := anns(cur); !reflect.DeepEqual(got, want) {
			t.Fatalf("announcements %q, want %q", got, want)
		}
	}
	step(map[string]string{"neutron:network_name": "a", nbvrf.KeyType: "l3", nbvrf.KeyVNI: "100"}, []string{"vrf-100 10.0.0.5/32 provider-port"})
	step(map[string]string{"neutron:network_name": "a", nbvrf.KeyType: "l3", nbvrf.KeyVNI: "7"}, []string{"vrf-7 10.0.0.5/32 provider-port"})
	step(map[string]string{"neutron:network_name": "a"}, nil)
	if len(cur.Wiring.VRFs) != 0 {
		t.Errorf("VRFs left: %+v", cur.Wiring.VRFs)
	}
}

// TestFlowsOnlyTenants: only the patch ports of tenant localnets get the
// MAC-rewrite flow.
func TestFlowsOnlyTenants(t *testing.T) {
	f := newFx()
	f.net("a", 101, nbvrf.KeyType, "l3", nbvrf.KeyVNI, "100")
	f.net("plain", 103)
	f.t.Upsert(&vswitch.Interface{UUID: "if-br", Name: "br-ex", MACInUse: ptr("aa:bb:cc:00:00:01")})
	ports := []string{"if-br"}
	for i, n := range []string{"patch-provnet-a-to-br-int", "patch-provnet-plain-to-br-int"} {
		f.t.Upsert(&vswitch.Interface{UUID: "if-" + n, Name: n, Ofport: ptr(10 + i)})
		ports = append(ports, "if-"+n)
	}
	var pu []string
	for _, p := range ports {
		f.t.Upsert(&vswitch.Port{UUID: "p" + p, Name: strings.TrimPrefix(p, "if-"), Interfaces: []string{p}})
		pu = append(pu, "p"+p)
	}
	f.t.Upsert(&vswitch.Bridge{UUID: "br", Name: "br-ex", Ports: pu})
	st, _ := f.plan(t)
	if len(st.Wiring.Flows) != 1 || st.Wiring.Flows[0].Port != "patch-provnet-a-to-br-int" {
		t.Errorf("flows %+v, want the tenant's patch port only", st.Wiring.Flows)
	}
}
