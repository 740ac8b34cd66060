import os
from pathlib import Path

import pytest

from tests.testonly import load_testonly

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _own_example_database(tmp_path_factory, monkeypatch):
    """Each test keeps its hypothesis example database to itself: a failure one
    test saved never shortens another's search."""
    monkeypatch.setenv("LFSTRESS_EXAMPLES", str(tmp_path_factory.mktemp("examples")))


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
