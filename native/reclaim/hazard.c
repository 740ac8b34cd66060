/*
 * reclaim/hazard.c — hazard pointers, Michael 2004 (IEEE TPDS).
 *
 * Why it is safe: a reader publishes hazard h = p, fences, and re-reads the
 * source; if the source still holds p, then p was reachable at a moment after
 * h became visible. A reclaimer unlinks p first, fences, then reads every
 * hazard. The two seq_cst fences make this the store-buffering pattern: at
 * least one side sees the other's store, so either the reader's re-read sees
 * p unlinked (and retries) or the scan sees h (and keeps p).
 *
 * Memory orders:
 *   publish  store RELAXED + fence SEQ_CST — the fence, not the store, gives
 *            the store->load order the argument needs (a seq_cst store alone
 *            does not order a later acquire load in C11).
 *   protect  loads ACQUIRE — the pointer is dereferenced next.
 *   clear    store RELEASE — the thread's reads of the node happen-before a
 *            scan that reads the cleared hazard (and frees the node).
 *   scan     fence SEQ_CST, then loads ACQUIRE — pairs with publish's fence
 *            (unlink before the reads) and with clear's release.
 *
 * Bound: a scan leaves at most H retired nodes (H = hazards in use: only
 * those can be named), and a scan runs whenever the list reaches R =
 * threshold, so a thread never holds more than max(R, H + 1) retired nodes.
 * Michael takes R = H + Omega(H) so that each scan frees Omega(H) nodes and
 * its O(H) cost is amortised.
 */
#include "reclaim_hazard.h"

static lfs_word_t *own_hazard(lfs_hp_domain_t *d, int k)
{
    return &d->hazard[lfs_thread_id() * LFS_HP_PER_THREAD + k];
}

void lfs_hp_domain_init(lfs_hp_domain_t *d)
{
    for (int i = 0; i < LFS_HP_SLOTS; i++)
        lfs_store(&d->hazard[i], 0, LFS_RELAXED); /* setup: no thread runs yet */
}

void lfs_hp_publish(lfs_hp_domain_t *d, int k, const void *p)
{
    lfs_store(own_hazard(d, k), (lfs_word_t)(uintptr_t)p, LFS_RELAXED);
    lfs_fence(LFS_SEQ_CST); /* hazard visible before the re-validating load */
}

lfs_word_t lfs_hp_protect(lfs_hp_domain_t *d, int k, lfs_word_t *src)
{
    lfs_word_t seen = lfs_load(src, LFS_ACQUIRE);
    for (;;) {
        lfs_hp_publish(d, k, (const void *)(uintptr_t)seen);
        lfs_word_t again = lfs_load(src, LFS_ACQUIRE);
        if (again == seen)
            return seen;
        seen = again;
    }
}

void lfs_hp_clear(lfs_hp_domain_t *d, int k)
{
    lfs_store(own_hazard(d, k), 0, LFS_RELEASE);
}

void lfs_hp_snapshot(lfs_hp_domain_t *d, lfs_hp_snapshot_t *snap)
{
    uint32_t n = (uint32_t)lfs_thread_count() * LFS_HP_PER_THREAD;
    lfs_fence(LFS_SEQ_CST); /* our unlink before the hazard reads */
    snap->n = 0;
    for (uint32_t i = 0; i < n; i++) {
        lfs_word_t h = lfs_load(&d->hazard[i], LFS_ACQUIRE);
        if (h != 0)
            snap->hazard[snap->n++] = h;
    }
}

bool lfs_hp_snapshot_holds(void *node, lfs_word_t stamp, void *ctx)
{
    (void)stamp;
    const lfs_hp_snapshot_t *snap = ctx;
    lfs_word_t w = (lfs_word_t)(uintptr_t)node;
    for (uint32_t i = 0; i < snap->n; i++)
        if (snap->hazard[i] == w)
            return true;
    return false;
}

uint32_t lfs_hp_scan(lfs_hp_domain_t *d)
{
    lfs_hp_snapshot_t snap;
    lfs_hp_snapshot(d, &snap);
    return lfs_reclaim(lfs_hp_snapshot_holds, &snap);
}

uint32_t lfs_hp_retire(lfs_hp_domain_t *d, void *node, uint32_t threshold)
{
    lfs_node_retire(node, 0); /* hazards need no stamp */
    if (lfs_retired_count() < threshold)
        return 0;
    return lfs_hp_scan(d);
}
