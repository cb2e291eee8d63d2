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
# Packages whose services the tests never use (the labs start their own
# servers): installed with a policy-rc.d that forbids starting them, so a
# machine with an init system does not get a system MariaDB, neutron-server,
# HAProxy, ExaBGP or Prometheus running beside the labs.
quiet=" prometheus haproxy exabgp neutron-server python3-neutron mariadb-server "
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  base=() silent=()
  for p in "${missing[@]}"; do
    case $quiet in *" $p "*) silent+=("$p") ;; *) base+=("$p") ;; esac
  done
  if [ ${#base[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${base[@]}" >/dev/null
  fi
  if [ ${#silent[@]} -gt 0 ]; then
    policy=/usr/sbin/policy-rc.d made=0
    if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; made=1; fi
    rc=0
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${silent[@]}" >/dev/null || rc=$?
    [ $made = 0 ] || rm -f $policy
    [ $rc = 0 ] || exit $rc
    # Not started now, and not at the next boot either.
    if [ -d /run/systemd/system ]; then
      for u in prometheus haproxy exabgp neutron-server neutron-api neutron-rpc-server mariadb; do
        systemctl disable "$u.service" >/dev/null 2>&1 || true
      done
    fi
  fi
fi
exit 0
