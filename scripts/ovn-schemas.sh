#!/usr/bin/env bash
# Prints a directory holding the OVN 25.03 / OVS 3.5 schemas of Debian 13
# (trixie): ovn-nb.ovsschema, ovn-sb.ovsschema, vswitch.ovsschema. They are
# taken from trixie's packages at test time (never committed), through a
# private apt configuration that leaves the host's apt state alone.
set -euo pipefail
cache=${OVNBGP_CACHE:-/var/cache/ovnbgp}
out=$cache/schemas/trixie
if [ -s "$out/ovn-sb.ovsschema" ] && [ -s "$out/ovn-nb.ovsschema" ] && [ -s "$out/vswitch.ovsschema" ]; then
  echo "$out"; exit 0
fi
apt_dir=$cache/apt-trixie
mkdir -p "$apt_dir"/{lists/partial,archives/partial,etc,debs} "$out"
cat > "$apt_dir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SRC
opts=(-o Dir::Etc::SourceList="$apt_dir/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache::Archives="$apt_dir/archives"
      -o Dir::Cache="$apt_dir" -o Dir::State::Status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0)
apt-get "${opts[@]}" update -qq >&2
(cd "$apt_dir/debs" && apt-get "${opts[@]}" download ovn-central openvswitch-switch >&2)
tmp=$(mktemp -d)
for deb in "$apt_dir"/debs/ovn-central_*.deb "$apt_dir"/debs/openvswitch-switch_*.deb; do
  dpkg-deb -x "$deb" "$tmp"
done
cp "$tmp/usr/share/ovn/ovn-nb.ovsschema" "$tmp/usr/share/ovn/ovn-sb.ovsschema" "$tmp/usr/share/openvswitch/vswitch.ovsschema" "$out/"
rm -rf "$tmp"
echo "$out"
