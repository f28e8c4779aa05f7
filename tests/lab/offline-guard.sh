#!/usr/bin/env bash
# Proves an install is offline: counts every packet the lab nodes send to an address outside the lab's own
# 198.19.0.0/16 (IPv4) or outside link-local/multicast (IPv6), at the lab bridge's namespace, before routing.
# Nothing leaves anyway (the namespace has no uplink and forwards nothing); the counters show whether anything *tried*.
#
#   tests/lab/offline-guard.sh arm      # (re)create the counters, zeroed; run after `lab.sh up`, before the install
#   tests/lab/offline-guard.sh report   # print the counters; exit 1 if any packet tried to leave
#   tests/lab/offline-guard.sh disarm   # remove them (lab.sh down removes the namespace, and them, anyway)
set -euo pipefail
NETNS=omk-lab
TABLE=omstack_offline_guard
in_ns() { ip netns exec "$NETNS" "$@"; }

case "${1:-}" in
  arm)
    ip netns list | grep -qw "$NETNS" || { echo "offline-guard: netns $NETNS does not exist: start the lab first (tests/lab/lab.sh up)" >&2; exit 2; }
    in_ns nft delete table inet "$TABLE" 2>/dev/null || true
    in_ns nft -f - <<NFT
table inet $TABLE {
  counter leaving_v4 { }
  counter leaving_v6 { }
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    meta nfproto ipv4 ip daddr != { 198.19.0.0/16, 255.255.255.255 } ip daddr != 224.0.0.0/4 counter name leaving_v4 log prefix "omstack-offline-v4 " level info
    meta nfproto ipv6 ip6 daddr != { fe80::/10, ff00::/8 } counter name leaving_v6 log prefix "omstack-offline-v6 " level info
  }
}
NFT
    echo "offline-guard: armed in netns $NETNS (counters at zero)"
    ;;
  report)
    out=$(in_ns nft list table inet "$TABLE" 2>/dev/null) || { echo "offline-guard: not armed (run: $0 arm)" >&2; exit 2; }
    v4=$(awk '/counter leaving_v4/{getline; print}' <<<"$out" | sed -n 's/.*packets \([0-9]*\) bytes \([0-9]*\).*/\1/p')
    v6=$(awk '/counter leaving_v6/{getline; print}' <<<"$out" | sed -n 's/.*packets \([0-9]*\) bytes \([0-9]*\).*/\1/p')
    echo "offline-guard: packets towards addresses outside the lab: IPv4 ${v4:-?}, IPv6 ${v6:-?}"
    [[ "${v4:-x}" == 0 && "${v6:-x}" == 0 ]] || { echo "offline-guard: something tried to leave the lab (dmesg | grep omstack-offline shows where to)" >&2; exit 1; }
    ;;
  disarm)
    in_ns nft delete table inet "$TABLE" 2>/dev/null || true
    ;;
  *) echo "usage: $0 arm|report|disarm" >&2; exit 2 ;;
esac
