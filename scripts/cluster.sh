#!/usr/bin/env bash
# A local Kubernetes control plane on 127.0.0.1 for running the real Pulumi program against:
# etcd, kube-apiserver (RBAC, PodSecurity), kube-controller-manager, kube-scheduler and kwok,
# which fakes kubelets on three Nodes (three zones) and provisions volumes for claims. No
# container ever runs: kwok marks scheduled pods Running and Ready.
#
# Usage: scripts/cluster.sh up|env|status|down
#   up      start it under $CLUSTER_DIR; returns once /readyz answers and the fake nodes are
#           Ready; writes $CLUSTER_DIR/kubeconfig and installs the Pulumi plugins into
#           $CLUSTER_DIR/pulumi-home
#   env     print export lines: eval "$(scripts/cluster.sh env)" points kubectl and pulumi at it
#   status  print what runs
#   down    stop what `up` started (and nothing else); state stays until `rm -rf $CLUSTER_DIR`
#
# Env: CLUSTER_DIR (default <repo>/.tools/cluster), CLUSTER_PORT_BASE (default 30000: etcd
#      +79/+80, API server +43, controller manager +57, scheduler +59), CLUSTER_NODES (3)
# Binaries: .tools/bin/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl,kwok,
#      pulumi,pulumi-resource-kubernetes}, built by: node scripts/build-go-tools.js
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.tools/bin"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/.tools/cluster}"
mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR="$(cd "$CLUSTER_DIR" && pwd)"
BASE="${CLUSTER_PORT_BASE:-30000}"
ETCD_PORT=$((BASE + 79)) ETCD_PEER_PORT=$((BASE + 80)) API_PORT=$((BASE + 43))
KCM_PORT=$((BASE + 57)) SCHED_PORT=$((BASE + 59))
NODES="${CLUSTER_NODES:-3}"
PKI="$CLUSTER_DIR/pki" LOGS="$CLUSTER_DIR/logs" PIDS="$CLUSTER_DIR/pids"
KUBECONFIG_FILE="$CLUSTER_DIR/kubeconfig"
BUILD_CMD="node scripts/build-go-tools.js kubernetes etcd kwok pulumi pulumi-resource-kubernetes"
# Stopped in this order by `down` (reverse of start).
COMPONENTS=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

