#!/usr/bin/env bash
# make demo: a local OVN with one chassis, a provider network, two VMs and a
# router with a FIP, ovnbgp and a BGP peer. The agent (issue 7) is not built
# yet, so there is nothing to demonstrate end to end: say so and fail.
set -euo pipefail
case ${1:-up} in
  up)
    echo "make demo: not available yet — the ovnbgp agent (issue 7) is still being built." >&2
    echo "What works today: 'make test' (OVSDB client against real ovsdb-server) and" >&2
    echo "'bin/ovnbgp debug ovsdb-count --remote unix:/path/to/sb.sock'." >&2
    exit 1 ;;
  down) exit 0 ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
