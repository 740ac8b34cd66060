/*
 * peers.c — the benchmark's peers: queues from the best-known C libraries,
 * behind the same lfs_bench_target_t as our structures, measured in the same
 * run by the same driver (bench.c).
 *
 *   ck_fifo_mpmc   Concurrency Kit: MS96 with <pointer, generation> pairs
 *                  and a double-width CAS, over type-stable memory — the
 *                  peer of our `tagged`.
 *   ck_hp_fifo     Concurrency Kit: MS96 with ck_hp hazard pointers — the
 *                  peer of our `hazard`.
 *   urcu_lfq       liburcu: the RCU lock-free queue (urcu/rculfqueue.h,
 *                  memb flavour), dequeued nodes freed by call_rcu — the
 *                  nearest peer of our `epoch` (quiescent-state reclamation).
 *
 * Built only when libck-dev and/or liburcu-dev are installed, by
 * stress/bench/peers.py at run time (-DLFS_PEERS_CK, -DLFS_PEERS_URCU say
 * which headers it found); `pip install` never needs them.
 *
 * Nodes come from a pool built like ours (freerun.c): a fixed array, a
 * mutex-protected free stack, and a per-thread cache moving CACHE_BATCH
 * nodes at a time — so that allocation costs the same on both sides and the
 * figures compare the algorithms and their reclamation. ck_fifo_mpmc needs
 * type-stable memory (a dequeuer may read `next` of a recycled entry; the
 * generation makes its CAS fail), which the pool gives: nodes are never
 * unmapped during a run.
 */
#define _GNU_SOURCE
#define _LGPL_SOURCE  /* liburcu: the inline (static) fast paths */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "freerun/bench.h"

#ifdef LFS_PEERS_CK
#include <ck_fifo.h>
#include <ck_hp.h>
#include <ck_hp_fifo.h>
#include <ck_pr.h>
#ifndef CK_F_FIFO_MPMC
#error "ck_fifo_mpmc needs a double-width CAS (compile with -mcx16)"
#endif
#endif
#ifdef LFS_PEERS_URCU
#include <urcu/urcu-memb.h>
#include <urcu/rculfqueue.h>
#endif

#define CACHE_SIZE 64
#define CACHE_BATCH 32

enum peer_kind { PEER_CK_FIFO_MPMC = 0, PEER_CK_HP_FIFO = 1, PEER_URCU_LFQ = 2 };

#ifdef LFS_PEERS_URCU
struct urcu_node {
    lfs_word_t value;
    struct cds_lfq_node_rcu lfq;
    struct rcu_head rcu;
};
#endif

struct cache {
    uint32_t n;
    void *node[CACHE_SIZE];
};

struct peer_local {
    struct peer *peer;
    int tid;
    struct cache cache;
#ifdef LFS_PEERS_CK
    ck_hp_record_t record;
    void *hazards[2];
#endif
    uint64_t retired;     /* urcu: nodes handed to call_rcu by this thread */
} __attribute__((aligned(128)));

struct peer {
    lfs_bench_target_t t;
    int kind;
    int nthreads;
    uint32_t hp_threshold;
    /* the pool */
    size_t node_size;
    uint32_t capacity;
    unsigned char *mem;
    pthread_mutex_t lock;
    void **stack;
    uint32_t count;
    /* the queues, each on its own cache lines */
#ifdef LFS_PEERS_CK
    ck_fifo_mpmc_t mpmc __attribute__((aligned(128)));
    ck_hp_fifo_t hpf __attribute__((aligned(128)));
    ck_hp_t hp __attribute__((aligned(128)));
#endif
#ifdef LFS_PEERS_URCU
    struct cds_lfq_queue_rcu lfq __attribute__((aligned(128)));
#endif
    uint64_t freed __attribute__((aligned(128))); /* urcu: callbacks run */
    int lfq_live;
    struct peer_local local[LFS_MAX_THREADS];
};

/* Initial-exec for our own variable only: a global -ftls-model=initial-exec
 * would also apply to liburcu's reader state that its inline read-side
 * functions touch, and dlopen then refuses liburcu ("cannot allocate memory
 * in static TLS block"). */
static __thread struct peer_local *cur_local __attribute__((tls_model("initial-exec")));

/* ---- the pool ---- */

static void *pool_alloc(struct peer *p, struct cache *c)
{
    if (c->n == 0) {
        /* In the shared stack's pop order (see native/freerun/freerun.c). */
        pthread_mutex_lock(&p->lock);
        c->n = p->count < CACHE_BATCH ? p->count : CACHE_BATCH;
        for (uint32_t i = c->n; i > 0; i--)
            c->node[i - 1] = p->stack[--p->count];
        pthread_mutex_unlock(&p->lock);
        if (c->n == 0)
            return NULL;
    }
    return c->node[--c->n];
}

