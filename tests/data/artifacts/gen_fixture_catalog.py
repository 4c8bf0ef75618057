#!/usr/bin/env python3
"""Prints the `kind: files` catalog entries for the upstream source bundles kept in
shared/fixtures/upstream (see its SOURCES.md). Each file's URL is its raw blob at the release tag, and
its sha256 is the digest of that blob (the fixtures are byte-for-byte copies checked with
`git hash-object`), so these are the digests upstream serves. Paths inside the artifact keep the
fixture folder layout, so code written against the fixtures works on a fetched artifact unchanged.

Upstream symlinks (git mode 120000, listed in LINKS) become link members, `{path: P, link: TARGET}`:
kurator makes the link instead of downloading anything (in git a symlink is a blob holding the link
text, so its digest is that of TARGET). A fixture copy may hold such a path as the link, as a file with
the link text (a checkout without symlinks) or as the target folder copied in its place (cp -rL); all
three give the same entry. Nothing under a link is listed: its contents are the target's.

Usage: gen_fixture_catalog.py FIXTURES_DIR > fragment.yaml   (pasted into manifests/catalog.yaml)
"""
import hashlib
import os
import sys

RAW = "https://raw.githubusercontent.com"

# name, version, fixture folder, [(fixture prefix, repo, tag, upstream prefix)], excluded files
BUNDLES = [
    ("cluster-api", "v1.14.0", [
        ("crds/core/", "kubernetes-sigs/cluster-api", "v1.14.0", "core/config/crd/bases/"),
        ("crds/bootstrap-kubeadm/", "kubernetes-sigs/cluster-api", "v1.14.0", "bootstrap/kubeadm/config/crd/bases/"),
        ("crds/controlplane-kubeadm/", "kubernetes-sigs/cluster-api", "v1.14.0",
         "controlplane/kubeadm/config/crd/bases/"),
        ("LICENSE", "kubernetes-sigs/cluster-api", "v1.14.0", "LICENSE"),
    ]),
    ("cluster-api-provider-aws", "v2.11.1", [
        ("crds/", "kubernetes-sigs/cluster-api-provider-aws", "v2.11.1", "config/crd/bases/"),
        ("templates/", "kubernetes-sigs/cluster-api-provider-aws", "v2.11.1", "templates/"),
        ("LICENSE", "kubernetes-sigs/cluster-api-provider-aws", "v2.11.1", "LICENSE"),
    ]),
    ("karmada", "v1.18.2", [
        ("crds/", "karmada-io/karmada", "v1.18.2", "charts/karmada/_crds/"),
        ("chart/karmada/", "karmada-io/karmada", "v1.18.2", "charts/karmada/"),
        ("deps/common-2.31.4/", "bitnami/charts", "common/2.31.4", "bitnami/common/"),
        ("deps/bitnami-charts-LICENSE.md", "bitnami/charts", "common/2.31.4", "LICENSE.md"),
        ("LICENSE", "karmada-io/karmada", "v1.18.2", "LICENSE"),
    ]),
    ("istio", "1.30.3", [
        ("charts/base/", "istio/istio", "1.30.3", "manifests/charts/base/"),
        ("charts/istiod/", "istio/istio", "1.30.3", "manifests/charts/istio-control/istio-discovery/"),
        ("charts/gateway/", "istio/istio", "1.30.3", "manifests/charts/gateway/"),
        ("LICENSE", "istio/istio", "1.30.3", "LICENSE"),
    ]),
    ("prometheus-operator", "v0.93.0", [
        ("crds/", "prometheus-operator/prometheus-operator", "v0.93.0", "example/prometheus-operator-crd/"),
        ("rbac/", "prometheus-operator/prometheus-operator", "v0.93.0", "example/rbac/prometheus-operator/"),
        ("LICENSE", "prometheus-operator/prometheus-operator", "v0.93.0", "LICENSE"),
    ]),
    ("volcano", "v1.15.1", [
        ("volcano-development.yaml", "volcano-sh/volcano", "v1.15.1", "installer/volcano-development.yaml"),
        ("chart/volcano/", "volcano-sh/volcano", "v1.15.1", "installer/helm/chart/volcano/"),
        ("LICENSE", "volcano-sh/volcano", "v1.15.1", "LICENSE"),
    ]),
    ("kube-thanos", "v0.29.0", [
        ("manifests/", "thanos-io/kube-thanos", "v0.29.0", "manifests/"),
        ("examples-all-manifests/", "thanos-io/kube-thanos", "v0.29.0", "examples/all/manifests/"),
        ("LICENSE", "thanos-io/kube-thanos", "v0.29.0", "LICENSE"),
    ]),
    ("pixie-operator", "v0.1.7", [
        ("operator-chart/", "pixie-io/pixie", "release/operator/v0.1.7", "k8s/operator/helm/"),
        ("crds/", "pixie-io/pixie", "release/operator/v0.1.7", "k8s/operator/crd/base/"),
        ("LICENSE", "pixie-io/pixie", "release/operator/v0.1.7", "LICENSE"),
    ]),
    ("kubespray", "v2.31.0", [
        ("inventory-sample/", "kubernetes-sigs/kubespray", "v2.31.0", "inventory/sample/"),
        ("LICENSE", "kubernetes-sigs/kubespray", "v2.31.0", "LICENSE"),
    ]),
    ("calico", "v3.32.1", [
        ("calico.yaml", "projectcalico/calico", "v3.32.1", "manifests/calico.yaml"),
        ("LICENSE.md", "projectcalico/calico", "v3.32.1", "LICENSE.md"),
    ]),
]

