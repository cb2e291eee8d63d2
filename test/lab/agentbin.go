package lab

import (
	"os"
	"path/filepath"
	"testing"
)

// AgentBin is the agent binary built on the host for the QEMU lab's tests
// (scripts/test-vm.sh and make bench-upstream: go build -o
// bin/ovnbgp-vmlab ./cmd/ovnbgp; the guest has no Go toolchain and shares
// the source tree at the same path), from a test package two levels below
// the repository root.
func AgentBin(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../../bin/ovnbgp-vmlab")
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		t.Fatalf("the agent binary is missing (%v): scripts/test-vm.sh and make bench-upstream build it with go build -o bin/ovnbgp-vmlab ./cmd/ovnbgp", err)
	}
	return p
}
