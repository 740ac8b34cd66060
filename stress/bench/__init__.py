"""Real-thread runs of the free-running build: ``lfstress bench`` and ``lfstress stress``.

Layout:
  driver      targets (our structures, the peers) and one measured run, over native/freerun/bench.c
  peers       Concurrency Kit and liburcu queues, built at run time when installed
  runner      the benchmark plan: repetitions, thread counts, workloads, the stall run
  report      report.md, report.json and the plots
  coldcache   the 1-thread reuse control and cachegrind's misses per operation
  bugfind     ``lfstress bench --search``: time to the first violation on the built-in bugs
  machine     what a report says about where it ran
  realstress  ``lfstress stress``: a real-thread run in a child process, then audits

The benchmarks of lfstress itself (stepping, search, linearizability,
robustness) are not part of the product: they live in tests/benchmarks/.
"""
