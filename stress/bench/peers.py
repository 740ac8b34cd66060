"""The benchmark's peers, built at run time when their headers are installed.

Concurrency Kit (``libck-dev``) and liburcu (``liburcu-dev``) are optional:
``pip install`` never compiles them. The first benchmark that wants them
compiles ``native/peers/peers.c`` with cffi into a cache directory (keyed by
a hash of the sources and flags, so an edit rebuilds it) with whichever of
the two libraries a preprocessor probe finds, and loads it from there.

``load()`` returns a ``Peers`` with the module (or None) and, for every peer
that is missing, the reason to print in the report: one line of ours, never a
tool's raw message.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ..usercode import NATIVE  # the checkout's native/, or the copy an installed wheel ships
from .machine import compiler

ALL_PEERS = ("ck_fifo_mpmc", "ck_hp_fifo", "urcu_lfq")
PEER_LIBRARY = {"ck_fifo_mpmc": "ck", "ck_hp_fifo": "ck", "urcu_lfq": "urcu"}
PACKAGE = {"ck": "libck-dev", "urcu": "liburcu-dev"}  # Debian's, for the install hint

# Per library: the headers the peers include, and what to link.
_HEADERS = {
    "ck": (("ck_fifo.h", "ck_hp_fifo.h"), ["ck"]),
    "urcu": (("urcu/urcu-memb.h", "urcu/rculfqueue.h"), ["urcu-memb", "urcu-common"]),
}
_FLAGS = ["-std=gnu11", "-O3", "-mcx16", "-pthread", "-Wall", "-Wno-unused-parameter"]


@dataclass
class Peers:
    module: ModuleType | None
    names: tuple[str, ...] = ()                     # peers compiled in
    missing: dict[str, str] = field(default_factory=dict)  # peer -> why not
    flags: tuple[str, ...] = ()


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lfstress" / "peers"


def _preprocess(source: str) -> str | None:
    """The compiler's preprocessor output for ``source``, or None when it fails or cannot run."""
    try:
        proc = subprocess.run([compiler(), "-E", "-P", "-x", "c", "-"], input=source, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def probe(library: str) -> str | None:
    """None when the library's headers are found and preprocess; otherwise why
    not, in one line. ``__has_include`` tells a missing header from one that is
    there but does not preprocess, without reading the compiler's messages."""
    headers = _HEADERS[library][0]
    hint = f"apt-get install {PACKAGE[library]}"
    checks = "".join(f"#if !__has_include(<{h}>)\nlfs_missing {h}\n#endif\n" for h in headers)
    found = _preprocess(f"#ifndef __has_include\nlfs_cannot_tell\n#else\n{checks}#endif\n")
    if found is None:
        return f"not probed — the C compiler ({compiler()}) does not run"
    missing = [line.split()[1] for line in found.splitlines() if line.startswith("lfs_missing")]
    if missing:
        return f"not installed ({', '.join(missing)} not found) — {hint}"
    if _preprocess("".join(f"#include <{h}>\n" for h in headers)) is None:
        if "lfs_cannot_tell" in found:
            return f"not found by {compiler()} — {hint}"
        return f"its headers are installed but do not preprocess with {compiler()}"
    return None


def _sources() -> list[Path]:
    return [NATIVE / "peers" / "peers.c", NATIVE / "peers" / "peers.h", NATIVE / "freerun" / "bench.h",
            NATIVE / "include" / "lfstress.h"]


@functools.cache
def load() -> Peers:
    """Build (once per source version) and load the peers module."""
    if not all(p.is_file() for p in _sources()):
        reason = f"unavailable — the peers' C sources are missing from {NATIVE / 'peers'}"
        return Peers(None, (), {p: reason for p in ALL_PEERS})
    why_not = {lib: probe(lib) for lib in _HEADERS}
    missing = {p: why_not[PEER_LIBRARY[p]] for p in ALL_PEERS if why_not[PEER_LIBRARY[p]]}
    found = [lib for lib, why in why_not.items() if why is None]
    if not found:
        return Peers(None, (), missing)
    defines = [(f"LFS_PEERS_{lib.upper()}", "1") for lib in found]
    libraries = [name for lib in found for name in _HEADERS[lib][1]] + ["pthread"]
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.read_bytes())
    digest.update(repr((defines, libraries, _FLAGS, sys.version_info[:2])).encode())
    build_dir = _cache_root() / digest.hexdigest()[:16]
    try:
        module = _import_or_build(build_dir, defines, libraries)
    except Exception as exc:  # a compiler error is a report line, not a crash
        log = build_dir / "build-error.log"
        try:
            log.write_text(f"{type(exc).__name__}: {exc}\n")
            reason = f"failed to build — the compiler's messages are in {log}"
        except OSError:
            reason = f"failed to build ({type(exc).__name__})"
        return Peers(None, (), {p: missing.get(p, reason) for p in ALL_PEERS})
    names = []
    i = 0
    while (name := module.lib.lfs_peer_name(i)) != module.ffi.NULL:
        names.append(module.ffi.string(name).decode())
        i += 1
    return Peers(module, tuple(names), missing, tuple(_FLAGS))


def _import_or_build(build_dir: Path, defines, libraries) -> ModuleType:
    so = next(iter(build_dir.glob("_lfs_peers*.so")), None) if build_dir.is_dir() else None
    if so is None:
        from cffi import FFI

        build_dir.mkdir(parents=True, exist_ok=True)
        ffi = FFI()
        ffi.cdef((NATIVE / "peers" / "peers.h").read_text())
        ffi.set_source(
            "_lfs_peers",
            '#include "freerun/bench.h"\n'
            "const char *lfs_peer_name(int i);\n"
            "lfs_bench_target_t *lfs_peer_new(const char *name, uint32_t capacity, uint32_t hp_threshold);\n"
            "void lfs_peer_delete(lfs_bench_target_t *t);\n",
            sources=[str(NATIVE / "peers" / "peers.c")],
            include_dirs=[str(NATIVE / "include"), str(NATIVE)],
            define_macros=[("LFS_BUILD_FREE", "1"), *defines],
            extra_compile_args=_FLAGS,
            libraries=libraries,
        )
        tmp = build_dir / f"tmp-{os.getpid()}"  # concurrent builds (pytest -n) do not collide
        so = Path(ffi.compile(tmpdir=str(tmp), verbose=False))
        final = build_dir / so.name
        so.replace(final)  # atomic: a reader sees no .so or a whole one
        shutil.rmtree(tmp, ignore_errors=True)
        so = final
    spec = importlib.util.spec_from_file_location("_lfs_peers", so)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
