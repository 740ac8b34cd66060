/*
 * msqueue.h — what the Michael–Scott queue variants share: the node
 * layout, the per-thread configuration, and the descriptor pieces every
 * variant declares the same way (fields, ops, the "cleanup" option).
 *
 * The algorithms themselves are NOT shared: each reclamation scheme's
 * enqueue/dequeue is its own function in its own file (msqueue_<variant>.c),
 * so each can be read, stepped and diffed against the paper on its own.
 *
 * Reference: M. M. Michael and M. L. Scott, "Simple, Fast, and Practical
 * Non-Blocking and Blocking Concurrent Queue Algorithms", PODC 1996.
 *
 * Synchronisation table
 * ---------------------
 * Which variant survives which interleaving (cleanup = 0 unless noted).
 * "reuse" = a dequeued node is freed and handed out again while another
 * thread still holds its address; "deferred" = option cleanup = 1, the
 * dequeuer clears old->next AFTER giving the old head back.
 *
 *   variant  refs     reclamation     reuse ABA   stale read  deferred cleanup
 *   -------  -------  --------------  ----------  ----------  -----------------------
 *   naive    pointer  free at once    UNSAFE (1)  benign (2)  UNSAFE: severs (3)
 *   leaky    pointer  never           safe        n/a         UNSAFE: lost enq (4)
 *   tagged   index+   free at once    safe (5)    benign (2)  UNSAFE: severs (3)
 *            tag
 *   hazard   pointer  Michael 2004    safe (6)    none        UNSAFE: lost enq (4)
 *   epoch    pointer  Fraser 2004     safe (7)    none        UNSAFE: lost enq (4)
 *   locked   pointer  free at once    safe (8)    none        UNSAFE: severs (3)
 *
 *   (1) a dequeuer holding head = A sleeps; A is dequeued, freed, reallocated
 *       and enqueued again; the sleeper's CAS(head, A, next) succeeds with a
 *       stale `next` — the classic ABA. Same for tail and A->next.
 *   (2) the dequeuer reads next->value before its head CAS; if next was freed
 *       meanwhile the read is stale but the CAS then fails (type-stable pool).
 *   (3) the essay's bug: between "give back A" and "A->next = null" the
 *       slot is reallocated as E and linked; the late store cuts E off.
 *       Tags do not help: the store is a plain store, not a tagged CAS.
 *   (4) MS96's enqueue relies on a node's next never returning to null once
 *       set: an enqueuer that read tail = A, A->next = null, then sleeps,
 *       later CASes the *cleared* A->next and links its node to a dequeued
 *       node. No reuse is needed; protecting A does not help. (Tagged
 *       survives this one: the cleanup keeps the tag the link CAS bumped.)
 *   (5) every successful CAS on head/tail/next bumps a tag of "tag_bits"
 *       bits; a stale CAS fails unless the tag wrapped exactly — small
 *       tag_bits make wrap-around ABA reachable on purpose.
 *   (6) a node is freed only when no thread's hazard names it; hazards are
 *       published, fenced and re-validated (mutants 1-3 break this).
 *   (7) a node retired at epoch e is freed only when the global epoch has
 *       reached e + 2, i.e. every thread active at e has left; one stalled
 *       thread inside enqueue/dequeue stops reclamation (garbage grows).
 *   (8) the head lock serialises dequeuers, the tail lock enqueuers; a
 *       freed node is unreachable from head and tail, and nobody holds it.
 *       A lock holder descheduled forever blocks everyone (not lock-free).
 */
#ifndef LFS_MSQUEUE_COMMON_H
#define LFS_MSQUEUE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "structures/builtin.h"
#include "lfstress.h"

/* A queue node: two words, in this order ("next", "value"). */
typedef struct msq_node {
    lfs_word_t next;   /* LFS_LINK: successor, or null */
    lfs_word_t value;  /* LFS_DATA: the enqueued 64-bit value */
} msq_node_t;

