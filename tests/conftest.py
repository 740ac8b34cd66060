import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _own_example_database(tmp_path_factory, monkeypatch):
    """Each test keeps its hypothesis example database to itself: a failure one
    test saved never shortens another's search."""
    monkeypatch.setenv("LFSTRESS_EXAMPLES", str(tmp_path_factory.mktemp("examples")))
