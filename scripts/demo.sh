#!/usr/bin/env bash
# The kurator demo on this machine: builds kurator and the real Kubernetes, Karmada, Prometheus Operator and
# Thanos binaries (cached), then, in a
# private network namespace, makes the fleet: a host and two member clusters (kwok nodes), a real local
# Karmada beside the host, both members joined, Volcano installed into both through Karmada, Prometheus and
# Thanos across the fleet (the real Prometheus Operator beside each member, a FILESYSTEM bucket), `kurator status`.
# Release files come from the upstream fixtures (../shared/fixtures/upstream or $KURATOR_FIXTURES) laid
# out as a local mirror: nothing leaves the machine.
#
#   scripts/demo.sh               run the demo and tear the fleet down at the end
#   DEMO_KEEP=1 scripts/demo.sh   keep the fleet running in the named namespace "kurator-demo";
#                                 use it with scripts/netns-run.sh --name kurator-demo COMMAND
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-build}

scripts/install-deps.sh
scripts/build-test-binaries.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKURATOR_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target kurator

export KURATOR_HOME=${KURATOR_HOME:-$HOME/.kurator-demo}
export DEMO_KEEP=${DEMO_KEEP:-0}
ns_args=()
[ "$DEMO_KEEP" = 1 ] && ns_args=(--name kurator-demo)
exec scripts/netns-run.sh "${ns_args[@]}" bash "$root/scripts/lib/demo-fleet.sh" "$root/$build/kurator" "$root"
