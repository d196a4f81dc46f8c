"""Browser tests drive Debian's Chromium; install it (and CJK fonts, so screenshots show the
Chinese console) when missing and we are allowed to.

Under ``CI=true`` a browser that is missing and cannot be installed is an error (exit 1): the
browser tests would fail there anyway (tests/conftest.py ``missing_service``), and saying so
first, with the reason, is clearer. Elsewhere it is a warning and the browser tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("ORDERPILOT_TEST_CHROMIUM", "/usr/bin/chromium")
CJK_FONT_DIR = "/usr/share/fonts/opentype/noto"
PACKAGES = ["chromium", "fonts-noto-cjk"]


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def cannot(reason: str) -> int:
    if on_ci():
        print(f"error: {CHROMIUM} is missing and {reason}; CI=true needs the browser tests",
              file=sys.stderr)
        return 1
    print(f"{CHROMIUM} is missing and {reason}; browser tests will skip", file=sys.stderr)
    return 0


def main() -> int:
    if os.path.exists(CHROMIUM) and os.path.isdir(CJK_FONT_DIR):
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return cannot("cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            return cannot(f"`{' '.join(command)}` exited {done.returncode}")
    if not os.path.exists(CHROMIUM):
        return cannot(f"installing {' '.join(PACKAGES)} did not provide it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