_Static_assert(sizeof(msq_node_t) == 2 * sizeof(lfs_word_t),
               "msq_node_t must be exactly the two words the descriptor declares");
_Static_assert(offsetof(msq_node_t, value) == sizeof(lfs_word_t),
               "field order must match MSQ_NODE_FIELDS");

/* Pointer encoding (every variant but tagged). */
static inline msq_node_t *msq_ptr(lfs_word_t w) { return (msq_node_t *)(uintptr_t)w; }
static inline lfs_word_t msq_word(const msq_node_t *n) { return (lfs_word_t)(uintptr_t)n; }

/* head and tail on separate cache lines, so the free-running benchmarks
 * measure the algorithm rather than false sharing between enqueuers and
 * dequeuers. The padding words are never touched. */
#define MSQ_HEAD_TAIL                                                       \
    lfs_word_t head;                                                        \
    lfs_word_t pad_head_[7];                                                \
    lfs_word_t tail;                                                        \
    lfs_word_t pad_tail_[7]

/* Per-thread configuration, copied from the options by thread_init: the ops
 * only receive (shared, local), and options are private, read-only data —
 * keeping them here keeps them off the shared, instrumented state. */
typedef struct msq_local {
    int64_t cleanup;      /* LFS_CLEANUP_IMMEDIATE / LFS_CLEANUP_DEFERRED */
    int64_t threshold;    /* hazard: hp_threshold; epoch: epoch_threshold */
    int64_t mutant;       /* hazard only: 0 = correct */
    lfs_word_t tag_mask;  /* tagged only: (1 << tag_bits) - 1 */
} msq_local_t;

static inline void msq_local_init_cleanup(msq_local_t *l, const lfs_options_t *opts)
{
    l->cleanup = lfs_option(opts, "cleanup");
    l->threshold = 0;
    l->mutant = 0;
    l->tag_mask = 0;
}

/* ------------------------------------------------------------------ */
/* The MS96 loops with plain pointers (naive, leaky, epoch)            */
/* ------------------------------------------------------------------ */
/*
 * These are exactly the paper's E1-E17 and D1-D18 minus allocation and
 * reclamation, shared by the variants whose only difference is what happens
 * to a dequeued node. Memory orders (see each variant's file for why its
 * scheme needs nothing more):
 *   load head/tail/next   ACQUIRE  the node reached through it was
 *                                  initialised before it was linked.
 *   re-check head/tail    RELAXED  compared, never dereferenced; it cannot
 *                                  move above the ACQUIRE load of next.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              caller's unlink_order (RELEASE, or SEQ_CST when a
 *                                  scheme must order the unlink before a
 *                                  later load).
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 */

/* A new node holding value with a null link, still private to the caller:
 * initialising stores, as nothing else can see it yet. NULL: the pool is
 * empty. */
static inline msq_node_t *msq_ptr_new_node(lfs_word_t value)
{
    msq_node_t *node = lfs_node_alloc();
    if (node != NULL) {
        lfs_init_store(&node->value, value);
        lfs_init_store(&node->next, LFS_REF_NULL);
    }
    return node;
}

/* An empty queue of plain pointers: head and tail at one dummy node. Runs in
 * a structure's init (setup mode, before any thread), so RELAXED suffices. */
static inline int msq_ptr_init(lfs_word_t *head_root, lfs_word_t *tail_root)
{
    msq_node_t *dummy = msq_ptr_new_node(0);
    if (dummy == NULL)
        return LFS_NOMEM;
    lfs_store(head_root, msq_word(dummy), LFS_RELAXED);
    lfs_store(tail_root, msq_word(dummy), LFS_RELAXED);
    return LFS_OK;
}

