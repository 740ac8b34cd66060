/*
 * primitives.c — testonly/primitives: one structure that calls every
 * primitive of lfstress.h, with every memory order, from deep call frames
 * with large locals, and checks its own results. Not for users.
 *
 * Why it exists. The built-in structures use load, store and CAS; a user's
 * code may use any primitive, and a primitive that none of them calls can be
 * broken in either build without a single test noticing (a fiber stack
 * entered off the ABI's 16-byte alignment faults only in code that spills
 * SSE registers, as exchange and fetch-add do). So each `run` walks down
 * `depth` frames (option, default 5), each holding 4 KiB of doubles that the
 * compiler fills with aligned vector stores and that must still add up after
 * the frames below have been switched out and in; in each frame it uses
 * store, load, fetch-add, exchange, CAS and a fence with the frame's memory
 * order, so that a run of depth 5 or more uses each of them with all five
 * orders. At the bottom it takes a ticket lock (fetch-add, load,
 * wait_while), increments a word with plain load and store inside it, and
 * hands a node over through an exchange of a link: alloc, init_store,
 * node_at/node_index/node_size, retire and reclaim (or reclaim_oldest) of
 * the node it took back, and alloc + free of a scratch node.
 *
 * What it checks. Every invariant below holds under any interleaving and, on
 * real threads, under any memory order the frames use (the lock and the
 * node hand-over carry their own orders); a broken one calls abort(), which
 * the stepped engine reports as a "crash" violation and the free-running
 * child as a crash, so every search and run counts it:
 *   - a thread reads back its own store (coherence), and a failed CAS hands
 *     back a value other than the one it expected;
 *   - the node a run takes out of `last` holds the check word its writer put
 *     there; reclaim frees exactly the retired list;
 *   - `guarded` equals the ticket of whoever holds the lock (mutual
 *     exclusion, FIFO hand-over);
 *   - `verify N`, given the number of runs in the execution, waits for them
 *     all (load + wait_while) and checks the totals: fetch-add and CAS
 *     counters = N x depth, tickets = N, and the tokens exchanged through
 *     `swap` are conserved (put in = given back + the one still there).
 * `run` returns how many runs finished before it: across an execution, a
 * permutation of 0..N-1.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lfstress.h"

#define PRIMITIVES_DEPTH_DEFAULT 5
#define PRIMITIVES_DEPTH_MAX 16
#define SCRATCH_DOUBLES 512 /* 4 KiB of locals per frame */

/* The orders a frame at depth d uses: ORDERS[d % N_ORDERS]. */
static const lfs_order_t ORDERS[] = { LFS_RELAXED, LFS_ACQUIRE, LFS_RELEASE, LFS_ACQ_REL,
                                      LFS_SEQ_CST };
#define N_ORDERS (sizeof ORDERS / sizeof ORDERS[0])

/* assert() is compiled out under NDEBUG; this never is. */
#define CHECK(cond)          \
    do {                     \
        if (!(cond))         \
            abort();         \
    } while (0)

enum { F_VALUE = 0, F_CHECK = 1, NODE_WORDS = 2 };

typedef struct primitives_shared {
    lfs_word_t adds;        /* fetch-add: one per frame */
    lfs_word_t cas_count;   /* CAS-increment loop: one per frame */
    lfs_word_t swap;        /* exchange: each frame puts a token in, takes one out */
    lfs_word_t next_ticket; /* ticket lock */
    lfs_word_t now_serving;
    lfs_word_t guarded;     /* plain load + store, under the lock */
    lfs_word_t finished;    /* runs completed */
    lfs_word_t last;        /* the node the latest run handed over */
    lfs_word_t own[LFS_MAX_THREADS];         /* written by its thread only */
    lfs_word_t swapped_in[LFS_MAX_THREADS];  /* per thread: sum of tokens put into swap */
    lfs_word_t swapped_out[LFS_MAX_THREADS]; /* per thread: sum of tokens taken out */
    lfs_word_t depth;       /* the option, set once by init (not a shared word of the algorithm) */
} primitives_shared_t;

typedef struct primitives_local {
    lfs_word_t serial;     /* frames this thread has run: makes its tokens unique */
    lfs_word_t swapped_in, swapped_out;
} primitives_local_t;

static int primitives_init(void *shared, const lfs_options_t *opts)
{
    primitives_shared_t *s = shared;
    s->depth = (lfs_word_t)lfs_option(opts, "depth");
    return LFS_OK;
}

