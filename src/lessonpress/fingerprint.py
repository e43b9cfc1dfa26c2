"""One digest of lessonpress's own code and data files, for every cache key: no edit to the package can leave a cache stale."""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).parent


def package_fingerprint() -> str:
    """Hash every file of the installed package, names included (compiled bytecode left out: it follows the source)."""
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            name = path.relative_to(PACKAGE).as_posix().encode()
            data = path.read_bytes()
            for part in (name, data):
                digest.update(len(part).to_bytes(8, "little"))
                digest.update(part)
    return digest.hexdigest()
