#!/usr/bin/env bash
# Benchmark (not a test): `kurator install thanos` on 3 members vs on 1 member (issue 10 goal: <= 1.3x),
# and how soon `install prometheus` notices the operator's Available condition after it is written (goal:
# <= 0.2 s: a watch, not polling). Same run, same machine, inside a private network namespace.
#
#   [ROUNDS=3] bench/thanos-fanout.sh [BUILD_DIR]
#
# Every round makes 4 fresh local clusters (1 kwok node each; not timed) with the real Prometheus Operator
# beside each, times `install thanos` (direct mode, NodePort sidecars, a FILESYSTEM bucket, the host being
# the first member) on one of them and on the other three (alternating which goes first), then deletes them.
# The latency: a second watcher (kubectl get -w) stamps when Available=True arrives; kurator's stderr is
# stamped line by line; the figure is kurator's "installed and ready" line minus that stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
if [ -z "${KURATOR_NETNS:-}" ]; then
  exec scripts/netns-run.sh bash "$0" "$@"
fi
rounds=${ROUNDS:-3}
. scripts/versions.env
kurator=$root/$build/kurator
fixtures=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
bins=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}
operator=$bins/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION/prometheus-operator
kubectl=$bins/kubernetes-$KUBERNETES_VERSION/kubectl
[ -x "$operator" ] || { echo "missing $operator: run scripts/build-test-binaries.sh" >&2; exit 1; }
export KURATOR_HOME=$(mktemp -d)
work=$(mktemp -d)
clusters=() op_pids=()
cleanup() {
  for p in "${op_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for c in "${clusters[@]}"; do "$kurator" delete cluster "$c" --provider local >/dev/null 2>&1 || true; done
  rm -rf "$KURATOR_HOME" "$work"
}
trap cleanup EXIT

python3 scripts/lib/fixture-mirror.py manifests/catalog.yaml "$fixtures" "$work/mirror" >/dev/null
export KURATOR_MIRROR=file://$work/mirror KURATOR_CATALOG=$work/mirror/catalog-overlay.yaml
"$kurator" tool fetch prometheus-operator >/dev/null
"$kurator" tool fetch kube-thanos >/dev/null
printf 'type: FILESYSTEM\nconfig:\n  directory: %s\n' "$work/bucket" >"$work/objstore.yaml"
chmod 600 "$work/objstore.yaml"

