#!/usr/bin/env bash
# A by-hand proof of the install on the lab nodes (what the installer's k8s steps must do, in order),
# over SSH only, with nothing downloaded: push binaries and images, configure containerd, install the
# kubelet unit, `kubeadm init` on the first node, a CNI (bridge + host-local + node routes), join the others.
#
#   tests/lab/prove-k8s.sh [PHASE…]   phases: push containerd images kubelet init join cni workload check (default: all)
#   HA=1 tests/lab/prove-k8s.sh        every node a control-plane node (stacked etcd, certificates via --upload-certs)
#
# Needs: tests/lab/lab.sh up, tests/lab/build-k8s.sh, tests/lab/build-images.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAB="$HERE/lab.sh"
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
read -r K8S_BIN _ < <("$HERE/build-k8s.sh" --print)
# shellcheck source=lib.sh
source "$HERE/lib.sh"     # on, addr, lab_nodes, the echo workload
mapfile -t NODES < <(lab_nodes)
((${#NODES[@]})) || { echo "prove: no lab nodes: run tests/lab/lab.sh up first" >&2; exit 1; }
CP=${NODES[0]}
CP_ADDR=$("$LAB" env | sed -n "s/^LAB_ADDR_${CP^^}=//p")
POD_CIDR=198.19.128.0/17        # per-node /24s: lab-created space only
SVC_CIDR=198.19.16.0/20
log() { printf '%s prove: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
timed() { local t0=$SECONDS; "$@"; log "phase $1 took $((SECONDS - t0)) s"; }

phase_push() {
  local n
  for n in "${NODES[@]}"; do
    tar -C "$K8S_BIN" -cf - kubeadm kubelet kubectl | on "$n" 'tar -C /usr/local/bin -xf - && chmod 755 /usr/local/bin/kube*' &
  done
  wait
  for n in "${NODES[@]}"; do
    (cd "$CACHE/images" && tar -cf - ./*.tar) \
      | on "$n" 'rm -rf /root/images && mkdir -p /root/images && tar -C /root/images -xf -' &
  done
  wait
}

phase_containerd() {
  local n
  for n in "${NODES[@]}"; do
    on "$n" 'set -e
      mkdir -p /etc/containerd
      containerd config default >/etc/containerd/config.toml
      sed -i -e "s/SystemdCgroup = false/SystemdCgroup = true/" \
             -e "s/restrict_oom_score_adj = false/restrict_oom_score_adj = true/" \
             -e "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:3.10.1\"#" \
             -e "s#bin_dir = \"/opt/cni/bin\"#bin_dir = \"/usr/lib/cni\"#" /etc/containerd/config.toml
      grep -E "SystemdCgroup|restrict_oom|sandbox_image|bin_dir" /etc/containerd/config.toml
      printf "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\n" >/etc/sysctl.d/90-lab-k8s.conf
      sysctl -q -p /etc/sysctl.d/90-lab-k8s.conf
      systemctl enable -q containerd; systemctl restart containerd' &
  done
  wait
}

phase_images() {
  local n
  for n in "${NODES[@]}"; do
    on "$n" 'set -e; for f in /root/images/*.tar; do ctr -n k8s.io images import --no-unpack=false "$f" >/dev/null; done
             ctr -n k8s.io images ls -q' &
  done
  wait
}

phase_kubelet() {
  local n
  for n in "${NODES[@]}"; do
    on "$n" 'set -e
      cat >/etc/systemd/system/kubelet.service <<EOF
[Unit]
Description=kubelet: the Kubernetes node agent
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
RestartSec=2
StartLimitInterval=0

[Install]
WantedBy=multi-user.target
EOF
      mkdir -p /etc/systemd/system/kubelet.service.d
      cat >/etc/systemd/system/kubelet.service.d/10-kubeadm.conf <<"EOF"
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
      systemctl daemon-reload; systemctl enable -q kubelet' &
  done
  wait
}

kubeadm_config() {
  cat <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: $CP_ADDR
  bindPort: 6443
nodeRegistration:
  name: $CP
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: "$CP_ADDR"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $K8S_VERSION
clusterName: omstack-lab
controlPlaneEndpoint: "$CP_ADDR:6443"
networking:
  podSubnet: $POD_CIDR
  serviceSubnet: $SVC_CIDR
controllerManager:
  extraArgs:
    - name: node-cidr-mask-size
      value: "24"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
failCgroupV1: false
failSwapOn: false
evictionHard:
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack:
  maxPerCore: 0
EOF
}

# v1.34.4 needs no ignored preflight check on these nodes (SystemVerification only warns about cgroup v1)
IGNORE=${IGNORE_PREFLIGHT:+--ignore-preflight-errors=$IGNORE_PREFLIGHT}
phase_init() {
  kubeadm_config | on "$CP" 'cat >/root/kubeadm.yaml'
  on "$CP" "kubeadm config images list --config /root/kubeadm.yaml"
  on "$CP" "kubeadm init --config /root/kubeadm.yaml $IGNORE ${HA:+--upload-certs} --skip-token-print 2>&1 | tee /root/kubeadm-init.log | grep -vE '^\s*$' | tail -40"
  on "$CP" 'mkdir -p /root/.kube && cp /etc/kubernetes/admin.conf /root/.kube/config'
}

# bridge CNI per node over the node's podCIDR, plus a route to every other node's podCIDR via that node,
# kept in the node's systemd-networkd file so it survives a reboot
phase_cni() {
  local n m cidr
  declare -A cidrs
  for n in "${NODES[@]}"; do
    cidrs[$n]=$(on "$CP" "kubectl get node $n -o jsonpath='{.spec.podCIDR}'" 2>/dev/null || true)
  done
  for n in "${NODES[@]}"; do
    cidr=${cidrs[$n]}; [[ -n "$cidr" ]] || { log "$n has no podCIDR yet"; continue; }
    # kubeadm reset leaves cni0 and host-local's leases: after a re-init the node may get another podCIDR and
    # the bridge plugin then fails ("cni0" already has an IP address different from …)
    on "$n" "ip -4 -br addr show cni0 2>/dev/null | grep -q ' ${cidr%.*}.1/' || { ip link del cni0 2>/dev/null; rm -rf /var/lib/cni/networks/lab; true; }"
    on "$n" "mkdir -p /etc/cni/net.d && cat >/etc/cni/net.d/10-lab-bridge.conflist" <<EOF
{"cniVersion":"0.4.0","name":"lab","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"$cidr"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOF
    local routes=""
    for m in "${NODES[@]}"; do
      [[ $m == "$n" || -z "${cidrs[$m]}" ]] && continue
      routes+="[Route]\nDestination=${cidrs[$m]}\nGateway=$(addr "$m")\n\n"
    done
    on "$n" "mkdir -p /etc/systemd/network/10-host0.network.d && printf '$routes' >/etc/systemd/network/10-host0.network.d/pod-routes.conf && networkctl reload && networkctl reconfigure host0"
  done
}

phase_join() {
  local cmd n
  cmd=$(on "$CP" "kubeadm token create --print-join-command")
  if [[ -n "${HA:-}" ]]; then   # the other nodes join as control-plane nodes (stacked etcd)
    local key; key=$(on "$CP" "kubeadm init phase upload-certs --upload-certs 2>/dev/null | tail -1")
    cmd+=" --control-plane --certificate-key $key"
  fi
  for n in "${NODES[@]:1}"; do
    on "$n" "$cmd --node-name $n ${HA:+--apiserver-advertise-address $(addr "$n")} $IGNORE 2>&1 | tail -5" &
  done
  wait
}

# a Deployment spread over the nodes behind a Service: answers from every node through kube-proxy,
# pod-to-pod across nodes through the node routes, and cluster DNS from inside a pod
phase_workload() {
  local n
  for n in "${NODES[@]}"; do
    on "$n" 'ctr -n k8s.io images import - >/dev/null' <"$CACHE/images/echo.tar" &
  done
  wait
  # with every node a control-plane node nothing would schedule: lift the NoSchedule taint (as one would on
  # a small all-in-one cluster)
  [[ -n "${HA:-}" ]] && on "$CP" 'kubectl taint nodes --all node-role.kubernetes.io/control-plane:NoSchedule- >/dev/null 2>&1 || true'
  echo_workload_yaml default 30080 | on "$CP" 'kubectl apply -f - >/dev/null'
  on "$CP" 'kubectl rollout status deploy/echo --timeout=120s && kubectl get pods -l app=echo -o wide'
  local ip pod; ip=$(on "$CP" "kubectl get svc echo -o jsonpath='{.spec.clusterIP}'")
  for n in "${NODES[@]}"; do   # kube-proxy syncs endpoints after the rollout: poll until both pods have answered
    local r; r=$(poll_distinct_answers "$n" "http://$ip/" 2 30) || FAILED=1
    log "$n: both pods answered the ClusterIP after $r"
    log "$n -> ClusterIP $ip: $(on "$n" "for i in \$(seq 12); do curl -s -m 2 http://$ip/; done | sort | uniq -c | tr -s ' \n' ' '")"
    log "$n -> NodePort $(addr "$n"):30080: $(on "$n" "curl -s -m 2 http://$(addr "$n"):30080/")"
  done
  pod=$(on "$CP" "kubectl get pods -l app=echo -o jsonpath='{.items[0].status.podIP}'")
  log "pod DNS (in $pod): kubernetes.default -> $(pod_resolve "$CP" "$pod" kubernetes.default.svc.cluster.local)"
  log "pod DNS (in $pod): echo.default -> $(pod_resolve "$CP" "$pod" echo.default.svc.cluster.local)"
}

phase_check() {
  on "$CP" 'kubectl get nodes -o wide; kubectl get pods -A -o wide'
}

FAILED=""
PHASES=("$@"); ((${#PHASES[@]})) || PHASES=(push containerd images kubelet init join cni workload check)
for p in "${PHASES[@]}"; do log "phase $p"; timed "phase_$p"; done
[[ -z "${FAILED:-}" ]] || { log "FAILED: a Service did not answer from every pod (see above)"; exit 1; }
