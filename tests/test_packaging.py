"""What an installed lfstress needs from the wheel: outside a source checkout
it reads the built-in scenarios, the C sources a user's structure is compiled
with, and the benchmark peers' sources from inside the package (setup.py)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_scenarios_native_sources_and_peers(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("lfstress-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    scenarios = {p.name for p in (ROOT / "scenarios").glob("*.toml")}
    assert scenarios and {f"stress/scenarios/{name}" for name in scenarios} <= names
    assert "stress/scenarios/examples/ring_buffer.c" in names
    for source in ("lfstress.h", "freerun.c", "stepper.c", "reclaim_hazard.c", "build_cffi.py", "bench.h",
                   "peers/peers.c", "peers/peers.h"):
        assert f"stress/_buildtree/native/{source}" in names, source
    assert {"stress/_lfs_stepped.abi3.so", "stress/_lfs_free.abi3.so"} <= names
    # no build outputs copied from a developer's tree
    assert not [n for n in names if n.startswith("stress/_buildtree/") and n.endswith((".so", ".o", ".pyc"))]
