#!/usr/bin/env bash
# Proves a running lab cluster works, whoever installed it (omstack install, or prove-k8s.sh by hand): every check
# polls against a deadline (a cluster keeps converging after its installer returns), runs even when an earlier one
# failed, and says what it found. Run it under the lab lock, against a lab that is up:
#
#   tests/lab/checks.sh [--plan plan.json|plan.yaml] [--admin-password-file FILE] [--deadline SEC] [--keep-workload] [CHECK…]
#
# CHECKs (default: all, in this order):
#   nodes-ready   every lab node registered and Ready, and its kubelet active (asked over SSH)
#   system-pods   every kube-system pod Running with all containers ready
#   node-labels   each node carries the labels and taints the plan gave it (needs --plan)
#   workload      omstack.lab/echo:v1 (from the bundle, never pulled) as 2 replicas on 2 nodes behind a Service:
#                 the ClusterIP answers from both pods on every node, the NodePort answers on every node address
#   dns           inside an echo pod, kubernetes.default and echo.<ns> resolve to their ClusterIPs (CoreDNS)
#   admin         the admin service answers on https://<control-plane>:9443; with --admin-password-file it logs in
#                 and reads /api/v1/health
# Exit status: 0 all passed, 1 a check failed, 2 bad usage.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAB="$HERE/lab.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

ALL_CHECKS=(nodes-ready system-pods node-labels workload dns admin)
DEADLINE=${CHECK_DEADLINE:-180}          # seconds a cluster-state check may poll
NS=omstack-lab-checks                    # the workload's namespace (deleted at the end unless --keep-workload)
NODEPORT=30081                           # prove-k8s.sh's workload uses 30080
ADMIN_PORT=${OMSTACK_LAB_ADMIN_PORT:-9443}
ADMIN_USER=${OMSTACK_LAB_ADMIN_USER:-admin}
ADMIN_DEADLINE=${OMSTACK_LAB_ADMIN_DEADLINE:-30}   # OMSTACK_LAB_ADMIN_URL=https://… checks another address
PLAN="" ADMIN_PASSWORD_FILE="" KEEP_WORKLOAD="" CHECKS=()

usage() { echo "usage: checks.sh [--plan FILE] [--admin-password-file FILE] [--deadline SEC] [--keep-workload] [${ALL_CHECKS[*]}]" >&2; exit 2; }
while (($#)); do
  case $1 in
    --plan) PLAN=${2:?--plan needs a file}; shift 2 ;;
    --admin-password-file) ADMIN_PASSWORD_FILE=${2:?--admin-password-file needs a file}; shift 2 ;;
    --deadline) DEADLINE=${2:?--deadline needs seconds}; shift 2 ;;
    --keep-workload) KEEP_WORKLOAD=1; shift ;;
    -h|--help) usage ;;
    -*) echo "checks: unknown option $1" >&2; usage ;;
    *) [[ " ${ALL_CHECKS[*]} " == *" $1 "* ]] || { echo "checks: unknown check '$1'; checks: ${ALL_CHECKS[*]}" >&2; exit 2; }
       CHECKS+=("$1"); shift ;;
  esac
