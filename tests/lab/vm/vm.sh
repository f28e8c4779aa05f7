#!/usr/bin/env bash
# One Debian 12 VM under qemu software emulation (TCG): a real kernel of its own, for what containers cannot show
# (LVM/device-mapper, reboots). Reachable only from this machine: qemu user-mode networking with restrict=on and
# one hostfwd of SSH to 127.0.0.1. See tests/lab/vm/README.md (why each setting) and tests/lab/README.md (timings).
#
#   vm.sh build          debootstrap the image once per recipe hash (cached under $OMSTACK_LAB_CACHE/vm/)
#   vm.sh up             fresh per-run disks (root overlay + 3 empty 2 GB data disks), boot, wait for SSH
#   vm.sh down           poweroff (qemu killed by its recorded PID after 60 s), remove the per-run disks
#   vm.sh status         running or not, the SSH port
#   vm.sh ssh [CMD…]     ssh into the VM as root with the lab key
#   vm.sh wait-ssh [S]   wait up to S seconds (default 300) until SSH answers (after a reboot)
#   vm.sh env            shell variables for scripts (VM_SSH_PORT, VM_KEY, VM_KNOWN_HOSTS)
set -euo pipefail

CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
VMDIR="$CACHE/vm"
STATE=${OMSTACK_VM_STATE:-/run/omstack-vm}          # pid + start time, known_hosts (tmpfs: gone at reboot)
RUN="$VMDIR/run"                                    # per-run disks (qcow2 overlays), console log
SSH_PORT=${OMSTACK_VM_SSH_PORT:-2250}               # 127.0.0.1 only
MEM_MB=${OMSTACK_VM_MEM_MB:-1024}
DATA_DISKS=(vdb vdc vdd)                            # empty 2 GB sparse disks, fresh at every `up`
DATA_DISK_SIZE=2G
HOSTNAME_VM=omvm1
SUITE=bookworm
MIRROR=${OMSTACK_LAB_MIRROR:-http://deb.debian.org/debian}
ROOT_SIZE=3G
VM_PACKAGES=(linux-image-amd64 initramfs-tools systemd systemd-sysv udev dbus openssh-server lvm2 iproute2 kmod
  procps util-linux fdisk e2fsprogs less)

log() { printf '%s vm: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'vm: %s\n' "$*" >&2; exit 1; }
need_root() { [[ $EUID -eq 0 ]] || die "must run as root (debootstrap, chroot): found uid $EUID. Run it with sudo."; }
need_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null || missing+=("$t"); done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}. Install: apt-get install -y --no-install-recommends \$(grep -v '^#' tests/lab/packages.txt)"
}
proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }   # start time: guards against PID reuse

# ---- image: debootstrapped once per recipe hash -------------------------------------------------------
image_recipe() {
  printf 'suite=%s\npackages=%s\nroot_size=%s\nkey=%s\n' "$SUITE" "${VM_PACKAGES[*]}" "$ROOT_SIZE" "$(cat "$CACHE/ssh/id_ed25519.pub")"
  declare -f configure_image
}
image_dir() { echo "$VMDIR/image-$SUITE-$(image_recipe | sha256sum | cut -c1-12)"; }

# Everything the guest needs that debootstrap does not do: fstab, network, sshd, a small initramfs, less load.
configure_image() {
  local r=$1
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$r/etc/fstab"
  : >"$r/etc/machine-id"                                 # systemd makes one at first boot
  echo omvm1 >"$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 omvm1\n' >"$r/etc/hosts"
  # qemu user-mode network: static address, no gateway, no DNS (restrict=on forwards nothing out anyway)
  mkdir -p "$r/etc/systemd/network"
  printf '[Match]\nName=eth0\n\n[Network]\nAddress=10.0.2.15/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' >"$r/etc/systemd/network/10-eth0.network"
  ln -sf /lib/systemd/system/systemd-networkd.service "$r/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
  mkdir -p "$r/etc/systemd/system/sockets.target.wants"
  ln -sf /lib/systemd/system/systemd-networkd.socket "$r/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
  local u
  for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer \
           systemd-timesyncd.service getty@tty1.service lvm2-monitor.service; do
    rm -f "$r"/etc/systemd/system/*.wants/"$u"
  done
  printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$r/etc/ssh/sshd_config.d/lab.conf"
  rm -f "$r"/etc/ssh/ssh_host_*
  chroot "$r" ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
  install -d -m 700 "$r/root/.ssh"
  install -m 600 "$CACHE/ssh/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
  # initramfs with only what finds the root disk: 9 MB instead of 39 MB (LAB-NOTES)
  sed -i 's/^MODULES=.*/MODULES=list/; s/^#\?COMPRESS=.*/COMPRESS=gzip/' "$r/etc/initramfs-tools/initramfs.conf"
  printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >>"$r/etc/initramfs-tools/modules"
  mount -t proc proc "$r/proc"
  chroot "$r" update-initramfs -u -k all >/dev/null 2>&1 || { umount "$r/proc"; return 1; }
  umount "$r/proc"
}

