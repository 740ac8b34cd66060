/*
 * bench.h — the real-thread drivers of the free-running build: the benchmark
 * (throughput, unreclaimed nodes, the stalled-thread run) and the stress mode
 * (every dequeued value tallied, then conservation and pool audits).
 *
 * Timing lives here, in C: Python only orchestrates. Threads start behind a
 * barrier, each runs its workload in batches of LFS_BENCH_BATCH operations
 * and looks at the stop flag between batches (no clock call per operation),
 * and the calling thread is the sampler: every sample_interval it reads the
 * target's unreclaimed-node and pool-use counters (racy reads of counters the
 * workers own: a sample is an estimate, never a synchronisation).
 *
 * A *target* is a queue behind a small table of functions, so that our
 * structures and the peers (Concurrency Kit, liburcu: native/peers/, built
 * only when their headers are installed) run under the very same loop. Its
 * operations have the signature of lfs_op_fn: one indirect call per
 * operation, for everybody.
 */
#ifndef LFS_BENCH_H
#define LFS_BENCH_H

#include <stdint.h>

#include "lfstress.h"

/* BEGIN CDEF: the drivers (read by native/build_cffi.py) */
#define LFS_BENCH_BATCH 64 /* operations between two looks at the stop flag */

enum lfs_bench_workload {
    LFS_WL_PAIRS = 0,    /* each thread: enqueue, then dequeue */
    LFS_WL_MIXED = 1,    /* each operation an enqueue or a dequeue, 50/50 */
    LFS_WL_PRODCONS = 2, /* the first half of the threads (rounded up) only
                            enqueue, the others only dequeue; a producer that
                            finds the pool empty yields and retries (the pool
                            is the queue's bound), it does not end the run */
};

/* A queue under test. Every function but the ops may be NULL. */
typedef struct lfs_bench_target {
    void *ctx;
    /* An empty queue for nthreads threads (0 = ok). Called before each run. */
    int (*reset)(void *ctx, int nthreads);
    /* The shared state the ops receive. */
    void *(*shared)(void *ctx);
    /* On the OS thread that acts as thread tid, before it runs ops: register
     * with the reclamation scheme; returns the ops' `local` argument. */
    void *(*thread_begin)(void *ctx, int tid);
    void (*thread_end)(void *ctx, int tid);
    lfs_op_fn enqueue, dequeue;
    /* Sampler (any thread, racy): nodes retired but not yet reclaimed, and
     * nodes in use (not free), or UINT64_MAX when unknown. */
    uint64_t (*unreclaimed)(void *ctx);
    uint64_t (*pool_used)(void *ctx);
    /* Stalled-thread run: on thread tid (after thread_begin), take the
     * protection an operation would hold — publish a hazard on head, enter
     * an epoch / RCU read-side section — and return 0; -1: no such thing. */
    int (*stall)(void *ctx, int tid);
    void (*unstall)(void *ctx, int tid);
    /* After the run, every thread joined: let deferred reclamation finish. */
    void (*settle)(void *ctx);
} lfs_bench_target_t;

/* Tallies of a stress run: per consumer and producer, how many of the
 * producer's values came out, their sums and fingerprints, and whether
 * they came out in order. Fixed size, however long the run. */
typedef struct lfs_stress_tally lfs_stress_tally_t;

typedef struct lfs_bench_config {
    int threads;             /* OS threads, the stalled one included */
    int workload;            /* enum lfs_bench_workload */
    uint32_t prefill;        /* values enqueued before the threads start */
    double seconds;          /* duration (the run also stops at max_ops) */
    uint64_t max_ops;        /* per thread, 0: no limit */
    int stall;               /* 1: thread threads-1 stalls holding protection */
    double sample_interval;  /* seconds between two samples */
    uint32_t max_samples;    /* length of the series arrays (0: no series) */
    double *series_t;        /* seconds since start, per sample */
    uint64_t *series_unreclaimed;
    uint64_t *series_pool;
    uint64_t seed;           /* mixed workload's per-thread generators */
    int end_when_exhausted;  /* producer-consumer too: an empty pool ends the run
                                (for a scheme that never frees, waiting is futile) */
    lfs_stress_tally_t *tally; /* stress mode: tally every dequeued value */
    double join_timeout;     /* > 0: give up on a thread that has not come back
                                this long after the stop flag (result.stuck);
                                its run state is then leaked, never freed */
} lfs_bench_config_t;

