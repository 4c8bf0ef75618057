#!/usr/bin/env bash
# Benchmark (not a test): kurator apply vs the real `kubectl apply --server-side` on the same local
# cluster in the same run, plus `kurator version` vs `kubectl version --client`, and how fast a wait
# notices a status change. Runs inside a private network namespace; prints a table of figures.
#
#   [ROUNDS=3] bench/apply-vs-kubectl.sh [BUILD_DIR]
# Each round applies the Cluster API + CAPA CRDs, 200 ConfigMaps and 20 Deployments with each tool
# (CRDs new to the cluster every time, alternating which tool goes first); the table shows medians.
# Goals (issue 2): apply wall time <= 0.5x kubectl's, peak RSS <= 0.5x, version <= 0.2x;
# a wait notices readiness within 100 ms, with a few requests per object.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
if [ -z "${KURATOR_NETNS:-}" ]; then
  command -v /usr/bin/time >/dev/null 2>&1 || /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
  exec scripts/netns-run.sh bash "$0" "$@"
fi
. scripts/versions.env
kurator=$root/$build/kurator
kubectl=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}/kubernetes-$KUBERNETES_VERSION/kubectl
fixtures=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
export KURATOR_HOME=$(mktemp -d)
work=$(mktemp -d)
trap '"$kurator" delete cluster bench --provider local >/dev/null 2>&1 || true; rm -rf "$KURATOR_HOME" "$work"' EXIT

"$kurator" create cluster bench --provider local --nodes 2 >/dev/null
export KUBECONFIG=$KURATOR_HOME/clusters/bench/kubeconfig

gen_objects() { # namespace
  echo "apiVersion: v1"; echo "kind: Namespace"; echo "metadata: {name: $1}"
  for i in $(seq 1 200); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: %s}\ndata: {key: value-%d}\n' "$i" "$1" "$i"
  done
  for i in $(seq 1 20); do
    printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d-%d, namespace: %s}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: d-%d}}\n  template:\n    metadata: {labels: {app: d-%d}}\n    spec: {containers: [{name: c, image: registry.invalid/c:1}]}\n' "$i" "$1" "$i" "$i"
  done
}
crds=("$fixtures/cluster-api-v1.14.0/crds/core" "$fixtures/cluster-api-provider-aws-v2.11.1/crds")

