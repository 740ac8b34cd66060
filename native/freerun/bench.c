/*
 * bench.c — the real-thread drivers (bench.h): benchmark and stress mode.
 *
 * Method, as the report states it:
 *   - the queue is reset and prefilled by the calling thread, then every
 *     worker registers (thread_begin) and waits at a barrier with the caller;
 *   - each worker stamps its start time, runs batches of LFS_BENCH_BATCH
 *     operations, looks at the stop flag (a relaxed load) between batches,
 *     stamps its end time; no clock call per operation;
 *   - the caller sleeps sample_interval at a time and samples the target's
 *     counters until the duration is over, then raises the stop flag;
 *   - throughput = completed operations / (last end - first start).
 *
 * Values are (thread << 40) | sequence number, so a stress run can tell
 * who enqueued what, in which order: each consumer tallies what it dequeued
 * per producer as it goes (counts, sums, fingerprints, order), in memory
 * that does not grow with the run, and lfs_stress_check adds them up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "common/common.h"
#include "freerun.h"

#define SEQ_MASK ((UINT64_C(1) << 40) - 1)

_Static_assert(LFS_BENCH_BATCH % 64 == 0, "mixed draws one random bit per op from 64-bit words");
_Static_assert(LFS_MAX_THREADS < (1 << 23), "a thread id must fit above the 40-bit sequence");

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_seconds(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* Stress tallies                                                      */
/* ------------------------------------------------------------------ */

/* What one consumer saw of one producer's values. Kept by the consumer
 * alone (no sharing while the threads run); summed up by lfs_stress_check. */
struct seen_from {
    uint64_t count;         /* values dequeued */
    uint64_t sum;           /* of their sequence numbers, mod 2^64 */
    uint64_t fingerprint;   /* of value_mix(sequence), mod 2^64 */
    uint64_t next;          /* last sequence number seen + 1; 0: none yet */
    uint64_t out_of_order;  /* sequence numbers not above the previous one */
    uint64_t first_out_of_order;
    uint64_t repeated;      /* the very value seen just before: a duplicate */
    uint64_t first_repeated;
};

struct consumer_tally {
    struct seen_from from[LFS_MAX_THREADS + 1]; /* index `threads`: the prefill */
    uint64_t unknown;       /* values naming no producer of this run */
    uint64_t first_unknown;
} __attribute__((aligned(128)));

struct lfs_stress_tally {
    int threads;
    struct consumer_tally c[LFS_MAX_THREADS];
};

lfs_stress_tally_t *lfs_stress_tally_new(int threads)
{
    if (threads < 1 || threads > LFS_MAX_THREADS)
        return NULL;
    lfs_stress_tally_t *tally;
    if (posix_memalign((void **)&tally, 128, sizeof *tally) != 0)
        return NULL;
    memset(tally, 0, sizeof *tally);
    tally->threads = threads;
    return tally;
}

void lfs_stress_tally_delete(lfs_stress_tally_t *tally)
{
    free(tally);
}

/* A 64-bit mixer (splitmix64's finaliser): the fingerprint of a multiset of
 * sequence numbers is the sum of their mixes, so that two different
 * multisets with the same size and sum still differ (with probability
 * 1 - 2^-64), whatever the pattern of lost and duplicated values. */