typedef struct lfs_bench_result {
    double seconds;          /* first thread's start to last thread's stop */
    uint64_t total_ops;      /* completed operations, empty dequeues included */
    uint64_t ops[LFS_MAX_THREADS];
    uint64_t enqueues[LFS_MAX_THREADS];
    uint64_t dequeues[LFS_MAX_THREADS];  /* that returned a value */
    uint64_t empties[LFS_MAX_THREADS];   /* that found the queue empty */
    int exhausted;           /* a thread's enqueue found the pool empty: stopped early */
    uint64_t pool_waits;     /* producer-consumer: batches cut short by an empty pool */
    int stalled;             /* the stall was taken (0: target cannot stall) */
    uint32_t samples;        /* samples taken (series hold min(samples, max_samples)) */
    double unreclaimed_avg;
    uint64_t unreclaimed_peak;
    uint64_t pool_peak;
    int stuck;               /* threads still inside an operation at join_timeout */
    int error;               /* 0; else reset/thread creation failed */
} lfs_bench_result_t;

int lfs_bench_run(const lfs_bench_target_t *t, const lfs_bench_config_t *cfg,
                  lfs_bench_result_t *out);

/* A target over a free-running run of one of our structures (freerun.h);
 * its ops are the structure's own. Freed with free(). */
typedef struct lfs_run lfs_run_t;
lfs_bench_target_t *lfs_bench_target_for_run(lfs_run_t *r);

/* ---- stress mode ---- */

lfs_stress_tally_t *lfs_stress_tally_new(int threads);
void lfs_stress_tally_delete(lfs_stress_tally_t *tally);

/* first_lost / first_duplicated when the value cannot be told (exact = 0) */
#define LFS_STRESS_UNNAMED 0xffffffffffffffffULL /* UINT64_MAX, spelled for cffi */

typedef struct lfs_stress_check {
    uint64_t enqueued;        /* values enqueued, prefill included */
    uint64_t dequeued;
    uint64_t remaining;       /* values found in the queue afterwards */
    uint64_t lost;            /* enqueued, never dequeued, not in the queue */
    uint64_t duplicated;      /* came out (or out and still in) more than once */
    int exact;                /* 1: lost and duplicated are exact counts; 0:
                                 lower bounds (lost and duplicated values of
                                 one producer hid each other in the tallies) */
    uint64_t unknown;         /* came out but was never enqueued */
    uint64_t out_of_order;    /* two values of one producer came out in the
                                 wrong order (FIFO: per consumer, and the
                                 remaining ones after every dequeued one) */
    uint64_t first_lost, first_duplicated, first_unknown, first_out_of_order;
} lfs_stress_check_t;

/* Conservation over the tallies of the last run with this tally, given the
 * enqueue counts of its result, and the values still in the queue. */
int lfs_stress_check(const lfs_stress_tally_t *tally, const lfs_bench_result_t *res,
                     uint32_t prefill, const uint64_t *remaining, uint64_t n_remaining,
                     lfs_stress_check_t *out);

/* Pool accounting after a run (call lfs_run_quiesce first). */
typedef struct lfs_pool_audit {
    uint64_t capacity, free, live, retired, other;  /* slot states */
    uint64_t free_listed;     /* entries on the shared free list */
    uint64_t free_list_bad;   /* entries that are not FREE, out of range, or repeated */
    uint64_t retired_listed;  /* sum of the threads' retired-list lengths */
} lfs_pool_audit_t;
void lfs_run_audit_pool(lfs_run_t *r, lfs_pool_audit_t *out);
/* END CDEF */

/* Value k of thread t: (t << 40) | k. Prefilled values come from "thread"
 * `threads`, so a value says who enqueued it and in which order. */
#define LFS_STRESS_VALUE(t, k) (((uint64_t)(t) << 40) | (uint64_t)(k))

#endif /* LFS_BENCH_H */