/* Link an initialised private node at the tail (MS96 enqueue loop + swing). */
static inline void msq_ptr_link(lfs_word_t *tail_root, msq_node_t *node)
{
    lfs_word_t tail;
    for (;;) {
        tail = lfs_load(tail_root, LFS_ACQUIRE);
        lfs_word_t next = lfs_load(&msq_ptr(tail)->next, LFS_ACQUIRE);
        if (lfs_load(tail_root, LFS_RELAXED) != tail)
            continue;
        if (next == LFS_REF_NULL) {
            lfs_word_t expected = LFS_REF_NULL;
            if (lfs_cas(&msq_ptr(tail)->next, &expected, msq_word(node), LFS_RELEASE))
                break;
        } else {
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(tail_root, &expected, next, LFS_RELEASE);
        }
    }
    lfs_word_t expected = tail; /* may fail: somebody helped already */
    lfs_cas(tail_root, &expected, msq_word(node), LFS_RELEASE);
}

/* One MS96 dequeue, without giving anything back: LFS_OK with the unlinked
 * old head (the former dummy) in *old_head and the value in *value, or
 * LFS_EMPTY. */
static inline int msq_ptr_unlink(lfs_word_t *head_root, lfs_word_t *tail_root,
                                 lfs_order_t unlink_order, msq_node_t **old_head,
                                 lfs_word_t *value)
{
    for (;;) {
        lfs_word_t head = lfs_load(head_root, LFS_ACQUIRE);
        lfs_word_t tail = lfs_load(tail_root, LFS_ACQUIRE);
        lfs_word_t next = lfs_load(&msq_ptr(head)->next, LFS_ACQUIRE);
        if (lfs_load(head_root, LFS_RELAXED) != head)
            continue;
        if (head == tail) {
            if (next == LFS_REF_NULL)
                return LFS_EMPTY;
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(tail_root, &expected, next, LFS_RELEASE);
            continue;
        }
        /* MS96 proves next != null here; only a snapshot torn by ABA or by
         * a deferred cleanup gets one, and following it would crash the
         * harness instead of letting it report the bug. */
        if (next == LFS_REF_NULL)
            continue;
        lfs_word_t v = lfs_load(&msq_ptr(next)->value, LFS_RELAXED);
        lfs_word_t expected = head;
        if (lfs_cas(head_root, &expected, next, unlink_order)) {
            *old_head = msq_ptr(head);
            *value = v;
            return LFS_OK;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Descriptor pieces                                                   */
/* ------------------------------------------------------------------ */

/* The chain runs from head through next to tail; head points at the
 * dummy, the element before the first one. */
#define MSQ_NODE_FIELDS                                                     \
    .node_words = 2,                                                        \
    .fields = { { "next", LFS_LINK, LFS_FIELD_NEXT },                       \
                { "value", LFS_DATA, LFS_FIELD_VALUE } },                   \
    .chain_start = LFS_CHAIN_SENTINEL

#define MSQ_ROOT(type, member, kind, role)                                  \
    { #member, offsetof(type, member), 1, (kind), (role) }
#define MSQ_HEAD_TAIL_ROOTS(type)                                           \
    MSQ_ROOT(type, head, LFS_LINK, LFS_ROOT_ENTRY),                         \
    MSQ_ROOT(type, tail, LFS_LINK, LFS_ROOT_EXIT)

#define MSQ_OPS(enqueue_fn, dequeue_fn)                                     \
    .n_ops = 2,                                                             \
    .ops = { { "enqueue", true, false, (enqueue_fn), LFS_OP_INSERT },       \
             { "dequeue", false, true, (dequeue_fn), LFS_OP_REMOVE } }

#define MSQ_OPTION_CLEANUP                                                  \
    { "cleanup", LFS_CLEANUP_IMMEDIATE, LFS_CLEANUP_DEFERRED,               \
      LFS_CLEANUP_IMMEDIATE,                                                \
      "0: standard MS96; 1: the dequeuer gives the old head back, THEN "    \
      "clears its next (the essay's deferred cleanup)" }

#endif /* LFS_MSQUEUE_COMMON_H */
