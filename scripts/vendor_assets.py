#!/usr/bin/env python3
"""Vendor the console's front-end libraries from npm and keep manifest.json in step.

Usage:
    python scripts/vendor_assets.py          # npm pack pinned versions, copy files, write manifest
    python scripts/vendor_assets.py --check  # offline: verify files on disk against manifest.json

The default mode needs `npm` on PATH and access to the npm registry. It prints every file
whose checksum differs from the previous manifest, so a re-download that changes bytes is seen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "src" / "orderpilot" / "entrypoints" / "console" / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"

# package -> (pinned version, {path inside the package: vendored file name})
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "htmx.org": ("2.0.11", {
        "dist/htmx.min.js": "htmx.min.js",
        "LICENSE": "LICENSE.htmx.org",
    }),
    "echarts": ("6.1.0", {
        "dist/echarts.min.js": "echarts.min.js",
        "LICENSE": "LICENSE.echarts",
        "NOTICE": "NOTICE.echarts",  # Apache-2.0 section 4(d): the NOTICE travels with the code
        "licenses/LICENSE-d3": "LICENSE-d3.echarts",  # d3 code embedded in the bundle
    }),
    # echarts.min.js bundles zrender (pinned by echarts 6.1.0): only its licence is needed
    "zrender": ("6.1.0", {"LICENSE": "LICENSE.zrender"}),
    "cytoscape": ("3.34.4", {
        "dist/cytoscape.min.js": "cytoscape.min.js",
        "LICENSE": "LICENSE.cytoscape",
    }),
    "frappe-gantt": ("1.2.2", {
        "dist/frappe-gantt.umd.js": "frappe-gantt.min.js",  # the UMD build is minified
        "dist/frappe-gantt.css": "frappe-gantt.css",
        "license.txt": "LICENSE.frappe-gantt",
    }),
}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest() -> dict[str, dict[str, str]]:
    if not MANIFEST.exists():
        return {}
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]


def npm_pack(package: str, version: str, workdir: Path) -> Path:
    """Download package@version as a tarball with `npm pack` and extract it; return package dir."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(workdir)],
        check=True, capture_output=True, text=True,
    )
    tarball = workdir / json.loads(out.stdout)[0]["filename"]
    dest = workdir / f"{package}-{version}"
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")  # "data" filter refuses absolute paths and links out
    return dest / "package"


def vendor() -> int:
    old = load_manifest()
    files: dict[str, dict[str, str]] = {}
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, wanted) in PACKAGES.items():
            pkg_dir = npm_pack(package, version, Path(tmp))
            meta = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
            if meta.get("version") != version:
                print(f"{package}: npm gave version {meta.get('version')}, wanted {version}")
                return 1
            for inner, name in wanted.items():
                target = VENDOR_DIR / name
                shutil.copyfile(pkg_dir / inner, target)
                digest = sha256_of(target)
                previous = old.get(name, {})
                if previous and previous.get("sha256") != digest:
                    print(f"changed: {name} ({previous.get('source')} -> {package}@{version})")
                files[name] = {
                    "package": package,
                    "version": version,
                    "license": str(meta.get("license", "")),
                    "source": f"{package}@{version}/{inner}",
                    "sha256": digest,
                }
                print(f"vendored {name:28} {target.stat().st_size:>9} bytes  {digest[:12]}")
    manifest = {"generated_by": "scripts/vendor_assets.py", "files": dict(sorted(files.items()))}
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST.relative_to(ROOT)}")
    return 0


def check() -> int:
    """Verify vendored files against manifest.json without touching the network."""
    files = load_manifest()
    if not files:
        print(f"missing or empty manifest: {MANIFEST}")
        return 1
    problems: list[str] = []
    for name, entry in files.items():
        path = VENDOR_DIR / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"checksum mismatch: {name}")
    for path in sorted(VENDOR_DIR.rglob("*")):
        if path.suffix in {".js", ".css"} and path.relative_to(VENDOR_DIR).as_posix() not in files:
            problems.append(f"not in manifest: {path.relative_to(VENDOR_DIR).as_posix()}")
    for line in problems:
        print(line)
    print(f"{len(files)} files checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vendor console front-end libraries from npm.")
    parser.add_argument("--check", action="store_true",
                        help="only verify files on disk against manifest.json (no network)")
    args = parser.parse_args(argv)
    return check() if args.check else vendor()


if __name__ == "__main__":
    sys.exit(main())
