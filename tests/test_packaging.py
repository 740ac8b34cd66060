"""What an installed lfstress needs from the wheel: outside a source checkout
it reads the built-in scenarios, the C sources a user's structure is compiled
with, and the benchmark peers' sources from inside the package (setup.py)."""

from __future__ import annotations

import os
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
    for source in ("include/lfstress.h", "freerun/freerun.c", "engine/stepper.c", "reclaim/hazard.c",
                   "build_cffi.py", "freerun/bench.h",
                   "peers/peers.c", "peers/peers.h"):
        assert f"stress/_buildtree/native/{source}" in names, source
    assert {"stress/_lfs_stepped.abi3.so", "stress/_lfs_free.abi3.so"} <= names
    # no build outputs copied from a developer's tree
    assert not [n for n in names if n.startswith("stress/_buildtree/") and n.endswith((".so", ".o", ".pyc"))]
    # the structures that break on purpose are for the tests: not shipped, not even as sources
    assert not [n for n in names if "testonly" in n]
    for extension in ("stress/_lfs_stepped.abi3.so", "stress/_lfs_free.abi3.so"):
        assert b"testonly" not in zipfile.ZipFile(wheel).read(extension)

    # Unpacked where no checkout is beside it, the package finds all of it inside itself.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import stress, stress.scenario as sc, stress.usercode as uc\n"
        "from stress.bench import peers\n"
        "print(stress.__file__)\n"
        "print(sc.BUILTIN_SCENARIOS)\n"
        "print(uc.NATIVE)\n"
        "print(all(p.is_file() for p in peers._sources()))\n"
        "from stress.structures import catalogue\n"
        "print(sorted({s.family for s in catalogue().values()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    package, scenarios, native, peers_found, families = proc.stdout.split("\n")[:5]
    assert Path(package).parent == site / "stress"
    assert Path(scenarios) == site / "stress" / "scenarios"
    assert Path(native) == site / "stress" / "_buildtree" / "native"
    assert peers_found == "True"
    assert families == "['msqueue', 'treiber']"


def test_the_project_cites_no_file_outside_it():
    # Users have the repository, not the notes it was designed from.
    outside = ("DESIGN" + ".md", "seed-" + "essay", "../" + "shared")
    found = []
    for top in ("stress", "native", "scenarios", "tests", "docs", "reports"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".c", ".h", ".md", ".toml", ".json", ".txt"):
                text = path.read_text(errors="replace")
                found += [f"{path.relative_to(ROOT)}: {word}" for word in outside if word in text]
    for name in ("README.md", "pyproject.toml", "setup.py"):
        text = (ROOT / name).read_text()
        found += [f"{name}: {word}" for word in outside if word in text]
    assert not found