# Upstream symlinks, by bundle: {fixture path: link target}.
LINKS = {
    "volcano": {
        "chart/volcano/crd/v1": "bases",
        "chart/volcano/charts/jobflow/crd/v1": "bases",
    },
}


def tree(path):
    """{relative path: sha256} of the files under a folder, following links."""
    out = {}
    for dirpath, _, names in os.walk(path, followlinks=True):
        for n in names:
            full = os.path.join(dirpath, n)
            out[os.path.relpath(full, path)] = sha256(full)
    return out


def link_target(folder, rel, known):
    """The target of the upstream link at rel, checked against what the fixture holds there."""
    full = os.path.join(folder, rel)
    if os.path.islink(full):
        target = os.readlink(full)
        if known is not None and target != known:
            sys.exit(f"{full}: a link to {target}, but LINKS says {known}")
        if known is None:
            sys.stderr.write(f"{full}: a link not in LINKS (add it): {target}\n")
        return target
    if os.path.isdir(full):  # the target copied in place of the link
        if tree(full) != tree(os.path.join(os.path.dirname(full), known)):
            sys.exit(f"{full}: a folder that differs from the link target {known}")
        return known
    with open(full, "rb") as f:  # a file holding the link text
        if f.read() != known.encode():
            sys.exit(f"{full}: a file that does not hold the link text {known}")
    return known


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    root = sys.argv[1]
    for name, version, rules in BUNDLES:
        folder = os.path.join(root, f"{name}-{version}")
        known = LINKS.get(name, {})
        files, links = [], {}
        for dirpath, dirnames, names in os.walk(folder):
            for n in list(dirnames) + names:
                rel = os.path.relpath(os.path.join(dirpath, n), folder)
                if rel in known or os.path.islink(os.path.join(dirpath, n)):
                    links[rel] = link_target(folder, rel, known.get(rel))
                elif n in names:
                    files.append(rel)
            dirnames[:] = [d for d in dirnames if os.path.relpath(os.path.join(dirpath, d), folder) not in links]
        for rel in known:
            if rel not in links:
                sys.exit(f"{folder}: {rel} (an upstream link) is missing")
        files = sorted(files + list(links))
        out = []
        for rel in files:
            if rel in links:
                out.append((rel, None, links[rel]))
                continue
            for fprefix, repo, tag, uprefix in rules:
                if rel == fprefix or (fprefix.endswith("/") and rel.startswith(fprefix)):
                    upath = uprefix + rel[len(fprefix):]
                    out.append((rel, f"{RAW}/{repo}/refs/tags/{tag}/{upath}", sha256(os.path.join(folder, rel))))
                    break
            else:
                sys.stderr.write(f"not from upstream, skipped: {name}-{version}/{rel}\n")
        print(f"  - name: {name}")
        print(f'    version: "{version}"')
        print("    os: any")
        print("    arch: any")
        print("    kind: files")
        print("    files:")
        for rel, url, digest in out:
            if url is None:
                print(f"      - {{path: {rel}, link: {digest}}}")
            else:
                print(f"      - {{path: {rel}, url: {url}, sha256: {digest}}}")


if __name__ == "__main__":
    main()
