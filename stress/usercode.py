"""Building a structure file of the user's own into both builds, cached.

A scenario's ``source = "my_stack.c"`` (or ``lfstress build my_stack.c``)
names one C file written against native/include/lfstress.h that ends with
``LFS_EXPORT_STRUCTURES(&a, &b, ...)``. It is compiled exactly as the built-in
structures are (native/build_cffi.py, ``user_builder``) into two extension
modules of its own, in place of the built-in structures:

  stepped   the file + the engine (stepper, fibers, search)   -DLFS_BUILD_STEPPED
  free      the file + the free-running pool and drivers     -DLFS_BUILD_FREE

both with the reclamation helpers (reclaim/hazard.c, reclaim/epoch.c). The
two compile in parallel, each in a child process so the compiler's output is
captured rather than sprayed on the terminal.

Cache: ``$LFSTRESS_CACHE`` (else ``$XDG_CACHE_HOME/lfstress``, else
``~/.cache/lfstress``) ``/structures/<key>/``, where the key hashes the file,
the local headers it includes, lfstress's native sources and version, the
Python ABI and the compiler: an unchanged file is compiled once, an edit (or
another lfstress) rebuilds it. Concurrent builders (pytest -n) take a lock;
the modules appear atomically.

A compiler error raises CompileError (a UsageError: exit status 2) whose
message is the compiler's first errors as file:line: message.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ._sourcehash import native_source_hash
from ._version import __version__
from .errors import BuildError, CompileError, UsageError

def _native_sources() -> Path:
    """native/ of a source checkout, or the copy a wheel ships (setup.py)."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "native"
    return checkout if (checkout / "include" / "lfstress.h").is_file() else package / "_buildtree" / "native"


NATIVE = _native_sources()
BUILDS = ("stepped", "free")
ERRORS_SHOWN = 5
_ERROR_LINE = re.compile(r"^(?P<where>[^:\n]+:\d+(?::\d+)?): (?:fatal )?error: ", re.M)
_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


@dataclass(frozen=True)
class UserBuild:
    """A user's structure file, built and loaded."""

    source: Path            # the C file, resolved
    key: str                # the cache key (also compiled in as its source hash)
    content_hash: str       # of the file and its local headers (content_hash())
    directory: Path         # where the modules live
    stepped: ModuleType
    free: ModuleType
    compiled: bool = False  # this process compiled it (else: found in the cache)
    warnings: str = ""      # the compiler's warnings, when this process compiled it

    def module(self, build: str) -> ModuleType:
        return self.stepped if build == "stepped" else self.free


_loaded: dict[str, UserBuild] = {}


def cache_root() -> Path:
    if os.environ.get("LFSTRESS_CACHE"):
        return Path(os.environ["LFSTRESS_CACHE"]) / "structures"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lfstress" / "structures"


def loaded(key: str) -> UserBuild:
    """A build this process has loaded (structures.py maps a structure to it)."""
    return _loaded[key]


def _compiler() -> str:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or "cc"


def _local_headers(source: Path) -> list[Path]:
    """Headers the file includes with quotes from beside it (transitively):
    part of the key, so editing one rebuilds."""
    found: list[Path] = []
    todo = [source]
    while todo:
        text = todo.pop().read_text(errors="replace")
        for name in _INCLUDE.findall(text):
            candidate = (source.parent / name).resolve()
            if candidate.is_file() and candidate not in found and not candidate.is_relative_to(NATIVE):
                found.append(candidate)
                todo.append(candidate)
    return sorted(found)