/* Noinline, so the caller's array must exist in memory. */
static double __attribute__((noinline)) scratch_sum(const double *scratch)
{
    double sum = 0;
    for (int i = 0; i < SCRATCH_DOUBLES; i++)
        sum += scratch[i];
    return sum;
}

/* Store and load, fetch-add, exchange, CAS and a fence with order mo. */
static void exercise(primitives_shared_t *s, primitives_local_t *me, int tid, lfs_order_t mo)
{
    lfs_word_t stamp = ++me->serial;
    lfs_store(&s->own[tid], stamp, mo);
    CHECK(lfs_load(&s->own[tid], mo) == stamp);

    lfs_fetch_add(&s->adds, 1, mo);

    lfs_word_t token = ((lfs_word_t)(tid + 1) << 32) | stamp;
    me->swapped_in += token;
    me->swapped_out += lfs_exchange(&s->swap, token, mo);

    lfs_word_t seen = lfs_load(&s->cas_count, LFS_RELAXED);
    for (;;) {
        lfs_word_t expected = seen;
        if (lfs_cas(&s->cas_count, &expected, seen + 1, mo))
            break;
        CHECK(expected != seen);
        seen = expected;
        lfs_pause();
    }
    lfs_fence(mo);
}

static bool nothing_needed(void *node, lfs_word_t stamp, void *ctx)
{
    (void)node;
    (void)stamp;
    (void)ctx;
    return false;
}

/* The ticket lock, the plain increment under it, and the node hand-over. */
static int bottom(primitives_shared_t *s, primitives_local_t *me)
{
    /* Relaxed: the ticket only orders the waiters; the acquire below pairs
     * with the release that hands the lock over. */
    lfs_word_t ticket = lfs_fetch_add(&s->next_ticket, 1, LFS_RELAXED);
    for (;;) {
        lfs_word_t serving = lfs_load(&s->now_serving, LFS_ACQUIRE);
        if (serving == ticket)
            break;
        lfs_wait_while(&s->now_serving, serving);
    }
    lfs_word_t guarded = lfs_load(&s->guarded, LFS_RELAXED); /* ordered by the lock */
    CHECK(guarded == ticket);
    lfs_store(&s->guarded, guarded + 1, LFS_RELAXED);
    lfs_store(&s->now_serving, ticket + 1, LFS_RELEASE); /* publishes `guarded` */

    lfs_word_t *node = lfs_node_alloc();
    if (!node)
        return LFS_NOMEM;
    CHECK(lfs_node_at(lfs_node_index(node)) == node);
    CHECK(lfs_node_size() == NODE_WORDS * sizeof(lfs_word_t));
    lfs_init_store(&node[F_VALUE], me->serial);
    lfs_init_store(&node[F_CHECK], ~me->serial);
    /* acq_rel: release publishes the node's words, acquire sees the
     * previous node's. */
    lfs_word_t taken = lfs_exchange(&s->last, (lfs_word_t)(uintptr_t)node, LFS_ACQ_REL);
    if (taken != LFS_REF_NULL) {
        /* Taken out of `last`: no other thread can reach it any more. */
        lfs_word_t *prev = (lfs_word_t *)(uintptr_t)taken;
        lfs_word_t value = lfs_load(&prev[F_VALUE], LFS_RELAXED);
        CHECK(lfs_load(&prev[F_CHECK], LFS_RELAXED) == ~value);
        lfs_node_retire(prev, value);
        uint32_t retired = lfs_retired_count();
        CHECK(retired == 1);
        uint32_t freed = (me->serial & 1) ? lfs_reclaim(nothing_needed, NULL)
                                          : lfs_reclaim_oldest(nothing_needed, NULL);
        CHECK(freed == retired && lfs_retired_count() == 0);
    }
    lfs_word_t *scratch_node = lfs_node_alloc();
    if (!scratch_node)
        return LFS_NOMEM;
    lfs_init_store(&scratch_node[F_VALUE], me->serial);
    lfs_node_free(scratch_node);
    return LFS_OK;
}

/* One frame of the walk down: 4 KiB of doubles that must survive everything
 * below it. */
