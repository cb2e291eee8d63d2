#!/usr/bin/env bash
# The full-kernel lab: runs Go test packages inside a QEMU guest booting a
# stock Debian kernel (vrf, dummy, vlan, the openvswitch kernel module),
# with Debian's OVS, OVN, FRR and gobgpd installed in the guest.
#
#   test/vmlab/run.sh [--suite bookworm|trixie|trixie-upstream] [--keep] PKG...
#
# Each PKG is compiled on the host with `go test -c -tags vmlab`; one guest
# boots per suite and runs every binary in turn as root (-test.v); the exit
# status is non-zero if any binary failed or if the guest did not report.
#
# The guest image is built once per suite with debootstrap and cached in
# $OVNBGP_VMLAB_CACHE (default /var/cache/ovnbgp/vmlab/<suite>); it is
# rebuilt when its recipe (this file's RECIPE line) changes. There is no
# usable KVM on these machines: QEMU runs in software emulation (TCG), so
# nothing timed inside the guest is a performance figure.
# OVNBGP_VMLAB_RUN, when set, is passed to each binary as -test.run.
set -euo pipefail

suite=bookworm
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --suite) suite=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "vmlab: no package to run" >&2; exit 2; }
root_dir=$(cd "$(dirname "$0")/../.." && pwd)
cache=${OVNBGP_VMLAB_CACHE:-/var/cache/ovnbgp/vmlab}/$suite
mirror=${OVNBGP_VMLAB_MIRROR:-http://deb.debian.org/debian}
packages=linux-image-amd64,kmod,iproute2,iputils-ping,procps,busybox-static,openvswitch-switch,ovn-central,ovn-host,frr,frr-pythontools,gobgpd,ethtool,nftables
# trixie-upstream: Debian 13 plus upstream's agent (ovn-bgp-agent 4.0.0),
# for make bench-upstream only; its own suite name, so its own image.
dist=$suite
if [ "$suite" = trixie-upstream ]; then
  dist=trixie
  packages=$packages,ovn-bgp-agent,python3-ovn-bgp-agent,sudo
fi
RECIPE="v4 $suite $packages"
# Build tags of the test binaries (make bench-upstream adds its own).
tags=${OVNBGP_VMLAB_TAGS:-vmlab}

say() { echo "vmlab[$suite]: $*" >&2; }

# ----------------------------------------------------------------- the image
guest_init() {
  # PID 1 of the guest: mount what a test needs, run /share/run.sh, report
  # its status in /share/rc, power off.
  cat <<'EOF'
#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root LANG=C.UTF-8
mount -t proc proc /proc; mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /share; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/lock /run/netns /run/frr /run/openvswitch /run/ovn
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname vmlab; ip link set lo up
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 share /share
echo "vmlab: guest ready after $(cut -d' ' -f1 /proc/uptime)s" > /dev/console
sh /share/run.sh > /share/out.log 2>&1
echo $? > /share/rc
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF
}

build_initrd() { # busybox + the modules to reach virtio disks and 9p
  local rootfs=$1 kver=$2 out=$3 d m
  d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/root"
  cp "$rootfs/bin/busybox" "$d/bin/busybox"
  chroot "$rootfs" modprobe -S "$kver" -a --show-depends virtio_pci virtio_blk ext4 9p 9pnet_virtio 2>/dev/null |
    awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++' > "$d/modules"
  while read -r m; do mkdir -p "$d$(dirname "$m")"; cp "$rootfs$m" "$d$m"; done < "$d/modules"
  cat > "$d/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
while read -r m; do /bin/busybox insmod "$m" 2>/dev/null; done < /modules
n=0; while [ ! -b /dev/vda ] && [ $n -lt 500 ]; do /bin/busybox usleep 20000; n=$((n+1)); done
if ! /bin/busybox mount /dev/vda /root; then
  echo "vmlab-initrd: cannot mount /dev/vda; powering off" > /dev/console
  echo o > /proc/sysrq-trigger; /bin/busybox sleep 10
fi
/bin/busybox mount --move /dev /root/dev
/bin/busybox umount /proc
exec /bin/busybox switch_root /root /sbin/vmlab-init
EOF
  chmod 755 "$d/init"
  (cd "$d" && find . | cpio --quiet -o -H newc) > "$out.tmp" && mv "$out.tmp" "$out"
  rm -rf "$d"
}

build() {
  mkdir -p "$cache"
  exec 8> "$cache/.lock"
  flock 8
  if [ "$(cat "$cache/recipe" 2>/dev/null)" = "$RECIPE" ] && [ -s "$cache/root.img" ]; then
    return
  fi
  local t0=$SECONDS rootfs=$cache/rootfs
  say "building the guest image (debootstrap $suite; once per recipe)"
  rm -rf "$rootfs" "$cache/root.img" "$cache/initrd.img" "$cache/vmlinuz" "$cache/recipe"
  # Bookworm's debootstrap cannot finish a trixie system (systemd's
  # pre-dependencies): use the suite's own debootstrap for newer suites.
  local -a dbs=(debootstrap)
  if [ "$dist" != bookworm ]; then
    local tool=$cache/debootstrap-tool
    rm -rf "$tool"; mkdir -p "$tool/debs"
    "$root_dir/scripts/trixie-apt.sh" "$tool/debs" debootstrap
    dpkg-deb -x "$tool"/debs/debootstrap_*.deb "$tool"
    dbs=(env DEBOOTSTRAP_DIR="$tool/usr/share/debootstrap" "$tool/usr/sbin/debootstrap")
  fi
  # A bare minbase first, then the packages with apt inside the chroot:
  # debootstrap's own --include cannot order systemd's pre-dependencies on
  # trixie.
  if ! "${dbs[@]}" --variant=minbase "$dist" "$rootfs" "$mirror" > "$cache/debootstrap.log" 2>&1; then
    say "debootstrap failed; last lines of $cache/debootstrap.log:"; tail -20 "$cache/debootstrap.log" >&2
    exit 1
  fi
  printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"; chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  mount -t proc proc "$rootfs/proc"
  local rc=0
  chroot "$rootfs" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages//,/ }" \
    >> "$cache/debootstrap.log" 2>&1 || rc=$?
  umount "$rootfs/proc"
  if [ $rc != 0 ]; then
    say "installing the guest packages failed; last lines of $cache/debootstrap.log:"; tail -20 "$cache/debootstrap.log" >&2
    exit 1
  fi
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  guest_init > "$rootfs/sbin/vmlab-init"; chmod 755 "$rootfs/sbin/vmlab-init"
  echo vmlab > "$rootfs/etc/hostname"
  printf '127.0.0.1 localhost vmlab\n::1 localhost\n' > "$rootfs/etc/hosts"
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  local kernel kver
  kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -1)
  kver=${kernel##*/vmlinuz-}
  cp "$kernel" "$cache/vmlinuz"
  build_initrd "$rootfs" "$kver" "$cache/initrd.img"
  truncate -s 3G "$cache/root.img.tmp"
  mkfs.ext4 -q -F -d "$rootfs" "$cache/root.img.tmp"
  mv "$cache/root.img.tmp" "$cache/root.img"
  echo "$RECIPE" > "$cache/recipe"
  say "guest image built in $((SECONDS - t0)) s (kernel $kver)"
}

# ----------------------------------------------------------------- a run
build
share=$(mktemp -d /tmp/ovnbgp-vmlab.XXXXXX)
cleanup() { if [ "$keep" = 1 ]; then say "kept $share"; else rm -rf "$share"; fi; }
trap cleanup EXIT
{
  echo 'rc=0'
  # The source tree at the same path as on the host, for tests' testdata.
  echo "mkdir -p '$root_dir' && mount -t 9p -o trans=virtio,version=9p2000.L,ro src '$root_dir'"
  echo 'cd /share'
} > "$share/run.sh"
for pkg in "$@"; do
  name=$(echo "$pkg" | tr '/.' '__')
  (cd "$root_dir" && CGO_ENABLED=0 go test -c -tags "$tags" -o "$share/$name.test" "$pkg") || exit 1
  dir=$(cd "$root_dir" && go list -f '{{.Dir}}' "$pkg")
  cat >> "$share/run.sh" <<EOF
echo "=== vmlab: $pkg"
(cd "$dir" 2>/dev/null || cd /share; /share/$name.test -test.v -test.count=1 -test.timeout=15m ${OVNBGP_VMLAB_RUN:+-test.run '$OVNBGP_VMLAB_RUN'} ${OVNBGP_VMLAB_TESTFLAGS:-}) || rc=1
EOF
done
echo 'exit $rc' >> "$share/run.sh"
chmod -R a+rX "$share"

t0=$SECONDS
accel=tcg
qemu=(qemu-system-x86_64 -m "${OVNBGP_VMLAB_MEM:-3G}" -smp 2 -accel tcg,thread=multi -cpu max
  -nodefaults -no-reboot -display none -nic none
  -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img"
  -append "console=ttyS0 root=/dev/vda rw panic=-1 quiet mitigations=off"
  -drive "file=$cache/root.img,format=raw,if=virtio,snapshot=on"
  -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share"
  -virtfs "local,path=$root_dir,mount_tag=src,security_model=none,id=src,readonly=on"
  -serial "file:$share/console.log")
say "booting ($accel) to run: $*"
# Under software emulation the guest kernel very rarely dies while it boots
# (seen once: an int3 oops in sched_clock_cpu 3.5 s in, Debian 13's kernel),
# before any test ran. Such a boot, a kernel panic with no test output, is
# tried again, twice at most; any other missing status fails at once.
for boot in 1 2 3; do
  timeout -k 5 "${OVNBGP_VMLAB_TIMEOUT:-1500}" "${qemu[@]}" > "$share/qemu.log" 2>&1 || true
  if [ -s "$share/rc" ] || [ -s "$share/out.log" ] || ! grep -q 'Kernel panic' "$share/console.log" 2>/dev/null || [ "$boot" = 3 ]; then
    break
  fi
  say "the guest kernel panicked while booting (boot $boot), before any test ran; console:"
  grep -m1 -B2 -A3 'Oops\|BUG\|Kernel panic' "$share/console.log" >&2 || true
  say "booting again"
  rm -f "$share/console.log" "$share/qemu.log"
done
cat "$share/out.log" 2>/dev/null || true
if [ ! -s "$share/rc" ]; then
  say "the guest did not report a status (after $((SECONDS - t0)) s); console:"
  tail -30 "$share/console.log" >&2 || true
  tail -5 "$share/qemu.log" >&2 || true
  exit 1
fi
rc=$(cat "$share/rc")
say "guest finished in $((SECONDS - t0)) s, status $rc"
exit "$rc"