static inline uint64_t value_mix(uint64_t k)
{
    k += UINT64_C(0x9E3779B97F4A7C15);
    k = (k ^ (k >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    k = (k ^ (k >> 27)) * UINT64_C(0x94D049BB133111EB);
    return k ^ (k >> 31);
}

static inline void tally_value(struct consumer_tally *ct, int threads, uint64_t v)
{
    uint64_t who = v >> 40, k = v & SEQ_MASK;
    if (who > (uint64_t)threads) {
        if (ct->unknown++ == 0)
            ct->first_unknown = v;
        return;
    }
    struct seen_from *f = &ct->from[who];
    f->count++;
    f->sum += k;
    f->fingerprint += value_mix(k);
    /* FIFO per producer: one consumer sees a producer's values in the order
     * they were enqueued, so its sequence numbers only go up. */
    if (f->next && k + 1 == f->next) {
        if (f->repeated++ == 0)
            f->first_repeated = v;
    } else if (f->next && k < f->next) {
        if (f->out_of_order++ == 0)
            f->first_out_of_order = v;
    }
    if (k + 1 > f->next)
        f->next = k + 1;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

struct bench_run;

struct worker {
    struct bench_run *run;
    int tid;
    int role;                 /* WL_PRODCONS: 1 producer, 0 consumer */
    pthread_t thread;
    double t_start, t_end;
    uint64_t ops;             /* published after each batch, for the sampler */
    uint64_t enq, deq, empty;
    uint64_t seq;
    uint64_t rng;
    uint64_t pool_waits;
    int exhausted;
} __attribute__((aligned(128)));

struct bench_run {
    const lfs_bench_target_t *t;
    const lfs_bench_config_t *cfg;
    void *shared;
    pthread_barrier_t barrier;
    int stop;                 /* raised by the sampler or by a worker that must stop */
    int finished;             /* workers done (max_ops, exhaustion) */
    int stalled;
    struct worker w[LFS_MAX_THREADS];
};

static inline uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

enum { BATCH_OK = 0, BATCH_EXHAUSTED = 1, BATCH_POOL_EMPTY = 2 };

/* One batch. `wl`, `producer` and whether `ct` is NULL are constants at each call site,
 * so the compiler emits one tight loop per combination. */
static inline __attribute__((always_inline)) int
run_batch(struct worker *w, lfs_op_fn enq, lfs_op_fn deq, void *sh, void *loc,
          const int wl, const int producer, struct consumer_tally *ct)
{
    const uint64_t me = (uint64_t)w->tid << 40;
    uint64_t seq = w->seq, nenq = 0, ndeq = 0, nempty = 0;
    int status = BATCH_OK;
    lfs_word_t out;
    uint64_t bits = wl == LFS_WL_MIXED ? xorshift64(&w->rng) : 0;

#define DO_ENQ()                                                              \
    do {                                                                      \
        if (enq(sh, loc, me | seq, &out) == LFS_NOMEM) {                      \
            status = wl == LFS_WL_PRODCONS ? BATCH_POOL_EMPTY : BATCH_EXHAUSTED; \
            goto done;                                                        \
        }                                                                     \
        seq++, nenq++;                                                        \
    } while (0)
#define DO_DEQ()                                                              \
    do {                                                                      \
        if (deq(sh, loc, 0, &out) == LFS_OK) {                                \
            ndeq++;                                                           \
            if (ct)                                                           \
                tally_value(ct, w->run->cfg->threads, out);                   \
        } else {                                                              \
            nempty++;                                                         \
        }                                                                     \
    } while (0)

    if (wl == LFS_WL_PAIRS) {
        for (int i = 0; i < LFS_BENCH_BATCH / 2; i++) {
            DO_ENQ();
            DO_DEQ();
        }
    } else if (wl == LFS_WL_MIXED) {
        for (int i = 0; i < LFS_BENCH_BATCH; i++) {
            if ((i & 63) == 0 && i)
                bits = xorshift64(&w->rng);
            if (bits & 1)
                DO_ENQ();
            else
                DO_DEQ();
            bits >>= 1;
        }
    } else if (producer) {
        for (int i = 0; i < LFS_BENCH_BATCH; i++)
            DO_ENQ();
    } else {
        for (int i = 0; i < LFS_BENCH_BATCH; i++)
            DO_DEQ();
    }
done:
#undef DO_ENQ
#undef DO_DEQ
    w->seq = seq;
    w->enq += nenq;
    w->deq += ndeq;
    w->empty += nempty;
    __atomic_store_n(&w->ops, w->ops + nenq + ndeq + nempty, __ATOMIC_RELAXED);
    return status;
}

#define LOOP(WL, PRODUCER, CT)                                                \
    for (;;) {                                                                \
        if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))                    \
            break;                                                            \
        status = run_batch(w, enq, deq, sh, loc, (WL), (PRODUCER), (CT));     \
        if (status == BATCH_POOL_EMPTY && cfg->end_when_exhausted)            \
            status = BATCH_EXHAUSTED;                                         \
        if (status == BATCH_POOL_EMPTY) { /* wait for consumers to free */    \
            w->pool_waits++;                                                  \
            sched_yield();                                                    \
            status = BATCH_OK;                                                \
        }                                                                     \
        if (status != BATCH_OK || (max_ops && w->ops >= max_ops))             \
            break;                                                            \
    }

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct bench_run *run = w->run;
    const lfs_bench_target_t *t = run->t;
    const lfs_bench_config_t *cfg = run->cfg;
    void *loc = t->thread_begin ? t->thread_begin(t->ctx, w->tid) : NULL;
    int staller = cfg->stall && w->tid == cfg->threads - 1;
    if (staller && t->stall && t->stall(t->ctx, w->tid) == 0)
        __atomic_store_n(&run->stalled, 1, __ATOMIC_RELAXED);

    pthread_barrier_wait(&run->barrier);

    if (staller) {
        /* Stopped inside an operation, as far as reclamation can tell. */
        while (!__atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
            sleep_seconds(0.001);
        if (run->stalled && t->unstall)
            t->unstall(t->ctx, w->tid);
        if (t->thread_end)
            t->thread_end(t->ctx, w->tid);
        return NULL;
    }

    lfs_op_fn enq = t->enqueue, deq = t->dequeue;
    void *sh = run->shared;
    uint64_t max_ops = cfg->max_ops;
    struct consumer_tally *ct = cfg->tally ? &cfg->tally->c[w->tid] : NULL;
    int status = BATCH_OK;
    w->t_start = now_seconds();
    switch (cfg->workload) {
    case LFS_WL_MIXED:
        if (ct) { LOOP(LFS_WL_MIXED, 0, ct) } else { LOOP(LFS_WL_MIXED, 0, NULL) }
        break;
    case LFS_WL_PRODCONS:
        if (w->role) {
            LOOP(LFS_WL_PRODCONS, 1, NULL)
        } else if (ct) {
            LOOP(LFS_WL_PRODCONS, 0, ct)
        } else {
            LOOP(LFS_WL_PRODCONS, 0, NULL)
        }
        break;
    default:
        if (ct) { LOOP(LFS_WL_PAIRS, 0, ct) } else { LOOP(LFS_WL_PAIRS, 0, NULL) }
        break;
    }
    w->t_end = now_seconds();
    if (status == BATCH_EXHAUSTED)
        w->exhausted = 1;
    if (status != BATCH_OK) /* a pool that ran out ends the whole run */
        __atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&run->finished, 1, __ATOMIC_RELEASE);
    if (t->thread_end)
        t->thread_end(t->ctx, w->tid);
    return NULL;
}
#undef LOOP

