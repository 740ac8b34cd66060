/*
 * reclaim/epoch.c — epoch-based reclamation, after Fraser 2004 (thesis,
 * ch. 5.2.3) and ck_epoch.
 *
 * Why two epochs of distance (three epochs live at once) suffice: a node is
 * retired after it is unlinked, stamped with the global epoch e read after the
 * unlink. A thread that can still hold a reference to it entered before the
 * unlink, so it announced an epoch <= e and is still active. The global epoch
 * moves e -> e+1 only when every active thread has announced e, and e+1 ->
 * e+2 only when every active thread has announced e+1 — an announcement made
 * by a fresh enter, after that thread left the critical section in which it
 * might have seen the node. So once the global epoch reaches e + 2, no
 * thread holds the node: free it. Fraser keeps three limbo lists indexed by
 * epoch mod 3; we keep one retired list (the pool's) with the epoch as stamp
 * and a counter that never wraps in practice (2^64).
 *
 * A thread stalled inside a critical section announces an old epoch forever:
 * the global epoch cannot pass it, and garbage grows without bound. That is
 * the scheme's known weakness, and the benchmarks show it.
 *
 * Reclaiming must not cost O(garbage) while the epoch is pinned, or a stall
 * slows every other thread down too. A thread's retired list is in retire
 * order and its stamps never decrease along it (the global epoch only grows,
 * and one thread reads it in program order), so the nodes old enough to free
 * are a prefix: lfs_reclaim_oldest frees that prefix and stops at the first
 * node too recent — one visit per node freed, plus one.
 *
 * Memory orders:
 *   enter    load global ACQUIRE; store announcement RELAXED + fence SEQ_CST:
 *            the announcement must be visible before the section's loads of
 *            node references (store->load; a fence is the C11 way).
 *   exit     store 0 RELEASE: the section's accesses happen-before a
 *            reclaimer that reads the thread as inactive.
 *   retire   load global SEQ_CST: the stamp is read after the unlink (the
 *            caller's unlink CAS is SEQ_CST too), never an older epoch.
 *   advance  fence SEQ_CST, loads SEQ_CST of global and announcements (pairs
 *            with enter's fence: we see the announcement, or the entering
 *            thread sees every unlink made before our scan); CAS SEQ_CST on
 *            the global epoch (one total order of epochs and stamps).
 */
#include "reclaim_epoch.h"

void lfs_epoch_domain_init(lfs_epoch_domain_t *d)
{
    lfs_store(&d->epoch, 0, LFS_RELAXED); /* setup: no thread runs yet */
    for (int i = 0; i < LFS_MAX_THREADS; i++)
        lfs_store(&d->announce[i], 0, LFS_RELAXED);
}

lfs_word_t lfs_epoch_enter(lfs_epoch_domain_t *d)
{
    lfs_word_t e = lfs_load(&d->epoch, LFS_ACQUIRE);
    lfs_store(&d->announce[lfs_thread_id()], (e << 1) | LFS_EPOCH_ACTIVE, LFS_RELAXED);
    lfs_fence(LFS_SEQ_CST); /* announced before any node reference is read */
    return e;
}

void lfs_epoch_exit(lfs_epoch_domain_t *d)
{
    lfs_store(&d->announce[lfs_thread_id()], 0, LFS_RELEASE);
}

lfs_word_t lfs_epoch_try_advance(lfs_epoch_domain_t *d)
{
    int n = lfs_thread_count();
    lfs_fence(LFS_SEQ_CST); /* our unlinks before reading announcements */
    lfs_word_t g = lfs_load(&d->epoch, LFS_SEQ_CST);
    for (int i = 0; i < n; i++) {
        lfs_word_t a = lfs_load(&d->announce[i], LFS_SEQ_CST);
        if ((a & LFS_EPOCH_ACTIVE) && (a >> 1) != g)
            return g; /* thread i is still in an older epoch */
    }
    lfs_word_t expected = g;
    if (lfs_cas(&d->epoch, &expected, g + 1, LFS_SEQ_CST))
        return g + 1;
    return expected; /* somebody else advanced it: that is as good */
}

static bool retired_too_recently(void *node, lfs_word_t stamp, void *ctx)
{
    (void)node;
    lfs_word_t global = *(const lfs_word_t *)ctx;
    return stamp + 2 > global;
}

uint32_t lfs_epoch_reclaim(lfs_word_t global)
{
    /* Stamps grow along the list: stop at the first node too recent. */
    return lfs_reclaim_oldest(retired_too_recently, &global);
}

uint32_t lfs_epoch_retire(lfs_epoch_domain_t *d, void *node, uint32_t threshold)
{
    lfs_word_t stamp = lfs_load(&d->epoch, LFS_SEQ_CST);
    lfs_node_retire(node, stamp);
    uint32_t waiting = lfs_retired_count();
    /* A multiple, not ">=": when a stalled thread pins the epoch the list
     * keeps growing, and the O(threads) scan of announcements (with its
     * fence) must stay amortised over `threshold` retires. */
    if (threshold > 1 && waiting % threshold != 0)
        return 0;
    return lfs_epoch_reclaim(lfs_epoch_try_advance(d));
}
