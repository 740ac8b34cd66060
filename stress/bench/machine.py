"""What a benchmark report says about where it ran: the machine and the build."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import _native
from .._version import __version__

CORES = os.cpu_count() or 1


def _first_line(path: str, key: str) -> str | None:
    """The value after ``key:`` on the first line of a /proc file that starts with it."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory() -> str:
    kib = _first_line("/proc/meminfo", "MemTotal")
    return f"{int(kib.split()[0]) / 1024 / 1024:.0f} GiB" if kib else "unknown"


def _output(cmd: list[str]) -> str | None:
    """A command's standard output, or None when it cannot run or fails:
    a tool's error message is never a figure."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def compiler() -> str:
    """The C compiler the builds use: $CC, else cc."""
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or "cc"


def machine_info() -> dict[str, Any]:
    version = _output([compiler(), "--version"])
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _first_line("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": CORES,
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": sys.version.split()[0],
        "compiler": version.splitlines()[0] if version else compiler(),
        "load average": ", ".join(f"{x:.2f}" for x in os.getloadavg()),  # others' work shows in the tails
    }


def machine_markdown(info: dict[str, object]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def build_flags(build: str) -> str:
    """The compiler flags the ``stepped`` or ``free`` extension was compiled
    with (after Python's own CFLAGS), as native/build_cffi.py recorded them in it."""
    module = {"stepped": _native.stepped, "free": _native.free}[build]()
    return module.ffi.string(module.lib.lfs_build_flags()).decode()


def package_version(name: str) -> str | None:
    """The installed version of a Debian package, or None when dpkg does not know it
    (not a Debian system, or the library was installed another way)."""
    if not shutil.which("dpkg-query"):
        return None
    return _output(["dpkg-query", "-W", "-f", "${Version}", name])


def bench_machine(peer_packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """machine_info(), and what ``lfstress bench`` compares with: the free-running
    build's flags and sources, and the version of each of the peers' packages
    (by package name: None where dpkg does not know it)."""
    free = _native.free()
    return {
        **machine_info(),
        "our_flags": build_flags("free"),
        "python_cflags": sysconfig.get_config_var("CFLAGS") or "",
        "lfstress": __version__,
        "native_source_hash": free.ffi.string(free.lib.lfs_build_source_hash()).decode(),
        **{name: package_version(name) for name in peer_packages},
    }
