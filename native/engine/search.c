/*
 * search.c — the native fast path of the `random` and `pct` schedulers:
 * whole executions run in C, without returning to Python at each step.
 *
 * The Python policies (stress/schedulers/random.py, pct.py) are the reference
 * implementation; this file makes exactly the same choices for the same seed,
 * and tests/test_schedulers.py checks it over 1,000 seeds. Both sides use:
 *
 *   - splitmix64 (Steele, Lea & Flood, OOPSLA 2014) as the PRNG, its state
 *     initialised to the execution's seed, one output per draw;
 *   - Lemire's multiply-shift to draw below n: (x * n) >> 64, x the 64-bit
 *     output — a single draw, no rejection, so both sides stay in lock step;
 *   - `random`: draw only when two or more threads are enabled, and run the
 *     r-th enabled thread in increasing id order;
 *   - `pct` (Burckhardt, Kothari, Musuvathi & Nagarakatte, ASPLOS 2010): a
 *     Fisher-Yates shuffle (i from n-1 down to 1, j = below(i+1)) gives thread
 *     order[i] the initial priority depth + i; then depth-1 change points,
 *     each 1 + below(k); before step s (1-based), for each change point j
 *     (1-based, in draw order) equal to s, the highest-priority enabled thread
 *     drops to priority depth - j; then the highest-priority enabled thread
 *     runs. Priorities below depth are reserved for change points, so a
 *     lowered thread runs only when every thread not yet lowered is blocked
 *     or done.
 *
 * A violation here means what the engine saw while stepping (ABA, use after
 * free, wild pointer, pool exhausted, livelock, deadlock), of the kinds the
 * caller wants (want_kinds): a search for ABA walks past executions that only
 * read a freed node. The structural and value checks run in Python, on a
 * re-run of the choices found here.
 */
#include <string.h>

#include "engine.h"

static inline uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((unsigned __int128)splitmix64_next(state) * n) >> 64);
}

uint64_t lfs_prng_next(uint64_t *state) { return splitmix64_next(state); }
uint32_t lfs_prng_below(uint64_t *state, uint32_t n) { return below(state, n); }

typedef struct policy_state {
    uint64_t rng;
    int priority[LFS_MAX_THREADS];
    uint32_t change[LFS_SEARCH_MAX_DEPTH];
} policy_state_t;

static void policy_start(const lfs_search_params_t *p, policy_state_t *st, uint64_t seed)
{
    st->rng = seed;
    if (p->policy != LFS_SEARCH_PCT)
        return;
    int order[LFS_MAX_THREADS];
    for (int i = 0; i < p->nthreads; i++)
        order[i] = i;
    for (int i = p->nthreads - 1; i >= 1; i--) {
        int j = (int)below(&st->rng, (uint32_t)i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int i = 0; i < p->nthreads; i++)
        st->priority[order[i]] = p->pct_depth + i;
    for (int j = 1; j < p->pct_depth; j++)
        st->change[j] = 1 + below(&st->rng, p->pct_k);
}

static inline int highest(const policy_state_t *st, int64_t mask)
{
    int best = -1;
    for (int64_t m = mask; m; m &= m - 1) {
        int t = __builtin_ctzll((unsigned long long)m);
        if (best < 0 || st->priority[t] > st->priority[best])
            best = t;
    }
    return best;
}

static inline int policy_choose(const lfs_search_params_t *p, policy_state_t *st, int64_t mask,
                                uint32_t step)
{
    if (p->policy == LFS_SEARCH_PCT) {
        for (int j = 1; j < p->pct_depth; j++)
            if (st->change[j] == step + 1)
                st->priority[highest(st, mask)] = p->pct_depth - j;
        return highest(st, mask);
    }
    int n = __builtin_popcountll((unsigned long long)mask);
    uint32_t r = n > 1 ? below(&st->rng, (uint32_t)n) : 0;
    int64_t m = mask;
    while (r--)
        m &= m - 1;
    return __builtin_ctzll((unsigned long long)m);
}

int lfs_search_params_valid(const lfs_search_params_t *p)
{
    if (p->policy != LFS_SEARCH_RANDOM && p->policy != LFS_SEARCH_PCT)
        return 0;
    if (p->nthreads < 1 || p->nthreads > LFS_MAX_THREADS)
        return 0;
    if (p->policy == LFS_SEARCH_PCT &&
        (p->pct_depth < 1 || p->pct_depth > LFS_SEARCH_MAX_DEPTH || p->pct_k < 1))
        return 0;
    return 1;
}

int64_t lfs_search_one(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t seed,
                       uint8_t *choices, uint32_t max_choices)
{
    if (!lfs_search_params_valid(p))
        return -1;
    policy_state_t st;
    policy_start(p, &st, seed);
    int64_t mask = lfs_exec_start(ex);
    uint32_t n = 0;
    while (mask > 0) {
        int tid = policy_choose(p, &st, mask, n);
        if (choices) {
            if (n == max_choices)
                return -2;
            choices[n] = (uint8_t)tid;
        }
        n++;
        mask = lfs_exec_step(ex, tid);
    }
    return n;
}

/* Whether the execution that just ended saw a violation the search wants. */
static bool saw_wanted_violation(lfs_exec_t *ex, uint32_t want_kinds)
{
    uint32_t n = lfs_exec_violation_count(ex);
    if (want_kinds == 0)
        return n > 0;
    const lfs_violation_t *v = lfs_exec_violations(ex);
    for (uint32_t i = 0; i < n; i++)
        if (v[i].kind >= 0 && v[i].kind < 32 && (want_kinds >> v[i].kind & 1u))
            return true;
    return false;
}

int lfs_search_run(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t first_seed,
                   uint64_t count, int stop_at_violation, lfs_search_stats_t *out)
{
    if (!lfs_search_params_valid(p))
        return -1;
    memset(out, 0, sizeof *out);
    out->first_violation = -1;
    out->steps_min = UINT64_MAX;
    for (uint64_t i = 0; i < count; i++) {
        int64_t steps = lfs_search_one(ex, p, first_seed + i, NULL, 0);
        lfs_exec_add_coverage(ex, &out->coverage);
        out->executions++;
        out->steps_total += (uint64_t)steps;
        if ((uint64_t)steps < out->steps_min)
            out->steps_min = (uint64_t)steps;
        if ((uint64_t)steps > out->steps_max)
            out->steps_max = (uint64_t)steps;
        if (saw_wanted_violation(ex, p->want_kinds)) {
            out->violating++;
            if (out->first_violation < 0)
                out->first_violation = (int64_t)i;
            if (stop_at_violation)
                break;
        }
    }
    if (!out->executions)
        out->steps_min = 0;
    return 0;
}
