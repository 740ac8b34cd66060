"""Real-thread runs of the free-running build: the benchmark and stress mode.

Layout:
  driver      targets (our structures, the peers) and one measured run, over native/bench.c
  peers       Concurrency Kit and liburcu queues, built at run time when installed
  runner      the benchmark plan: repetitions, thread counts, workloads, the stall run
  report      report.md, report.json and the plots
  realstress  ``lfstress stress``: a real-thread run in a child process, then audits
"""