die() { echo "cluster.sh: ERROR: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

need_bins() {
  local b missing=()
  for b in "$@"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
  [ "${#missing[@]}" -eq 0 ] ||
    die "missing in $BIN: ${missing[*]}; build them from the repository root with: $BUILD_CMD"
}

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# pid of a component we started, if it still runs the binary we started.
running_pid() {
  local f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$BIN/$1 " || return 1
  echo "$pid"
}

start() {
  local name="$1"; shift
  if running_pid "$name" >/dev/null; then log "$name already runs"; return; fi
  setsid "$BIN/$name" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.5 s; fails naming WHAT and its log.
wait_for() {
  local seconds="$1" what="$2" logname="$3"; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -z "$logname" ] || tail -n 20 "$LOGS/$logname.log" >&2 || true
      die "$what not ready after ${seconds}s${logname:+ (log: $LOGS/$logname.log)}"
    fi
    if [ -n "$logname" ] && ! running_pid "$logname" >/dev/null; then
      tail -n 20 "$LOGS/$logname.log" >&2 || true
      die "$logname exited (log: $LOGS/$logname.log)"
    fi
    sleep 0.5
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

make_pki() {
  [ -f "$PKI/.done" ] && return
  command -v openssl >/dev/null || die "openssl not found: apt-get install openssl"
  mkdir -p "$PKI"; chmod 700 "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=observability-local-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >san.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile san.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # The admin credential: a static token of a system:masters user (local use only).
    echo "$(openssl rand -hex 24),admin,admin,system:masters" >tokens.csv
    chmod 600 ./*.key tokens.csv
  )
  touch "$PKI/.done"
}

write_kubeconfig() {
  local token ca
  token="$(cut -d, -f1 "$PKI/tokens.csv")"
  ca="$(base64 -w0 <"$PKI/ca.crt")"
  umask 077
  cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $token
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
}

# PodSecurity as a hardened cluster sets it: baseline enforced wherever a namespace says
# nothing, restricted warned and audited.
write_admission_config() {
  cat >"$CLUSTER_DIR/admission.yaml" <<'EOF'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline, enforce-version: latest, audit: restricted, audit-version: latest, warn: restricted, warn-version: latest}
    exemptions: {usernames: [], runtimeClasses: [], namespaces: []}
EOF
}

# Addresses: pods get 10.244.0.0/16 and nodes 10.0.0.1 (host-network pods too; the API server
# refuses loopback endpoint addresses). Nothing ever sends a packet to them: no kubelet, no
# kube-proxy, no container.
# kwok's own stage definitions, from the kwok module (.tools/bin/kwok-stages): node
# initialize and heartbeat, pod ready/complete/delete, and volume provisioning for every
# claim whatever its class (kwok's files limit that to the class kwok-volume).
write_kwok_config() {
  local s="$BIN/kwok-stages" f
  [ -d "$s" ] || die "$s missing; rebuild with: node scripts/build-go-tools.js --force kwok"
  : >"$CLUSTER_DIR/kwok-stages.yaml"
  for f in "$s"/node/fast/node-initialize.yaml "$s"/node/heartbeat/node-heartbeat.yaml \
           "$s"/pod/fast/pod-ready.yaml "$s"/pod/fast/pod-complete.yaml "$s"/pod/fast/pod-delete.yaml \
           "$s"/volume/fast/pvc-provision.yaml "$s"/volume/fast/pv-bind.yaml \
           "$s"/volume/fast/pv-delete.yaml "$s"/volume/fast/pvc-delete.yaml; do
    [ -f "$f" ] || die "kwok stage file $f missing"
    echo "---" >>"$CLUSTER_DIR/kwok-stages.yaml"
    # Drop the 3-line CEL matcher that limits volume stages to the kwok-volume class.
    awk '/^    - cel:$/ { held=$0; next }
         held != "" { buf=buf $0 "\n"; if (++n < 2) next;
                      if (buf !~ /storageClassName == .kwok-volume./) printf "%s\n%s", held, buf;
                      held=""; buf=""; n=0; next }
         { print }' "$f" >>"$CLUSTER_DIR/kwok-stages.yaml"
  done
  # What an ingress controller does: publish an address in the Ingress status (the Pulumi
  # provider waits for it). 10.0.0.200 stands for the controller's load balancer; nothing
  # sends traffic to it.
  cat >>"$CLUSTER_DIR/kwok-stages.yaml" <<'STAGE'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ingress-load-balancer
spec:
  resourceRef:
    apiGroup: networking.k8s.io/v1
    kind: Ingress
  selector:
    matchExpressions:
    - cel:
        expression: >-
          !has(self.metadata.deletionTimestamp)
    - cel:
        expression: >-
          !has(self.status.loadBalancer.ingress)
  steps:
  - patch:
      root: status
      subresource: status
      template: |
        loadBalancer:
          ingress:
          - ip: 10.0.0.200
STAGE
}

create_nodes() {
  local i zones=(a b c) docs=""
  for ((i = 0; i < NODES; i++)); do
    docs+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: \"0\"}
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    topology.kubernetes.io/zone: local-${zones[$((i % 3))]}
status:
  allocatable: {cpu: \"16\", memory: 64Gi, pods: \"110\", ephemeral-storage: 500Gi}
  capacity: {cpu: \"16\", memory: 64Gi, pods: \"110\", ephemeral-storage: 500Gi}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
"
  done
  kubectl apply -f - <<<"$docs" >/dev/null
  # The default StorageClass; kwok provisions a volume for every claim.
  kubectl apply -f - >/dev/null <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-volume
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
EOF
}

nodes_ready() {
  local n
  n="$(kubectl get nodes -l type=kwok \
        -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c '^True$')" || true
  [ "$n" -ge "$NODES" ]
}

# Plugin versions are those the installed SDKs ask for (node_modules/@pulumi/*/package.json).
sdk_version() {
  node -p 'require(process.argv[1]).version' "$ROOT/node_modules/@pulumi/$1/package.json" 2>/dev/null ||
    die "node_modules/@pulumi/$1 missing: run npm ci first"
}

plugin_install() { # NAME VERSION FILE
  local home="$CLUSTER_DIR/pulumi-home"
  [ -x "$home/plugins/resource-$1-v$2/pulumi-resource-$1" ] && return
  PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" plugin install resource "$1" "$2" --file "$3" >/dev/null ||
    die "pulumi plugin install resource $1 $2 --file $3 failed"
}

install_plugins() {
  plugin_install kubernetes "$(sdk_version kubernetes)" "$BIN/pulumi-resource-kubernetes"
  # The random provider cannot be built here: a local stand-in (scripts/local-providers/random.js).
  local random="$CLUSTER_DIR/pulumi-resource-random"
  sed "s#__REPO_ROOT__#$ROOT#" "$ROOT/scripts/local-providers/pulumi-resource-random" >"$random"
  chmod +x "$random"
  plugin_install random "$(sdk_version random)" "$random"
  # Nor can the tls provider (Elasticsearch transport certificates): scripts/local-providers/tls.js.
  local tls="$CLUSTER_DIR/pulumi-resource-tls"
  sed "s#__REPO_ROOT__#$ROOT#" "$ROOT/scripts/local-providers/pulumi-resource-tls" >"$tls"
  chmod +x "$tls"
  plugin_install tls "$(sdk_version tls)" "$tls"
}

cmd_up() {
  need_bins etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok pulumi pulumi-resource-kubernetes
  mkdir -p "$LOGS" "$PIDS" "$CLUSTER_DIR/etcd"
  local started=$SECONDS p
  if ! running_pid kube-apiserver >/dev/null; then
    for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" "$KCM_PORT" "$SCHED_PORT"; do
      running_pid etcd >/dev/null && { [ "$p" = "$ETCD_PORT" ] || [ "$p" = "$ETCD_PEER_PORT" ]; } && continue
      port_free "$p" || die "port $p on 127.0.0.1 is taken; choose another CLUSTER_PORT_BASE"
    done
  fi
  make_pki
  write_admission_config
  write_kwok_config
  write_kubeconfig

  start etcd --name local --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 2147483648
  start kube-apiserver --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
    --authorization-mode RBAC --allow-privileged=true \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --admission-control-config-file "$CLUSTER_DIR/admission.yaml" \
    --profiling=false --event-ttl 2h
  wait_for 90 "kube-apiserver /readyz" kube-apiserver kubectl get --raw /readyz
  start kube-controller-manager --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=false --controllers '*' \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --concurrent-deployment-syncs 10 --concurrent-statefulset-syncs 10 --profiling=false
  start kube-scheduler --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false
  start kwok --kubeconfig "$KUBECONFIG_FILE" --config "$CLUSTER_DIR/kwok-stages.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --cidr 10.244.0.0/16 \
    --node-ip 10.0.0.1
  create_nodes
  wait_for 60 "the $NODES fake nodes" kwok nodes_ready
  # The controller manager publishes the default ServiceAccount that pods need.
  wait_for 60 "the default ServiceAccount" kube-controller-manager kubectl get serviceaccount default -n default
  install_plugins
  log "up in $((SECONDS - started)) s: Kubernetes $(kubectl version -o json | node -pe 'JSON.parse(require("fs").readFileSync(0)).serverVersion.gitVersion'), $NODES fake nodes; kubeconfig $KUBECONFIG_FILE"
}

cmd_env() {
  cat <<EOF
export KUBECONFIG='$KUBECONFIG_FILE'
export PATH='$BIN':"\$PATH"
export PULUMI_BACKEND_URL='file://$CLUSTER_DIR/pulumi-state'
export PULUMI_HOME='$CLUSTER_DIR/pulumi-home'
export PULUMI_CONFIG_PASSPHRASE='local-cluster-only'
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
EOF
  mkdir -p "$CLUSTER_DIR/pulumi-state"
}

cmd_status() {
  local c pid
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    if pid="$(running_pid "$c")"; then echo "$c running (pid $pid)"; else echo "$c stopped"; fi
  done
}

cmd_down() {
  local c pid deadline
  for c in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$c")"; then
      kill -TERM "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 15))
      while [ -d "/proc/$pid" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
      if [ -d "/proc/$pid" ]; then log "$c did not stop in 15 s: killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$PIDS/$c.pid"
  done
  log "stopped (state kept in $CLUSTER_DIR)"
}

case "${1:-}" in
  up) cmd_up ;;
  env) cmd_env ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