ensure_key() {
  [[ -f "$CACHE/ssh/id_ed25519" ]] && return 0
  mkdir -p "$CACHE/ssh"; chmod 700 "$CACHE/ssh"; ssh-keygen -q -t ed25519 -N '' -C omstack-lab -f "$CACHE/ssh/id_ed25519"
}

cmd_build() {
  need_root; need_tools debootstrap mkfs.ext4 qemu-img ssh-keygen
  ensure_key
  local dir; dir=$(image_dir)
  if [[ -f "$dir/.complete" ]]; then log "image cached: $dir"; echo "$dir"; return 0; fi
  log "building image $dir (debootstrap $SUITE, ${#VM_PACKAGES[@]} packages)"
  local t0=$SECONDS tmp="$dir.tmp"
  rm -rf "$tmp"; mkdir -p "$tmp/rootfs" "$VMDIR/debs"
  local incl; incl=$(IFS=,; echo "${VM_PACKAGES[*]}")
  debootstrap --variant=minbase --include="$incl" --cache-dir="$VMDIR/debs" "$SUITE" "$tmp/rootfs" "$MIRROR" \
    >"$tmp/debootstrap.log" 2>&1 || die "debootstrap failed; see $tmp/debootstrap.log (tail: $(tail -3 "$tmp/debootstrap.log"))"
  configure_image "$tmp/rootfs"
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb
  cp "$tmp"/rootfs/boot/vmlinuz-* "$tmp/vmlinuz"
  cp "$tmp"/rootfs/boot/initrd.img-* "$tmp/initrd.img"
  sed 's/ [^ ]*$//' "$tmp/rootfs/etc/ssh/ssh_host_ed25519_key.pub" >"$tmp/host_key.pub"
  # the filesystem image, filled from the directory without mounting anything (mkfs.ext4 -d)
  mkfs.ext4 -q -F -L omvm-root -d "$tmp/rootfs" "$tmp/root.raw" "$ROOT_SIZE"
  rm -rf "$tmp/rootfs"
  image_recipe >"$tmp/recipe"
  touch "$tmp/.complete"
  mv "$tmp" "$dir"
  log "image built in $((SECONDS - t0)) s: $(du -sh --apparent-size "$dir/root.raw" | cut -f1) apparent, $(du -sh "$dir/root.raw" | cut -f1) used, initrd $(du -h "$dir/initrd.img" | cut -f1)"
  echo "$dir"
}

# ---- running VM ------------------------------------------------------------------------------------
vm_alive() {
  local pid start; [[ -f "$STATE/qemu.pid" ]] || return 1; read -r pid start <"$STATE/qemu.pid" || return 1
  [[ -n "$pid" && -n "$start" && "$(proc_start "$pid")" == "$start" ]] && grep -qa omstack-vm "/proc/$pid/cmdline"
}
ssh_vm() {
  local key="$CACHE/ssh/id_ed25519"
  ssh -F /dev/null -i "$key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$STATE/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -p "$SSH_PORT" root@127.0.0.1 "$@"
}
wait_ssh() {
  local limit=${1:-300} t0=$SECONDS
  while ((SECONDS - t0 < limit)); do
    vm_alive || die "qemu is not running (console: $RUN/console.log)"
    if ssh_vm true 2>/dev/null; then return 0; fi
    sleep 2
  done
  die "no SSH on 127.0.0.1:$SSH_PORT after $limit s (console: $RUN/console.log, tail: $(tail -3 "$RUN/console.log" 2>/dev/null | tr -d '\r'))"
}

