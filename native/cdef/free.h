/* cffi declarations of the free-running build (freerun.h), read by build_cffi.py. */
typedef struct lfs_run lfs_run_t;

lfs_run_t *lfs_run_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                       const int64_t *options);
void lfs_run_delete(lfs_run_t *r);
void lfs_run_reset(lfs_run_t *r);
int lfs_run_init(lfs_run_t *r);
int lfs_run_call(lfs_run_t *r, int tid, int op, int64_t arg, int64_t *result);
void lfs_run_quiesce(lfs_run_t *r);
uint32_t lfs_run_capacity(lfs_run_t *r);
const uint8_t *lfs_run_slot_states(lfs_run_t *r);
const uint32_t *lfs_run_slot_gens(lfs_run_t *r);
const lfs_word_t *lfs_run_node_words(lfs_run_t *r);
const lfs_word_t *lfs_run_shared_words(lfs_run_t *r);
uint32_t lfs_run_retired_count(lfs_run_t *r, int tid);
int32_t lfs_run_decode_ref(lfs_run_t *r, lfs_word_t word);

/* Free-slot accounting (freerun.h) and the real-thread drivers (bench.h). */
uint32_t lfs_run_free_slots(lfs_run_t *r);
const uint32_t *lfs_run_free_list(lfs_run_t *r, uint32_t *count);

#define LFS_WL_PAIRS ...
#define LFS_WL_MIXED ...
#define LFS_WL_PRODCONS ...
#define LFS_BENCH_BATCH ...
typedef struct lfs_bench_target lfs_bench_target_t;
typedef struct lfs_stress_tally lfs_stress_tally_t;
typedef struct {
    int threads;
    int workload;
    uint32_t prefill;
    double seconds;
    uint64_t max_ops;
    int stall;
    double sample_interval;
    uint32_t max_samples;
    double *series_t;
    uint64_t *series_unreclaimed;
    uint64_t *series_pool;
    uint64_t seed;
    int end_when_exhausted;
    lfs_stress_tally_t *tally;
    double join_timeout;
    ...;
} lfs_bench_config_t;
typedef struct {
    double seconds;
    uint64_t total_ops;
    uint64_t ops[...];
    uint64_t enqueues[...];
    uint64_t dequeues[...];
    uint64_t empties[...];
    int exhausted;
    uint64_t pool_waits;
    int stalled;
    uint32_t samples;
    double unreclaimed_avg;
    uint64_t unreclaimed_peak;
    uint64_t pool_peak;
    int stuck;
    int error;
    ...;
} lfs_bench_result_t;
int lfs_bench_run(const lfs_bench_target_t *t, const lfs_bench_config_t *cfg,
                  lfs_bench_result_t *out);
lfs_bench_target_t *lfs_bench_target_for_run(lfs_run_t *r);
void free(void *p);

lfs_stress_tally_t *lfs_stress_tally_new(int threads);
void lfs_stress_tally_delete(lfs_stress_tally_t *tally);
#define LFS_STRESS_UNNAMED ...
typedef struct {
    uint64_t enqueued, dequeued, remaining, lost, duplicated, unknown, out_of_order;
    int exact;
    uint64_t first_lost, first_duplicated, first_unknown, first_out_of_order;
    ...;
} lfs_stress_check_t;
int lfs_stress_check(const lfs_stress_tally_t *tally, const lfs_bench_result_t *res,
                     uint32_t prefill, const uint64_t *remaining, uint64_t n_remaining,
                     lfs_stress_check_t *out);
typedef struct {
    uint64_t capacity, free, live, retired, other;
    uint64_t free_listed, free_list_bad, retired_listed;
    ...;
} lfs_pool_audit_t;
void lfs_run_audit_pool(lfs_run_t *r, lfs_pool_audit_t *out);
