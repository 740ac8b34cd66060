/* cffi declarations of the stepped build (engine.h), read by build_cffi.py. */
typedef struct {
    uint32_t step;
    uint8_t tid;
    uint8_t kind;
    uint8_t order;
    uint8_t flags;
    int32_t slot;
    uint32_t gen;
    int16_t field;
    uint16_t elem;
    int32_t ref_slot;
    uint32_t ref_gen;
    lfs_word_t value;
    lfs_word_t expected;
    int32_t op;
    int32_t status;
} lfs_event_t;

typedef struct {
    int32_t kind;
    int32_t detail;
    uint32_t step;
    int32_t tid;
    uint32_t event;
    int32_t slot;
    uint32_t gen_loaded;
    uint32_t load_step;
    uint32_t gen_now;
    int32_t state_now;
    int32_t freed_by;
    uint32_t freed_step;
    int32_t alloc_by;
    uint32_t alloc_step;
    int64_t address_offset;
    int32_t other_slot;
    int32_t fault_in_engine;
    int32_t fault_on_guard_page;
    uint64_t fault_pc;
    uint64_t fault_address;
} lfs_violation_t;

typedef struct {
    uint64_t executions;
    uint64_t allocs;
    uint64_t reuses;
    uint64_t retires;
    uint64_t reclaim_passes;
    uint64_t reclaimed;
    uint64_t frees;
    uint64_t cas_ok;
    uint64_t cas_failed;
    uint64_t op_ok[...];
    uint64_t op_empty[...];
    ...;
} lfs_coverage_t;

typedef struct lfs_exec lfs_exec_t;

size_t lfs_describe_code(uint64_t pc, char *out, size_t size);

lfs_exec_t *lfs_exec_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                         int reuse, const int64_t *options, uint64_t step_cap);
void lfs_exec_delete(lfs_exec_t *ex);
int lfs_exec_set_program(lfs_exec_t *ex, int tid, uint32_t n, const int32_t *ops,
                         const int64_t *args);
int lfs_exec_set_setup(lfs_exec_t *ex, uint32_t n, const int32_t *ops, const int64_t *args);
int64_t lfs_exec_start(lfs_exec_t *ex);
int64_t lfs_exec_step(lfs_exec_t *ex, int tid);
int64_t lfs_exec_enabled(lfs_exec_t *ex);
int lfs_exec_status(lfs_exec_t *ex);
uint32_t lfs_exec_steps(lfs_exec_t *ex);
uint32_t lfs_exec_event_count(lfs_exec_t *ex);
const lfs_event_t *lfs_exec_events(lfs_exec_t *ex);
uint32_t lfs_exec_violation_count(lfs_exec_t *ex);
const lfs_violation_t *lfs_exec_violations(lfs_exec_t *ex);
uint32_t lfs_exec_capacity(lfs_exec_t *ex);
const uint8_t *lfs_exec_slot_states(lfs_exec_t *ex);
const uint32_t *lfs_exec_slot_gens(lfs_exec_t *ex);
const int32_t *lfs_exec_slot_retired_by(lfs_exec_t *ex);
const lfs_word_t *lfs_exec_node_words(lfs_exec_t *ex);
const lfs_word_t *lfs_exec_shared_words(lfs_exec_t *ex);
int32_t lfs_exec_decode_ref(lfs_exec_t *ex, lfs_word_t word);
int32_t lfs_exec_thread_op(lfs_exec_t *ex, int tid);
int32_t lfs_exec_thread_pending(lfs_exec_t *ex, int tid);
uint32_t lfs_exec_retired_count(lfs_exec_t *ex, int tid);
void lfs_exec_add_coverage(lfs_exec_t *ex, lfs_coverage_t *total);

typedef struct {
    int32_t policy;
    int32_t nthreads;
    int32_t pct_depth;
    uint32_t pct_k;
    uint32_t want_kinds;
} lfs_search_params_t;

typedef struct {
    uint64_t executions;
    uint64_t steps_total, steps_min, steps_max;
    uint64_t violating;
    int64_t first_violation;
    lfs_coverage_t coverage;
    ...;
} lfs_search_stats_t;

uint64_t lfs_prng_next(uint64_t *state);
uint32_t lfs_prng_below(uint64_t *state, uint32_t n);
int lfs_search_params_valid(const lfs_search_params_t *p);
int64_t lfs_search_one(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t seed,
                       uint8_t *choices, uint32_t max_choices);
int lfs_search_run(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t first_seed,
                   uint64_t count, int stop_at_violation, lfs_search_stats_t *out);
