#!/usr/bin/env bash
# The part of scripts/demo.sh that runs inside the private network namespace.
set -euo pipefail
kurator=$1
root=$2
. "$root/scripts/versions.env"
kubectl=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}/kubernetes-$KUBERNETES_VERSION/kubectl
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

cleanup() {
  if [ "$DEMO_KEEP" != 1 ]; then
    say "tearing the fleet down"
    "$kurator" delete cluster member1 --provider local || true
    "$kurator" delete cluster host --provider local || true
  fi
}
trap cleanup EXIT

say "creating the host cluster (3 kwok nodes) and a member cluster (2 kwok nodes)"
"$kurator" create cluster host --provider local --nodes 3
"$kurator" create cluster member1 --provider local --nodes 2
"$kurator" get clusters

for c in host member1; do
  say "applying the sample workload to $c and waiting until it is ready"
  "$kurator" --kubeconfig "$KURATOR_HOME/clusters/$c/kubeconfig" apply -f "$root/manifests/samples/demo-app.yaml" \
    --wait --wait-timeout 3m
done

say "what a user looks at next"
export KUBECONFIG=$KURATOR_HOME/clusters/host/kubeconfig
"$kubectl" get nodes -o wide
"$kubectl" -n demo get deployments,pods,services,jobs
"$kurator" get clusters -o yaml
if [ "$DEMO_KEEP" = 1 ]; then
  cat >&2 <<MSG

The fleet keeps running in the network namespace "kurator-demo". Next:
  scripts/netns-run.sh --name kurator-demo $kubectl --kubeconfig $KURATOR_HOME/clusters/host/kubeconfig -n demo get pods
  scripts/netns-run.sh --name kurator-demo $kurator get clusters
  scripts/netns-run.sh --name kurator-demo $kurator delete cluster host --provider local
MSG
else
  cat >&2 <<MSG

Done. The fleet is deleted now; run DEMO_KEEP=1 scripts/demo.sh to keep it and explore with kubectl.
MSG
fi