static void take_sample(const lfs_bench_target_t *t, const lfs_bench_config_t *cfg,
                        lfs_bench_result_t *out, double at, double *sum)
{
    uint64_t u = t->unreclaimed ? t->unreclaimed(t->ctx) : UINT64_MAX;
    uint64_t p = t->pool_used ? t->pool_used(t->ctx) : UINT64_MAX;
    uint32_t i = out->samples++;
    if (i < cfg->max_samples) {
        if (cfg->series_t) cfg->series_t[i] = at;
        if (cfg->series_unreclaimed) cfg->series_unreclaimed[i] = u;
        if (cfg->series_pool) cfg->series_pool[i] = p;
    }
    if (u != UINT64_MAX) {
        *sum += (double)u;
        if (u > out->unreclaimed_peak) out->unreclaimed_peak = u;
    }
    if (p != UINT64_MAX && p > out->pool_peak) out->pool_peak = p;
}

int lfs_bench_run(const lfs_bench_target_t *t, const lfs_bench_config_t *cfg,
                  lfs_bench_result_t *out)
{
    memset(out, 0, sizeof *out);
    int n = cfg->threads;
    if (n < 1 || n > LFS_MAX_THREADS || (cfg->stall && n < 2) || !t->enqueue || !t->dequeue) {
        out->error = 1;
        return -1;
    }
    if (cfg->tally) { /* a fresh tally per run */
        memset(cfg->tally->c, 0, sizeof cfg->tally->c);
        cfg->tally->threads = n;
    }
    if (t->reset && t->reset(t->ctx, n) != 0) {
        out->error = 2;
        return -1;
    }
    struct bench_run *run;
    if (posix_memalign((void **)&run, 128, sizeof *run) != 0) {
        out->error = 3;
        return -1;
    }
    memset(run, 0, sizeof *run);
    run->t = t;
    run->cfg = cfg;
    run->shared = t->shared ? t->shared(t->ctx) : NULL;

    /* Prefill as thread 0, on this OS thread, before any worker exists. */
    if (cfg->prefill) {
        void *loc = t->thread_begin ? t->thread_begin(t->ctx, 0) : NULL;
        lfs_word_t ignored;
        for (uint32_t k = 0; k < cfg->prefill; k++) {
            if (t->enqueue(run->shared, loc, LFS_STRESS_VALUE(n, k), &ignored) != LFS_OK) {
                out->error = 4;
                break;
            }
        }
        if (t->thread_end)
            t->thread_end(t->ctx, 0);
        if (out->error) {
            free(run);
            return -1;
        }
    }

    int workers = cfg->stall ? n - 1 : n;
    pthread_barrier_init(&run->barrier, NULL, (unsigned)n + 1);
    int started = 0;
    for (int i = 0; i < n; i++) {
        struct worker *w = &run->w[i];
        w->run = run;
        w->tid = i;
        w->role = i < (workers + 1) / 2; /* producers: the first half, rounded up */
        w->rng = (cfg->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1))) | 1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
        started++;
    }
    if (started < n) {
        /* Cannot happen short of resource exhaustion; the barrier would wait
         * forever, so leave the process rather than hang the harness. */
        out->error = 5;
        abort();
    }

    double sum = 0;
    double interval = cfg->sample_interval > 0 ? cfg->sample_interval : 0.001;
    pthread_barrier_wait(&run->barrier);
    double t0 = now_seconds();
    take_sample(t, cfg, out, 0.0, &sum);
    for (;;) {
        sleep_seconds(interval);
        double at = now_seconds() - t0;
        take_sample(t, cfg, out, at, &sum);
        if (at >= cfg->seconds || __atomic_load_n(&run->finished, __ATOMIC_ACQUIRE) >= workers ||
            __atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
            break;
    }
    __atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
    /* A thread spinning forever (a cycle, a severed queue) never sees the
     * flag: with a join_timeout, wait so long (for all), then report it and
     * leave it running. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double limit = cfg->join_timeout;
    until.tv_sec += (time_t)limit;
    until.tv_nsec += (long)((limit - (double)(time_t)limit) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    for (int i = 0; i < n; i++) {
        if (limit > 0) {
            if (pthread_timedjoin_np(run->w[i].thread, NULL, &until) != 0) {
                out->stuck++;
                if (run->w[i].t_end == 0)
                    run->w[i].t_end = now_seconds();
            }
        } else {
            pthread_join(run->w[i].thread, NULL);
        }
    }
    if (!out->stuck)
        pthread_barrier_destroy(&run->barrier);

    double first = 0, last = 0;
    for (int i = 0; i < workers; i++) {
        struct worker *w = &run->w[i];
        if (i == 0 || w->t_start < first) first = w->t_start;
        if (i == 0 || w->t_end > last) last = w->t_end;
        out->ops[i] = __atomic_load_n(&w->ops, __ATOMIC_RELAXED);
        out->enqueues[i] = w->enq;
        out->dequeues[i] = w->deq;
        out->empties[i] = w->empty;
        out->total_ops += w->ops;
        out->exhausted |= w->exhausted;
        out->pool_waits += w->pool_waits;
    }
    out->seconds = last - first;
    out->stalled = run->stalled;
    out->unreclaimed_avg = out->samples ? sum / out->samples : 0;
    if (out->stuck)
        return 0; /* the stuck threads still use run: leak it */
    free(run);
    if (t->settle)
        t->settle(t->ctx);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Our structures as a target                                          */
/* ------------------------------------------------------------------ */

struct run_target {
    lfs_bench_target_t t;   /* first: the target's address is the ctx's */
    lfs_run_t *r;
    const lfs_reclaim_desc_t *reclaim; /* the structure's declared scheme and hooks */
};

static int rt_reset(void *ctx, int nthreads)
{
    struct run_target *rt = ctx;
    if (nthreads != lfs_run_threads(rt->r))
        return -1;
    lfs_run_reset(rt->r);
    return lfs_run_init(rt->r) == LFS_OK ? 0 : -1;
}

static void *rt_shared(void *ctx) { return lfs_run_shared(((struct run_target *)ctx)->r); }

static void *rt_thread_begin(void *ctx, int tid)
{
    struct run_target *rt = ctx;
    lfs_run_enter(rt->r, tid);
    return lfs_run_local(rt->r, tid);
}

static uint64_t rt_unreclaimed(void *ctx)
{
    struct run_target *rt = ctx;
    if (rt->reclaim->unreclaimed)
        return rt->reclaim->unreclaimed(lfs_run_shared(rt->r));
    uint64_t n = 0;
    for (int i = 0; i < lfs_run_threads(rt->r); i++)
        n += lfs_run_retired_count(rt->r, i); /* racy: the owner may be mid-update */
    return n;
}

static uint64_t rt_pool_used(void *ctx)
{
    struct run_target *rt = ctx;
    return lfs_run_capacity(rt->r) - lfs_run_free_slots(rt->r);
}

/* The stalled thread holds what the structure says an operation holds
 * (its declared reclamation hooks): a hazard on the entry node, an epoch
 * critical section. */
static int rt_stall(void *ctx, int tid)
{
    struct run_target *rt = ctx;
    if (!rt->reclaim->stall)
        return -1;
    return rt->reclaim->stall(lfs_run_shared(rt->r), lfs_run_local(rt->r, tid));
}

static void rt_unstall(void *ctx, int tid)
{
    struct run_target *rt = ctx;
    if (rt->reclaim->unstall)
        rt->reclaim->unstall(lfs_run_shared(rt->r), lfs_run_local(rt->r, tid));
}

lfs_bench_target_t *lfs_bench_target_for_run(lfs_run_t *r)
{
    const lfs_structure_t *s = lfs_run_structure(r);
    lfs_roles_t roles;
    lfs_structure_roles(s, &roles);
    if (roles.insert_op < 0 || roles.remove_op < 0)
        return NULL; /* nothing to insert with, or to remove with */
    struct run_target *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->r = r;
    rt->reclaim = &s->reclaim;
    rt->t = (lfs_bench_target_t){
        .ctx = rt,
        .reset = rt_reset,
        .shared = rt_shared,
        .thread_begin = rt_thread_begin,
        .enqueue = s->ops[roles.insert_op].fn,
        .dequeue = s->ops[roles.remove_op].fn,
        .unreclaimed = rt_unreclaimed,
        .pool_used = rt_pool_used,
        .stall = rt_stall,
        .unstall = rt_unstall,
    };
    return &rt->t;
}

/* ------------------------------------------------------------------ */
/* Audits                                                              */
/* ------------------------------------------------------------------ */

/* Conservation from the tallies, in O(threads^2) memory whatever the length
 * of the run. Per producer, what came out plus what is still queued must be
 * the multiset {0 .. enqueued-1} of its sequence numbers: equal counts, sums
 * and fingerprints say it is (up to a 2^-64 chance of a colliding
 * fingerprint). When it is not, the difference of the counts is how many
 * values went missing or came out twice; one lost (or one duplicated) value
 * is named exactly — the difference of the sums — and checked against the
 * fingerprints. Lost and duplicated values of one producer together can
 * hide each other in the counts: then the counts are lower bounds and
 * `exact` is 0. */
struct producer_total {
    uint64_t count, sum, fingerprint;
    uint64_t next;            /* highest sequence dequeued + 1; 0: none */
    uint64_t next_remaining;  /* the same among the values still queued */
    uint64_t repeated;        /* duplicates a consumer saw back to back */
    uint64_t first_repeated;
};

#define NOTE(field, v) do { if (out->field++ == 0) out->first_##field = (v); } while (0)
#define NOTE_N(field, n, v) do { if ((n) && out->field == 0) out->first_##field = (v); out->field += (n); } while (0)

static void check_producer(const struct producer_total *p, int who, uint64_t enqueued,
                           lfs_stress_check_t *out)
{
    uint64_t sum = enqueued % 2 == 0 ? (enqueued / 2) * (enqueued - 1) : enqueued * ((enqueued - 1) / 2);
    uint64_t fingerprint = 0;
    for (uint64_t k = 0; k < enqueued; k++)
        fingerprint += value_mix(k);
    if (p->next > enqueued) /* a sequence number this producer never reached */
        NOTE(unknown, LFS_STRESS_VALUE(who, p->next - 1));
    if (p->count == enqueued && p->sum == sum && p->fingerprint == fingerprint && !p->repeated)
        return;
    if (p->count + 1 == enqueued && sum - p->sum < enqueued &&
        fingerprint - p->fingerprint == value_mix(sum - p->sum)) {
        NOTE(lost, LFS_STRESS_VALUE(who, sum - p->sum));
        return;
    }
    if (p->count == enqueued + 1 && p->sum - sum < enqueued &&
        p->fingerprint - fingerprint == value_mix(p->sum - sum)) {
        NOTE(duplicated, LFS_STRESS_VALUE(who, p->sum - sum));
        return;
    }
    /* Several values, or lost and duplicated ones together: how many of
     * each is only bounded, and which ones cannot be told. At most
     * count - duplicated distinct values came out, so at least
     * enqueued - (count - duplicated) are missing. */
    out->exact = 0;
    uint64_t duplicated = p->count > enqueued ? p->count - enqueued : 0;
    if (duplicated < p->repeated)
        duplicated = p->repeated;
    uint64_t distinct = p->count - duplicated;
    uint64_t lost = distinct < enqueued ? enqueued - distinct : 0;
    if (!lost && !duplicated) /* as many values as enqueued, but not the same ones */
        lost = duplicated = 1;
    NOTE_N(lost, lost, LFS_STRESS_UNNAMED);
    NOTE_N(duplicated, duplicated, p->repeated ? p->first_repeated : LFS_STRESS_UNNAMED);
}

int lfs_stress_check(const lfs_stress_tally_t *tally, const lfs_bench_result_t *res,
                     uint32_t prefill, const uint64_t *remaining, uint64_t n_remaining,
                     lfs_stress_check_t *out)
{
    memset(out, 0, sizeof *out);
    out->exact = 1;
    int n = tally->threads;
    struct producer_total p[LFS_MAX_THREADS + 1];
    memset(p, 0, sizeof p);
    for (int c = 0; c < n; c++) {
        const struct consumer_tally *ct = &tally->c[c];
        NOTE_N(unknown, ct->unknown, ct->first_unknown);
        out->dequeued += ct->unknown;
        for (int who = 0; who <= n; who++) {
            const struct seen_from *f = &ct->from[who];
            p[who].count += f->count;
            p[who].sum += f->sum;
            p[who].fingerprint += f->fingerprint;
            if (f->next > p[who].next)
                p[who].next = f->next;
            if (f->repeated && !p[who].repeated)
                p[who].first_repeated = f->first_repeated;
            p[who].repeated += f->repeated;
            out->dequeued += f->count;
            NOTE_N(out_of_order, f->out_of_order, f->first_out_of_order);
        }
    }
    for (uint64_t j = 0; j < n_remaining; j++) {
        uint64_t v = remaining[j], who = v >> 40, k = v & SEQ_MASK;
        out->remaining++;
        if (who > (uint64_t)n) {
            NOTE(unknown, v);
            continue;
        }
        struct producer_total *q = &p[who];
        q->count++;
        q->sum += k;
        q->fingerprint += value_mix(k);
        /* FIFO: a value still queued was enqueued after every one of its
         * producer's values that came out, and the queue keeps their order. */
        if (k < q->next || k < q->next_remaining)
            NOTE(out_of_order, v);
        if (k + 1 > q->next_remaining)
            q->next_remaining = k + 1;
    }
    for (int i = 0; i <= n; i++) {
        uint64_t enqueued = i < n ? res->enqueues[i] : prefill;
        out->enqueued += enqueued;
        if (p[i].next_remaining > p[i].next)
            p[i].next = p[i].next_remaining;
        check_producer(&p[i], i, enqueued, out);
    }
    return 0;
}
#undef NOTE
#undef NOTE_N

static int bit_test_set(uint64_t *bits, uint64_t i)
{
    uint64_t m = UINT64_C(1) << (i & 63);
    int was = (bits[i >> 6] & m) != 0;
    bits[i >> 6] |= m;
    return was;
}

void lfs_run_audit_pool(lfs_run_t *r, lfs_pool_audit_t *out)
{
    memset(out, 0, sizeof *out);
    uint32_t cap = lfs_run_capacity(r);
    const uint8_t *state = lfs_run_slot_states(r);
    out->capacity = cap;
    for (uint32_t i = 0; i < cap; i++) {
        switch (state[i]) {
        case LFS_SLOT_FREE: out->free++; break;
        case LFS_SLOT_LIVE: out->live++; break;
        case LFS_SLOT_RETIRED: out->retired++; break;
        default: out->other++; break;
        }
    }
    uint32_t listed;
    const uint32_t *list = lfs_run_free_list(r, &listed);
    out->free_listed = listed;
    uint64_t *seen = calloc(cap / 64 + 1, sizeof(uint64_t));
    for (uint32_t j = 0; j < listed; j++) {
        uint32_t s = list[j];
        if (s >= cap || state[s] != LFS_SLOT_FREE || (seen && bit_test_set(seen, s)))
            out->free_list_bad++;
    }
    free(seen);
    for (int i = 0; i < lfs_run_threads(r); i++)
        out->retired_listed += lfs_run_retired_count(r, i);
}
