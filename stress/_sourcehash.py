"""The fingerprint of the native sources an extension was built from.

Used twice: by the build (native/build_cffi.py compiles it into both
extensions) and, in a source checkout, by the loader, which refuses an
extension whose fingerprint differs from the sources beside it — the classic
failure of C-core projects is a stale ``.so``. Standard library only: the build
imports this file by path, before the package exists.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SOURCE_SUFFIXES = (".c", ".h", ".ld")  # .ld: the stepped build's linker script


def native_source_hash(native_dir: Path) -> str:
    """SHA-256 over the names and contents of native/'s C sources (and linker script), sorted."""
    digest = hashlib.sha256()
    for path in sorted(native_dir.rglob("*")):
        if path.suffix in SOURCE_SUFFIXES and path.is_file():
            digest.update(path.relative_to(native_dir).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]
