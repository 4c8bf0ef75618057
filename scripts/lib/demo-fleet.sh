#!/usr/bin/env bash
# The part of scripts/demo.sh that runs inside the private network namespace: the fleet.
#   a host cluster and two member clusters (real control planes, kwok nodes),
#   a real local Karmada beside the host, both members joined,
#   Volcano installed into both members through Karmada,
#   the real Prometheus Operator beside each member, Prometheus (member1 federating member2) and Thanos
#   (sidecars in both members; Query, Store, Compactor, Receive on the host; a FILESYSTEM bucket), then
#   `kurator status`.
set -euo pipefail
kurator=$1
root=$2
. "$root/scripts/versions.env"
kubectl=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}/kubernetes-$KUBERNETES_VERSION/kubectl
fixtures=${KURATOR_FIXTURES:-$root/../shared/fixtures/upstream}
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
kc() { echo "$KURATOR_HOME/clusters/$1/kubeconfig"; }
bins=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}
operator=$bins/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION/prometheus-operator
thanos=$bins/thanos-$THANOS_VERSION/thanos
operator_pids=()

cleanup() {
  for p in "${operator_pids[@]}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null || true; done
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

# kwok runs no containers: the operator Deployment kurator installs is only Ready on paper. The real
# operator runs beside each member instead, out of cluster, as its own scripts/run-external.sh does; it
# exits until its CRDs are installed, so it is restarted like a crashing container would be.
say "starting the real Prometheus Operator $PROMETHEUS_OPERATOR_VERSION beside member1 and member2"
for c in member1 member2; do
  (
    trap 'kill $child 2>/dev/null; exit 0' TERM
    # It asks discovery once, at startup, which of its 10 resources exist: start it once all are served.
    until [ "$("$kubectl" --kubeconfig "$(kc "$c")" api-resources --api-group=monitoring.coreos.com -o name 2>/dev/null \
      | wc -l)" -ge 10 ]; do sleep 0.3; done
    while :; do
      KUBECONFIG="$(kc "$c")" "$operator" --web.listen-address=127.0.0.1:0 --kubelet-service= \
        >>"$KURATOR_HOME/prometheus-operator-$c.log" 2>&1 &
      child=$!
      wait "$child" || true
      sleep 0.5
    done
  ) &
  operator_pids+=($!)
done

say "installing Prometheus into both members through Karmada; member1 federates member2"
"$kurator" install prometheus --fleet karmada --federate-to member1 --service-type NodePort

say "installing Thanos: sidecars in both members, Query/Store/Compactor/Receive/Query Frontend on the host"
mkdir -p "$KURATOR_HOME/bucket"
( umask 077; printf 'type: FILESYSTEM\nconfig:\n  directory: %s\n' "$KURATOR_HOME/bucket" >"$KURATOR_HOME/objstore.yaml" )
"$thanos" tools bucket ls --objstore.config-file="$KURATOR_HOME/objstore.yaml" 2>&1 | tail -n 1 >&2
"$kurator" --kubeconfig "$(kc host)" install thanos --fleet karmada \
  --object-store-config "$KURATOR_HOME/objstore.yaml" --sidecar-service-type NodePort --retention-raw 30d

say "installing both again: nothing to do"
"$kurator" install prometheus --fleet karmada --federate-to member1 --service-type NodePort
"$kurator" --kubeconfig "$(kc host)" install thanos --fleet karmada \
  --object-store-config "$KURATOR_HOME/objstore.yaml" --sidecar-service-type NodePort --retention-raw 30d

say "kurator status"
"$kurator" status --fleet karmada

say "what a user looks at next"
"$kubectl" --kubeconfig "$KURATOR_HOME/karmada/karmada-apiserver.config" get clusters.cluster.karmada.io
"$kubectl" --kubeconfig "$(kc member2)" -n volcano-system get deployments,pods
"$kubectl" --kubeconfig "$(kc member1)" -n monitoring get prometheus,statefulsets,pods
"$kubectl" --kubeconfig "$(kc host)" -n thanos get deployments,statefulsets,configmaps
if [ "$DEMO_KEEP" = 1 ]; then
  cat >&2 <<MSG

The fleet keeps running in the network namespace "kurator-demo". Next:
  scripts/netns-run.sh --name kurator-demo $kubectl --kubeconfig $KURATOR_HOME/karmada/karmada-apiserver.config get clusters
  scripts/netns-run.sh --name kurator-demo $kurator status --fleet karmada
  scripts/netns-run.sh --name kurator-demo $kurator uninstall karmada --provider local
(The Prometheus Operators beside the members stopped with the demo: Prometheus objects are not reconciled now.)
MSG
else
  cat >&2 <<MSG

Done. The fleet is deleted now; run DEMO_KEEP=1 scripts/demo.sh to keep it and explore with kubectl.
MSG
fi
