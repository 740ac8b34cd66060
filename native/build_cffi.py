"""cffi out-of-line API builds of lfstress's two extensions.

Both compile the same structure sources (native/structures/, the reclamation
helpers in native/reclaim/) against lfstress.h; they differ in what stands
behind the header:

  stress._lfs_stepped   -DLFS_BUILD_STEPPED: instrumented primitives, fibers
  stress._lfs_free      -DLFS_BUILD_FREE:    C11 atomics, pthreads

setup.py names the two builders (``cffi_modules``).

The cdef declarations are the headers themselves, never a copy: each header
the Python side needs marks its plain declarations with

    /* BEGIN CDEF: what */ ... /* END CDEF */

and ``cdef_text`` feeds exactly those regions, in include order, to
``ffi.cdef`` while the compiler reads the whole header. A region holds only
what both cffi's parser and a C compiler accept: typedefs, enums, function
declarations, and ``#define NAME <integer>`` (a limit computed from others
is an enum: cffi reads no expressions in a #define). Constants and limits
then live once, in C, and Python reads them from ``lib`` (pyca's way):
``lib.LFS_MAX_THREADS``, ``lib.LFS_EV_CAS_OK``, ``lib.LFS_SEARCH_PCT``.
A struct in a region is declared whole, so cffi checks its layout against
the compiler's.

The package version and a hash of native/'s sources are compiled in, and the
loader (stress/_native.py) refuses an extension that does not match.

``user_builder`` makes the same two builds of a user's structure file (one C
file ending with LFS_EXPORT_STRUCTURES) in place of the built-in structures;
stress/usercode.py runs it and caches the result.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from cffi import FFI

NATIVE = Path(__file__).resolve().parent
ROOT = NATIVE.parent



def _sources(*folders: str) -> list[str]:
    """Every C file under the given folders of native/, as paths from the root."""
    return sorted(str(p.relative_to(ROOT)) for folder in folders for p in (NATIVE / folder).rglob("*.c"))


# Sources common to both builds: options and registry, the reclamation
# helpers, and every structure (a user's build keeps all but the structures).
# native/testonly/ is not among them: its structures break on purpose, and the
# tests build its registry.c as a user's structure file (user_builder below).
RECLAIM_SOURCES = _sources("reclaim")
STRUCTURE_SOURCES = _sources("structures")
COMMON_SOURCES = [*_sources("common"), *RECLAIM_SOURCES, *STRUCTURE_SOURCES]
# Headers: the public ones by name (#include "lfstress.h"), the internal ones
# by their folder (#include "engine/fiber.h").
INCLUDE_DIRS = [NATIVE / "include", NATIVE]

# What each extension declares to cffi: its headers' CDEF regions, in
# include order (a region uses only what earlier ones declared).
COMMON_CDEF_HEADERS = ("include/lfstress.h", "common/common.h")
CDEF_HEADERS = {
    "LFS_BUILD_STEPPED": (*COMMON_CDEF_HEADERS, "engine/engine.h"),
    # free(): the benchmark driver frees lfs_bench_target_for_run's target.
    "LFS_BUILD_FREE": (*COMMON_CDEF_HEADERS, "freerun/freerun.h", "freerun/bench.h"),
}
LIBC_CDEF = {"LFS_BUILD_STEPPED": "", "LFS_BUILD_FREE": "void free(void *p);\n"}
_CDEF_REGION = re.compile(r"/\* BEGIN CDEF\b.*?\*/(.*?)/\* END CDEF \*/", re.S)


def cdef_text(define: str) -> str:
    """The cffi declarations of the build selected by ``define``: every
    CDEF region of its headers (see the module docstring)."""
    parts = []
    for header in CDEF_HEADERS[define]:
        regions = _CDEF_REGION.findall((NATIVE / header).read_text())
        if not regions:
            raise RuntimeError(f"native/{header} has no /* BEGIN CDEF */ ... /* END CDEF */ region")
        parts += regions
    return "".join(parts) + LIBC_CDEF[define]


def _load_sourcehash():
    spec = importlib.util.spec_from_file_location("_lfs_sourcehash", ROOT / "stress" / "_sourcehash.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def package_version() -> str:
    text = (ROOT / "stress" / "_version.py").read_text()
    return re.search(r'__version__\s*=\s*"([^"]+)"', text).group(1)


# Link flags by define: the stepped engine's linker script gathers the code
# built from native/engine/ in one range, so that a fault there is blamed on
# lfstress (engine/code_address.c).
LINK_ARGS = {
    "LFS_BUILD_STEPPED": (f"-Wl,-T,{NATIVE / 'engine' / 'engine_text.ld'}",),
    "LFS_BUILD_FREE": (),
}

# What each built-in extension was made of, by define: user_builder() builds
# a user's structure file into the same engine with the same flags.
_ENGINES: dict[str, tuple] = {}


def _builder(module: str, define: str, sources: list[str], extra_compile: list[str],
             libraries: list[str], *, user_file: str | None = None,
             source_hash: str | None = None) -> FFI:
    ffi = FFI()
    ffi.cdef(cdef_text(define))
    header = "engine/engine.h" if define == "LFS_BUILD_STEPPED" else "freerun/freerun.h"
    include_dirs = [str(d.relative_to(ROOT)) for d in INCLUDE_DIRS]
    if user_file is None:
        _ENGINES[define] = (sources, extra_compile, libraries)
        all_sources = [*COMMON_SOURCES, *sources]
        source_hash = _load_sourcehash().native_source_hash(NATIVE)
    else:
        # The user's file replaces the built-in structures (and builtin.c's
        # registry: the file has its own LFS_EXPORT_STRUCTURES line); the
        # reclamation helpers stay. Absolute paths: cffi compiles in a tmpdir.
        kept = [*_sources("common"), *RECLAIM_SOURCES, *sources]
        all_sources = [user_file, *(str(ROOT / s) for s in kept)]
        include_dirs = [*(str(d) for d in INCLUDE_DIRS), str(Path(user_file).parent)]
        extra_compile = [*extra_compile, "-Werror=implicit-function-declaration"]
    compile_args = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", *extra_compile]
    ffi.set_source(
        module,
        f'#include "{header}"\n',
        sources=all_sources,
        include_dirs=include_dirs,
        define_macros=[
            (define, "1"),
            ("LFS_VERSION", f'"{package_version()}"'),
            ("LFS_SOURCE_HASH", f'"{source_hash}"'),
            ("LFS_BUILD_FLAGS", f'"{" ".join(compile_args)}"'),  # lfs_build_flags(): what reports print
        ],
        extra_compile_args=compile_args,
        libraries=libraries,
        # Link-time optimisation needs its flags at the link as well.
        extra_link_args=[*(a for a in extra_compile if a.startswith(("-O", "-flto", "-fno-semantic"))),
                         *LINK_ARGS[define]],
    )
    return ffi


stepped = _builder(
    "stress._lfs_stepped", "LFS_BUILD_STEPPED",
    _sources("engine"),
    # -O2, frame pointers kept: fibers are stepped one shared access at a time,
    # the switch dominates, and debuggers can walk a fiber's stack.
    ["-O2", "-fno-omit-frame-pointer"], [],
)

free = _builder(
    "stress._lfs_free", "LFS_BUILD_FREE",
    _sources("freerun"),
    # initial-exec TLS: the pool reaches its thread context on every alloc and
    # free; the default model for a shared object calls __tls_get_addr each time.
    # -flto and -fno-semantic-interposition: a structure's calls into the pool
    # and the reclamation helpers (other files, exported symbols) are inlined
    # rather than made through the PLT (about twenty such calls per
    # enqueue/dequeue pair for `hazard`).
    ["-O3", "-flto=auto", "-fno-semantic-interposition", "-pthread", "-ftls-model=initial-exec"],
    ["pthread"],
)



def user_builder(module: str, build: str, user_file: str, source_hash: str) -> FFI:
    """The cffi builder of a user's structure file (stress/usercode.py):
    ``build`` is "stepped" or "free"; the engine, helpers and flags are the
    built-in extension's. ``source_hash`` is compiled in as the build's key."""
    define = {"stepped": "LFS_BUILD_STEPPED", "free": "LFS_BUILD_FREE"}[build]
    sources, extra_compile, libraries = _ENGINES[define]
    return _builder(module, define, sources, extra_compile, libraries,
                    user_file=user_file, source_hash=source_hash)


if __name__ == "__main__":
    stepped.compile(verbose=True)
    free.compile(verbose=True)
