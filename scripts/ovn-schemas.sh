#!/usr/bin/env bash
# Prints a directory holding the OVN 25.03 / OVS 3.5 schemas of Debian 13
# (trixie): ovn-nb.ovsschema, ovn-sb.ovsschema, vswitch.ovsschema. They are
# taken from trixie's packages at test time (never committed), with
# scripts/trixie-apt.sh.
set -euo pipefail
cache=${OVNBGP_CACHE:-/var/cache/ovnbgp}
out=$cache/schemas/trixie
if [ -s "$out/ovn-sb.ovsschema" ] && [ -s "$out/ovn-nb.ovsschema" ] && [ -s "$out/vswitch.ovsschema" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$out"
debs=$cache/schemas/debs
rm -rf "$debs"
"$(dirname "$0")/trixie-apt.sh" "$debs" ovn-central openvswitch-switch
tmp=$(mktemp -d)
for deb in "$debs"/ovn-central_*.deb "$debs"/openvswitch-switch_*.deb; do
  dpkg-deb -x "$deb" "$tmp"
done
cp "$tmp/usr/share/ovn/ovn-nb.ovsschema" "$tmp/usr/share/ovn/ovn-sb.ovsschema" "$tmp/usr/share/openvswitch/vswitch.ovsschema" "$out/"
rm -rf "$tmp"
echo "$out"
