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
exec test/vmlab/run.sh $pkgs
