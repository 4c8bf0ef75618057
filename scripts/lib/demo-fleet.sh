#!/usr/bin/env bash
# The part of scripts/demo.sh that runs inside the private network namespace: the fleet.
#   a host cluster and two member clusters (real control planes, kwok nodes),
#   a real local Karmada beside the host, both members joined,
#   Volcano installed into both members through Karmada, then `kurator status`.
set -euo pipefail
kurator=$1
root=$2
. "$root/scripts/versions.env"
kubectl=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}/kubernetes-$KUBERNETES_VERSION/kubectl
fixtures=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
kc() { echo "$KURATOR_HOME/clusters/$1/kubeconfig"; }

cleanup() {
  if [ "$DEMO_KEEP" != 1 ]; then
    say "tearing the fleet down"
    "$kurator" uninstall karmada --provider local || true
    for c in member2 member1 host; do "$kurator" delete cluster "$c" --provider local || true; done
  fi
}
trap cleanup EXIT

# No packet leaves this namespace: the release files kurator fetches (Karmada's CRDs, Volcano's YAML) come
# from the upstream fixtures laid out as a mirror of their hosts, through the real artifact path
# (catalog -> mirror -> sha256 -> cache).
if [ ! -d "$fixtures" ]; then
  echo "demo: the upstream fixtures are not at $fixtures (set KURATOR_FIXTURES); the fleet needs Karmada's CRDs and Volcano's release YAML from them" >&2
  exit 1
fi
python3 "$root/scripts/lib/fixture-mirror.py" "$root/manifests/catalog.yaml" "$fixtures" "$KURATOR_HOME/mirror"
export KURATOR_MIRROR=file://$KURATOR_HOME/mirror KURATOR_CATALOG=$KURATOR_HOME/mirror/catalog-overlay.yaml

say "creating the host cluster and two member clusters (2 kwok nodes each)"
for c in host member1 member2; do "$kurator" create cluster "$c" --provider local --nodes 2; done

say "installing a local Karmada $KARMADA_VERSION beside the host cluster"
"$kurator" --kubeconfig "$(kc host)" install karmada --provider local

say "joining member1 and member2 to Karmada"
for c in member1 member2; do "$kurator" join karmada "$c" --cluster-kubeconfig "$(kc "$c")"; done
"$kurator" get clusters

say "installing Volcano into both members through Karmada"
"$kurator" install volcano --fleet karmada

say "installing it again: nothing to do"
"$kurator" install volcano --fleet karmada

say "kurator status"
"$kurator" status --fleet karmada

say "what a user looks at next"
"$kubectl" --kubeconfig "$KURATOR_HOME/karmada/karmada-apiserver.config" get clusters.cluster.karmada.io
"$kubectl" --kubeconfig "$(kc member2)" -n volcano-system get deployments,pods
if [ "$DEMO_KEEP" = 1 ]; then
  cat >&2 <<MSG

The fleet keeps running in the network namespace "kurator-demo". Next:
  scripts/netns-run.sh --name kurator-demo $kubectl --kubeconfig $KURATOR_HOME/karmada/karmada-apiserver.config get clusters
  scripts/netns-run.sh --name kurator-demo $kurator status --fleet karmada
  scripts/netns-run.sh --name kurator-demo $kurator uninstall karmada --provider local
MSG
else
  cat >&2 <<MSG

Done. The fleet is deleted now; run DEMO_KEEP=1 scripts/demo.sh to keep it and explore with kubectl.
MSG
fi
