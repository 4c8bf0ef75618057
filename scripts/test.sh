#!/usr/bin/env bash
# Runs every kurator test on this machine, fresh or warm:
#   1. installs the Debian packages (scripts/install-deps.sh),
#   2. builds the real Kubernetes test binaries from Go modules, cached by version outside the repo
#      (scripts/build-test-binaries.sh; a no-op when cached),
#   3. builds kurator and its tests,
#   4. runs the unit tests (ctest -L unit), one ctest test per test case,
#   5. runs the e2e tests against real local control planes inside a private network namespace
#      (scripts/netns-run.sh; ctest -L e2e), one ctest test per case, sharing one fleet,
#   6. prints one line counting the test cases of both: "N passed, N failed, N skipped"; exits 1 when
#      any case failed (or none ran).
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

step "building kurator and its tests"
# Every option the tests depend on is stated, whatever the build folder held before (scripts/demo.sh
# configures the same folder with the tests off).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKURATOR_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

export KURATOR_FIXTURES=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
[ -d "$KURATOR_FIXTURES" ] || echo "WARNING: fixtures not found at $KURATOR_FIXTURES: the tests that need them report SKIPPED" >&2

# One ctest test per Catch test case; "no tests" is an error, never a pass.
reports="$root/$build/test-reports"
rm -rf "$reports" && mkdir -p "$reports"
ctest_args=(--no-tests=error --output-on-failure --test-output-size-passed 262144 --test-output-size-failed 1048576)
rc=0
step "unit tests"
(cd "$build" && ctest -L unit "${ctest_args[@]}" --timeout 600 --output-junit "$reports/unit.xml") || rc=1

if [ "${KURATOR_SKIP_E2E:-0}" != 1 ]; then
  # The vms e2e tests run the real ansible-playbook from KubeSpray's virtualenv; pip needs the network,
  # which the e2e namespace has not: kurator makes the venv here (cached by requirements.txt hash).
  export KURATOR_E2E_VENV_DIR=${KURATOR_E2E_VENV_DIR:-$HOME/.cache/kurator/venvs}
  ks="$KURATOR_FIXTURES/kubespray-v2.31.0/release/kubespray-2.31.0.tar.gz"
  if [ -f "$ks" ]; then
    step "KubeSpray's virtualenv for the vms e2e tests (kurator tool venv, in $KURATOR_E2E_VENV_DIR)"
    overlay="$root/$build/vms-catalog-overlay.yaml"
    printf 'artifacts:\n  - {name: kubespray-source, version: v2.31.0, os: any, arch: any, url: "file://%s", sha256: %s}\n' \
      "$ks" "$(sha256sum "$ks" | cut -d' ' -f1)" >"$overlay"
    KURATOR_HOME="$root/$build/vms-toolchain" KURATOR_VENV_DIR="$KURATOR_E2E_VENV_DIR" KURATOR_CATALOG="$overlay" \
      "$build/kurator" tool venv >/dev/null || rc=1
  fi

  step "e2e tests (private network namespace, real control planes)"
  # The cases share one fleet (tests/CMakeLists.txt fixtures); whatever happens, nothing is left running.
  scripts/netns-run.sh bash -c '
    cd "$1"
    cleanup() {
      for f in e2e-fleet/test-processes/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
      for d in e2e-fleet/clusters/*/; do
        [ -d "$d" ] && KURATOR_HOME=$PWD/e2e-fleet ./kurator delete cluster "$(basename "$d")" --provider local >&2
      done
      [ -d e2e-fleet/karmada ] && KURATOR_HOME=$PWD/e2e-fleet ./kurator uninstall karmada --provider local >&2
      return 0
    }
    trap cleanup EXIT
    shift
    ctest -L e2e "$@"' e2e "$root/$build" "${ctest_args[@]}" --timeout 2400 --output-junit "$reports/e2e.xml" || rc=1
  set -- "$reports/unit.xml" "$reports/e2e.xml"
else
  set -- "$reports/unit.xml"
fi

step "summary (test cases, unit and e2e)"
python3 scripts/lib/test-summary.py "$@" || rc=1
exit "$rc"
