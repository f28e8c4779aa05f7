# Shared by prove-k8s.sh and checks.sh (sourced, never run): how to reach the lab's nodes, and the echo test
# workload — a Deployment spread over two nodes behind a NodePort Service — with the polls that prove it.
# The caller sets LAB (path of lab.sh) before sourcing.

# The nodes of the running lab (lab1 lab2 …), from lab.sh env.
lab_nodes() { "$LAB" env | sed -n 's/^LAB_ADDR_\(LAB[0-9]\)=.*/\1/p' | tr 'A-Z' 'a-z'; }
# A node's address on the lab bridge.
addr() { "$LAB" env | sed -n "s/^LAB_ADDR_${1^^}=//p"; }
# Runs a shell command on a node over SSH with the lab key.
on() { local n=$1; shift; "$LAB" ssh "$n" "$@"; }

# The echo workload: NAMESPACE NODEPORT. Two replicas that may not share a node (maxSkew 1, DoNotSchedule), the
# image from the bundle or the lab's images (never pulled), a readiness probe so a Service only routes to live pods.
echo_workload_yaml() {
  local ns=$1 nodeport=$2
  cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: $ns}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: echo}}}
      terminationGracePeriodSeconds: 2
      containers:
        - name: echo
          image: omstack.lab/echo:v1
          imagePullPolicy: Never
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: $ns}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080, nodePort: $nodeport}]
YAML
}

# Polls URL from inside NODE until WANT different pods (hostnames) have answered, for at most SECONDS.
# kube-proxy syncs endpoints some time after a rollout (measured 0.5–0.8 s, and once only the first endpoint on
# a busy node), so a single request proves nothing. Prints "<ms> ms: pod-a pod-b" or "NEVER …"; status 1 then.
poll_distinct_answers() {
  local node=$1 url=$2 want=$3 seconds=$4
  on "$node" "t0=\$(date +%s%N); seen=''; end=\$(( \$(date +%s) + $seconds ))
    while [ \$(date +%s) -lt \$end ]; do
      h=\$(curl -s -m 1 '$url') && [ -n \"\$h\" ] && case \" \$seen \" in *\" \$h \"*) ;; *) seen=\"\$seen \$h\";; esac
      [ \$(echo \$seen | wc -w) -ge $want ] && { echo \"\$(( (\$(date +%s%N) - t0) / 1000000 )) ms:\$seen\"; exit 0; }
      sleep 0.25
    done
    echo \"NEVER within $seconds s (answered by:\${seen:- nobody})\"; exit 1"
}

# What the echo pod at POD_IP resolves NAME to (cluster DNS as a pod sees it), asked from NODE.
pod_resolve() { on "$1" "curl -s -m 5 'http://$2:8080/dns?name=$3'"; }

# A filter for the installer's output: the admin password it generated is printed once ("admin console user "NAME",
# password SECRET — shown once"); it goes into PASSWORD_FILE (0600, for checks.sh to log in) and never into a log.
keep_admin_password() {   # (bash, line by line: awk would buffer its input and delay every line behind it)
  local file=$1 line re='^(.*admin console user "[^"]+", password )([^ ]+)(.*)$'
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ $line =~ $re ]]; then
      (umask 077; printf '%s\n' "${BASH_REMATCH[2]}" >"$file")
      line="${BASH_REMATCH[1]}<saved to $file>${BASH_REMATCH[3]}"
    fi
    printf '%s\n' "$line"
  done
}
