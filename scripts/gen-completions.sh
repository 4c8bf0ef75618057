#!/usr/bin/env bash
# Regenerates completions/ from the built binary (a unit test checks they are in sync).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/kurator}
for sh in bash zsh fish; do "$bin" completion "$sh" >"completions/kurator.$sh"; done
echo "completions/ regenerated from $bin"