static __attribute__((unused)) void pool_free(struct peer *p, void *node)
{
    struct peer_local *l = cur_local;
    if (p == NULL) /* a destructor outside any run: the next reset takes it back */
        return;
    if (l == NULL || l->peer != p) { /* a call_rcu thread, or the main thread */
        pthread_mutex_lock(&p->lock);
        p->stack[p->count++] = node;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    struct cache *c = &l->cache;
    if (c->n == CACHE_SIZE) {
        pthread_mutex_lock(&p->lock);
        while (c->n > CACHE_SIZE - CACHE_BATCH)
            p->stack[p->count++] = c->node[--c->n];
        pthread_mutex_unlock(&p->lock);
    }
    c->node[c->n++] = node;
}

static void pool_reset(struct peer *p)
{
    for (uint32_t i = 0; i < p->capacity; i++)
        p->stack[i] = p->mem + (size_t)(p->capacity - 1 - i) * p->node_size;
    p->count = p->capacity;
    for (int i = 0; i < LFS_MAX_THREADS; i++)
        p->local[i].cache.n = 0;
}

#ifdef LFS_PEERS_CK
/* ---- ck_fifo_mpmc ---- */

static int mpmc_enqueue(void *shared, void *local, lfs_word_t v, lfs_word_t *out)
{
    struct peer_local *l = local;
    ck_fifo_mpmc_entry_t *e = pool_alloc(l->peer, &l->cache);
    if (!e)
        return LFS_NOMEM;
    ck_fifo_mpmc_enqueue(shared, e, (void *)(uintptr_t)v);
    return LFS_OK;
}

static int mpmc_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *out)
{
    struct peer_local *l = local;
    ck_fifo_mpmc_entry_t *garbage;
    void *v;
    if (!ck_fifo_mpmc_dequeue(shared, &v, &garbage))
        return LFS_EMPTY;
    *out = (lfs_word_t)(uintptr_t)v;
    pool_free(l->peer, garbage); /* type-stable: reusable at once */
    return LFS_OK;
}

/* ---- ck_hp_fifo ---- */

static void hp_destroy(void *node)
{
    pool_free(cur_local ? cur_local->peer : NULL, node);
}

static int hpf_enqueue(void *shared, void *local, lfs_word_t v, lfs_word_t *out)
{
    struct peer_local *l = local;
    ck_hp_fifo_entry_t *e = pool_alloc(l->peer, &l->cache);
    if (!e)
        return LFS_NOMEM;
    ck_hp_fifo_enqueue_mpmc(&l->record, shared, e, (void *)(uintptr_t)v);
    return LFS_OK;
}

static int hpf_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *out)
{
    struct peer_local *l = local;
    void *v;
    ck_hp_fifo_entry_t *garbage = ck_hp_fifo_dequeue_mpmc(&l->record, shared, &v);
    if (!garbage)
        return LFS_EMPTY;
    *out = (lfs_word_t)(uintptr_t)v;
    ck_hp_free(&l->record, &garbage->hazard, garbage, garbage);
    return LFS_OK;
}

#endif /* LFS_PEERS_CK */

#ifdef LFS_PEERS_URCU
/* ---- liburcu rculfqueue ---- */

static void urcu_free_cb(struct rcu_head *head)
{
    struct urcu_node *n = caa_container_of(head, struct urcu_node, rcu);
    struct peer *p = (struct peer *)(uintptr_t)n->value; /* set at dequeue */
    pool_free(p, n);
    uatomic_inc(&p->freed); /* only call_rcu threads write it */
}

static int lfq_enqueue(void *shared, void *local, lfs_word_t v, lfs_word_t *out)
{
    struct peer_local *l = local;
    struct urcu_node *n = pool_alloc(l->peer, &l->cache);
    if (!n)
        return LFS_NOMEM;
    n->value = v;
    cds_lfq_node_init_rcu(&n->lfq);
    urcu_memb_read_lock();
    cds_lfq_enqueue_rcu(shared, &n->lfq);
    urcu_memb_read_unlock();
    return LFS_OK;
}

static int lfq_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *out)
{
    struct peer_local *l = local;
    urcu_memb_read_lock();
    struct cds_lfq_node_rcu *q = cds_lfq_dequeue_rcu(shared);
    urcu_memb_read_unlock();
    if (!q)
        return LFS_EMPTY;
    struct urcu_node *n = caa_container_of(q, struct urcu_node, lfq);
    *out = n->value;
    n->value = (lfs_word_t)(uintptr_t)l->peer; /* for the callback: whose pool */
    __atomic_store_n(&l->retired, l->retired + 1, __ATOMIC_RELAXED);
    urcu_memb_call_rcu(&n->rcu, urcu_free_cb);
    return LFS_OK;
}

