"""Real-thread runs of the free-running build: the benchmark and stress mode.

Layout:
  driver      targets (our structures, the peers) and one measured run, over native/freerun/bench.c
  peers       Concurrency Kit and liburcu queues, built at run time when installed
  runner      the benchmark plan: repetitions, thread counts, workloads, the stall run
  report      report.md, report.json and the plots
  realstress  ``lfstress stress``: a real-thread run in a child process, then audits
  coldcache   the 1-thread reuse control and cachegrind's misses per operation
  search      stepped-search speed on the classic ABA (reports/search-bench.md)
  bugfind     ``lfstress bench --search``: time to the first violation on the built-in bugs
"""