make_clusters() { # NAME... : fresh local clusters (1 node each) with an operator beside each
  local pids=() c
  for c in "$@"; do
    "$kurator" create cluster "$c" --provider local --nodes 1 >/dev/null 2>"$work/create-$c.err" &
    pids+=($!)
    clusters+=("$c")
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$work"/create-*.err >&2; exit 1; }; done
  for c in "$@"; do  # restarted while it exits for want of its CRDs, as a kubelet would
    (
      trap 'kill $child 2>/dev/null; exit 0' TERM
      # It asks discovery once, at startup, which of its 10 resources exist: start it once all are served.
      until [ "$("$kubectl" --kubeconfig "$KURATOR_HOME/clusters/$c/kubeconfig" api-resources --api-group=monitoring.coreos.com -o name 2>/dev/null \
        | wc -l)" -ge 10 ]; do sleep 0.3; done
      while :; do
        KUBECONFIG="$KURATOR_HOME/clusters/$c/kubeconfig" "$operator" --web.listen-address=127.0.0.1:0 --kubelet-service= \
          >>"$work/operator-$c.log" 2>&1 &
        child=$!
        wait "$child" || true
        sleep 0.5
      done
    ) &
    op_pids+=($!)
  done
}
delete_clusters() {
  local c
  for p in "${op_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  op_pids=()
  for c in "$@"; do "$kurator" delete cluster "$c" --provider local >/dev/null 2>&1 || true; done
}
kubeconfig_of() { # NAME... -> one kubeconfig with their contexts
  local out=$work/kc-$(echo "$@" | tr ' ' '-')
  python3 - "$out" "$@" <<'PY'
import os, sys, yaml
out, names = sys.argv[1], sys.argv[2:]
doc = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [], "current-context": "kurator-" + names[0]}
for n in names:
    k = yaml.safe_load(open(os.path.join(os.environ["KURATOR_HOME"], "clusters", n, "kubeconfig")))
    for s in ("clusters", "users", "contexts"):
        doc[s] += k[s]
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # credentials inside
os.write(fd, yaml.safe_dump(doc).encode())
os.close(fd)
PY
  echo "$out"
}
logs=${BENCH_LOGS:-$(mktemp -d)}
cpu_ticks() { # -> "busy total" jiffies of all CPUs so far (/proc/stat)
  awk '/^cpu /{t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t}' /proc/stat
}
seconds() { # LABEL command... -> wall seconds (fails loudly); kurator's log kept in $logs/LABEL.log, and in
  # $logs/LABEL.cpu how busy the machine's CPUs were meanwhile (every process: the members' control planes,
  # the operators, kwok and kurator) and kurator's own CPU seconds.
  local t0 t1 c0 c1 log=$logs/$1.log cpu=$logs/$1.cpu
  shift
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time "$@" >/dev/null 2>"$log"; } 2>"$cpu.self" || { echo "failed: $*" >&2; tail -n 30 "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  read -r b0 a0 <<<"$c0"
  read -r b1 a1 <<<"$c1"
  read -r u s <"$cpu.self"
  echo "$(( (b1 - b0) * 100 / (a1 - a0 > 0 ? a1 - a0 : 1) ))% of $(nproc) CPUs busy, kurator $(echo "$u + $s" | bc)s CPU" >"$cpu"
  echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
thanos_on() { # LABEL KUBECONFIG CONTEXTS HOST_CONTEXT
  local label=$1
  shift
  seconds "$label" "$kurator" --kubeconfig "$1" install thanos --clusters "$2" --host-context "$3" \
    --object-store-config "$work/objstore.yaml" --sidecar-service-type NodePort
}

one=() three=() lat=()
for r in $(seq 1 "$rounds"); do
  make_clusters "t$r-1" "t$r-2" "t$r-3" "t$r-4"
  kc1=$(kubeconfig_of "t$r-1")
  kc3=$(kubeconfig_of "t$r-2" "t$r-3" "t$r-4")
  time1() { t1=$(thanos_on "round$r-1-member" "$kc1" "kurator-t$r-1" "kurator-t$r-1"); }
  time3() { t3=$(thanos_on "round$r-3-members" "$kc3" "kurator-t$r-2,kurator-t$r-3,kurator-t$r-4" "kurator-t$r-2"); }
  if [ $((r % 2)) -eq 1 ]; then time1; time3; else time3; time1; fi
  one+=("$t1")
  three+=("$t3")
  # Latency: install prometheus on member 1 (the operator there is already warm), stamped both ways.
  k=$KURATOR_HOME/clusters/t$r-1/kubeconfig
  python3 - "$kubectl" "$k" >"$work/watch" 2>/dev/null <<'PY' &
import json, subprocess, sys, time
# A list watch (a named get of an object not made yet fails at once): every Prometheus in the namespace.
p = subprocess.Popen([sys.argv[1], "--kubeconfig", sys.argv[2], "-n", "monitoring", "get", "prometheus",
                      "-w", "-o", "json", "--request-timeout=0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
buf = ""
for line in p.stdout:
    buf += line
    if line.rstrip() == "}":
        try:
            o = json.loads(buf)
        except ValueError:
            continue
        buf = ""
        if o.get("kind") != "Prometheus" or o["metadata"]["name"] != "kurator":
            continue
        g = o["metadata"].get("generation", 0)
        if all(any(c["type"] == t and c["status"] == "True" and c.get("observedGeneration", 0) >= g
                   for c in o.get("status", {}).get("conditions", [])) for t in ("Available", "Reconciled")):
            print(time.time(), flush=True)
            p.kill()
            break
PY
  watcher=$!
  sleep 1  # the watcher is listening (a kubectl watch on a missing object waits for it)
  "$kurator" --kubeconfig "$kc1" install prometheus --clusters "kurator-t$r-1" 2>&1 >/dev/null |
    python3 -c 'import sys, time
for l in sys.stdin:
    if "installed and ready" in l: print(time.time(), flush=True)' >"$work/kurator-ready"
  wait "$watcher" || true
  if [ -s "$work/watch" ] && [ -s "$work/kurator-ready" ]; then
    l=$(echo "$(cat "$work/kurator-ready") - $(cat "$work/watch")" | bc)
    lat+=("$l")
  fi
  echo "round $r: thanos on 1 member ${t1}s ($(cat "$logs/round$r-1-member.cpu")), on 3 members ${t3}s" \
    "($(cat "$logs/round$r-3-members.cpu")); Available seen by kurator ${l:-?}s after the watcher" >&2
  delete_clusters "t$r-1" "t$r-2" "t$r-3" "t$r-4"
done
m1=$(printf '%s\n' "${one[@]}" | median)
m3=$(printf '%s\n' "${three[@]}" | median)
printf '\n%-24s %10s %10s %9s\n' "install thanos" "1 member" "3 members" "3 / 1"
printf '%-24s %10s %10s %8sx\n' "direct (median of $rounds)" "$m1" "$m3" "$(ratio "$m3" "$m1")"
echo "kurator's logs: $logs"
echo "goal: 3 / 1 <= 1.3x (operator, sidecars, host objects, each waited for)"
if ((${#lat[@]})); then
  echo "install prometheus: kurator saw Available+Reconciled $(printf '%s\n' "${lat[@]}" | median)s (median) after a" \
    "second watcher did (goal <= 0.2 s; includes kurator's last log line)"
fi
