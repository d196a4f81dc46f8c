"""The vendored front-end libraries match manifest.json, and nothing is vendored unlisted."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

VENDOR_DIR = (
    Path(__file__).resolve().parents[2]
    / "src" / "orderpilot" / "entrypoints" / "console" / "static" / "vendor"
)
MANIFEST = VENDOR_DIR / "manifest.json"
REQUIRED_KEYS = {"package", "version", "license", "source", "sha256"}


def _entries() -> dict[str, dict[str, str]]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]


def test_manifest_is_not_empty() -> None:
    assert _entries(), "manifest.json lists no files"


@pytest.mark.parametrize("name", sorted(_entries()))
def test_listed_file_exists_and_matches_checksum(name: str) -> None:
    entry = _entries()[name]
    assert REQUIRED_KEYS <= entry.keys(), f"{name}: missing keys {REQUIRED_KEYS - entry.keys()}"
    path = VENDOR_DIR / name
    assert path.is_file(), f"{name} is listed in manifest.json but not vendored"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], (
        f"{name} differs from manifest.json; run scripts/vendor_assets.py"
    )


@pytest.mark.parametrize("name", sorted(_entries()))
def test_source_is_a_package_path_not_a_url(name: str) -> None:
    entry = _entries()[name]
    assert entry["source"].startswith(f"{entry['package']}@{entry['version']}/")
    assert not re.search(r"://|registry|npmjs", entry["source"])


def test_every_vendored_asset_is_listed() -> None:
    listed = set(_entries())
    on_disk = {
        p.relative_to(VENDOR_DIR).as_posix()
        for p in VENDOR_DIR.rglob("*")
        if p.is_file() and p.suffix in {".js", ".css"}
    }
    assert on_disk, "no vendored .js/.css files found"
    assert on_disk <= listed, f"vendored but not in manifest.json: {sorted(on_disk - listed)}"