#endif /* LFS_PEERS_URCU */

/* ---- the target ---- */

static void *peer_shared(void *ctx)
{
    struct peer *p = ctx;
    switch (p->kind) {
#ifdef LFS_PEERS_CK
    case PEER_CK_FIFO_MPMC: return &p->mpmc;
    case PEER_CK_HP_FIFO: return &p->hpf;
#endif
#ifdef LFS_PEERS_URCU
    case PEER_URCU_LFQ: return &p->lfq;
#endif
    default: return NULL;
    }
}

#ifdef LFS_PEERS_URCU
static void lfq_drain(struct peer *p)
{
    /* Leave nothing behind: our nodes go back with the pool reset, the
     * queue's own dummy is freed by destroy (which wants an empty queue). */
    urcu_memb_register_thread();
    if (p->lfq_live) {
        for (;;) {
            urcu_memb_read_lock();
            struct cds_lfq_node_rcu *q = cds_lfq_dequeue_rcu(&p->lfq);
            urcu_memb_read_unlock();
            if (!q)
                break;
        }
        cds_lfq_destroy_rcu(&p->lfq);
        p->lfq_live = 0;
    }
    urcu_memb_barrier(); /* every callback of the last run has run */
    urcu_memb_unregister_thread();
}
#endif /* LFS_PEERS_URCU */

static int peer_reset(void *ctx, int nthreads)
{
    struct peer *p = ctx;
#ifdef LFS_PEERS_URCU
    if (p->kind == PEER_URCU_LFQ)
        lfq_drain(p);
#endif
    p->nthreads = nthreads;
    memset(p->local, 0, sizeof p->local);
    for (int i = 0; i < LFS_MAX_THREADS; i++) {
        p->local[i].peer = p;
        p->local[i].tid = i;
    }
    pool_reset(p);
    struct cache setup = { 0 };
    void *stub = pool_alloc(p, &setup);
    switch (p->kind) {
#ifdef LFS_PEERS_CK
    case PEER_CK_FIFO_MPMC:
        ck_fifo_mpmc_init(&p->mpmc, stub);
        break;
    case PEER_CK_HP_FIFO:
        ck_hp_init(&p->hp, 2, p->hp_threshold, hp_destroy);
        ck_hp_fifo_init(&p->hpf, stub);
        for (int i = 0; i < nthreads; i++)
            ck_hp_register(&p->hp, &p->local[i].record, p->local[i].hazards);
        break;
#endif
#ifdef LFS_PEERS_URCU
    case PEER_URCU_LFQ:
        cds_lfq_init_rcu(&p->lfq, urcu_memb_call_rcu);
        p->lfq_live = 1;
        __atomic_store_n(&p->freed, 0, __ATOMIC_RELAXED);
        break;
#endif
    default:
        break;
    }
    while (setup.n) /* the stub's batch-mates go back */
        p->stack[p->count++] = setup.node[--setup.n];
    if (p->kind == PEER_URCU_LFQ) /* the lfq makes its own dummy: the stub goes back too */
        p->stack[p->count++] = stub;
    return 0;
}

static void *peer_thread_begin(void *ctx, int tid)
{
    struct peer *p = ctx;
    struct peer_local *l = &p->local[tid];
    cur_local = l;
#ifdef LFS_PEERS_URCU
    if (p->kind == PEER_URCU_LFQ)
        urcu_memb_register_thread();
#endif
    return l;
}

static void peer_thread_end(void *ctx, int tid)
{
    struct peer *p = ctx;
#ifdef LFS_PEERS_URCU
    if (p->kind == PEER_URCU_LFQ)
        urcu_memb_unregister_thread();
#endif
    (void)p;
    cur_local = NULL;
}

static uint64_t peer_unreclaimed(void *ctx)
{
    struct peer *p = ctx;
    uint64_t n = 0;
    switch (p->kind) {
#ifdef LFS_PEERS_CK
    case PEER_CK_HP_FIFO:
        for (int i = 0; i < p->nthreads; i++)
            n += ck_pr_load_uint(&p->local[i].record.n_pending);
        return n;
#endif
    case PEER_URCU_LFQ: {
        for (int i = 0; i < p->nthreads; i++)
            n += __atomic_load_n(&p->local[i].retired, __ATOMIC_RELAXED);
        uint64_t freed = __atomic_load_n(&p->freed, __ATOMIC_RELAXED);
        return n > freed ? n - freed : 0;
    }
    default:
        return 0; /* garbage goes straight back to the pool */
    }
}

