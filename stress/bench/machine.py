"""What a benchmark report says about where it ran."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

from .. import _native


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _compiler() -> str:
    try:
        out = subprocess.run(["cc", "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.splitlines()[0] if out.stdout else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info() -> dict[str, object]:
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "compiler": _compiler(),
    }


def machine_markdown(info: dict[str, object]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def build_flags(build: str) -> str:
    """The compiler flags the ``stepped`` or ``free`` extension was compiled
    with (after Python's own CFLAGS), as native/build_cffi.py recorded them in it."""
    module = {"stepped": _native.stepped, "free": _native.free}[build]()
    return module.ffi.string(module.lib.lfs_build_flags()).decode()
