"""docs/extending.md shows the worked example's package exactly as the test installs it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugins" / "acme_wms"
SHOWN = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<text>.*?)```\n", re.S)


def test_the_worked_example_in_the_doc_is_the_tested_package() -> None:
    doc = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    shown = {m["path"]: m["text"] for m in SHOWN.finditer(doc)}
    package = {str(p.relative_to(ROOT)) for p in PLUGIN.rglob("*")
               if p.is_file() and p.suffix in (".py", ".toml") and "__pycache__" not in p.parts}
    assert set(shown) == package
    for path, text in shown.items():
        assert text == (ROOT / path).read_text(encoding="utf-8"), f"{path} differs from the doc"
