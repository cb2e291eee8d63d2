package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netns makes a network namespace with a provider "bridge" br-ex (a veth:
// the host kernel has no dummy) and bgp-nic, removed at cleanup.
func netns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "ovnbgp-cf-" + hex.EncodeToString(b)
	ip(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ip(t, "-n", ns, "link", "add", "br-ex", "type", "veth", "peer", "name", "br-ex-p")
	ip(t, "-n", ns, "link", "add", "bgp-nic", "type", "veth", "peer", "name", "bgp-nic-p")
	for _, d := range []string{"br-ex", "br-ex-p", "bgp-nic", "bgp-nic-p", "lo"} {
		ip(t, "-n", ns, "link", "set", d, "up")
	}
	return ns
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// wire writes one exposure set in the shape of one agent: its table
// number, rule priority and route protocol, its link address.
func wire(t *testing.T, ns string, table, prio, proto, linkAddr string, vms ...string) {
	t.Helper()
	n := func(args ...string) { ip(t, append([]string{"-n", ns}, args...)...) }
	n("route", "add", "default", "dev", "br-ex", "table", table, "proto", proto)
	n("addr", "add", linkAddr, "dev", "br-ex")
	for _, vm := range vms {
		n("rule", "add", "to", vm+"/32", "lookup", table, "pref", prio)
		n("route", "add", vm+"/32", "dev", "br-ex", "table", table, "proto", proto)
		n("addr", "add", vm+"/32", "dev", "bgp-nic")
	}
	n("route", "add", "10.0.0.0/24", "via", "172.24.4.100", "dev", "br-ex", "table", table, "proto", proto)
	n("neigh", "replace", "172.24.4.100", "lladdr", "fa:16:3e:00:00:01", "dev", "br-ex", "nud", "permanent")
}

// TestSnapshotNormalizesAgents: the same exposures written the way
// upstream writes them (a random table, the kernel's rule priorities,
// proto boot) and the way ovnbgp does (table 201, priority 1000, proto 201)
// give the same snapshot; an address only one of them announces and a
// different link address are exactly the differences Diff prints.
func TestSnapshotNormalizesAgents(t *testing.T) {
	up, ob := netns(t), netns(t)
	wire(t, up, "47", "32000", "boot", "169.254.0.1/32", "172.24.4.10", "172.24.4.11")
	wire(t, ob, "201", "1000", "201", "169.254.0.1/32", "172.24.4.10", "172.24.4.11")
	take := func(ns string) *Snapshot {
		s, err := Take(InNetns(ns), "bgp-nic", []string{"br-ex"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := take(up), take(ob)
	if d := Diff(a, b); len(d) != 0 {
		t.Fatalf("same exposures, different snapshots:\n%s", strings.Join(d, "\n"))
	}
	for _, want := range []string{"br-ex: 172.24.4.10/32 dev br-ex", "br-ex: 10.0.0.0/24 via 172.24.4.100 dev br-ex"} {
		if !strings.Contains(strings.Join(a.Routes, "\n"), want) {
			t.Errorf("routes %v lack %q", a.Routes, want)
		}
	}
	if len(a.Rules) != 2 || len(a.Announced) != 2 || len(a.Neighbours) != 1 || len(a.LinkAddrs) != 1 {
		t.Errorf("snapshot: %+v", a)
	}

	ip(t, "-n", ob, "addr", "add", "172.24.4.12/32", "dev", "bgp-nic")
	// Add before delete: the kernel drops every IPv4 route of a device
	// that loses its last IPv4 address.
	ip(t, "-n", ob, "addr", "add", "169.254.1.1/32", "dev", "br-ex")
	ip(t, "-n", ob, "addr", "del", "169.254.0.1/32", "dev", "br-ex")
	got := strings.Join(Diff(take(up), take(ob)), "\n")
	want := "+ announced 172.24.4.12/32\n- link address br-ex 169.254.0.1/32\n+ link address br-ex 169.254.1.1/32"
	if got != want {
		t.Errorf("Diff =\n%s\nwant\n%s", got, want)
	}
}

func TestParseFlows(t *testing.T) {
	dump := `NXST_FLOW reply (xid=0x4):
 cookie=0x3e7, duration=12.345s, table=0, n_packets=3, n_bytes=294, idle_age=1, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL
 cookie=0x0, duration=100.1s, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL
 cookie=0x3e7, duration=12.3s, table=0, n_packets=0, n_bytes=0, priority=900,ipv6,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL
`
	got := strings.Join(ParseFlows("br-ex", dump), "\n")
	want := "br-ex priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL\n" +
		"br-ex priority=900,ipv6,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL"
	if got != want {
		t.Errorf("ParseFlows =\n%s\nwant\n%s", got, want)
	}
}