def content_hash(source: Path) -> str:
    """What the user wrote: the file and the local headers it includes. A
    replay token records it, so a changed file is told apart from code that
    is not deterministic."""
    digest = hashlib.sha256()
    for path in [source, *_local_headers(source)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build_key(source: Path) -> str:
    """The cache key: what the user wrote, and what it is compiled with."""
    digest = hashlib.sha256(content_hash(source).encode())
    digest.update(repr((native_source_hash(NATIVE), __version__, sys.implementation.cache_tag,
                        _compiler(), os.environ.get("CFLAGS", ""))).encode())
    return digest.hexdigest()[:16]


def _module_name(key: str, build: str) -> str:
    return f"_lfs_user_{key}_{build}"


def build(path: str | Path, *, force: bool = False) -> UserBuild:
    """Compile (unless cached) and load a structure file. ``force``: compile
    even when the cache has it."""
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{path}: no such C file")
    if source.suffix != ".c":
        raise UsageError(f"{path}: a structure file is C source ending in .c")
    if not (NATIVE / "include" / "lfstress.h").is_file() or not (NATIVE / "build_cffi.py").is_file():
        raise BuildError(f"building {path} needs lfstress's native sources ({NATIVE}), "
                         "which come with a source checkout: pip install -e <checkout>")
    source = source.resolve()
    written = content_hash(source)
    key = build_key(source)
    if key in _loaded and not force:
        return _loaded[key]
    directory = cache_root() / key
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = "LFSTRESS_CACHE=" + os.environ["LFSTRESS_CACHE"] if os.environ.get("LFSTRESS_CACHE") \
            else str(cache_root())
        raise UsageError(f"{where}: cannot hold the build cache ({exc.strerror}); "
                         "name a directory, or a path where one can be made") from None
    warnings, compiled = "", False
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # another process building the same key: wait for it
        if force or not all(_intact(directory, key, b) for b in BUILDS):
            warnings, compiled = _compile(source, key, directory), True
    result = UserBuild(source, key, written, directory, *(_load(source, directory, key, b) for b in BUILDS),
                       compiled=compiled, warnings=warnings)
    _loaded[key] = result
    return result


def _find(directory: Path, key: str, build: str) -> Path | None:
    return next(iter(sorted(directory.glob(_module_name(key, build) + ".*so"))), None)


def _checksum_path(module: Path) -> Path:
    return module.with_name(module.name + ".sha256")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(directory: Path, key: str, build: str) -> bool:
    """Is this build in the cache and whole? A module is loaded only when it
    matches the checksum written after it was built: a truncated or damaged
    one (a full disk, a killed copy) would crash the process that maps it."""
    module = _find(directory, key, build)
    if module is None:
        return False
    try:
        return _checksum_path(module).read_text().strip() == _file_sha256(module)
    except OSError:
        return False


_CHILD = """
import importlib.util, json, sys
args = json.loads(sys.argv[1])
spec = importlib.util.spec_from_file_location("_lfs_build_cffi", args["builder"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
ffi = module.user_builder(args["module"], args["build"], args["source"], args["key"])
print(ffi.compile(tmpdir=args["tmpdir"], verbose=False))
"""


def _compile_one(source: Path, key: str, directory: Path, build: str) -> tuple[Path | None, str]:
    tmp = Path(tempfile.mkdtemp(prefix=f"build-{build}-", dir=directory))
    try:
        args = {"builder": str(NATIVE / "build_cffi.py"), "module": _module_name(key, build),
                "build": build, "source": str(source), "key": key, "tmpdir": str(tmp)}
        proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(args)],
                              capture_output=True, text=True, errors="replace", cwd=tmp,
                              env={**os.environ, "LC_ALL": "C"})   # plain quotes in messages
        output = proc.stderr + proc.stdout
        if proc.returncode != 0:
            return None, output
        built = Path(proc.stdout.strip().splitlines()[-1])
        final = directory / built.name
        checksum = tmp / (built.name + ".sha256")
        checksum.write_text(_file_sha256(built) + "\n")
        built.replace(final)   # atomic: a reader sees no module or a whole one,
        checksum.replace(_checksum_path(final))   # and loads it only once this is there
        return final, output
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _compile(source: Path, key: str, directory: Path) -> str:
    with ThreadPoolExecutor(max_workers=len(BUILDS)) as pool:
        results = list(pool.map(lambda b: _compile_one(source, key, directory, b), BUILDS))
    for (built, output), b in zip(results, BUILDS):
        if built is None:
            raise CompileError(_compile_message(source, output, b))
    return _warnings(source, results[0][1])


def _compile_message(source: Path, output: str, build: str) -> str:
    """The compiler's first errors, file:line: message, each with its
    source line when the compiler showed one."""
    lines = output.splitlines()
    shown: list[str] = []
    count = 0
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line):
            count += 1
            if len(shown) < ERRORS_SHOWN:
                shown.append("  " + line)
    if not shown:   # not the compiler: the linker, cffi, setuptools...
        tail = [ln for ln in lines if ln.strip()][-ERRORS_SHOWN:]
        shown = ["  " + ln for ln in tail] or ["  (no output)"]
        return f"{source.name} does not build ({build} build):\n" + "\n".join(shown)
    more = f"\n  ... {count - len(shown)} more error(s)" if count > len(shown) else ""
    return f"{source.name} does not compile:\n" + "\n".join(shown) + more


def _warnings(source: Path, output: str) -> str:
    return "\n".join(ln for ln in output.splitlines()
                     if ln.startswith(str(source)) and ": warning: " in ln)


def _load(source: Path, directory: Path, key: str, build: str) -> ModuleType:
    name = _module_name(key, build)
    so = _find(directory, key, build)
    if so is None:
        raise BuildError(f"the {build} build of {source.name} is missing from {directory}")
    try:
        spec = importlib.util.spec_from_file_location(name, so)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError as exc:
        so.unlink(missing_ok=True)   # never keep a module that cannot load
        text = str(exc)
        if "lfs_exported_structures" in text or "lfs_exported_structure_count" in text:
            raise CompileError(f"{source.name} exports no structures: end it with "
                               "LFS_EXPORT_STRUCTURES(&your_structure, ...)") from None
        missing = re.search(r"undefined symbol: (\w+)", text)
        if missing:
            raise CompileError(f"{source.name} compiles but does not load: it uses {missing.group(1)}, "
                               "which nothing defines (lfstress.h lists what lfstress provides)") from None
        raise CompileError(f"{source.name} compiles but does not load: {text}") from None
    lib = module.lib
    built = module.ffi.string(lib.lfs_build_source_hash()).decode()
    version = module.ffi.string(lib.lfs_build_version()).decode()
    if built != key or version != __version__:
        raise BuildError(f"{so} is not the build of {source.name} it should be "
                         f"(key {built}, lfstress {version}): delete {directory} and retry")
    return module
