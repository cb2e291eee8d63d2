#!/usr/bin/env bash
# Downloads Debian 13 (trixie) packages on this Debian 12 machine through a
# private apt configuration that leaves the host's apt state alone.
#   scripts/trixie-apt.sh DESTDIR PKG...
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DESTDIR PKG..." >&2; exit 2; }
dest=$1; shift
apt_dir=${OVNBGP_CACHE:-/var/cache/ovnbgp}/apt-trixie
mkdir -p "$apt_dir"/{lists/partial,archives/partial,etc} "$dest"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
  > "$apt_dir/etc/sources.list"
opts=(-o Dir::Etc::SourceList="$apt_dir/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache::Archives="$apt_dir/archives"
      -o Dir::Cache="$apt_dir" -o Dir::State::Status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0
      -o APT::Sandbox::User=root)
# Refresh the package lists at most once a day.
if [ -z "$(find "$apt_dir/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  apt-get "${opts[@]}" update -qq >&2
fi
(cd "$dest" && apt-get "${opts[@]}" download "$@" >&2)
