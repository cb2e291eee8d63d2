#!/usr/bin/env bash
# Runs the test suites that need a full Debian kernel (vrf, dummy, vlan,
# openvswitch kernel datapath): every package with test files carrying the
# `vmlab` build tag. They run inside QEMU (see test/vmlab once it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(go list -tags vmlab -f '{{if .TestGoFiles}}{{.ImportPath}} {{join .TestGoFiles " "}}{{end}}' ./... |
  while read -r pkg files; do
    for f in $files; do
      dir=$(go list -f '{{.Dir}}' "$pkg")
      if grep -q '^//go:build.*vmlab' "$dir/$f"; then echo "$pkg"; break; fi
    done
  done)
if [ -z "$pkgs" ]; then
  echo "test-vm: no test suite needs the full-kernel VM lab yet (no vmlab-tagged tests); nothing to run"
  exit 0
fi
if [ ! -x test/vmlab/run.sh ]; then
  echo "test-vm: vmlab-tagged suites exist ($pkgs) but the QEMU harness test/vmlab/run.sh is missing" >&2
  exit 1
fi
scripts/install-deps.sh vm
# The guests have no Go toolchain: suites that run the agent (test/evpn)
# take it from bin/ of the shared source tree.
CGO_ENABLED=0 go build -o bin/ovnbgp-vmlab ./cmd/ovnbgp
# Debian 12 (OVN 23.03, FRR 8.4) and Debian 13 (OVN 25.03, FRR 10.3) guests.
rc=0
for suite in ${OVNBGP_VMLAB_SUITES:-bookworm trixie}; do
  test/vmlab/run.sh --suite "$suite" $pkgs || rc=1
done
exit $rc
