import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _own_example_database(tmp_path_factory, monkeypatch):
    """Each test keeps its hypothesis example database to itself: a failure one
    test saved never shortens another's search."""
    monkeypatch.setenv("LFSTRESS_EXAMPLES", str(tmp_path_factory.mktemp("examples")))


# The harness's own test-only structures (family "testonly"): they break on
# purpose, so they are not in the shipped extensions. Tests build this file as
# a user's structure file (cached) and name it: Target("testonly", ...,
# source=TESTONLY), a scenario's source = TESTONLY, or the testonly fixture.
TESTONLY = str(Path(__file__).resolve().parent.parent / "native" / "testonly" / "registry.c")


def load_testonly():
    """Build (or find cached) and load the test-only structures."""
    from stress.structures import load_source
    return load_source(TESTONLY)


@pytest.fixture
def testonly():
    """The test-only structures, loaded into the catalogue."""
    return load_testonly()


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory) -> Path:
    """One cache for the session, shared by xdist workers (the parent of each
    worker's basetemp), so each file compiles once; the build's lock makes
    concurrent workers wait for it."""
    cache = tmp_path_factory.getbasetemp().parent / "lfstress-cache"
    cache.mkdir(exist_ok=True)
    saved = os.environ.get("LFSTRESS_CACHE")
    os.environ["LFSTRESS_CACHE"] = str(cache)
    yield cache
    if saved is None:
        os.environ.pop("LFSTRESS_CACHE", None)
    else:
        os.environ["LFSTRESS_CACHE"] = saved