static uint64_t peer_pool_used(void *ctx)
{
    struct peer *p = ctx;
    uint64_t free_nodes = __atomic_load_n(&p->count, __ATOMIC_RELAXED);
    for (int i = 0; i < p->nthreads; i++)
        free_nodes += __atomic_load_n(&p->local[i].cache.n, __ATOMIC_RELAXED);
    return p->capacity - free_nodes;
}

static int peer_stall(void *ctx, int tid)
{
    struct peer *p = ctx;
    struct peer_local *l = &p->local[tid];
    (void)l;
    switch (p->kind) {
#ifdef LFS_PEERS_CK
    case PEER_CK_HP_FIFO: /* what a dequeuer holds right after reading head */
        ck_hp_set_fence(&l->record, 0, ck_pr_load_ptr(&p->hpf.head));
        return 0;
#endif
#ifdef LFS_PEERS_URCU
    case PEER_URCU_LFQ:
        urcu_memb_read_lock();
        return 0;
#endif
    default:
        return -1; /* no reclamation to hold up */
    }
}

static void peer_unstall(void *ctx, int tid)
{
    struct peer *p = ctx;
#ifdef LFS_PEERS_CK
    if (p->kind == PEER_CK_HP_FIFO)
        ck_hp_clear(&p->local[tid].record);
#endif
#ifdef LFS_PEERS_URCU
    if (p->kind == PEER_URCU_LFQ)
        urcu_memb_read_unlock();
#endif
    (void)p;
}

static const char *const peer_names[] = { "ck_fifo_mpmc", "ck_hp_fifo", "urcu_lfq" };

static bool compiled_in(int kind)
{
#ifdef LFS_PEERS_CK
    if (kind == PEER_CK_FIFO_MPMC || kind == PEER_CK_HP_FIFO)
        return true;
#endif
#ifdef LFS_PEERS_URCU
    if (kind == PEER_URCU_LFQ)
        return true;
#endif
    return false;
}

/* The i-th peer compiled into this module, or NULL past the last. */
const char *lfs_peer_name(int i)
{
    for (int k = 0; k < 3; k++)
        if (compiled_in(k) && i-- == 0)
            return peer_names[k];
    return NULL;
}

lfs_bench_target_t *lfs_peer_new(const char *name, uint32_t capacity, uint32_t hp_threshold)
{
    int kind = -1;
    for (int i = 0; i < 3; i++)
        if (compiled_in(i) && strcmp(name, peer_names[i]) == 0)
            kind = i;
    if (kind < 0 || capacity < 2)
        return NULL;
    struct peer *p;
    if (posix_memalign((void **)&p, 128, sizeof *p) != 0)
        return NULL;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->hp_threshold = hp_threshold ? hp_threshold : 1;
    size_t size = 0;
    lfs_op_fn enqueue = NULL, dequeue = NULL;
    switch (kind) {
#ifdef LFS_PEERS_CK
    case PEER_CK_FIFO_MPMC:
        size = sizeof(ck_fifo_mpmc_entry_t), enqueue = mpmc_enqueue, dequeue = mpmc_dequeue;
        break;
    case PEER_CK_HP_FIFO:
        size = sizeof(ck_hp_fifo_entry_t), enqueue = hpf_enqueue, dequeue = hpf_dequeue;
        break;
#endif
#ifdef LFS_PEERS_URCU
    case PEER_URCU_LFQ:
        size = sizeof(struct urcu_node), enqueue = lfq_enqueue, dequeue = lfq_dequeue;
        break;
#endif
    }
    p->node_size = (size + 15) & ~(size_t)15; /* ck_fifo_mpmc: 16-byte CAS alignment */
    p->capacity = capacity;
    if (posix_memalign((void **)&p->mem, 64, p->node_size * capacity) != 0)
        p->mem = NULL;
    p->stack = malloc(sizeof(void *) * capacity);
    if (!p->mem || !p->stack) {
        free(p->mem);
        free(p->stack);
        free(p);
        return NULL;
    }
    memset(p->mem, 0, p->node_size * capacity); /* touch every page now, not mid-run */
    pthread_mutex_init(&p->lock, NULL);
    p->t = (lfs_bench_target_t){
        .ctx = p,
        .reset = peer_reset,
        .shared = peer_shared,
        .thread_begin = peer_thread_begin,
        .thread_end = peer_thread_end,
        .enqueue = enqueue,
        .dequeue = dequeue,
        .unreclaimed = peer_unreclaimed,
        .pool_used = peer_pool_used,
        .stall = peer_stall,
        .unstall = peer_unstall,
    };
    return &p->t;
}

void lfs_peer_delete(lfs_bench_target_t *t)
{
    if (!t)
        return;
    struct peer *p = t->ctx;
#ifdef LFS_PEERS_URCU
    if (p->kind == PEER_URCU_LFQ)
        lfq_drain(p);
#endif
    free(p->mem);
    free(p->stack);
    free(p);
}
