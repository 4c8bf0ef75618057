#!/usr/bin/env bash
# Benchmark (not a test): `kurator create cluster --provider aws` against the real clusterctl v1.14.0 sequence
# (`clusterctl init --wait-providers`, `clusterctl generate cluster | kubectl apply -f -`, `clusterctl get
# kubeconfig` once a second until it answers), each on a fresh local management cluster with the real Cluster API
# controllers beside it and the same AWS stand-in (tests/support/fleet_capi.hpp), timed to a usable kubeconfig.
# Issue 11's goal: kurator <= 0.5x the peer's wall time.
#
#   [ROUNDS=3] [BENCH_LOGS=DIR] bench/aws-vs-clusterctl.sh [BUILD_DIR]
#
# BENCH_LOGS keeps kurator's log of each round (its progress, for a breakdown); clusterctl's phases are printed.
#
# The case is the hidden Catch case "[.bench-aws]" of the e2e binary (tests/e2e/aws_bench.cpp), run inside a
# private network namespace with a fleet home of its own (deleted afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ -z "${KURATOR_NETNS:-}" ]; then
  exec scripts/netns-run.sh bash "$0" "$@"
fi
export KURATOR_FIXTURES=${KURATOR_FIXTURES:-$PWD/../shared/fixtures/upstream}
home=$(mktemp -d)
export KURATOR_E2E_FLEET_HOME=$home
cleanup() {
  "$build/tests/test_e2e" "[.fleet-teardown]" >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT
"$build/tests/test_e2e" "[.fleet-setup]" >/dev/null
log=${BENCH_LOG:-/tmp/kurator-bench-aws.log}
if ! "$build/tests/test_e2e" "[.bench-aws]" >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "the benchmark failed; its whole output: $log" >&2
  exit 1
fi
grep -E "^(round|bench aws|clusterctl:)" "$log"
