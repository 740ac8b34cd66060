/*
 * treiber.h — what the Treiber stack variants share: the node layout,
 * the per-thread configuration and the descriptor pieces. Like the queue
 * (structures/msqueue/msqueue.h), the algorithms are NOT shared: each variant's push and
 * pop is its own function in its own file (treiber_<variant>.c).
 *
 * This family is the worked example of docs/structures.md: it uses nothing
 * but the public header (lfstress.h) and the hazard-pointer helpers
 * (reclaim_hazard.h), exactly what a structure outside lfstress may use.
 *
 * References: R. K. Treiber, "Systems Programming: Coping with Parallelism",
 * IBM Research Report RJ 5118, 1986 (the stack: push and pop are one CAS on
 * `top`); M. M. Michael, "Hazard Pointers: Safe Memory Reclamation for
 * Lock-Free Objects", IEEE TPDS 15(6), 2004 (the stack is one of its worked
 * examples, and its section 1 tells the ABA story told here).
 *
 * The algorithm. top -> n1 -> n2 -> ... -> null.
 *   push(v):  n = alloc; n.value = v; do { t = top; n.next = t; }
 *             while (!CAS(top, t, n))
 *   pop():    do { t = top; if (!t) return EMPTY; next = t.next; v = t.value; }
 *             while (!CAS(top, t, next)); give t back; return v
 * The value is read before the CAS (as the queue does): after the CAS the
 * node is ours, but reading first keeps the window between "read t" and
 * "CAS t" as the only place where another thread can interfere.
 *
 * The ABA (Michael 2004, section 1). Stack A -> B -> C. T0 pops: reads
 * t = A, next = B, v = A.value, and is preempted before its CAS. T1 pops A
 * and B (both freed), then pushes twice: the LIFO pool hands out B's slot,
 * then A's, so the stack is A' -> B' -> C with A' at A's address. T0's
 * CAS(top, A, B) compares addresses only and succeeds: top = B', the value
 * pushed into A' is lost and T0 returns A's old value, which T1 already
 * popped. (With reuse = fifo the recycled A comes first and top then points
 * to the freed B: a dangling top.)
 *
 * Synchronisation table — which variant survives which interleaving:
 *
 *   variant  refs     reclamation     pop ABA     push ABA    stale read
 *   -------  -------  --------------  ----------  ----------  ----------
 *   naive    pointer  free at once    UNSAFE (1)  benign (2)  benign (3)
 *   tagged   index+   free at once    safe (4)    safe (4)    benign (3)
 *            tag
 *   hazard   pointer  Michael 2004    safe (5)    benign (2)  none (5)
 *
 *   (1) the story above: CAS(top, A, B) succeeds on A's reincarnation and
 *       installs a `next` read from A's previous life.
 *   (2) push's CAS(top, t, n) against a reincarnated t is harmless: push
 *       never read t's words, so nothing from t's earlier life flows into
 *       what it writes (n.next is t, and t is top). lfstress notes it in
 *       the trace as a benign ABA, not a violation.
 *   (3) pop may read next/value of a node freed since it read top; under
 *       type-stable memory the read is benign: the CAS that would act on it
 *       fails (naive: unless the slot was reincarnated, which is (1)).
 *   (4) top is (slot + 1, tag) and every successful CAS on it bumps the tag
 *       (option tag_bits, 1..32 bits): a CAS prepared before a pop/push
 *       fails — unless exactly 2^tag_bits CASes wrapped the tag around
 *       (tag_bits = 1 makes that reachable: pop, pop, push, push).
 *   (5) pop protects t with a hazard pointer before reading it, so t
 *       cannot be freed (let alone reused) until the CAS is done; no thread
 *       ever reads or writes a freed node. push, as in Michael 2004, needs
 *       no hazard: its ABA is benign (2).
 *
 * Memory orders (every variant; reclaim/hazard.c has the hazards' own):
 *   load top              ACQUIRE  the node read through it was initialised
 *                                  by its pusher before the push CAS.
 *   load t->next/value    RELAXED  written before t was published, ordered
 *                                  after the ACQUIRE load of top.
 *   CAS top (push)        RELEASE  publishes the new node's init stores.
 *   CAS top (pop)         RELEASE  passes on to the next popper what we
 *                                  acquired of `next` (it is top now).
 *   init stores           (none)   the node is private until the push CAS.
 */
#ifndef LFS_TREIBER_COMMON_H
#define LFS_TREIBER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "lfstress.h"

/* A stack node: two words, in this order ("next", "value"). */
typedef struct treiber_node {
    lfs_word_t next;   /* LFS_LINK: the node below, or null */
    lfs_word_t value;  /* LFS_DATA: the pushed 64-bit value */
} treiber_node_t;

_Static_assert(sizeof(treiber_node_t) == 2 * sizeof(lfs_word_t),
               "treiber_node_t must be exactly the two words the descriptor declares");
_Static_assert(offsetof(treiber_node_t, value) == sizeof(lfs_word_t),
               "field order must match TREIBER_NODE_FIELDS");

/* Pointer encoding (naive, hazard). */
static inline treiber_node_t *treiber_ptr(lfs_word_t w) { return (treiber_node_t *)(uintptr_t)w; }
static inline lfs_word_t treiber_word(const treiber_node_t *n) { return (lfs_word_t)(uintptr_t)n; }

/* top alone on its cache line: the free-running benchmarks measure the CAS,
 * not false sharing with whatever follows. The padding is never touched. */
#define TREIBER_TOP                                                         \
    lfs_word_t top;                                                         \
    lfs_word_t pad_top_[7]

/* Per-thread configuration, copied from the options by thread_init (options
 * are private, read-only data: they stay off the instrumented state). */
typedef struct treiber_local {
    int64_t threshold;    /* hazard: hp_threshold */
    lfs_word_t tag_mask;  /* tagged: (1 << tag_bits) - 1 */
} treiber_local_t;

/* The chain runs from top through next; top points at the newest element. */
#define TREIBER_NODE_FIELDS                                                 \
    .node_words = 2,                                                        \
    .fields = { { "next", LFS_LINK, LFS_FIELD_NEXT },                       \
                { "value", LFS_DATA, LFS_FIELD_VALUE } },                   \
    .chain_start = LFS_CHAIN_ELEMENT

#define TREIBER_TOP_ROOT(type)                                              \
    { "top", offsetof(type, top), 1, LFS_LINK, LFS_ROOT_ENTRY }

#define TREIBER_OPS(push_fn, pop_fn)                                        \
    .n_ops = 2,                                                             \
    .ops = { { "push", true, false, (push_fn), LFS_OP_INSERT },             \
             { "pop", false, true, (pop_fn), LFS_OP_REMOVE } }

#endif /* LFS_TREIBER_COMMON_H */
