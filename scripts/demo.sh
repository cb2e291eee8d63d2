#!/usr/bin/env bash
# make demo: a local OVN with one chassis, a provider network, two VMs and a
# router with a floating IP; ovnbgp with FRR on the chassis; a ToR running
# FRR as BGP peer and an external host. Prints the peer's routes and a ping,
# and leaves the lab running. `make demo-down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-up} in
  up)
    go run ./test/labctl down >/dev/null   # one demo at a time
    OVNBGP_DEMO=1 go test -count=1 -timeout 5m -run '^TestDemo$' -v ./test/e2e/ |
      grep -v -e '^=== RUN' -e '^--- PASS' -e '^PASS$' -e '^ok ' || { echo "make demo failed (see above)" >&2; exit 1; } ;;
  down) go run ./test/labctl down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
