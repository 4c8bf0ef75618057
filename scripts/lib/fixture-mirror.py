#!/usr/bin/env python3
"""Lays out the upstream fixtures (../shared/fixtures/upstream, see its SOURCES.md) as a mirror of the
upstream hosts, so kurator fetches them through its real artifact path (catalog -> mirror -> sha256 ->
cache) where the upstream hosts cannot be reached (the demo runs in a private network namespace):

  OUT/<host>/<path>            every file of each `kind: files` artifact of the catalog whose fixture
                               folder (<name>-<version>) exists, at the path of its upstream URL
  OUT/github.com/karmada-io/karmada/releases/download/<v>/crds.tar.gz
                               the Karmada CRD bundle as upstream's release packs it (crds/bases,
                               crds/patches), built from the fixture folder
  OUT/catalog-overlay.yaml     the sha256 of what was built here (the bundle has no published digest)

Use it with KURATOR_MIRROR=file://OUT KURATOR_CATALOG=OUT/catalog-overlay.yaml.

    fixture-mirror.py CATALOG_YAML FIXTURES_DIR OUT
"""
import hashlib
import io
import os
import shutil
import sys
import tarfile

import yaml


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def url_path(url):
    return url.split("://", 1)[1]


def main(catalog_path, fixtures, out):
    with open(catalog_path) as f:
        catalog = yaml.safe_load(f)
    os.makedirs(out, exist_ok=True)
    overlay = ["# Written by scripts/lib/fixture-mirror.py: digests of bundles built from the fixtures.",
               "artifacts:"]
    served = []
    for a in catalog.get("artifacts", []):
        name, version, kind = a.get("name"), str(a.get("version")), a.get("kind")
        if kind == "files":
            folder = os.path.join(fixtures, f"{name}-{version}")
            if not os.path.isdir(folder):
                continue
            for fe in a.get("files", []):
                if "url" not in fe:  # a link member: nothing to serve
                    continue
                src = os.path.join(folder, fe["path"])
                if not os.path.isfile(src):
                    print(f"fixture-mirror: {name} {version}: {fe['path']} missing in {folder}", file=sys.stderr)
                    return 1
                dst = os.path.join(out, url_path(fe["url"]))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if not os.path.exists(dst):
                    shutil.copyfile(src, dst)
            served.append(f"{name} {version}")
        elif name == "karmada-crds":
            folder = os.path.join(fixtures, f"karmada-{version}", "crds")
            if not os.path.isdir(folder):
                continue
            dst = os.path.join(out, url_path(a["url"]))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                for sub in ("bases", "patches"):
                    for dirpath, dirnames, filenames in sorted(os.walk(os.path.join(folder, sub))):
                        dirnames.sort()
                        for fn in sorted(filenames):
                            p = os.path.join(dirpath, fn)
                            info = tar.gettarinfo(p, arcname=os.path.join("crds", os.path.relpath(p, folder)))
                            info.uid = info.gid = 0
                            info.uname = info.gname = ""
                            info.mtime = 0
                            with open(p, "rb") as f:
                                tar.addfile(info, f)
            with open(dst + ".tmp", "wb") as f:
                f.write(buf.getvalue())
            os.replace(dst + ".tmp", dst)
            overlay.append(f'  - {{name: {name}, version: "{version}", os: any, arch: any, sha256: {sha256(dst)}}}')
            served.append(f"{name} {version}")
    with open(os.path.join(out, "catalog-overlay.yaml"), "w") as f:
        f.write("\n".join(overlay) + "\n")
    print(f"fixture-mirror: {out}: " + ", ".join(served), file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
