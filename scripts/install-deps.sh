#!/usr/bin/env bash
# Installs the Debian packages ovnbgp's build, tests and demo need, when missing.
# Idempotent and quiet when everything is there. Needs root.
set -euo pipefail
pkgs=(ovn-central ovn-host openvswitch-switch openvswitch-common openvswitch-pki frr frr-pythontools gobgpd
      iproute2 iputils-ping ethtool nftables socat jq curl tcpdump procps psmisc
      prometheus haproxy exabgp
      # test/lab's real Neutron (lab.SharedNeutron): neutron-server with ML2/OVN, MariaDB
      neutron-server python3-neutron mariadb-server python3-pymysql python3-minimal)
# prometheus: for promtool (check rules / test rules on contrib/prometheus,
# test/contrib); Debian ships promtool only in it (19 MB download).
# haproxy, exabgp: the service VIP lab (test/e2e TestServiceVIPs*).
if [ "${1:-}" = vm ]; then
  pkgs+=(qemu-system-x86 debootstrap e2fsprogs xz-utils cpio busybox-static)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # A machine whose policy-rc.d lets packages start their services gets
  # the system's MariaDB and neutron-server started; the lab runs its own.
  for s in neutron-api neutron-rpc-server neutron-server mariadb; do
    case " ${missing[*]} " in *" ${s%%-*}"*) [ -x /etc/init.d/$s ] && /etc/init.d/$s stop >/dev/null 2>&1 || true ;; esac
  done
fi
# Debian's packages start nothing here (no systemd); stop any daemons a package
# may have started so tests own every process they talk to. Only promtool is
# wanted from prometheus: on a systemd machine its server is stopped and
# disabled right after it is installed here.
if [ ${#missing[@]} -gt 0 ] && [ -d /run/systemd/system ] && printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
  systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
exit 0
