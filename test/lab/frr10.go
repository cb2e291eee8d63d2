package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// StartFRR10 is StartFRR for FRR 10 (Debian 13 and later), whose daemons
// take no -f: mgmtd, zebra, bgpd and bfdd start empty, each with its
// output in a file (a daemonized FRR 10 keeps its stdio open, so a pipe
// would never close), and `vtysh -b` loads the integrated frr.conf, as
// frrinit.sh does. The lab's teardown stops them like StartFRR's.
func (l *Lab) StartFRR10(ns *NetNS, config string) *FRR {
	l.T.Helper()
	f := &FRR{lab: l, NS: ns, Pathspace: ns.Name,
		ConfDir: filepath.Join("/etc/frr", ns.Name), RunDir: filepath.Join("/var/run/frr", ns.Name)}
	for _, d := range []string{f.ConfDir, f.RunDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			l.T.Fatalf("lab: %v", err)
		}
	}
	_ = os.WriteFile(filepath.Join(l.Dir, "frr-"+ns.Name+".pathspace"), []byte(ns.Name), 0o644)
	for name, content := range map[string]string{
		"frr.conf":   config,
		"vtysh.conf": "service integrated-vtysh-config\n",
		"daemons":    "zebra=yes\nbgpd=yes\nmgmtd=yes\nbfdd=yes\n",
	} {
		if err := os.WriteFile(filepath.Join(f.ConfDir, name), []byte(content), 0o640); err != nil {
			l.T.Fatalf("lab: %v", err)
		}
	}
	l.Run("chown", "-R", "frr:frr", f.ConfDir, f.RunDir)
	for _, d := range []string{"mgmtd", "zebra", "bgpd", "bfdd"} {
		out := filepath.Join(l.Dir, "frr-"+ns.Name+"-"+d+".out")
		logf, err := os.Create(out)
		if err != nil {
			l.T.Fatalf("lab: %v", err)
		}
		cmd := exec.Command("ip", "netns", "exec", ns.Name, "/usr/lib/frr/"+d, "-d", "-N", f.Pathspace, "-F", "datacenter",
			"-i", filepath.Join(f.RunDir, d+".pid"), "--log", "file:"+filepath.Join(f.RunDir, d+".log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Run()
		logf.Close()
		if err != nil {
			b, _ := os.ReadFile(out)
			l.T.Fatalf("lab: start %s in %s: %v: %s", d, ns.Name, err, b)
		}
		_ = os.Symlink(filepath.Join(f.RunDir, d+".pid"), filepath.Join(l.Dir, "frr-"+ns.Name+"-"+d+".pid"))
		l.Eventually(60*time.Second, d+" of "+ns.Name+" answering vtysh", func() bool {
			_, err := f.TryVtysh("show daemons")
			return err == nil
		})
	}
	if out, err := exec.Command("vtysh", "-N", f.Pathspace, "-b").CombinedOutput(); err != nil {
		l.T.Logf("lab: vtysh -b in %s: %v: %s", ns.Name, err, out)
	}
	l.Eventually(60*time.Second, "bgpd of "+ns.Name+" answering vtysh", func() bool {
		_, err := f.TryVtysh("show bgp summary json")
		return err == nil
	})
	return f
}

// ToRUnnumbered is the FRR configuration of a ToR with one BGP unnumbered
// peer on iface (any AS) that sends it a default route.
func ToRUnnumbered(as int, routerID, iface string) string {
	return fmt.Sprintf(`hostname tor
router bgp %d
 bgp router-id %s
 no bgp ebgp-requires-policy
 neighbor %s interface remote-as external
 address-family ipv4 unicast
  neighbor %s default-originate
 exit-address-family
exit
`, as, routerID, iface, iface)
}
