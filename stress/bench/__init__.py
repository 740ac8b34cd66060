"""Benchmarks. Each writes its figures, with machine, compiler, flags and
method, to reports/. Speed is measured here, never asserted in tests."""
