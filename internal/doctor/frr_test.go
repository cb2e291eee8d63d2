package doctor

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// TestForeignBGP: the instances of the running configuration or frr.conf
// that would make FRR reject ovnbgp's lines (the real FRR case is in
// test/e2e TestDoctor).
func TestForeignBGP(t *testing.T) {
	cfg := config.Default()
	cfg.BGPAS, cfg.BGPVRF = 65546, "bgp-vrf"
	cases := []struct {
		name, text string
		want       Level
	}{
		{"none", "hostname c1\n", OK},
		{"same AS", "router bgp 65546\n neighbor 10.0.0.1 remote-as 65000\nexit\n", OK},
		{"same AS in asdot", "router bgp 1.10\nexit\n", OK},
		{"same AS in our VRF", "router bgp 65546 vrf bgp-vrf\nexit\n", OK},
		{"other AS", "router bgp 65000\nexit\n", Fail},
		{"other AS in our VRF", "router bgp 65546\nexit\nrouter bgp 65000 vrf bgp-vrf\nexit\n", Fail},
		{"other VRF is not ours", "router bgp 65000 vrf tenant1\nexit\n", OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := foreignBGP("frr/x", c.text, cfg, "test")
			worst := OK
			for _, r := range rs {
				worst = max(worst, r.Level)
			}
			if worst != c.want {
				t.Fatalf("got %s, want %s: %+v", worst, c.want, rs)
			}
		})
	}
}

// TestFRRVersion: tested releases are ok, older ones warned about, and BFD
// profiles (bfd = true with peers) need 7.4.
func TestFRRVersion(t *testing.T) {
	plain := config.Default()
	bfd := config.Default()
	bfd.OVNBGP.BFD = true
	bfd.OVNBGP.Peers = []config.Peer{{Address: "192.0.2.1", RemoteAS: "65000"}}
	cases := []struct {
		show string
		cfg  *config.Config
		want Level
	}{
		{"FRRouting 8.4.4 (c1) on Linux(6.1.0).", plain, OK},
		{"FRRouting 10.3 (c1) on Linux(6.12.0).", bfd, OK},
		{"FRRouting 7.5.1 (c1) on Linux.", plain, Warn},
		{"FRRouting 7.5.1 (c1) on Linux.", bfd, Warn},
		{"FRRouting 7.2 (c1) on Linux.", bfd, Fail},
		{"something else", plain, Warn},
	}
	for _, c := range cases {
		rs := frrVersion(c.show, c.cfg)
		if len(rs) != 1 || rs[0].Level != c.want {
			t.Errorf("%q (bfd %v): %+v, want %s", c.show, c.cfg.OVNBGP.BFD, rs, c.want)
		}
	}
}

// TestOVNBGPNames: frr.conf must not define objects named ovnbgp*.
func TestOVNBGPNames(t *testing.T) {
	text := "ip prefix-list ovnbgp-host4 seq 5 permit 0.0.0.0/0 ge 32\nip prefix-list mine seq 5 permit any\nbfd\n profile ovnbgp\n"
	if rs := ovnbgpNames(text, "frr.conf"); len(rs) != 2 {
		t.Fatalf("want the prefix-list and the profile, got %+v", rs)
	}
}
