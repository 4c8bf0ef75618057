#!/usr/bin/env bash
# Runs every kurator test on this machine, fresh or warm:
#   1. installs the Debian packages (scripts/install-deps.sh),
#   2. builds the real Kubernetes test binaries from Go modules, cached by version outside the repo
#      (scripts/build-test-binaries.sh; a no-op when cached),
#   3. builds kurator and its tests,
#   4. runs the unit tests (ctest -L unit),
#   5. runs the e2e tests against real local control planes inside a private network namespace
#      (scripts/netns-run.sh; ctest -L e2e).
# Environment: BUILD_DIR (default build), KURATOR_FIXTURES (default ../shared/fixtures/upstream),
# KURATOR_SKIP_E2E=1 to run the unit tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-build}
t0=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - t0))" "$*" >&2; }

step "installing build dependencies"
scripts/install-deps.sh

if [ "${KURATOR_SKIP_E2E:-0}" != 1 ]; then
  step "building the Kubernetes test binaries (cached by version)"
  scripts/build-test-binaries.sh
fi

step "building kurator"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

export KURATOR_FIXTURES=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
[ -d "$KURATOR_FIXTURES" ] || echo "WARNING: fixtures not found at $KURATOR_FIXTURES: the tests that need them report SKIPPED" >&2

step "unit tests"
(cd "$build" && ctest -L unit --output-on-failure --timeout 600)

if [ "${KURATOR_SKIP_E2E:-0}" != 1 ]; then
  step "e2e tests (private network namespace, real control planes)"
  scripts/netns-run.sh bash -c "cd '$build' && ctest -L e2e --output-on-failure --timeout 2400"
fi
step "all tests passed"
