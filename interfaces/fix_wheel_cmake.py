"""Make the ROS 2 PyPI wheels' CMake configs point at this venv.

The wheels' exported CMake targets name the paths of the machine they were built
on (/opt/python/cp311-cp311/...). Rewrite those prefixes in ``<venv>/share/**/*.cmake``
to this interpreter's include dir and site-packages. Idempotent; touches only the venv.
Run with the venv's python: ``.venv/bin/python interfaces/fix_wheel_cmake.py``.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

BUILT_ON = "/opt/python/cp311-cp311"


def main() -> int:
    paths = sysconfig.get_paths()
    here = {
        f"{BUILT_ON}/include/python3.11": paths["include"],
        f"{BUILT_ON}/lib/python3.11/site-packages": paths["purelib"],
    }
    changed = 0
    for f in Path(sys.prefix, "share").rglob("*.cmake"):
        text = f.read_text(errors="surrogateescape")
        new = text
        for old, repl in here.items():
            new = new.replace(old, repl)
        if new != text:
            f.write_text(new, errors="surrogateescape")
            changed += 1
    print(f"fix_wheel_cmake: {changed} file(s) rewritten under {sys.prefix}/share")
    return 0


if __name__ == "__main__":
    sys.exit(main())
