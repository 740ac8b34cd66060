/*
 * memory_sc.h — sequential consistency (Lamport 1979), the stepped engine's
 * memory model (the interface: memory_model.h). One thread runs at a time
 * and every access takes effect in place, at its step: a load reads the
 * latest store to its address in step order, whatever the declared order,
 * and a fence has nothing to do. Static inline: the calls cost nothing on
 * the stepper's hot path.
 */
#ifndef LFS_MEMORY_SC_H
#define LFS_MEMORY_SC_H

#include "memory_model.h"

static inline lfs_word_t lfs_mm_load(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                     lfs_order_t mo)
{
    (void)ex, (void)t, (void)mo;
    return *addr;
}

static inline void lfs_mm_store(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                lfs_word_t value, lfs_order_t mo)
{
    (void)ex, (void)t, (void)mo;
    *addr = value;
}

static inline bool lfs_mm_cas(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                              lfs_word_t expected, lfs_word_t desired, lfs_order_t mo,
                              lfs_word_t *seen)
{
    (void)ex, (void)t, (void)mo;
    *seen = *addr;
    if (*seen != expected)
        return false;
    *addr = desired;
    return true;
}

static inline lfs_word_t lfs_mm_rmw(lfs_exec_t *ex, struct lfs_vthread *t, lfs_word_t *addr,
                                    lfs_rmw_op_t op, lfs_word_t operand, lfs_order_t mo,
                                    lfs_word_t *written)
{
    (void)ex, (void)t, (void)mo;
    lfs_word_t old = *addr;
    *written = lfs_rmw_apply(op, old, operand);
    *addr = *written;
    return old;
}

static inline void lfs_mm_fence(lfs_exec_t *ex, struct lfs_vthread *t, lfs_order_t mo)
{
    (void)ex, (void)t, (void)mo;
}

static inline lfs_word_t lfs_mm_peek(const lfs_exec_t *ex, const struct lfs_vthread *t,
                                     const lfs_word_t *addr)
{
    (void)ex, (void)t;
    return *addr;
}

#endif
