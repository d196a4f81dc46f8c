"""Browser tests drive Debian's Chromium; install it (and CJK fonts, so screenshots show the
Chinese console) when missing and we are allowed to."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"
CJK_FONT_DIR = "/usr/share/fonts/opentype/noto"


def main() -> int:
    if os.path.exists(CHROMIUM) and os.path.isdir(CJK_FONT_DIR):
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"{CHROMIUM} is missing and cannot be installed here; browser tests will skip",
              file=sys.stderr)
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"], check=True,
                   env=env,
                   stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