done
((${#CHECKS[@]})) || CHECKS=("${ALL_CHECKS[@]}")
[[ "$DEADLINE" =~ ^[0-9]+$ ]] || { echo "checks: --deadline must be whole seconds, found '$DEADLINE'" >&2; exit 2; }
[[ -z "$PLAN" || -r "$PLAN" ]] || { echo "checks: cannot read the plan $PLAN: pass the file 'omstack plan --save' wrote (JSON) or its -o yaml output" >&2; exit 2; }
[[ -z "$ADMIN_PASSWORD_FILE" || -r "$ADMIN_PASSWORD_FILE" ]] || { echo "checks: cannot read the admin password file $ADMIN_PASSWORD_FILE" >&2; exit 2; }
command -v jq >/dev/null || { echo "checks: jq is missing: apt-get install -y --no-install-recommends \$(grep -v '^#' tests/lab/packages.txt)" >&2; exit 2; }

mapfile -t NODES < <(lab_nodes)
# (only `admin` with OMSTACK_LAB_ADMIN_URL works without a lab: it tests this script's login path)
((${#NODES[@]})) || [[ -n "${OMSTACK_LAB_ADMIN_URL:-}" && "${CHECKS[*]}" == admin ]] || { echo "checks: no lab nodes: the lab is down (tests/lab/lab.sh up)" >&2; exit 1; }

PASSED=() FAILED=() T_ALL=$SECONDS
report() {   # STATUS NAME T0 DETAIL
  local s=$1 name=$2 t=$((SECONDS - $3)); shift 3
  if [[ $s == ok ]]; then PASSED+=("$name"); printf 'checks: [ok]   %-12s %4d s  %s\n' "$name" "$t" "$*"
  else FAILED+=("$name"); printf 'checks: [FAIL] %-12s %4d s  %s\n' "$name" "$t" "$*"; fi
}
# poll_until SECONDS FUNC ARGS…: FUNC prints what is still wrong (nothing = done); POLL_LAST keeps its last words.
poll_until() {
  local end=$((SECONDS + $1)); shift
  while :; do
    POLL_LAST=$("$@" 2>&1) && [[ -z "$POLL_LAST" ]] && return 0
    [[ -n "$POLL_LAST" ]] || POLL_LAST="$1 failed without saying why"
    ((SECONDS < end)) || return 1
    sleep 2
  done
}

# The node that holds the cluster's admin kubeconfig: the (first) control-plane node, whoever installed it.
CP=""
for n in "${NODES[@]+"${NODES[@]}"}"; do on "$n" 'test -r /etc/kubernetes/admin.conf' 2>/dev/null && { CP=$n; break; }; done
kc() { on "$CP" "kubectl --kubeconfig /etc/kubernetes/admin.conf $*"; }
need_cp() {   # NAME T0: a cluster check without a cluster fails with the reason
  [[ -n "$CP" ]] && return 0
  report fail "$1" "$2" "no node has /etc/kubernetes/admin.conf (checked ${NODES[*]}): Kubernetes is not installed on this lab"
  return 1
}
NODES_JSON=$(printf '%s\n' "${NODES[@]}" | jq -R . | jq -sc .)

# ---- nodes-ready ----------------------------------------------------------------------------------------------
nodes_not_ready() {
  kc get nodes -o json | jq -r --argjson want "$NODES_JSON" '
    def ready: [.status.conditions[]? | select(.type == "Ready")][0];
    ([.items[].metadata.name]) as $have
    | ([$want[] | select(. as $n | $have | index($n) | not) | "\(.): not registered"]
       + [.items[] | select(.metadata.name as $n | $want | index($n)) | select((ready.status // "") != "True")
          | "\(.metadata.name): \(ready.reason // "no Ready condition") \(ready.message // "")"]) | .[]'
}
kubelets_down() {   # the API keeps a node Ready for ~40 s after it died: ask each node too
  local n
  for n in "${NODES[@]}"; do on "$n" 'systemctl is-active -q kubelet' 2>/dev/null || echo "$n: kubelet not active (or no SSH)"; done
}
nodes_not_ready_or_down() { nodes_not_ready; kubelets_down; }
check_nodes_ready() {
  local t0=$SECONDS; need_cp nodes-ready "$t0" || return
  if poll_until "$DEADLINE" nodes_not_ready_or_down; then report ok nodes-ready "$t0" "${NODES[*]} Ready, their kubelets active"
  else report fail nodes-ready "$t0" "after ${DEADLINE} s: $(echo "$POLL_LAST" | paste -sd';')"; fi
}

# ---- system-pods ----------------------------------------------------------------------------------------------
system_pods_not_running() {
  kc -n kube-system get pods -o json | jq -r '
    if (.items | length) == 0 then "no pods in kube-system" else
    .items[] | select(.status.phase != "Running" or ([.status.containerStatuses[]?.ready] | all | not) or ((.status.containerStatuses // []) | length) == 0)
    | "\(.metadata.name) on \(.spec.nodeName // "no node"): \(.status.phase) \([.status.containerStatuses[]? | .name + "=" + (.state | to_entries[0] | .key + (if .value.reason then "(" + .value.reason + ")" else "" end))] | join(","))"
    end'
}
check_system_pods() {
  local t0=$SECONDS; need_cp system-pods "$t0" || return
  if poll_until "$DEADLINE" system_pods_not_running; then
    report ok system-pods "$t0" "$(kc -n kube-system get pods -o json | jq -r '
      [.items[] | (.metadata.ownerReferences[0] // {}) as $o
       | if $o.kind == "DaemonSet" then $o.name elif $o.kind == "ReplicaSet" then ($o.name | sub("-[a-z0-9]+$"; ""))
         elif $o.kind == "Node" then (.metadata.name | rtrimstr("-" + $o.name)) else .metadata.name end]
      | group_by(.) | map("\(.[0]) ×\(length)") | join(", ")') Running"
  else report fail system-pods "$t0" "after ${DEADLINE} s: $(echo "$POLL_LAST" | paste -sd';')"; fi
}

# ---- node-labels ----------------------------------------------------------------------------------------------
plan_json() {   # the plan as JSON, from `omstack plan --save` (JSON) or its `-o yaml` output
  case $PLAN in
    *.yaml|*.yml) (cd "$HERE/../.." && node --input-type=module -e '
        import { readFileSync } from "node:fs"; import { parse } from "yaml";
        process.stdout.write(JSON.stringify(parse(readFileSync(process.argv[1], "utf8"))));' "$(realpath "$PLAN")") ;;
    *) cat "$PLAN" ;;
  esac
}
labels_missing() {
  local nodes; nodes=$(kc get nodes -o json) || { echo "kubectl get nodes failed: $nodes"; return; }
  jq -rn --argjson plan "$(plan_json)" --argjson k "$nodes" '
    def taint: .key + (if (.value // "") != "" then "=" + .value else "" end) + ":" + .effect;
    $plan.nodes[] as $p
    | ([$k.items[] | select(.metadata.name == $p.host)][0]) as $node
    | if $node == null then "\($p.host): the plan has this node, the cluster does not"
      else (($p.labels // {}) | to_entries[] | select($node.metadata.labels[.key] != .value)
              | "\($p.host): label \(.key)=\(.value) missing (found: \($node.metadata.labels[.key] // "none"))"),
           (($p.taints // [])[] | select(. as $t | [$node.spec.taints[]? | taint] | index($t) | not)
              | "\($p.host): taint \(.) missing")
      end'
}
check_node_labels() {
  local t0=$SECONDS; need_cp node-labels "$t0" || return
  [[ -n "$PLAN" ]] || { report fail node-labels "$t0" "no plan to compare with: pass --plan plan.json (what 'omstack plan --save' wrote)"; return; }
  local counts; counts=$(plan_json | jq -r '"\([.nodes[].labels // {} | length] | add // 0) labels and \([.nodes[].taints // [] | length] | add // 0) taints on \(.nodes | length) nodes"') \
    || { report fail node-labels "$t0" "cannot read the plan $PLAN as JSON or YAML"; return; }
  if poll_until 30 labels_missing; then report ok node-labels "$t0" "$counts as planned"
  else report fail node-labels "$t0" "$(echo "$POLL_LAST" | paste -sd';')"; fi
}

# ---- workload + dns -------------------------------------------------------------------------------------------
ECHO_POD_IP="" ECHO_POD_NODE=""
echo_pods_wrong() {   # pods not yet Ready, or fewer than 2 nodes used
  kc -n "$NS" get pods -l app=echo -o json | jq -r '
    ([.items[] | select(.metadata.deletionTimestamp == null)]) as $p
    | ([$p[] | select([.status.conditions[]? | select(.type == "Ready" and .status == "True")] | length == 0)
        | "\(.metadata.name) on \(.spec.nodeName // "no node"): \(.status.phase) \([.status.containerStatuses[]? | .state | to_entries[0] | .key + (if .value.reason then "(" + .value.reason + ")" else "" end)] | join(",")) \([.status.conditions[]? | select(.status != "True" and .message) | .message] | join(" "))"]) as $bad
    | if ($bad | length) > 0 then $bad[]
      elif ([$p[].spec.nodeName] | unique | length) < 2 then "the 2 replicas are on \([$p[].spec.nodeName] | unique | join(",")): not spread over 2 nodes"
      else empty end'
}
check_workload() {
  local t0=$SECONDS n; need_cp workload "$t0" || return
  local no_image=()   # the bundle must have delivered the image to every node (imagePullPolicy: Never)
  for n in "${NODES[@]}"; do on "$n" 'ctr -n k8s.io images ls -q | grep -qx omstack.lab/echo:v1' 2>/dev/null || no_image+=("$n"); done
  # a namespace left by an earlier run may still be terminating: start from none
  kc delete namespace "$NS" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || true
  local out; out=$(echo_workload_yaml "$NS" "$NODEPORT" | on "$CP" "kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f -" 2>&1) \
    || { report fail workload "$t0" "kubectl apply failed: $(echo "$out" | tail -3 | paste -sd';')"; return; }
  if ! poll_until "$DEADLINE" echo_pods_wrong; then
    report fail workload "$t0" "pods not Ready on 2 nodes after ${DEADLINE} s: $(echo "$POLL_LAST" | paste -sd';')${no_image:+; omstack.lab/echo:v1 is not in containerd on: ${no_image[*]}}"
    return
  fi
  local pods; pods=$(kc -n "$NS" get pods -l app=echo -o json)
  ECHO_POD_IP=$(jq -r '[.items[] | select(.metadata.deletionTimestamp == null)][0].status.podIP' <<<"$pods")
  ECHO_POD_NODE=$(jq -r '[.items[] | select(.metadata.deletionTimestamp == null)][0].spec.nodeName' <<<"$pods")
  local where; where=$(jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.nodeName] | sort | join(",")' <<<"$pods")
  local ip; ip=$(kc -n "$NS" get svc echo -o "jsonpath='{.spec.clusterIP}'")
  local details=() bad=() r
  for n in "${NODES[@]}"; do   # kube-proxy on every node must route to both pods
    if r=$(poll_distinct_answers "$n" "http://$ip/" 2 30); then details+=("$n ${r%%:*}"); else bad+=("ClusterIP $ip from $n: $r"); fi
  done
  local a np=() end
  for n in "${NODES[@]}"; do   # the NodePort, from this machine, on every node's address
    a=$(addr "$n"); end=$((SECONDS + 30)); r=""
    until r=$(curl -s -m 2 "http://$a:$NODEPORT/") && [[ -n "$r" ]]; do ((SECONDS < end)) || break; sleep 0.5; done
    if [[ -n "$r" ]]; then np+=("$a"); else bad+=("NodePort $a:$NODEPORT: no answer from this machine within 30 s"); fi
  done
  if ((${#bad[@]})); then report fail workload "$t0" "pods on $where; $(IFS=';'; echo "${bad[*]}")"
  else report ok workload "$t0" "2 pods on $where; both answered the ClusterIP from every node (${details[*]}); NodePort $NODEPORT answered on ${#np[@]} node addresses"; fi
}
dns_wrong() {   # NAME=EXPECTED-IP pairs resolved inside the echo pod
  local kv name want got
  for kv in "$@"; do
    name=${kv%%=*} want=${kv#*=}
    got=$(pod_resolve "$ECHO_POD_NODE" "$ECHO_POD_IP" "$name") || { echo "$name: the pod did not answer /dns ($got)"; continue; }
    [[ " $got " == *" $want "* ]] || echo "$name resolved to '${got//$'\n'/ }', want $want"
  done
}
check_dns() {
  local t0=$SECONDS; need_cp dns "$t0" || return
  [[ -n "$ECHO_POD_IP" ]] || { report fail dns "$t0" "no echo pod to ask from (the workload check did not pass or did not run: run 'checks.sh workload dns')"; return; }
  local k e
  k=$(kc get svc kubernetes -o "jsonpath='{.spec.clusterIP}'") && e=$(kc -n "$NS" get svc echo -o "jsonpath='{.spec.clusterIP}'") \
    || { report fail dns "$t0" "cannot read the Services' ClusterIPs"; return; }
  if poll_until 60 dns_wrong "kubernetes.default=$k" "echo.$NS=$e"; then
    report ok dns "$t0" "in pod $ECHO_POD_IP on $ECHO_POD_NODE: kubernetes.default -> $k, echo.$NS -> $e"
  else report fail dns "$t0" "$(echo "$POLL_LAST" | paste -sd';')"; fi
}

# ---- admin ----------------------------------------------------------------------------------------------------
check_admin() {
  local t0=$SECONDS base code body tmp
  local target=${CP:-${NODES[0]:-}}
  if [[ -n "${OMSTACK_LAB_ADMIN_URL:-}" ]]; then base=$OMSTACK_LAB_ADMIN_URL; else base="https://$(addr "$target"):$ADMIN_PORT"; fi
  tmp=$(mktemp -d); chmod 700 "$tmp"
  local end=$((SECONDS + ADMIN_DEADLINE))
  # -k: the service's certificate is self-signed for localhost and the node's host name, not its address
  while :; do
    code=$(curl -sk -m 5 -o "$tmp/body" -w '%{http_code}' "$base/api/v1/health" 2>"$tmp/err"); code=${code:-000}
    [[ $code != 000 ]] && break
    ((SECONDS < end)) || break
    sleep 2
  done
  body=$(head -c 300 "$tmp/body" 2>/dev/null)
  if [[ $code == 000 ]]; then
    report fail admin "$t0" "no answer on $base within ${ADMIN_DEADLINE} s ($(curl -sSk -m 3 -o /dev/null "$base/" 2>&1 | head -1 || true)): the admin service is not running on ${target:-$base} — expected until the install has an admin step"
  elif [[ $code == 401 && -n "$ADMIN_PASSWORD_FILE" ]]; then
    # the password goes to curl on stdin, never on a command line or in a log
    jq -n --arg u "$ADMIN_USER" --rawfile p "$ADMIN_PASSWORD_FILE" '{username: $u, password: ($p | rtrimstr("\n"))}' \
      | curl -sk -m 10 -c "$tmp/jar" -o "$tmp/login" -w '%{http_code}' -H 'content-type: application/json' --data-binary @- "$base/api/v1/session" >"$tmp/lcode" 2>&1
    if [[ $(cat "$tmp/lcode") != 200 ]]; then
      report fail admin "$t0" "$base answers, but logging in as $ADMIN_USER failed: HTTP $(cat "$tmp/lcode") $(jq -r '"\(.code): \(.message)"' "$tmp/login" 2>/dev/null)"
    else
      code=$(curl -sk -m 30 -b "$tmp/jar" -o "$tmp/health" -w '%{http_code}' "$base/api/v1/health")
      if [[ $code == 200 ]]; then report ok admin "$t0" "$base/api/v1/health as $ADMIN_USER: HTTP 200 ($(jq -r 'keys | join(",")' "$tmp/health" 2>/dev/null))"
      else report fail admin "$t0" "$base/api/v1/health as $ADMIN_USER: HTTP $code $(head -c 300 "$tmp/health")"; fi
    fi
  elif [[ $code == 401 ]] && jq -e '.code == "E_ADMIN_UNAUTHENTICATED"' "$tmp/body" >/dev/null 2>&1; then
    report ok admin "$t0" "$base answers over HTTPS (401 E_ADMIN_UNAUTHENTICATED without a session; pass --admin-password-file to read /health)"
  else
    report fail admin "$t0" "$base/api/v1/health: HTTP $code $body"
  fi
  rm -rf "$tmp"
}

for c in "${CHECKS[@]}"; do "check_${c//-/_}"; done
if [[ -n "$CP" && -z "$KEEP_WORKLOAD" && " ${CHECKS[*]} " == *" workload "* ]]; then
  kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
fi
printf 'checks: %d passed, %d failed in %d s%s\n' "${#PASSED[@]}" "${#FAILED[@]}" "$((SECONDS - T_ALL))" "${FAILED[*]:+ (failed: ${FAILED[*]})}"
((${#FAILED[@]} == 0))