static int __attribute__((noinline)) frame(primitives_shared_t *s, primitives_local_t *me,
                                           int tid, lfs_word_t d)
{
    double scratch[SCRATCH_DOUBLES];
    for (int i = 0; i < SCRATCH_DOUBLES; i++)
        scratch[i] = (double)i * 0.5 + (double)d;
    /* sum of i/2 for i < 512, plus 512 d: exact in a double. */
    const double expected = 0.5 * (SCRATCH_DOUBLES - 1) * SCRATCH_DOUBLES / 2 +
                            (double)SCRATCH_DOUBLES * (double)d;
    CHECK(scratch_sum(scratch) == expected);

    exercise(s, me, tid, ORDERS[d % N_ORDERS]);
    int status = d + 1 < s->depth ? frame(s, me, tid, d + 1) : bottom(s, me);

    CHECK(scratch_sum(scratch) == expected);
    return status;
}

static int primitives_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    primitives_shared_t *s = shared;
    primitives_local_t *me = local;
    int tid = lfs_thread_id();
    CHECK(tid >= 0 && tid < lfs_thread_count());
    int status = frame(s, me, tid, 0);
    if (status != LFS_OK)
        return status;
    lfs_store(&s->swapped_in[tid], me->swapped_in, LFS_RELAXED);
    lfs_store(&s->swapped_out[tid], me->swapped_out, LFS_RELAXED);
    /* release: verify's acquire of `finished` sees every word above. */
    *result = lfs_fetch_add(&s->finished, 1, LFS_RELEASE);
    return LFS_OK;
}

static int primitives_verify(void *shared, void *local, lfs_word_t runs, lfs_word_t *result)
{
    primitives_shared_t *s = shared;
    for (;;) {
        lfs_word_t done = lfs_load(&s->finished, LFS_ACQUIRE);
        if (done == runs)
            break;
        CHECK(done < runs);
        lfs_wait_while(&s->finished, done);
    }
    lfs_word_t frames = runs * s->depth;
    CHECK(lfs_load(&s->adds, LFS_RELAXED) == frames);
    CHECK(lfs_load(&s->cas_count, LFS_RELAXED) == frames);
    CHECK(lfs_load(&s->next_ticket, LFS_RELAXED) == runs);
    CHECK(lfs_load(&s->now_serving, LFS_RELAXED) == runs);
    CHECK(lfs_load(&s->guarded, LFS_RELAXED) == runs);
    lfs_word_t put = 0, taken = lfs_load(&s->swap, LFS_RELAXED);
    for (int t = 0; t < lfs_thread_count(); t++) {
        put += lfs_load(&s->swapped_in[t], LFS_RELAXED);
        taken += lfs_load(&s->swapped_out[t], LFS_RELAXED);
    }
    CHECK(put == taken);
    *result = frames;
    return LFS_OK;
}

const lfs_structure_t lfs_testonly_primitives = {
    .family = "testonly",
    .variant = "primitives",
    .summary = "tests only: every primitive with every memory order, deep frames, large locals; self-checking",
    .spec = "none",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(primitives_shared_t),
    .local_size = sizeof(primitives_local_t),
    .node_words = NODE_WORDS,
    .fields = { { "value", LFS_DATA }, { "check", LFS_DATA } },
    .n_roots = 11,
    .roots = {
        { "adds", offsetof(primitives_shared_t, adds), 1, LFS_DATA },
        { "cas_count", offsetof(primitives_shared_t, cas_count), 1, LFS_DATA },
        { "swap", offsetof(primitives_shared_t, swap), 1, LFS_DATA },
        { "next_ticket", offsetof(primitives_shared_t, next_ticket), 1, LFS_DATA },
        { "now_serving", offsetof(primitives_shared_t, now_serving), 1, LFS_DATA },
        { "guarded", offsetof(primitives_shared_t, guarded), 1, LFS_DATA },
        { "finished", offsetof(primitives_shared_t, finished), 1, LFS_DATA },
        { "last", offsetof(primitives_shared_t, last), 1, LFS_LINK, LFS_ROOT_OTHER },
        { "own", offsetof(primitives_shared_t, own), LFS_MAX_THREADS, LFS_DATA },
        { "swapped_in", offsetof(primitives_shared_t, swapped_in), LFS_MAX_THREADS, LFS_DATA },
        { "swapped_out", offsetof(primitives_shared_t, swapped_out), LFS_MAX_THREADS, LFS_DATA },
    },
    .n_ops = 2,
    .ops = {
        { "run", false, true, primitives_run, LFS_OP_OTHER },
        { "verify", true, true, primitives_verify, LFS_OP_OTHER },
    },
    .n_options = 1,
    .options = { { "depth", 1, PRIMITIVES_DEPTH_MAX, PRIMITIVES_DEPTH_DEFAULT,
                   "frames each run walks down (each frame: 4 KiB of locals and one memory order)" } },
    .init = primitives_init,
    .thread_init = 0,
};
