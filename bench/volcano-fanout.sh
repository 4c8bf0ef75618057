#!/usr/bin/env bash
# Benchmark (not a test): `kurator install volcano` on 3 members vs on 1 member, same run, same machine.
# Members are worked in parallel, so 3 should cost little more than 1 (goal, issue 9: <= 1.3x).
# Runs inside a private network namespace; prints a table of figures.
#
#   [ROUNDS=3] [KARMADA=auto|0|1] bench/volcano-fanout.sh [BUILD_DIR]
#
# Direct mode: every round makes 4 fresh local clusters (1 kwok node each; not timed), times the install
# on one of them and on the other three (alternating which goes first), then deletes them. Fresh clusters
# each time because Volcano's CRDs, deleted soon after they were created and created again, can stay
# Terminating for minutes (see bench/apply-vs-kubectl.sh).
# Karmada mode (KARMADA=auto: when the Karmada binaries are built): 4 fresh clusters, a fresh local Karmada
# for each of the two installs (`--fleet karmada`) with only their members joined; one round.
# The artifact is fetched once before anything is timed (the fixtures laid out as a mirror).
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
export KURATOR_HOME=$(mktemp -d)
work=$(mktemp -d)
clusters=()
cleanup() {
  "$kurator" uninstall karmada --provider local >/dev/null 2>&1 || true
  for c in "${clusters[@]}"; do "$kurator" delete cluster "$c" --provider local >/dev/null 2>&1 || true; done
  rm -rf "$KURATOR_HOME" "$work"
}
trap cleanup EXIT

python3 scripts/lib/fixture-mirror.py manifests/catalog.yaml "$fixtures" "$work/mirror" >/dev/null
export KURATOR_MIRROR=file://$work/mirror KURATOR_CATALOG=$work/mirror/catalog-overlay.yaml
"$kurator" tool fetch volcano >/dev/null

make_clusters() { # NAME... : fresh local clusters (1 node each), in parallel
  local pids=() c
  for c in "$@"; do
    "$kurator" create cluster "$c" --provider local --nodes 1 >/dev/null 2>"$work/create-$c.err" &
    pids+=($!)
    clusters+=("$c")
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$work"/create-*.err >&2; exit 1; }; done
}
delete_clusters() {
  local c
  for c in "$@"; do "$kurator" delete cluster "$c" --provider local >/dev/null 2>&1 || true; done
}
kubeconfig_of() { # NAME... -> one kubeconfig with their contexts
  local out=$work/kc-$(echo "$@" | tr ' ' '-') c
  python3 - "$out" "$@" <<'EOF'
import sys, yaml
out, names = sys.argv[1], sys.argv[2:]
doc = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [], "current-context": "kurator-" + names[0]}
import os
for n in names:
    k = yaml.safe_load(open(os.path.join(os.environ["KURATOR_HOME"], "clusters", n, "kubeconfig")))
    for s in ("clusters", "users", "contexts"):
        doc[s] += k[s]
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # credentials inside
os.write(fd, yaml.safe_dump(doc).encode())
os.close(fd)
EOF
  echo "$out"
}
seconds() { # command... -> wall seconds (fails loudly)
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
# CPU seconds used so far by the control-plane processes of the named local clusters (etcd, apiserver,
# controller-manager, scheduler, kwok): what the members themselves spend, whoever drives them.
tck=$(getconf CLK_TCK)
cpu_of() { # NAME...
  local n f pid total=0
  for n in "$@"; do
    for f in "$KURATOR_HOME/clusters/$n"/pids/*.pid; do
      pid=$(cat "$f" 2>/dev/null) || continue
      [ -r "/proc/$pid/stat" ] || continue
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
  done
  echo "scale=2; $total / $tck" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }

one=() three=() cpu1=() cpu3=()
for r in $(seq 1 "$rounds"); do
  make_clusters "b$r-1" "b$r-2" "b$r-3" "b$r-4"
  kc1=$(kubeconfig_of "b$r-1")
  kc3=$(kubeconfig_of "b$r-2" "b$r-3" "b$r-4")
  time1() {
    c0=$(cpu_of "b$r-1")
    t1=$(seconds "$kurator" --kubeconfig "$kc1" install volcano --clusters "kurator-b$r-1")
    c1=$(echo "$(cpu_of "b$r-1") - $c0" | bc)
  }
  time3() {
    c0=$(cpu_of "b$r-2" "b$r-3" "b$r-4")
    t3=$(seconds "$kurator" --kubeconfig "$kc3" install volcano --clusters "kurator-b$r-2,kurator-b$r-3,kurator-b$r-4")
    c3=$(echo "$(cpu_of "b$r-2" "b$r-3" "b$r-4") - $c0" | bc)
  }
  if [ $((r % 2)) -eq 1 ]; then time1; time3; else time3; time1; fi
  echo "round $r: 1 member ${t1}s (members' CPU ${c1}s), 3 members ${t3}s (members' CPU ${c3}s)" >&2
  one+=("$t1")
  three+=("$t3")
  cpu1+=("$c1")
  cpu3+=("$c3")
  delete_clusters "b$r-1" "b$r-2" "b$r-3" "b$r-4"
done
m1=$(printf '%s\n' "${one[@]}" | median)
m3=$(printf '%s\n' "${three[@]}" | median)
mc1=$(printf '%s\n' "${cpu1[@]}" | median)
mc3=$(printf '%s\n' "${cpu3[@]}" | median)
cores=$(nproc)

karmada_line=""
bins=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}/karmada-$KARMADA_VERSION
if [ "${KARMADA:-auto}" = 1 ] || { [ "${KARMADA:-auto}" = auto ] && [ -x "$bins/karmada-controller-manager" ]; }; then
  make_clusters k-1 k-2 k-3 k-4
  # A fresh Karmada for each measurement (its CRDs are never deleted and re-created).
  karmada_install() { # MEMBER... : install karmada, join the members; then time install volcano
    "$kurator" install karmada --provider local >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    local c
    for c in "$@"; do
      "$kurator" join karmada "$c" --cluster-kubeconfig "$KURATOR_HOME/clusters/$c/kubeconfig" >/dev/null \
        2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    done
    seconds "$kurator" install volcano --fleet karmada --clusters "$(echo "$@" | tr ' ' ',')"
    "$kurator" uninstall karmada --provider local >/dev/null 2>&1
  }
  k1=$(karmada_install k-1)
  k3=$(karmada_install k-2 k-3 k-4)
  karmada_line=$(printf '%-22s %10s %10s %8sx\n' "karmada (1 round)" "$k1" "$k3" "$(ratio "$k3" "$k1")")
fi

printf '\n%-22s %10s %10s %9s\n' "install volcano" "1 member" "3 members" "3 / 1"
printf '%-22s %10s %10s %8sx\n' "direct (median of $rounds)" "$m1" "$m3" "$(ratio "$m3" "$m1")"
[ -n "$karmada_line" ] && echo "$karmada_line"
echo "goal: 3 / 1 <= 1.3x (wall seconds: apply, then wait until every object is ready in every member)"
# The members are local control planes on this machine: their own CPU bounds how fast 3 can go at all.
echo "members' own CPU during the direct install (median): 1 member ${mc1}s, 3 members ${mc3}s; on $cores cores" \
  "3 members need at least $(echo "scale=2; $mc3 / $cores" | bc)s of wall time," \
  "$(ratio "$(echo "scale=2; $mc3 / $cores" | bc)" "$m1")x the 1-member time, whatever drives them"
