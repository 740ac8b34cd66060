"""Loading the two native extensions, and refusing stale ones.

``stepped()`` and ``free()`` return the cffi ``(ffi, lib)`` pair of
``stress._lfs_stepped`` / ``stress._lfs_free``. An extension built for another
version of the package, or — in a source checkout — from native/ sources other
than the ones beside it, raises BuildError with what to run.

C constants and limits are read from ``lib`` (``stepped().lib.LFS_MAX_THREADS``),
never copied into Python; ``enum_names`` gives a C enum's values the names
Python shows.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Mapping

from ._sourcehash import native_source_hash
from ._version import __version__
from .errors import BuildError

REINSTALL = "reinstall it: python -m pip install -e ."
_SOURCE_NATIVE = Path(__file__).resolve().parent.parent / "native"


def _check(module: ModuleType, name: str) -> ModuleType:
    ffi, lib = module.ffi, module.lib
    built_version = ffi.string(lib.lfs_build_version()).decode()
    if built_version != __version__:
        raise BuildError(
            f"the native extension {name} was built for lfstress {built_version}, "
            f"but this is lfstress {__version__}: {REINSTALL}"
        )
    if (_SOURCE_NATIVE / "include" / "lfstress.h").is_file():
        built_hash = ffi.string(lib.lfs_build_source_hash()).decode()
        current = native_source_hash(_SOURCE_NATIVE)
        if built_hash != current:
            raise BuildError(
                f"the native extension {name} was built from other sources than "
                f"{_SOURCE_NATIVE} (built {built_hash}, sources {current}): {REINSTALL}"
            )
    return module


def _import(name: str) -> ModuleType:
    try:
        module = __import__(f"stress.{name}", fromlist=["ffi", "lib"])
    except ImportError as exc:
        raise BuildError(f"the native extension stress.{name} is not built ({exc}): {REINSTALL}") from None
    return _check(module, f"stress.{name}")


@functools.cache
def stepped() -> ModuleType:
    """The stepped build (fibers, instrumented primitives)."""
    return _import("_lfs_stepped")


@functools.cache
def free() -> ModuleType:
    """The free-running build (pthreads, C11 atomics)."""
    return _import("_lfs_free")


def enum_names(names: Mapping[str, str]) -> dict[int, str]:
    """``{value: name}`` for a C enum given as ``{C constant: name shown}``:
    the values come from the stepped library (both builds declare the same
    enums), the spelling a person reads stays in Python."""
    lib = stepped().lib
    return {getattr(lib, constant): name for constant, name in names.items()}


def limit(name: str, build: str = "stepped") -> int:
    """A C limit or constant by name, e.g. ``limit("LFS_MAX_THREADS")``;
    ``build="free"`` for those only the free-running build declares."""
    return getattr((stepped() if build == "stepped" else free()).lib, name)
