package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/health"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/vip"
)

// hostile names a tenant can give a port, a network or a chassis in OVSDB:
// terminal escapes, a line break that fakes a table row, a tab that
// shifts the columns.
const (
	esc   = "vm\x1b]0;owned\x07\x1b[2J"
	nl    = "net\n172.16.0.1/32  fip  fake"
	tab   = "lr\tshift"
	plain = "provider-ü"
)

func checkNeutralised(t *testing.T, out string, lines int) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\x07\t") {
		t.Errorf("output holds a raw escape or tab:\n%q", out)
	}
	if strings.Contains(out, "\nnet\n") || strings.Contains(out, "\n172.16.0.1/32  fip  fake") {
		t.Errorf("a name's line break made a row:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != lines {
		t.Errorf("%d lines, want %d:\n%s", n, lines, out)
	}
	for _, want := range []string{`"vm\x1b]0;owned\a\x1b[2J"`, `"net\n172.16.0.1/32  fip  fake"`, `"lr\tshift"`, plain} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func hostileState() *plan.State {
	return &plan.State{
		Chassis: esc,
		Announcements: []plan.Announcement{{
			Prefix: netip.MustParsePrefix("172.24.4.10/32"), Kind: plan.KindFIP, Port: esc, Network: nl, VRF: tab, Reason: plain,
		}},
		Wiring: plan.Wiring{
			Bridges: []plan.BridgeWiring{{Bridge: tab, Physnet: nl, Index: 1}},
			Flows:   []plan.Flow{{Bridge: esc, Port: nl, OFPort: 2, DstMAC: tab}},
		},
	}
}

func TestPrintPlanQuotesNames(t *testing.T) {
	var b bytes.Buffer
	printPlanTable(&b, hostileState())
	// chassis line, header, one row; blank, header, one bridge; blank,
	// header, one flow.
	checkNeutralised(t, b.String(), 9)
}

func TestPrintStatusQuotesNames(t *testing.T) {
	var b bytes.Buffer
	printStatus(&b, &agent.Snapshot{Chassis: esc, Hostname: nl, Warnings: []string{tab}, LastError: plain + " " + esc, State: hostileState()})
	// chassis, databases, last error, warning, blank, then the plan's 9.
	checkNeutralised(t, b.String(), 14)
}

func TestSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"br-ex", "br-ex"},
		{"", ""},
		{plain, plain},
		{"a\x1b[31m", `"a\x1b[31m"`},
		{"a\nb", `"a\nb"`},
		{"a\u202eb", `"a\u202eb"`},
	} {
		if got := safe(tc.in); got != tc.want {
			t.Errorf("safe(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestPrintPlanVRF: an announcement in a tenant VRF shows its VRF and VNI,
// and the VRF table lists the VRF's VNI, table, RD, route targets and
// provider network.
func TestPrintPlanVRF(t *testing.T) {
	st := &plan.State{Chassis: "c1",
		Announcements: []plan.Announcement{{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Kind: plan.KindProviderPort, Port: "vm-a", Network: "ta", VRF: "vrf-100"}},
		Wiring: plan.Wiring{VRFs: []plan.VRF{{Name: "vrf-100", VNI: 100, Table: 100, RD: "192.0.2.10:100",
			ImportRT: []string{"65000:100"}, ExportRT: []string{"65000:100", "65000:1"}, Network: "ta", Ports: []plan.VRFPort{{Bridge: "br-ex", VLAN: 101}}}}},
	}
	var b bytes.Buffer
	printPlanTable(&b, st)
	out := b.String()
	for _, want := range []string{"VRF      VNI  WIRING", "vrf-100  100  -", "VRF      VNI  TABLE  RD",
		"vrf-100  100  100    192.0.2.10:100  65000:100  65000:100,65000:1  ta       br-ex/101"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// TestPrintStatusVIPs: ovnbgp status lists the service VIPs, one row each,
// with the last check's error.
func TestPrintStatusVIPs(t *testing.T) {
	s := &agent.Snapshot{Chassis: "ctl1", Driver: "none", VIPs: []vip.Status{
		{Name: "api", Address: "203.0.113.10", Mode: "active-passive", Check: "http", State: "withdrawn", Reason: "unhealthy",
			Health: health.Down, Present: true, Last: health.Result{At: time.Unix(1, 0), Error: "connection refused", Latency: 300 * time.Microsecond}, Transitions: 2},
		{Name: "web", Address: "203.0.113.20", Mode: "anycast", Check: "tcp", State: "announced", Health: health.Up, Present: true,
			Last: health.Result{At: time.Unix(1, 0), OK: true, Latency: time.Millisecond}},
	}}
	var b bytes.Buffer
	printStatus(&b, s)
	out := b.String()
	for _, want := range []string{"VIP", "STATE", "REASON", "LATENCY"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s column:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	var api, web string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "api "):
			api = l
		case strings.HasPrefix(l, "web "):
			web = l
		}
	}
	if !strings.Contains(api, "withdrawn") || !strings.Contains(api, "unhealthy") || !strings.Contains(api, "fail: connection refused") || !strings.Contains(api, "300µs") {
		t.Errorf("api row: %q", api)
	}
	if !strings.Contains(web, "announced") || !strings.Contains(web, "pass") || !strings.Contains(web, "anycast") {
		t.Errorf("web row: %q", web)
	}
}
