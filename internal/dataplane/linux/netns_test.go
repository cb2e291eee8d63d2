package linux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/test/lab"
)

// testNS is a throwaway network namespace with a kernel bridge named like
// an OVS provider bridge (the kernel bridge device stands in for the OVS
// bridge's internal port, which is what br-ex is to the kernel) and a veth
// enslaved to it as the fake provider uplink.
type testNS struct {
	name string
	ns   netns.NsHandle
	h    *netlink.Handle
	dir  string // RTTablesDir

	veths map[string]string // bridge -> its veth port
	nveth int
}

func needRoot(tb testing.TB) {
	tb.Helper()
	lab.NeedRoot(tb, "the netns tests")
}

func newTestNS(tb testing.TB, bridges ...string) *testNS {
	tb.Helper()
	needRoot(tb)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ovnbgp-dp-" + hex.EncodeToString(b)
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatal(err)
	}
	ns, err := netns.NewNamed(name)
	if serr := netns.Set(orig); serr != nil {
		tb.Fatalf("return to the original netns: %v", serr) // the thread stays locked and dies with the test
	}
	orig.Close()
	runtime.UnlockOSThread()
	if err != nil {
		tb.Fatalf("create netns %s: %v", name, err)
	}
	t := &testNS{name: name, ns: ns, dir: tb.TempDir()}
	tb.Cleanup(func() {
		if t.h != nil {
			t.h.Close()
		}
		ns.Close()
		_ = netns.DeleteNamed(name)
	})
	if t.h, err = netlink.NewHandleAt(ns); err != nil {
		tb.Fatal(err)
	}
	lo, err := t.h.LinkByName("lo")
	if err != nil {
		tb.Fatal(err)
	}
	if err := t.h.LinkSetUp(lo); err != nil {
		tb.Fatal(err)
	}
	for _, br := range bridges {
		t.addBridge(tb, br)
	}
	return t
}

// addBridge creates a kernel bridge with a veth port (up).
func (t *testNS) addBridge(tb testing.TB, name string) {
	tb.Helper()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := t.h.LinkAdd(br); err != nil {
		tb.Fatalf("add bridge %s: %v", name, err)
	}
	t.nveth++
	v, p := fmt.Sprintf("veth%d", t.nveth), fmt.Sprintf("peer%d", t.nveth)
	if t.veths == nil {
		t.veths = map[string]string{}
	}
	t.veths[name] = v
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: v, MasterIndex: br.Index}, PeerName: p}
	if err := t.h.LinkAdd(veth); err != nil {
		tb.Fatalf("add veth for %s: %v", name, err)
	}
	for _, n := range []string{name, v, p} {
		l, err := t.h.LinkByName(n)
		if err != nil {
			tb.Fatal(err)
		}
		if err := t.h.LinkSetUp(l); err != nil {
			tb.Fatal(err)
		}
	}
}

func (t *testNS) link(tb testing.TB, name string) netlink.Link {
	tb.Helper()
	l, err := t.h.LinkByName(name)
	if err != nil {
		tb.Fatalf("link %s: %v", name, err)
	}
	return l
}

func (t *testNS) options(method string) Options {
	ns := t.ns
	return Options{
		AnnounceMethod: method, BGPVRF: "bgp-vrf", BGPNic: "bgp-nic", BGPVRFTableID: 10, AnnounceTableID: 10,
		RouteProtocol: 201, RulePriority: 1000, RulePriorityMax: 1999, BridgeTableBase: 200,
		RTTablesDir: t.dir, NetNS: &ns, RuleMode: RulePerPrefix,
	}
}

func (t *testNS) reconciler(tb testing.TB, method string) *Reconciler {
	tb.Helper()
	r, err := New(t.options(method))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

// rules returns the rules as "prio:dst:table" strings.
func (t *testNS) rules(tb testing.TB) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := t.h.RuleList(fam)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range rs {
			if r.Dst == nil {
				continue
			}
			out[ruleStr(r.Priority, r.Dst.String(), r.Table)] = true
		}
	}
	return out
}

// tableRules returns the selector-less rules to non-standard tables as
// "prio:table:suppress".
func (t *testNS) tableRules(tb testing.TB) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := t.h.RuleList(fam)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range rs {
			if r.Dst != nil || r.Table >= 253 || r.Table == 0 {
				continue
			}
			out[fmt.Sprintf("%d:%d:%d:%d", fam, r.Priority, r.Table, r.SuppressPrefixlen)] = true
		}
	}
	return out
}

func ruleStr(prio int, dst string, table int) string {
	return fmt.Sprintf("%d:%s:%d", prio, dst, table)
}

// routes returns the routes of a table as "dst dev proto [via gw]".
func (t *testNS) routes(tb testing.TB, table int) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	rs, err := t.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rs {
		dst := "default"
		if r.Dst != nil {
			dst = r.Dst.String()
			if ones, _ := r.Dst.Mask.Size(); ones == 0 {
				dst = "default"
				if r.Dst.IP.To4() == nil {
					dst = "default6"
				}
			}
		} else if r.Family == netlink.FAMILY_V6 {
			dst = "default6"
		}
		name := "?"
		if l, err := t.h.LinkByIndex(r.LinkIndex); err == nil {
			name = l.Attrs().Name
		}
		s := dst + " dev " + name + " proto " + strconv.Itoa(int(r.Protocol))
		if r.Gw != nil {
			s += " via " + r.Gw.String()
		}
		out[s] = true
	}
	return out
}

func (t *testNS) neighbours(tb testing.TB, dev string) (perm map[string]string, proxy map[string]bool) {
	tb.Helper()
	l := t.link(tb, dev)
	perm, proxy = map[string]string{}, map[string]bool{}
	ns, err := t.h.NeighList(l.Attrs().Index, netlink.FAMILY_ALL)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range ns {
		if n.State&netlink.NUD_PERMANENT != 0 {
			perm[n.IP.String()] = n.HardwareAddr.String()
		}
	}
	ps, err := t.h.NeighProxyList(l.Attrs().Index, netlink.FAMILY_V6)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range ps {
		proxy[n.IP.String()] = true
	}
	return perm, proxy
}

func (t *testNS) addrs(tb testing.TB, dev string) map[string]bool {
	tb.Helper()
	as, err := t.h.AddrList(t.link(tb, dev), netlink.FAMILY_ALL)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range as {
		out[a.IPNet.String()] = true
	}
	return out
}

// sysctl reads a /proc/sys/net value inside the namespace.
func (t *testNS) sysctl(tb testing.TB, path string) string {
	tb.Helper()
	var v []byte
	if err := inNetns(t.ns, func() error {
		var err error
		v, err = os.ReadFile(filepath.Join("/proc/sys", path))
		return err
	}); err != nil {
		tb.Fatalf("sysctl %s: %v", path, err)
	}
	return strings.TrimSpace(string(v))
}

func ipnet(s string) *net.IPNet {
	p := netip.MustParsePrefix(s)
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// runWired starts r.Run, wires st and waits until Run listens; stop ends
// Run and returns its error.
func runWired(tb testing.TB, r *Reconciler, st *plan.State) (ctx context.Context, stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()
	if err := r.Wire(ctx, st); err != nil {
		tb.Fatal(err)
	}
	<-r.Listening()
	return ctx, func() error { cancel(); return <-runDone }
}
