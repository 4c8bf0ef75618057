#!/usr/bin/env bash
# Runs a command inside a private network namespace where only loopback is up, so that everything a
# local control plane dials (Service and Pod addresses for webhooks, probes, `kubectl logs`) fails at
# once with "network unreachable" instead of leaving the machine. Loopback works as usual.
#
#   scripts/netns-run.sh COMMAND [ARGS...]              a fresh namespace, gone with its last process
#   scripts/netns-run.sh --name NAME COMMAND [ARGS...]  a named, persistent namespace (ip netns NAME),
#                                                       created on first use: a cluster created in one
#                                                       call is reachable from the next
#   scripts/netns-run.sh --delete NAME                  removes a named namespace
#
# Examples:
#   scripts/netns-run.sh build-local/kurator create cluster demo --provider local --nodes 3
#   scripts/netns-run.sh bash      # an interactive shell: create clusters, then use kubectl in it
#   scripts/netns-run.sh --name kurator-demo build/kurator create cluster demo --provider local
#   scripts/netns-run.sh --name kurator-demo kubectl --kubeconfig ~/.kurator/clusters/demo/kubeconfig get nodes
#
# Needs root (or unprivileged user namespaces, then a fresh namespace only) and iproute2's `ip`.
# Inside, KURATOR_NETNS is set to the namespace's name ("fresh" for an anonymous one).
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

name=
case "${1:-}" in
  "" | -h | --help) usage ;;
  --delete)
    [ $# -eq 2 ] || usage
    exec ip netns delete "$2"
    ;;
  --name)
    [ $# -ge 3 ] || usage
    name=$2
    shift 2
    ;;
  --)
    shift
    [ $# -ge 1 ] || usage
    ;;
esac

command -v ip >/dev/null || { echo "netns-run: iproute2's ip is required" >&2; exit 1; }

if [ -z "$name" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    unshare_args=(-n)
  else
    unshare_args=(--map-root-user -n)  # unprivileged user namespaces
  fi
  export KURATOR_NETNS=fresh
  # Bring lo up, check nothing else is up, then replace the shell with the command.
  exec unshare "${unshare_args[@]}" -- sh -c '
    ip link set lo up || exit 1
    if ip -o link show up | grep -v ": lo:" | grep -q .; then
      echo "netns-run: an interface other than lo is up in the new namespace; refusing" >&2
      exit 1
    fi
    exec "$@"' netns-run "$@"
fi

[ "$(id -u)" -eq 0 ] || { echo "netns-run: --name needs root" >&2; exit 1; }
case "$name" in
  */* | .* | "") echo "netns-run: invalid namespace name: $name" >&2; exit 2 ;;
esac
if ! ip netns list | awk '{print $1}' | grep -qx -- "$name"; then
  ip netns add "$name"
fi
ip netns exec "$name" ip link set lo up
if ip netns exec "$name" ip -o link show up | grep -v ": lo:" | grep -q .; then
  echo "netns-run: namespace $name has an interface other than lo up; refusing" >&2
  exit 1
fi
export KURATOR_NETNS=$name
exec ip netns exec "$name" "$@"
