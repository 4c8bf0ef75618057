#!/usr/bin/env bash
# Installs the Debian packages kurator needs to build and test. Idempotent.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcli11-dev libcurl4-openssl-dev libyaml-cpp-dev nlohmann-json3-dev
  libfmt-dev libspdlog-dev libarchive-dev catch2 libssl-dev openssl
  iproute2 util-linux procps python3 python3-yaml python3-venv openssh-server openssh-client sudo golang-go-
)
# golang-go- : never pull Debian's older Go over the machine's toolchain.
missing=()
for p in "${pkgs[@]}"; do
  case "$p" in *-) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  log=${TMPDIR:-/tmp}/kurator-install-deps.log
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]} (log: $log)" >&2
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "install-deps: apt-get failed; its output:" >&2
    cat "$log" >&2
    exit 1
  fi
fi
echo "install-deps: all packages present" >&2
