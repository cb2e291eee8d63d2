package gobgp

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// The lab tests put the embedded speaker in a network namespace of its own,
// like an agent on a chassis, and connect it to gobgpd and FRR in lab
// namespaces with veth pairs.
//
// Pinning a goroutine to a namespace does not work for GoBGP: it dials and
// accepts in goroutines of its own, and a socket belongs to the namespace of
// whichever OS thread creates it. Giving the peers an address in the host's
// root namespace would work but leaves addresses and a port 179 listener in
// a namespace other engineers' tests share. So TestMain re-executes the test
// binary in a fresh, anonymous network namespace (clone with CLONE_NEWNET):
// every thread of the child, hence every socket GoBGP opens, lives there;
// the namespace disappears with the process (no cleanup, nothing left after
// a kill), and the lab's named namespaces remain reachable through
// /var/run/netns (the mount namespace is shared).
const childEnv = "OVNBGP_GOBGP_TEST_NETNS"

// inTestNetns is true in the re-executed child.
var inTestNetns = os.Getenv(childEnv) == "1"

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 || inTestNetns {
		if inTestNetns {
			// lo is down in a new namespace.
			if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "gobgp test: lo up in the test namespace: %v: %s\n", err, out)
				os.Exit(1)
			}
		}
		os.Exit(m.Run())
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobgp test:", err)
		os.Exit(1)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "gobgp test: re-exec in a new network namespace:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// needLab skips (or fails under CI) when the lab tests cannot run.
func needLab(t *testing.T) {
	t.Helper()
	if inTestNetns {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("lab test needs root (network namespaces, gobgpd, FRR)")
	}
	t.Skip("lab test needs root (network namespaces, gobgpd, FRR)")
}
