"""Benchmarks of lfstress itself, apart from the product's ``lfstress bench``.

Each module measures one part of the harness and writes its report to
reports/; run it from the checkout root with ``python -m tests.benchmarks.NAME``.
pytest collects none of them (their names do not start with ``test_``):
figures belong in reports, never in timed tests.

  stepping         the Python-driven stepping engine: steps/s (reports/stepping.md)
  search           the schedulers: executions/s and time to the first violation (reports/search-bench.md)
  linearizability  the linearizability checker on 12-operation histories (reports/linearizability-bench.md)
  robustness       100,000 executions of a broken queue, and memory (reports/robustness.md)

A benchmark here has a ``main(argv)`` with ``--out DIR`` (default reports/)
that measures and then calls ``write_report(result, DIR)``: it writes the
JSON (every figure, and the machine from stress.bench.machine's
``machine_info()`` and ``build_flags()``) and the Markdown from that result
alone, so ``write_report(json.loads(<its JSON>), DIR)`` renders a report again
from its recorded figures, without measuring, after a change to the text.
"""