measure() { # command... ; prints "seconds maxrss_kb"
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  cat "$work/time"
}
# Every measurement creates CRDs the cluster has never seen: the fixture CRDs with their API groups
# renamed (x-k8s.io -> TAG.x-k8s.io; names and schemas otherwise unchanged). Deleting and re-creating
# the same CRDs between measurements is not reliable: a CRD deleted soon after its creation can stay
# Terminating for minutes ("InstanceDeletionFailed: could not list instances: storage is
# (re)initializing") while the apiserver's finalizer backs off.
fresh_crds() { # TAG -> a directory of renamed CRDs
  local dir=$work/crds-$1 f
  mkdir -p "$dir"
  for f in "${crds[0]}"/*.yaml "${crds[1]}"/*.yaml; do
    sed "s/x-k8s\.io/$1.x-k8s.io/g" "$f" >"$dir/$(basename "$f")"
  done
  echo "$dir"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

# ROUNDS rounds (default 3), alternating which tool goes first; each applies fresh CRDs and its own
# namespace of ConfigMaps and Deployments. The table shows medians; every round is listed too.
rounds=${ROUNDS:-3}
: >"$work/kubectl.times"
: >"$work/kurator.times"
for r in $(seq 1 "$rounds"); do
  gen_objects "bench-kubectl-$r" >"$work/kubectl.yaml"
  gen_objects "bench-kurator-$r" >"$work/kurator.yaml"
  order="kubectl kurator"
  [ $((r % 2)) -eq 0 ] && order="kurator kubectl"
  for tool in $order; do
    dir=$(fresh_crds "r$r$tool")
    sleep 5 # the apiserver is done with the previous measurement's CRDs
    if [ "$tool" = kubectl ]; then
      measure "$kubectl" apply --server-side -f "$dir" -f "$work/kubectl.yaml" >>"$work/kubectl.times"
    else
      measure "$kurator" apply -f "$dir" -f "$work/kurator.yaml" >>"$work/kurator.times"
    fi
  done
  echo "round $r: kurator $(tail -1 "$work/kurator.times" | cut -d' ' -f1) s, kubectl $(tail -1 "$work/kubectl.times" | cut -d' ' -f1) s" >&2
done
ks=$(cut -d' ' -f1 "$work/kubectl.times" | median)
cs=$(cut -d' ' -f1 "$work/kurator.times" | median)
kr=$(cut -d' ' -f2 "$work/kubectl.times" | median)
cr=$(cut -d' ' -f2 "$work/kurator.times" | median)

# Start-up: 30 runs each, interleaved, median.
once() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000)); }
: >"$work/vk"
: >"$work/vc"
for _ in $(seq 30); do
  once "$kubectl" version --client >>"$work/vk"
  once "$kurator" version >>"$work/vc"
done
vk=$(median <"$work/vk")
vc=$(median <"$work/vc")

# Wait latency: a custom resource with a Ready condition flipped by a status patch.
cat >"$work/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.bench.kurator.dev}
spec:
  group: bench.kurator.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
printf 'apiVersion: bench.kurator.dev/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\n' >"$work/w.yaml"
"$kurator" apply -f "$work/crd.yaml" --wait >/dev/null 2>&1
"$kurator" apply -f "$work/w.yaml" >/dev/null 2>&1
"$kurator" -v apply -f "$work/w.yaml" --wait --wait-timeout 60s >/dev/null 2>"$work/wait.log" &
waiter=$!
sleep 2
# The status is patched from Python over an already open connection, so the two timestamps bracket
# the change itself (no client start-up inside them); the waiter's exit is then compared with them.
admin=$KURATOR_HOME/clusters/bench/kubeconfigs/admin-token.kubeconfig
sed -n 's/^ *certificate-authority-data: //p' "$admin" | base64 -d >"$work/ca.crt"
read -r before after < <(
  BENCH_SERVER=$(sed -n 's/^ *server: //p' "$admin") BENCH_TOKEN=$(sed -n 's/^ *token: //p' "$admin") \
    BENCH_CA=$work/ca.crt python3 - <<'PY'
import http.client, json, os, ssl, time, urllib.parse
u = urllib.parse.urlparse(os.environ["BENCH_SERVER"])
conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=os.environ["BENCH_CA"]))
conn.connect()
body = json.dumps({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Bench", "message": "ok",
                                              "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"], "Content-Type": "application/merge-patch+json"}
t0 = time.time_ns()
conn.request("PATCH", "/apis/bench.kurator.dev/v1/namespaces/default/widgets/w/status", body, headers)
resp = conn.getresponse()
resp.read()
t1 = time.time_ns()
if resp.status != 200:
    raise SystemExit("status patch failed: HTTP %d" % resp.status)
print(t0, t1)
PY
)
wait "$waiter"
done_ns=$(date +%s%N)
requests=$(grep -o 'http: [0-9]* requests' "$work/wait.log" | tail -1 | awk '{print $2}')

printf '\n%-34s %12s %12s %8s\n' "figure" "kurator" "kubectl" "ratio"
printf '%-34s %12s %12s %8s\n' "apply wall time, median (s)" "$cs" "$ks" "$(echo "scale=2; $cs / $ks" | bc)"
printf '%-34s %12s %12s %8s\n' "apply peak RSS, median (KiB)" "$cr" "$kr" "$(echo "scale=2; $cr / $kr" | bc)"
printf '%-34s %12s %12s %8s\n' "version, median of 30 (us)" "$vc" "$vk" "$(echo "scale=2; $vc / $vk" | bc)"
printf '%-34s %12s\n' "wait sees change and exits (ms, <=)" "$(((done_ns - before) / 1000000))"
printf '%-34s %12s\n' "wait sees change and exits (ms, >=)" "$(((done_ns - after) / 1000000))"
printf '%-34s %12s\n' "HTTP requests of that apply --wait" "${requests:-?}"
