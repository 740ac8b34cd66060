/*
 * memory_model.h — the memory-model seam of the stepped engine: what a load,
 * store, CAS, read-modify-write or fence *does to memory*, and nothing else.
 * The stepper (stepper.c) yields, resolves the address and records the event;
 * provenance (provenance.h) checks the pointers; every access to a shared
 * word goes through exactly one call below, in between.
 *
 * A model implements these functions for an execution ex and the virtual
 * thread t doing the access, and keeps whatever state it needs:
 *   lfs_mm_load     the value t reads at addr;
 *   lfs_mm_store    t writes value at addr;
 *   lfs_mm_cas      t compares addr with expected and, if equal, writes
 *                   desired, atomically; *seen: the value compared;
 *   lfs_mm_rmw      t replaces the value at addr with op(old, operand),
 *                   atomically; returns old, *written: the value written;
 *   lfs_mm_fence    t's fence;
 *   lfs_mm_peek     the value t would read at addr, without acting (a
 *                   blocked lfs_wait_while's enabling condition).
 * The order mo is the one the code under test declared.
 *
 * Models compiled in: sequential consistency (memory_sc.h: every access in
 * place, in step order). A store-buffer (x86-TSO) or C11 model is another
 * file implementing the same calls, selected per execution here; their
 * choices (which buffered store to flush, which store a load reads) become
 * scheduling choices of the search.
 */
#ifndef LFS_MEMORY_MODEL_H
#define LFS_MEMORY_MODEL_H

#include <stdbool.h>

#include "engine.h"

struct lfs_vthread;

typedef enum lfs_rmw_op { LFS_RMW_EXCHANGE = 0, LFS_RMW_FETCH_ADD = 1 } lfs_rmw_op_t;

/* The value a read-modify-write writes, whatever the model. */
static inline lfs_word_t lfs_rmw_apply(lfs_rmw_op_t op, lfs_word_t old, lfs_word_t operand)
{
    return op == LFS_RMW_EXCHANGE ? operand : old + operand;
}

static inline lfs_word_t lfs_mm_load(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                     lfs_order_t mo);
static inline void lfs_mm_store(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                lfs_word_t value, lfs_order_t mo);
static inline bool lfs_mm_cas(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                              lfs_word_t expected, lfs_word_t desired, lfs_order_t mo,
                              lfs_word_t *seen);
static inline lfs_word_t lfs_mm_rmw(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                    lfs_rmw_op_t op, lfs_word_t operand, lfs_order_t mo,
                                    lfs_word_t *written);
static inline void lfs_mm_fence(lfs_exec_t *ex, struct lfs_vthread *t, lfs_order_t mo);
static inline lfs_word_t lfs_mm_peek(const lfs_exec_t *ex, const struct lfs_vthread *t,
                                     const lfs_word_t *addr);

#include "memory_sc.h"

#endif
