"""lfstress's own tests (a package, so that tests/benchmarks/ runs with ``python -m``)."""
