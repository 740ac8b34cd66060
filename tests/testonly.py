"""The harness's own test-only structures (family "testonly"): they break on
purpose, so they are not in the shipped extensions. Tests build
native/testonly/registry.c as a user's structure file (cached) and name it:
``Target("testonly", ..., source=TESTONLY)``, a scenario's ``source =
TESTONLY``, or the ``testonly`` fixture (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

TESTONLY = str(Path(__file__).resolve().parent.parent / "native" / "testonly" / "registry.c")


def load_testonly():
    """Build (or find cached) and load the test-only structures."""
    from stress.structures import load_source
    return load_source(TESTONLY)
