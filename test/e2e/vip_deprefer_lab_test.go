package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// De-preferring service VIPs with the FRR speaker (on_failure = med and
// prepend): a failed check keeps the VIP announced through an ovnbgp
// route-map, the ToR (FRR) keeps the path with the MED or the longer
// AS-path and prefers the healthy node's; announced <-> de-preferred is
// an attribute change, never a withdrawal at the ToR. (bgpd 8.4 would
// also coalesce a `no network P` followed by `network P route-map X` in
// the same session into one UPDATE, so this test does not catch a script
// that sends both: TestVIPScriptTransitions in internal/speaker/frr does.)

const (
	vipMED     = "203.0.113.30"
	vipPrepend = "203.0.113.40"
)

// torPath is one path of the ToR's `show bgp ipv4 unicast P json`.
type torPath struct {
	Metric *uint32                 `json:"metric"`
	ASPath struct{ String string } `json:"aspath"`
	Best   struct{ Overall bool }  `json:"bestpath"`
	Multi  bool                    `json:"multipath"`
	Peer   struct{ PeerID string } `json:"peer"`
}

// med is a path's MED, 0 without one (bgpd sends a network statement's
// path with MED 0).
func (p torPath) med() uint32 {
	if p.Metric == nil {
		return 0
	}
	return *p.Metric
}

func (v *vipLab) torPaths(t *testing.T, addr string) map[string]torPath {
	t.Helper()
	var out struct {
		Paths []torPath `json:"paths"`
	}
	if err := v.torFRR.VtyshJSON("show bgp ipv4 unicast "+addr+"/32 json", &out); err != nil {
		return nil
	}
	m := map[string]torPath{}
	for _, p := range out.Paths {
		m[p.Peer.PeerID] = p
	}
	return m
}

// torWithdrawals counts the withdrawals of addr the ToR's bgpd logged
// (debug bgp updates in) from peer.
func (v *vipLab) torWithdrawals(t *testing.T, peer, addr string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(v.torFRR.RunDir, "bgpd.log"))
	require.NoError(t, err)
	re := regexp.MustCompile(regexp.QuoteMeta(peer) + `.*` + regexp.QuoteMeta(addr) + `/32.*withdrawn`)
	return len(re.FindAll(b, -1))
}