cmd_up() {
  need_root; need_tools qemu-system-x86_64 qemu-img ssh
  mkdir -p "$STATE"; chmod 700 "$STATE"
  if vm_alive; then log "already running (pid $(cut -d' ' -f1 "$STATE/qemu.pid")); vm.sh down first for fresh disks"; return 0; fi
  ss -Hltn "sport = :$SSH_PORT" | grep -q . && die "127.0.0.1:$SSH_PORT is taken by another program; set OMSTACK_VM_SSH_PORT"
  local dir; dir=$(cmd_build)
  rm -rf "$RUN"; mkdir -p "$RUN"
  qemu-img create -q -f qcow2 -F raw -b "$dir/root.raw" "$RUN/root.qcow2"
  local d drives=()
  for d in "${DATA_DISKS[@]}"; do
    qemu-img create -q -f qcow2 "$RUN/$d.qcow2" "$DATA_DISK_SIZE"
    drives+=(-drive "file=$RUN/$d.qcow2,if=virtio,format=qcow2,cache=unsafe")
  done
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cat "$dir/host_key.pub")" >"$STATE/known_hosts"
  local t0=$SECONDS
  # -name omstack-vm: vm_alive checks it in /proc/PID/cmdline before anything is killed.
  nice -n 10 qemu-system-x86_64 -name omstack-vm -uuid "$(cat /proc/sys/kernel/random/uuid)" \
    -accel tcg,thread=multi,tb-size=256 -cpu max,la57=off -smp 2 -m "$MEM_MB" \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.hostname=$HOSTNAME_VM mitigations=off loglevel=4" \
    -drive "file=$RUN/root.qcow2,if=virtio,format=qcow2,cache=unsafe" "${drives[@]}" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" -device virtio-net-pci,netdev=n0 \
    -display none -serial "file:$RUN/console.log" -monitor none -nodefaults -no-user-config \
    -daemonize -pidfile "$RUN/qemu.pid"
  local pid; pid=$(cat "$RUN/qemu.pid")
  echo "$pid $(proc_start "$pid")" >"$STATE/qemu.pid"   # qemu deletes its own pidfile on exit
  log "qemu started (pid $pid); waiting for SSH on 127.0.0.1:$SSH_PORT"
  wait_ssh 400
  log "SSH ready $((SECONDS - t0)) s after start"
}

cmd_down() {
  mkdir -p "$STATE"
  if vm_alive; then
    local pid start i; read -r pid start <"$STATE/qemu.pid"
    ssh_vm 'systemctl poweroff' >/dev/null 2>&1 || true
    for ((i = 0; i < 60; i++)); do vm_alive || break; sleep 1; done
    if vm_alive; then log "not powered off after 60 s: killing qemu pid $pid"; kill -TERM "$pid"; sleep 2; vm_alive && kill -9 "$pid"; fi
  fi
  rm -f "$STATE/qemu.pid" "$STATE/known_hosts"
  rm -rf "$RUN"
  log "down"
}

cmd_status() {
  if vm_alive; then
    local pid; pid=$(cut -d' ' -f1 "$STATE/qemu.pid")
    local ok=no; ssh_vm true 2>/dev/null && ok=yes
    printf 'running pid=%s ssh=127.0.0.1:%s ssh_ok=%s rss_mb=%s\n' "$pid" "$SSH_PORT" "$ok" "$(($(awk '/VmRSS/{print $2}' "/proc/$pid/status") / 1024))"
  else
    echo "stopped"; return 1
  fi
}

cmd_env() {
  printf 'VM_SSH_HOST=127.0.0.1\nVM_SSH_PORT=%s\nVM_KEY=%s\nVM_KNOWN_HOSTS=%s\n' "$SSH_PORT" "$CACHE/ssh/id_ed25519" "$STATE/known_hosts"
}

case "${1:-}" in
  build) cmd_build >/dev/null ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  ssh) shift; ssh_vm "$@" ;;
  wait-ssh) wait_ssh "${2:-300}" ;;
  env) cmd_env ;;
  *) die "usage: vm.sh build|up|down|status|ssh [CMD…]|wait-ssh [SECONDS]|env" ;;
esac
