#!/usr/bin/env bash
# The lab's nodes: three systemd-nspawn containers with systemd as PID 1, sshd and containerd, each in its
# own network namespace on a bridge inside a namespace the lab owns (198.19.0.0/24), reachable only from
# this machine. See tests/lab/README.md for why each setting is there (measured, not guessed).
#
#   lab.sh up [--nodes N]   build (or reuse) the rootfs, start the nodes, wait for SSH
#   lab.sh down             stop the nodes and remove only what `up` created
#   lab.sh status           node, pid, ssh, memory
#   lab.sh ssh NODE [CMD…]  ssh into a node as root with the lab key
#   lab.sh stop NODE        clean poweroff of one node (its disks stay): the "node down" fault
#   lab.sh kill NODE        power loss: SIGKILL to all of the node's processes at once
#   lab.sh start NODE       boot a stopped or killed node again
#   lab.sh rootfs           build the rootfs only (prints its path)
#   lab.sh env              print shell variables for scripts (LAB_KEY, LAB_KNOWN_HOSTS, node addresses)
set -euo pipefail

CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
STATE=${OMSTACK_LAB_STATE:-/run/omstack-k8slab}     # runtime state: pid files, known_hosts (tmpfs: gone at reboot)
RUN="$CACHE/run"                                    # per-node disks and overlays (big, so not on /run)
NETNS=omk-lab                                       # the namespace holding the lab bridge
BRIDGE=omkbr0
HOST_IF=omk-host                                    # root-namespace end of the link to the bridge
SUBNET=198.19.0                                     # 198.18.x belongs to the SSH test hosts
GATEWAY="$SUBNET.1"                                 # bridge address inside $NETNS; nothing routes further
HOST_ADDR="$SUBNET.254"                             # this machine's address on the lab bridge
SUITE=bookworm
MIRROR=${OMSTACK_LAB_MIRROR:-http://deb.debian.org/debian}
DATA_SIZE=${OMSTACK_LAB_DATA_SIZE:-20G}             # sparse ext4 image per node for containerd/kubelet/etcd
EXTRA_DISK_SIZE=${OMSTACK_LAB_DISK_SIZE:-10G}       # sparse, unformatted: a block device for disk probing
NODE_PACKAGES=(systemd systemd-sysv dbus openssh-server containerd runc containernetworking-plugins
  iptables conntrack socat ethtool iproute2 kmod ca-certificates procps util-linux e2fsprogs
  iputils-ping curl less psmisc)
# kubelet's host-global sysctls: bound read-only over /proc/sys in each node (kubelet only writes when different)
KUBELET_SYSCTLS=(vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000)

log() { printf '%s lab: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
node_names() { local n=${1:-3} i; for ((i = 1; i <= n; i++)); do echo "lab$i"; done; }
node_addr() { echo "$SUBNET.$((10 + ${1#lab}))"; }
started_nodes() { ls "$STATE"/*.pid 2>/dev/null | sed 's#.*/\(.*\)\.pid#\1#' || true; }
proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }   # start time: guards against PID reuse
need_root() { [[ $EUID -eq 0 ]] || die "must run as root (namespaces, mounts, cgroups): found uid $EUID. Run it with sudo."; }
need_tools() {
  local t missing=()
  for t in debootstrap systemd-nspawn nsenter ip mkfs.ext4 losetup ssh ssh-keygen; do command -v "$t" >/dev/null || missing+=("$t"); done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}. Install: apt-get install -y --no-install-recommends \$(grep -v '^#' tests/lab/packages.txt)"
}

# ---- rootfs: debootstrapped once per recipe hash --------------------------------------------------
rootfs_recipe() {
  printf 'suite=%s\npackages=%s\n' "$SUITE" "${NODE_PACKAGES[*]}"
  declare -f configure_rootfs
}
rootfs_dir() { echo "$CACHE/rootfs/$SUITE-$(rootfs_recipe | sha256sum | cut -c1-12)"; }

# Settings shared by every node (per-node identity goes into the node's overlay upper dir instead).
configure_rootfs() {
  local r=$1
  : >"$r/etc/machine-id"                                  # per node: written into each upper dir
  rm -f "$r"/etc/ssh/ssh_host_*                           # per node: generated at `up`
  ln -sf /lib/systemd/system/systemd-networkd.service "$r/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
  mkdir -p "$r/etc/systemd/system/sockets.target.wants"
  ln -sf /lib/systemd/system/systemd-networkd.socket "$r/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
  # containerd is installed but left for the installer to configure and enable
  rm -f "$r/etc/systemd/system/multi-user.target.wants/containerd.service"
  # timers and units that only add load or fail inside a container
  local u
  for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer \
           systemd-timesyncd.service getty@tty1.service; do
    rm -f "$r"/etc/systemd/system/*.wants/"$u"
  done
  printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$r/etc/ssh/sshd_config.d/lab.conf"
  printf 'net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n' \
    >"$r/etc/sysctl.d/90-lab-k8s.conf"
}

build_rootfs() {
  local dir; dir=$(rootfs_dir)
  if [[ -f "$dir/.complete" ]]; then echo "$dir"; return 0; fi
  log "building rootfs $dir (debootstrap $SUITE, ${#NODE_PACKAGES[@]} packages)"
  local t0=$SECONDS tmp="$dir.tmp"
  rm -rf "$tmp"; mkdir -p "$CACHE/rootfs" "$CACHE/debs"
  local incl; incl=$(IFS=,; echo "${NODE_PACKAGES[*]}")
  debootstrap --variant=minbase --include="$incl" --cache-dir="$CACHE/debs" "$SUITE" "$tmp" "$MIRROR" \
    >"$CACHE/rootfs/debootstrap.log" 2>&1 || die "debootstrap failed; see $CACHE/rootfs/debootstrap.log (tail: $(tail -3 "$CACHE/rootfs/debootstrap.log"))"
  configure_rootfs "$tmp"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb
  rootfs_recipe >"$tmp/.recipe"
  touch "$tmp/.complete"
  mv "$tmp" "$dir"
  log "rootfs built in $((SECONDS - t0)) s"
  echo "$dir"
}

ensure_key() {
  mkdir -p "$CACHE/ssh"; chmod 700 "$CACHE/ssh"
  [[ -f "$CACHE/ssh/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C omstack-lab -f "$CACHE/ssh/id_ed25519"
}

# ---- network ----------------------------------------------------------------------------------
net_up() {
  ip netns add "$NETNS"
  echo "netns $NETNS" >>"$STATE/created"
  ip -n "$NETNS" link set lo up
  ip -n "$NETNS" link add "$BRIDGE" type bridge
  ip -n "$NETNS" addr add "$GATEWAY/24" dev "$BRIDGE"
  ip -n "$NETNS" link set "$BRIDGE" up
  ip link add "$HOST_IF" type veth peer name omk-hostp netns "$NETNS"
  echo "link $HOST_IF" >>"$STATE/created"
  ip -n "$NETNS" link set omk-hostp master "$BRIDGE" up
  ip addr add "$HOST_ADDR/24" dev "$HOST_IF"
  ip link set "$HOST_IF" up
}

# ---- cgroups: one directory per node in every v1 hierarchy, under this process's own cgroup --------
cgroup_dirs() {   # prints "hierarchy-mount path" for each hierarchy the node gets a directory in
  local node=$1 ctrls path mnt
  while IFS=: read -r _ ctrls path; do
    [[ -z "$ctrls" ]] && continue                           # the empty cgroup2 line: no usable controllers
    mnt="/sys/fs/cgroup/${ctrls#name=}"
    [[ -d "$mnt" ]] || continue
    echo "$mnt${path%/}/omk-$node"
  done </proc/self/cgroup
}
cgroup_create() {
  local node=$1 d parent
  for d in $(cgroup_dirs "$node"); do
    mkdir -p "$d"
    if [[ -f "$d/cpuset.cpus" ]]; then       # a new cpuset is empty until given the parent's cpus and mems
      parent=$(dirname "$d")
      cat "$parent/cpuset.cpus" >"$d/cpuset.cpus"; cat "$parent/cpuset.mems" >"$d/cpuset.mems"
    fi
  done
}
cgroup_procs() { [[ -d "$1" ]] && find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u; }   # PIDs in a cgroup subtree
cgroup_kill() {   # kills whatever is left in the node's cgroups (a node killed hard leaves its shims)
  local node=$1 d p
  for d in $(cgroup_dirs "$node"); do
    [[ -d "$d" ]] || continue
    for p in $(cgroup_procs "$d"); do kill -9 "$p" 2>/dev/null || true; done
  done
  sleep 0.5
}
cgroup_remove() {   # kills what is left in the node's cgroups, then removes them bottom-up
  local node=$1 d
  cgroup_kill "$node"
  for d in $(cgroup_dirs "$node"); do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# ---- one node ---------------------------------------------------------------------------------
write_node_files() {   # identity and settings of one node, written into its overlay upper dir
  local node=$1 upper=$2 addr; addr=$(node_addr "$node")
  mkdir -p "$upper/etc/ssh" "$upper/root/.ssh" "$upper/etc/systemd/network" "$upper/usr/local/sbin" "$upper/etc/lab-sysctl"
  local kv key
  for kv in "${KUBELET_SYSCTLS[@]}"; do   # only entries whose host value differs get a file (and a bind)
    key=${kv%%=*}
    [[ "$(cat "/proc/sys/$key")" == "${kv#*=}" ]] || echo "${kv#*=}" >"$upper/etc/lab-sysctl/${key//\//.}"
  done
  echo "$node" >"$upper/etc/hostname"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$upper/etc/machine-id"; echo >>"$upper/etc/machine-id"
  printf '127.0.0.1 localhost\n%s %s\n' "$addr" "$node" >"$upper/etc/hosts"
  local n; for n in $(started_nodes) $node; do [[ $n == "$node" ]] || printf '%s %s\n' "$(node_addr "$n")" "$n" >>"$upper/etc/hosts"; done
  echo "nameserver $GATEWAY" >"$upper/etc/resolv.conf"      # answers nothing: the lab is offline by design
  printf '[Match]\nName=host0\n\n[Network]\nAddress=%s/24\nGateway=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
    "$addr" "$GATEWAY" >"$upper/etc/systemd/network/10-host0.network"
  ssh-keygen -q -t ed25519 -N '' -C "$node" -f "$upper/etc/ssh/ssh_host_ed25519_key"
  install -m 600 "$CACHE/ssh/id_ed25519.pub" "$upper/root/.ssh/authorized_keys"; chmod 700 "$upper/root/.ssh"
  # Before systemd starts: nspawn mounts the v1 controller hierarchies read-only and systemd would drop them
  # for good; kubelet needs shared mount propagation.
  cat >"$upper/usr/local/sbin/lab-init" <<'EOF'
#!/bin/sh
for m in $(awk '$3 == "cgroup" {print $2}' /proc/self/mounts); do mount -o remount,bind,rw "$m"; done
# nspawn binds (--bind) over /proc resolve their source inside the container, so bind here: a file with
# kubelet's value over each host-global /proc/sys entry kubelet would otherwise fail to write.
for f in /etc/lab-sysctl/*; do
  [ -f "$f" ] && mount --bind -o ro "$f" "/proc/sys/$(basename "$f" | tr . /)"
done
mount --make-rshared /
exec /lib/systemd/systemd "$@"
EOF
  chmod 755 "$upper/usr/local/sbin/lab-init"
  mkdir -p "$upper/etc/systemd/journald.conf.d"     # /dev/kmsg is the host's: keep its messages out of the node's journal
  printf '[Journal]\nReadKMsg=no\n' >"$upper/etc/systemd/journald.conf.d/lab.conf"
  # a container whose PID 1 has no SIGTERM handler ignores SIGTERM from outside its PID namespace: without
  # this, poweroff waits systemd's default 90 s for each such pod's scope before it sends SIGKILL
  mkdir -p "$upper/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$upper/etc/systemd/system.conf.d/lab.conf"
}

start_node() {
  local node=$1 rootfs=$2 d="$RUN/$1"
  mkdir -p "$d/upper" "$d/work" "$d/root" "$d/data"
  echo "dir $d" >>"$STATE/created"
  truncate -s "$DATA_SIZE" "$d/data.img"
  mkfs.ext4 -q -F -L "omk-$node" "$d/data.img"
  mount -o loop "$d/data.img" "$d/data"
  echo "mount $d/data" >>"$STATE/created"
  mkdir -p "$d/data/containerd" "$d/data/kubelet" "$d/data/etcd"
  write_node_files "$node" "$d/upper"
  # an empty disk for the installer's disk probing: a loop device bound into the node under its own name
  truncate -s "$EXTRA_DISK_SIZE" "$d/disk1.img"
  losetup -f --show "$d/disk1.img" >"$d/disk1.dev"
  echo "loop $(cat "$d/disk1.dev")" >>"$STATE/created"
  mount -t overlay "omk-$node" -o "lowerdir=$rootfs,upperdir=$d/upper,workdir=$d/work" "$d/root"
  echo "mount $d/root" >>"$STATE/created"
  cgroup_create "$node"
  echo "cgroup $node" >>"$STATE/created"
  launch_node "$node"
}

# Boots a prepared node (its disk, overlay and cgroups exist): at `up`, and at `start` after `stop`.
launch_node() {
  local node=$1 d="$RUN/$1"
  # The launcher joins the node's cgroups (stands in for Delegate=yes), then becomes nspawn inside the lab
  # namespace (`ip netns exec` would remount /sys and hide /sys/fs/cgroup).
  (
    for c in $(cgroup_dirs "$node"); do echo "$BASHPID" >"$c/cgroup.procs"; done
    exec env SYSTEMD_SECCOMP=0 nsenter --net="/run/netns/$NETNS" -- systemd-nspawn \
      --quiet --directory="$d/root" --machine="$node" --hostname="$node" \
      --register=no --keep-unit --capability=all --network-bridge="$BRIDGE" \
      --kill-signal=SIGRTMIN+3 --resolv-conf=off --timezone=off --link-journal=no --console=read-only \
      --bind=/dev/kmsg \
      --bind="$d/data/containerd:/var/lib/containerd" --bind="$d/data/kubelet:/var/lib/kubelet" \
      --bind="$d/data/etcd:/var/lib/etcd" --bind="$(cat "$d/disk1.dev")" \
      /usr/local/sbin/lab-init
  ) </dev/null >>"$d/console.log" 2>&1 &
  local pid=$!
  echo "$pid $(proc_start "$pid")" >"$STATE/$node.pid"
}

wait_ssh() {   # waits until every node answers over SSH; prints seconds per node
  local deadline=$((SECONDS + ${2:-120})) node=$1 addr; addr=$(node_addr "$node")
  until ssh_node "$node" true 2>/dev/null; do
    ((SECONDS < deadline)) || die "$node ($addr) not reachable over SSH after ${2:-120} s; console: $RUN/$node/console.log"
    node_alive "$node" || die "$node exited; console: $RUN/$node/console.log (tail: $(tail -5 "$RUN/$node/console.log"))"
    sleep 0.3
  done
}

node_alive() {
  local pid start; read -r pid start <"$STATE/$1.pid" 2>/dev/null || return 1
  [[ -n "$pid" && -n "$start" && "$(proc_start "$pid")" == "$start" ]]
}

node_busy() {   # any process left in the node's cgroups? (SIGKILL on nspawn orphans the node: it keeps running)
  local d; d=$(cgroup_dirs "$1" | grep /pids/)
  [[ -n "$(cgroup_procs "$d")" ]]
}

known_hosts_line() { echo "$(node_addr "$1") $(cut -d' ' -f1,2 "$RUN/$1/upper/etc/ssh/ssh_host_ed25519_key.pub")"; }

ssh_node() {
  local node=$1; shift
  local tty=(); [[ $# -eq 0 && -t 0 ]] && tty=(-t)
  ssh "${tty[@]}" -F /dev/null -i "$CACHE/ssh/id_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile="$STATE/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 \
    -o LogLevel=ERROR "root@$(node_addr "$node")" "$@"
}

# ---- commands ---------------------------------------------------------------------------------
cmd_up() {
  local count=3
  [[ "${1:-}" == "--nodes" ]] && count=${2:?--nodes needs a number}
  [[ "$count" =~ ^[1-9]$ ]] || die "--nodes must be 1..9: found '$count'"
  need_root; need_tools
  [[ -e "$STATE/created" ]] && die "a lab is already up (state in $STATE); run 'lab.sh down' first"
  ip netns list | grep -qw "$NETNS" && die "netns $NETNS exists but no lab state in $STATE: remove it by hand (ip netns del $NETNS) after checking nothing uses it"
  ip -br addr | grep -q " $SUBNET\." && die "$SUBNET.0/24 is already on an interface of this machine: $(ip -br addr | grep " $SUBNET\.")"
  local rootfs; rootfs=$(build_rootfs)
  ensure_key
  mkdir -p "$STATE" "$RUN"; : >"$STATE/created"; : >"$STATE/known_hosts"; chmod 600 "$STATE/known_hosts"
  echo "$rootfs" >"$STATE/rootfs"
  local t0=$SECONDS node
  net_up
  for node in $(node_names "$count"); do
    start_node "$node" "$rootfs"
    known_hosts_line "$node" >>"$STATE/known_hosts"
  done
  for node in $(node_names "$count"); do
    wait_ssh "$node"
    log "$node $(node_addr "$node") ssh-ready after $((SECONDS - t0)) s"
  done
  log "lab up: $count nodes ssh-ready in $((SECONDS - t0)) s"
}

node_cgroup_memory() {   # bytes charged to the node's memory cgroup (all its processes, page cache included)
  local d; d=$(cgroup_dirs "$1" | grep /memory/)
  cat "$d/memory.usage_in_bytes" 2>/dev/null || echo 0
}
node_rss_kb() {   # sum of RSS of every process in the node's cgroups
  local d p sum=0; d=$(cgroup_dirs "$1" | grep /memory/)
  for p in $(cgroup_procs "$d"); do
    sum=$((sum + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

cmd_status() {
  [[ -e "$STATE/created" ]] || { echo "lab: down"; return 0; }
  printf '%-6s %-13s %-8s %-5s %10s %10s\n' NODE ADDRESS PID SSH RSS_MB CGROUP_MB
  local node pid start sshok
  for node in $(started_nodes); do
    read -r pid start <"$STATE/$node.pid"
    node_alive "$node" || { node_busy "$node" && pid="orphaned" || pid="stopped"; }
    ssh_node "$node" true 2>/dev/null && sshok=yes || sshok=no
    printf '%-6s %-13s %-8s %-5s %10s %10s\n' "$node" "$(node_addr "$node")" "$pid" "$sshok" \
      "$(($(node_rss_kb "$node") / 1024))" "$(($(node_cgroup_memory "$node") / 1048576))"
  done
}

cmd_down() {
  need_root
  [[ -e "$STATE/created" ]] || { log "nothing to do: no lab state in $STATE"; return 0; }
  local node pid start i
  for node in $(started_nodes); do
    if node_alive "$node"; then
      read -r pid start <"$STATE/$node.pid"
      kill -TERM "$pid" 2>/dev/null || true      # nspawn forwards --kill-signal (SIGRTMIN+3: clean poweroff)
    fi
  done
  for ((i = 0; i < 200; i++)); do
    local any=0; for node in $(started_nodes); do node_alive "$node" && any=1; done
    ((any)) || break; sleep 0.2
  done
  for node in $(started_nodes); do
    if node_alive "$node"; then read -r pid start <"$STATE/$node.pid"; log "$node: not stopped after 40 s, killing"; kill -9 "$pid" 2>/dev/null || true; fi
  done
  # undo in reverse order of creation
  local kind what
  tac "$STATE/created" | while read -r kind what; do
    case $kind in
      cgroup) cgroup_remove "$what" ;;
      mount) umount "$what" 2>/dev/null || umount -l "$what" 2>/dev/null || log "could not unmount $what" ;;
      dir) [[ "$what" == "$RUN"/* ]] && rm -rf "$what" ;;
      loop) losetup -d "$what" 2>/dev/null || log "could not detach $what" ;;
      link) ip link del "$what" 2>/dev/null || true ;;
      netns) ip netns del "$what" 2>/dev/null || true ;;
    esac
  done
  rm -rf "$STATE"
  log "lab down"
}

# stop NODE: a clean poweroff (disk, overlay and cgroups stay) — the "node down" fault; start NODE boots it again
cmd_stop() {
  need_root; local node=${1:?usage: lab.sh stop NODE} pid start i
  [[ -f "$STATE/$node.pid" ]] || die "no node $node in this lab; nodes: $(started_nodes | tr '\n' ' ')"
  if node_alive "$node"; then
    read -r pid start <"$STATE/$node.pid"; kill -TERM "$pid"
    for ((i = 0; i < 200; i++)); do node_alive "$node" || break; sleep 0.2; done
    node_alive "$node" && { log "$node: not stopped after 40 s, killing"; kill -9 "$pid" 2>/dev/null || true; }
  fi
  cgroup_kill "$node"
  log "$node stopped"
}
# kill NODE: power loss — SIGKILL to every process of the node at once (nspawn included), no shutdown
cmd_kill() {
  need_root; local node=${1:?usage: lab.sh kill NODE}
  [[ -f "$STATE/$node.pid" ]] || die "no node $node in this lab; nodes: $(started_nodes | tr '\n' ' ')"
  local pid start; read -r pid start <"$STATE/$node.pid"
  node_alive "$node" && kill -9 "$pid" 2>/dev/null
  cgroup_kill "$node"
  local i; for ((i = 0; i < 50; i++)); do node_alive "$node" || break; sleep 0.1; done   # until reaped
  log "$node killed"
}
cmd_start() {
  need_root; local node=${1:?usage: lab.sh start NODE} t0=$SECONDS
  [[ -f "$STATE/$node.pid" ]] || die "no node $node in this lab; nodes: $(started_nodes | tr '\n' ' ')"
  node_alive "$node" && { log "$node is already running"; return 0; }
  node_busy "$node" && die "$node's nspawn is gone but its processes still run (an orphaned node): run 'lab.sh stop $node' first"
  ip -n "$NETNS" link del "vb-$node" 2>/dev/null || true    # a killed nspawn leaves its bridge-side veth
  launch_node "$node"; wait_ssh "$node"
  log "$node ssh-ready after $((SECONDS - t0)) s"
}

cmd_env() {
  echo "LAB_KEY=$CACHE/ssh/id_ed25519"
  echo "LAB_KNOWN_HOSTS=$STATE/known_hosts"
  local node; for node in $(started_nodes); do echo "LAB_ADDR_${node^^}=$(node_addr "$node")"; done
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  ssh) shift; [[ -n "${1:-}" && -f "$STATE/${1}.pid" ]] || die "usage: lab.sh ssh NODE [CMD…]; nodes: $(started_nodes | tr '\n' ' ')"; node=$1; shift; ssh_node "$node" "$@" ;;
  rootfs) need_root; need_tools; build_rootfs ;;
  env) cmd_env ;;
  stop) shift; cmd_stop "$@" ;;
  start) shift; cmd_start "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  *) echo "usage: lab.sh up [--nodes N] | down | status | ssh NODE [CMD…] | stop NODE | kill NODE | start NODE | rootfs | env" >&2; exit 2 ;;
esac