func TestServiceVIPDepreferFRR(t *testing.T) {
	check := "check = command\ncommand = /usr/bin/test -e @DIR@/healthy\ninterval = 200ms\ntimeout = 200ms\nrise = 1\nfall = 1\n"
	v := newVIPLab(t, "frr", fmt.Sprintf(`
[ovnbgp_vip:med]
address = %s
mode = anycast
device = lo
on_failure = med
deprefer_med = 1000
%s
[ovnbgp_vip:prepend]
address = %s
mode = anycast
device = lo
on_failure = prepend
deprefer_prepend = 2
%s`, vipMED, check, vipPrepend, check))
	c1 := v.ctl["ctl1"]
	// Before the flag files exist both VIPs are de-preferred on both
	// nodes (announced, equal attributes): ECMP already.
	for _, c := range v.ctl {
		require.NoError(t, os.WriteFile(filepath.Join(c.dir, "healthy"), nil, 0o644))
	}
	v.waitHops(t, vipMED, "ctl1", "ctl2")
	v.waitHops(t, vipPrepend, "ctl1", "ctl2")
	v.l.Eventually(10*time.Second, "plain paths from both nodes at the ToR", func() bool {
		m, p := v.torPaths(t, vipMED), v.torPaths(t, vipPrepend)
		return len(m) == 2 && len(p) == 2 && m[c1.ip].med() == 0 && p[c1.ip].ASPath.String == "64999"
	})
	v.torFRR.Vtysh("debug bgp updates in")
	time.Sleep(300 * time.Millisecond)
	w0m, w0p := v.torWithdrawals(t, c1.ip, vipMED), v.torWithdrawals(t, c1.ip, vipPrepend)

	// ctl1's service fails: still announced, de-preferred; the ToR routes
	// to ctl2 only and keeps ctl1's path as the backup.
	require.NoError(t, os.Remove(filepath.Join(c1.dir, "healthy")))
	took := v.waitHops(t, vipMED, "ctl2")
	v.waitHops(t, vipPrepend, "ctl2")
	t.Logf("ctl1 unhealthy: the ToR routes via ctl2 only after %s", took)
	v.l.Eventually(5*time.Second, "ctl1's de-preferred paths at the ToR", func() bool {
		m, p := v.torPaths(t, vipMED), v.torPaths(t, vipPrepend)
		return m[c1.ip].med() == 1000 && p[c1.ip].ASPath.String == "64999 64999 64999"
	})
	m, p := v.torPaths(t, vipMED), v.torPaths(t, vipPrepend)
	c2ip := v.ctl["ctl2"].ip
	assert.True(t, m[c2ip].Best.Overall, "the ToR prefers ctl2's path for the MED VIP: %+v", m)
	assert.False(t, m[c1.ip].Best.Overall || m[c1.ip].Multi, "ctl1's MED path is only a backup: %+v", m)
	assert.True(t, p[c2ip].Best.Overall, "the ToR prefers ctl2's path for the prepended VIP: %+v", p)
	assert.False(t, p[c1.ip].Best.Overall || p[c1.ip].Multi, "ctl1's prepended path is only a backup: %+v", p)
	st := vipStatus(t, c1, "med")
	assert.Equal(t, "depreferred", st["state"])
	out := c1.frr.Vtysh("show running-config")
	for _, want := range []string{
		"network " + vipMED + "/32 route-map ovnbgp-vip-med-1000",
		"network " + vipPrepend + "/32 route-map ovnbgp-vip-prepend-2",
		"route-map ovnbgp-vip-med-1000 permit 10",
		"set as-path prepend 64999 64999",
	} {
		assert.Contains(t, out, want)
	}

	// Healthy again: plain paths, ECMP, and the route-maps are gone.
	require.NoError(t, os.WriteFile(filepath.Join(c1.dir, "healthy"), nil, 0o644))
	v.waitHops(t, vipMED, "ctl1", "ctl2")
	v.waitHops(t, vipPrepend, "ctl1", "ctl2")
	v.l.Eventually(5*time.Second, "ctl1's plain paths at the ToR", func() bool {
		m, p := v.torPaths(t, vipMED), v.torPaths(t, vipPrepend)
		return m[c1.ip].med() == 0 && p[c1.ip].ASPath.String == "64999"
	})
	v.l.Eventually(10*time.Second, "ctl1's VIP route-maps removed", func() bool {
		return !strings.Contains(c1.frr.Vtysh("show running-config"), "ovnbgp-vip-")
	})
	time.Sleep(300 * time.Millisecond)
	// No withdrawal reached the ToR in either transition; the attribute
	// changes did (the debug log has them as UPDATEs with the prefix).
	assert.Equal(t, w0m, v.torWithdrawals(t, c1.ip, vipMED), "withdrawals of the MED VIP logged by the ToR")
	assert.Equal(t, w0p, v.torWithdrawals(t, c1.ip, vipPrepend), "withdrawals of the prepended VIP logged by the ToR")
	b, err := os.ReadFile(filepath.Join(v.torFRR.RunDir, "bgpd.log"))
	require.NoError(t, err)
	re := regexp.MustCompile(regexp.QuoteMeta(c1.ip) + `.*` + regexp.QuoteMeta(vipMED) + `/32.*`)
	lines := re.FindAllString(string(b), -1)
	assert.NotEmpty(t, lines, "the ToR logged the attribute updates")
	t.Logf("the ToR's log of %s from ctl1:\n%s", vipMED, strings.Join(lines, "\n"))
}
