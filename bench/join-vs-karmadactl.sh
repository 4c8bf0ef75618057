#!/usr/bin/env bash
# Benchmark (not a test): `kurator join karmada` vs the real `karmadactl join` (v1.18.2), same members,
# same local Karmada, same run. Runs inside a private network namespace; prints a table of figures.
#
#   [ROUNDS=3] bench/join-vs-karmadactl.sh [BUILD_DIR]
# Makes a standalone local Karmada (`kurator install karmada --provider local`, CRDs from the upstream
# fixtures through a file mirror) and two local member clusters. Each round joins both members with
# each tool (alternating which tool goes first), then unjoins them with the same tool and waits until
# the member side is gone, so every join starts from nothing. The table shows medians.
# What is timed: the wall time of the join command(s). kurator's join returns once the Cluster is Ready;
# karmadactl's returns once the Cluster object exists, so its time to Ready is shown separately
# (karmadactl join + `kubectl wait --for=condition=Ready`).
# Goal (issue 9): kurator join <= 0.5x karmadactl join.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
if [ -z "${KURATOR_NETNS:-}" ]; then
  exec scripts/netns-run.sh bash "$0" "$@"
fi
. scripts/versions.env
cache=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}
kurator=$root/$build/kurator
kubectl=$cache/kubernetes-$KUBERNETES_VERSION/kubectl
karmadactl=$cache/karmada-$KARMADA_VERSION/karmadactl
fixtures=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
for b in "$kurator" "$kubectl" "$karmadactl"; do
  [ -x "$b" ] || { echo "error: $b is missing" >&2; echo "hint: build kurator, and run scripts/build-test-binaries.sh" >&2; exit 1; }
done
export KURATOR_HOME=$(mktemp -d)
work=$(mktemp -d)
cleanup() {
  "$kurator" uninstall karmada --provider local >/dev/null 2>&1 || true
  for c in bench-m1 bench-m2; do "$kurator" delete cluster "$c" --provider local >/dev/null 2>&1 || true; done
  rm -rf "$KURATOR_HOME" "$work"
}
trap cleanup EXIT

python3 scripts/lib/fixture-mirror.py manifests/catalog.yaml "$fixtures" "$work/mirror" >/dev/null
export KURATOR_MIRROR=file://$work/mirror KURATOR_CATALOG=$work/mirror/catalog-overlay.yaml
echo "setting up: two member clusters and a local Karmada" >&2
"$kurator" create cluster bench-m1 --provider local --nodes 1 >/dev/null 2>&1
"$kurator" create cluster bench-m2 --provider local --nodes 1 >/dev/null 2>&1
"$kurator" install karmada --provider local >/dev/null 2>"$work/install.log" || { cat "$work/install.log" >&2; exit 1; }
K=$KURATOR_HOME/karmada/karmada-apiserver.config
M1=$KURATOR_HOME/clusters/bench-m1/kubeconfig
M2=$KURATOR_HOME/clusters/bench-m2/kubeconfig

now() { date +%s%N; }
secs() { echo "scale=3; ($2 - $1) / 1000000000" | bc; }
run() { # command... ; quiet unless it fails
  "$@" >"$work/out" 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
}
member_side_gone() { # kubeconfig
  "$kubectl" --kubeconfig "$1" wait --for=delete namespace/karmada-cluster --timeout=120s >/dev/null 2>&1 || true
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

rounds=${ROUNDS:-3}
: >"$work/kurator.join" ; : >"$work/kurator.unjoin"
: >"$work/karmadactl.join" ; : >"$work/karmadactl.ready" ; : >"$work/karmadactl.unjoin"
for r in $(seq 1 "$rounds"); do
  order="karmadactl kurator"
  [ $((r % 2)) -eq 0 ] && order="kurator karmadactl"
  for tool in $order; do
    if [ "$tool" = kurator ]; then
      t0=$(now)
      run "$kurator" join karmada m1 --cluster-kubeconfig "$M1"
      run "$kurator" join karmada m2 --cluster-kubeconfig "$M2"
      t1=$(now)
      secs "$t0" "$t1" >>"$work/kurator.join"
      run "$kurator" unjoin karmada m1 --cluster-kubeconfig "$M1"
      run "$kurator" unjoin karmada m2 --cluster-kubeconfig "$M2"
      t2=$(now)
      secs "$t1" "$t2" >>"$work/kurator.unjoin"
    else
      t0=$(now)
      run "$karmadactl" join m1 --kubeconfig "$K" --cluster-kubeconfig "$M1"
      run "$karmadactl" join m2 --kubeconfig "$K" --cluster-kubeconfig "$M2"
      t1=$(now)
      run "$kubectl" --kubeconfig "$K" wait --for=condition=Ready clusters.cluster.karmada.io/m1 clusters.cluster.karmada.io/m2 --timeout=120s
      t2=$(now)
      secs "$t0" "$t1" >>"$work/karmadactl.join"
      secs "$t0" "$t2" >>"$work/karmadactl.ready"
      # (unjoin takes the member's context from the cluster name unless told)
      run "$karmadactl" unjoin m1 --kubeconfig "$K" --cluster-kubeconfig "$M1" --cluster-context kurator-bench-m1
      run "$karmadactl" unjoin m2 --kubeconfig "$K" --cluster-kubeconfig "$M2" --cluster-context kurator-bench-m2
      t3=$(now)
      secs "$t2" "$t3" >>"$work/karmadactl.unjoin"
    fi
    # Every join starts from nothing: karmadactl's unjoin does not wait for the member namespace.
    member_side_gone "$M1"
    member_side_gone "$M2"
  done
  echo "round $r: join of 2 members: kurator $(tail -1 "$work/kurator.join") s (Ready), karmadactl $(tail -1 "$work/karmadactl.join") s ($(tail -1 "$work/karmadactl.ready") s to Ready)" >&2
done
kj=$(median <"$work/kurator.join")
cj=$(median <"$work/karmadactl.join")
cr=$(median <"$work/karmadactl.ready")
ku=$(median <"$work/kurator.unjoin")
cu=$(median <"$work/karmadactl.unjoin")

printf '\n%-46s %10s %10s %8s\n' "figure (2 members, median of $rounds)" "kurator" "karmadactl" "ratio"
printf '%-46s %10s %10s %8s\n' "join wall time (s)" "$kj" "$cj" "$(echo "scale=2; $kj / $cj" | bc)"
printf '%-46s %10s %10s %8s\n' "join until both Clusters Ready (s)" "$kj" "$cr" "$(echo "scale=2; $kj / $cr" | bc)"
printf '%-46s %10s %10s %8s\n' "unjoin wall time, member side too (s)" "$ku" "$cu" "$(echo "scale=2; $ku / $cu" | bc)"
