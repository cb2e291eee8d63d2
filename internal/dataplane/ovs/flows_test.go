package ovs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

func TestParseFlowLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want dumpedFlow
		err  bool
	}{
		{
			name: "OpenFlow10 no stats",
			line: " cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
			want: dumpedFlow{Cookie: 0x3e7, Priority: 900, Match: []string{"ip", "in_port=2"}, Actions: "mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL"},
		},
		{
			name: "OpenFlow13 reset_counts set_field",
			line: " cookie=0x3e7, reset_counts priority=900,ipv6,in_port=10 actions=set_field:aa:bb:cc:dd:ee:ff->eth_dst,NORMAL",
			want: dumpedFlow{Cookie: 0x3e7, Priority: 900, Match: []string{"ipv6", "in_port=10"}, Actions: "set_field:aa:bb:cc:dd:ee:ff->eth_dst,NORMAL"},
		},
		{
			name: "with stats and table",
			line: " cookie=0x3e7, duration=0.024s, table=3, n_packets=0, n_bytes=0, idle_timeout=30, idle_age=0, priority=1000,ip,in_port=2,nw_dst=10.0.0.0/8 actions=drop",
			want: dumpedFlow{Cookie: 0x3e7, Table: 3, Priority: 1000, Match: []string{"ip", "in_port=2", "nw_dst=10.0.0.0/8"}, Actions: "drop"},
		},
		{
			name: "default priority omitted, cookie 0 omitted",
			line: " ip actions=NORMAL",
			want: dumpedFlow{Priority: 32768, Match: []string{"ip"}, Actions: "NORMAL"},
		},
		{name: "bad cookie", line: " cookie=zz, priority=1 actions=drop", err: true},
		{name: "bad priority", line: " cookie=0x1, priority=x actions=drop", err: true},
		{name: "empty actions", line: " cookie=0x1, priority=1 actions=", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlowLine(strings.TrimSpace(tt.line))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if tt.err {
				return
			}
			got.Raw = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDumpSkipsHeadersAndReportsBad(t *testing.T) {
	out := "NXST_FLOW reply (xid=0x4):\n" +
		" cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL\n" +
		"OFPST_FLOW reply (OF1.3) (xid=0x2):\n" +
		" cookie=0x3e7, priority=bogus,ip actions=NORMAL\n\n"
	flows, bad := parseDump(out)
	if len(flows) != 1 || flows[0].Match[1] != "in_port=2" {
		t.Fatalf("flows = %+v", flows)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], "bogus") {
		t.Fatalf("bad = %q", bad)
	}
}

func TestOurs(t *testing.T) {
	mk := func(line string) dumpedFlow {
		f, err := parseFlowLine(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return f
	}
	tests := []struct {
		line string
		key  flowKey
		mac  string
		ok   bool
	}{
		{"cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:AA:BB:CC:DD:EE:FF,NORMAL", flowKey{false, 2}, "aa:bb:cc:dd:ee:ff", true},
		{"cookie=0x3e7, reset_counts priority=900,ipv6,in_port=10 actions=set_field:aa:bb:cc:dd:ee:ff->eth_dst,NORMAL", flowKey{true, 10}, "aa:bb:cc:dd:ee:ff", true},
		{"cookie=0x3e7, priority=900,in_port=2,ip actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{false, 2}, "aa:bb:cc:dd:ee:ff", true},
		{"cookie=0x3e7, priority=1000,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{}, "", false},         // upstream ovn method priority
		{"cookie=0x3e7, table=1, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{}, "", false}, // other table
		{"cookie=0x3e7, priority=900,ip,in_port=2,nw_src=10.0.0.0/8 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{}, "", false},
		{"cookie=0x3e7, priority=900,ip,in_port=LOCAL actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{}, "", false},
		{"cookie=0x3e7, priority=900,ip,ipv6 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL", flowKey{}, "", false},
		{"cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,output:3", flowKey{}, "", false},
		{"cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL,drop", flowKey{}, "", false},
		{"cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:zz,NORMAL", flowKey{}, "", false},
	}
	for _, tt := range tests {
		k, mac, ok := mk(tt.line).ours(900)
		if ok != tt.ok || k != tt.key || mac != tt.mac {
			t.Errorf("%s: got %v %q %v, want %v %q %v", tt.line, k, mac, ok, tt.key, tt.mac, tt.ok)
		}
	}
}

func TestDesiredByBridge(t *testing.T) {
	flows := []plan.Flow{
		{Bridge: "br-ex", Port: "patch-provnet-a", OFPort: 1, DstMAC: "AA:BB:CC:00:00:01"},
		{Bridge: "br-ex", Port: "patch-provnet-b", OFPort: 10, DstMAC: "aa:bb:cc:00:00:01"},
		{Bridge: "br-ex", Port: "patch-provnet-dup", OFPort: 10, DstMAC: "aa:bb:cc:00:00:01"}, // same: no error
		{Bridge: "br-ex", Port: "patch-provnet-c", OFPort: 10, DstMAC: "aa:bb:cc:00:00:02"},   // conflict
		{Bridge: "br-ex", Port: "patch-provnet-d", OFPort: 0, DstMAC: "aa:bb:cc:00:00:01"},    // no ofport yet
		{Bridge: "br-vlan", Port: "patch-provnet-e", OFPort: 3, DstMAC: "not-a-mac"},
		{Bridge: "", Port: "x", OFPort: 3, DstMAC: "aa:bb:cc:00:00:01"},
	}
	got, bad := desiredByBridge(flows)
	want := map[string]desiredSet{"br-ex": {
		{false, 1}: "aa:bb:cc:00:00:01", {true, 1}: "aa:bb:cc:00:00:01",
		{false, 10}: "aa:bb:cc:00:00:01", {true, 10}: "aa:bb:cc:00:00:01",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("desired = %v, want %v", got, want)
	}
	var ports []string
	for _, b := range bad {
		ports = append(ports, b.Flow.Port)
	}
	if !reflect.DeepEqual(ports, []string{"patch-provnet-c", "patch-provnet-d", "patch-provnet-e", "x"}) {
		t.Fatalf("invalid = %v", bad)
	}
}

func TestDiff(t *testing.T) {
	const mac = "aa:bb:cc:dd:ee:ff"
	parse := func(lines ...string) []dumpedFlow {
		f, bad := parseDump(strings.Join(lines, "\n"))
		if len(bad) > 0 {
			t.Fatalf("bad lines %q", bad)
		}
		return f
	}
	want := desiredSet{{false, 1}: mac, {true, 1}: mac}
	tests := []struct {
		name       string
		have       []dumpedFlow
		want       desiredSet
		blocked    map[flowKey]bool
		lines      []string
		adds, dels int
	}{
		{
			name:    "key held by a foreign flow is not added",
			want:    want,
			blocked: map[flowKey]bool{{true, 1}: true},
			lines: []string{
				"add cookie=0x3e7,table=0,priority=900,ip,in_port=1,actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
			},
			adds: 1,
		},
		{
			name: "from empty",
			want: want,
			lines: []string{
				"add cookie=0x3e7,table=0,priority=900,ip,in_port=1,actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				"add cookie=0x3e7,table=0,priority=900,ipv6,in_port=1,actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
			},
			adds: 2,
		},
		{
			name: "in sync (OpenFlow13 rendering)",
			have: parse(" cookie=0x3e7, reset_counts priority=900,ip,in_port=1 actions=set_field:aa:bb:cc:dd:ee:ff->eth_dst,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL"),
			want: want,
		},
		{
			name: "in_port=10 does not satisfy in_port=1",
			have: parse(" cookie=0x3e7, priority=900,ip,in_port=10 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL"),
			want: want,
			lines: []string{
				"delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=10",
				"add cookie=0x3e7,table=0,priority=900,ip,in_port=1,actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
			},
			adds: 1, dels: 1,
		},
		{
			name: "MAC changed: overwritten by add, no delete",
			have: parse(" cookie=0x3e7, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:00,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL"),
			want: want,
			lines: []string{
				"add cookie=0x3e7,table=0,priority=900,ip,in_port=1,actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
			},
			adds: 1,
		},
		{
			name: "upstream leftovers: other priority and table removed, foreign cookie ignored",
			have: parse(" cookie=0x3e7, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, priority=1000,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, table=2, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e6, priority=900,ip,in_port=7 actions=drop"),
			want: want,
			lines: []string{
				"delete_strict cookie=0x3e7/-1,table=0,priority=1000,ip,in_port=1",
				"delete_strict cookie=0x3e7/-1,table=2,priority=900,ip,in_port=1",
			},
			dels: 2,
		},
		{
			name: "port removed",
			have: parse(" cookie=0x3e7, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL",
				" cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:00,NORMAL",
				" cookie=0x3e7, priority=900,ipv6,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:00,NORMAL"),
			want: want,
			lines: []string{
				"delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=2",
				"delete_strict cookie=0x3e7/-1,table=0,priority=900,ipv6,in_port=2",
			},
			dels: 2,
		},
		{
			name: "nothing wanted: one delete by cookie",
			have: parse(" cookie=0x3e7, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:00,NORMAL",
				" cookie=0x3e7, table=3, priority=1,arp actions=drop"),
			want:  desiredSet{},
			lines: []string{"delete cookie=0x3e7/-1"},
			dels:  2,
		},
		{
			name:  "nothing wanted, one flow",
			have:  parse(" cookie=0x3e7, priority=900,ip,in_port=1 actions=mod_dl_dst:aa:bb:cc:dd:ee:00,NORMAL"),
			want:  desiredSet{},
			lines: []string{"delete_strict cookie=0x3e7/-1,table=0,priority=900,ip,in_port=1"},
			dels:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, adds, dels := diff(0x3e7, 900, tt.have, tt.want, tt.blocked)
			if !reflect.DeepEqual(lines, tt.lines) || adds != tt.adds || dels != tt.dels {
				t.Fatalf("got %d adds %d dels:\n%s\nwant %d adds %d dels:\n%s", adds, dels,
					strings.Join(lines, "\n"), tt.adds, tt.dels, strings.Join(tt.lines, "\n"))
			}
		})
	}
}

// FuzzDiff feeds arbitrary dump output through the parser and the diff:
// no panic, and every delete line carries our cookie mask.
func FuzzDiff(f *testing.F) {
	f.Add(" cookie=0x3e7, priority=900,ip,in_port=2 actions=mod_dl_dst:aa:bb:cc:dd:ee:ff,NORMAL")
	f.Add(" cookie=0x3e7, reset_counts priority=900,ipv6,in_port=10 actions=set_field:aa:bb:cc:dd:ee:ff->eth_dst,NORMAL")
	f.Add(" cookie=0x5, table=3, priority=1,arp actions=drop\n cookie=999, priority=x actions=")
	f.Fuzz(func(t *testing.T, out string) {
		have, _ := parseDump(out)
		want := desiredSet{{false, 2}: "aa:bb:cc:dd:ee:ff", {true, 2}: "aa:bb:cc:dd:ee:ff"}
		for _, w := range []desiredSet{want, {}} {
			lines, _, _ := diff(0x3e7, 900, have, w, nil)
			for _, l := range lines {
				if strings.HasPrefix(l, "delete") && !strings.HasPrefix(l, "delete_strict cookie=0x3e7/-1,") && l != "delete cookie=0x3e7/-1" {
					t.Fatalf("delete without our cookie: %q", l)
				}
			}
		}
	})
}

func TestSweepControlDir(t *testing.T) {
	dir := t.TempDir()
	zombie := startZombie(t)
	names := map[string]bool{ // name -> kept
		"ovnbgp-ofmon-999999999-1.ctl":                    false, // owner gone
		fmt.Sprintf("ovnbgp-ofmon-%d-4.ctl", zombie):      false, // owner killed, not yet reaped
		"ovnbgp-ofmon-1-3.ctl":                            true,  // owner alive (init)
		fmt.Sprintf("ovnbgp-ofmon-%d-2.ctl", os.Getpid()): true,  // ours
		"ovs-ofctl.123.ctl":                               true,  // not ours
	}
	for n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	New(Options{ControlDir: dir}).sweepControlDir()
	for n, kept := range names {
		_, err := os.Stat(filepath.Join(dir, n))
		if (err == nil) != kept {
			t.Errorf("%s: exists=%v, want %v", n, err == nil, kept)
		}
	}
}

// startZombie starts a child that exits at once and is not reaped until the
// test ends: its pid stays in /proc with state Z, as a killed agent's does
// while its parent has not waited for it.
func startZombie(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("zombie %d: %v", pid, err)
		}
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d did not become a zombie: %s", pid, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
