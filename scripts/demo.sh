#!/usr/bin/env bash
# make demo: a local OVN with one chassis, a provider network, two VMs and a
# router with a floating IP; ovnbgp with FRR on the chassis; a ToR running
# FRR as BGP peer and an external host. Prints the peer's routes, a ping and
# the commands to try next, and leaves the lab running (kept with tag
# "demo"). `make demo-down` removes it.
#
# One demo lab at a time: `up` first removes the previous demo lab (and
# says so); labs kept by OVNBGP_LAB_KEEP=1 or by anything else are left
# alone and listed (`go run ./test/labctl down <prefix>` removes one).
#
# OVNBGP_DEMO_NEUTRON=1 (make demo NEUTRON=1) builds the topology through a
# real neutron-server (ML2/OVN) and prints the `openstack` commands it ran
# the equivalent of; it is kept with the demo lab and removed by `down`.
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-up} in
  up)
    go run ./test/labctl down demo | sed 's/^removed:/replacing the previous demo lab, removed:/'
    timeout=5m; [ "${OVNBGP_DEMO_NEUTRON:-}" = 1 ] && timeout=20m
    OVNBGP_DEMO=1 go test -count=1 -timeout $timeout -run '^TestDemo$' -v ./test/e2e/ |
      grep -v -e '^=== RUN' -e '^--- PASS' -e '^PASS$' -e '^ok ' || { echo "make demo failed (see above)" >&2; exit 1; } ;;
  down) go run ./test/labctl down demo ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
