/* registry.c — the harness's own test-only structures, as one structure file.
 *
 * These structures break on purpose (see each file's design comment), so
 * they are not compiled into the shipped extensions: the tests build this
 * file the way a user's structure file is built (stress/usercode.py, cached)
 * and load it with `source=` (tests/testonly.py, TESTONLY). Every file of
 * native/testonly/ is included here and its structures listed below. */
#include "primitives.c"
#include "structures.c"

LFS_EXPORT_STRUCTURES(
    &lfs_testonly_nondet,
    &lfs_testonly_wild,
    &lfs_testonly_spin,
    &lfs_testonly_abort,
    &lfs_testonly_exhaust,
    &lfs_testonly_primitives
);
