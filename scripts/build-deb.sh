#!/usr/bin/env bash
# Builds the Debian package of ovnbgp with dpkg-deb (no debhelper needed):
#   scripts/build-deb.sh [OUTDIR]   (default bin/); prints the path of the .deb.
# Contents: /usr/bin/ovnbgp, the systemd unit (ExecStart pointing at
# /usr/bin), /etc/ovn-bgp-agent/bgp-agent.conf (a conffile: dpkg keeps an
# operator's edits across upgrades and removes it only on purge), the docs.
# The version is 0~<commit date>.<commit>[+dirty], so every build of a commit
# has the same version and later commits sort higher.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
arch=$(dpkg --print-architecture)
commit=$(git rev-parse --short=12 HEAD)
date=$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S HEAD)
dirty=
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then dirty=+dirty; fi
version="0~${date}.${commit}${dirty}"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/ovn-bgp-agent" "$root/usr/share/doc/ovnbgp/docs" "$root/usr/share/doc/ovnbgp/contrib"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$root/usr/bin/ovnbgp" ./cmd/ovnbgp
sed 's|/usr/local/bin/ovnbgp|/usr/bin/ovnbgp|g; s|^# Install: .*|# Installed by the ovnbgp package; enable it once `ovnbgp doctor` passes:|; s|^#          systemctl daemon-reload && systemctl enable --now ovnbgp|#   systemctl enable --now ovnbgp|' \
  contrib/systemd/ovnbgp.service >"$root/lib/systemd/system/ovnbgp.service"
install -m 0644 etc/bgp-agent.conf "$root/etc/ovn-bgp-agent/bgp-agent.conf"
install -m 0644 README.md "$root/usr/share/doc/ovnbgp/"
install -m 0644 docs/*.md "$root/usr/share/doc/ovnbgp/docs/"
cp -r contrib/prometheus contrib/grafana "$root/usr/share/doc/ovnbgp/contrib/"
install -m 0644 contrib/debian/copyright "$root/usr/share/doc/ovnbgp/copyright"
gzip -9n -c >"$root/usr/share/doc/ovnbgp/changelog.Debian.gz" <<CL
ovnbgp (${version}) unstable; urgency=medium

  * Built from commit ${commit}${dirty}.

 -- ovnbgp maintainers <maintainers@ovnbgp.invalid>  $(git log -1 --format=%cD HEAD)
CL
for f in postinst prerm postrm; do install -m 0755 "contrib/debian/$f" "$root/DEBIAN/$f"; done
echo /etc/ovn-bgp-agent/bgp-agent.conf >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed "s/@VERSION@/${version}/; s/@ARCH@/${arch}/; s/@SIZE@/${size}/" contrib/debian/control >"$root/DEBIAN/control"
find "$root" -type d -exec chmod 0755 {} +
deb="$out/ovnbgp_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
