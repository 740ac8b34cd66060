/* registry.c — the harness's own test-only structures, as one structure file.
 *
 * These structures break on purpose (see each file's design comment), so
 * they are not compiled into the shipped extensions: the tests build this
 * file the way a user's structure file is built (stress/usercode.py, cached)
 * and load it with `source=` (tests/testonly.py, TESTONLY). Every file of
 * native/testonly/ is included here and its structures listed below. */
#include "hostile.c"
#include "primitives.c"
#include "structures.c"

LFS_EXPORT_STRUCTURES(
    &lfs_testonly_nondet,
    &lfs_testonly_wild,
    &lfs_testonly_spin,
    &lfs_testonly_abort,
    &lfs_testonly_exhaust,
    &lfs_testonly_primitives,
    /* hostile.c: they end or damage the process running them */
    &lfs_testonly_exit0,
    &lfs_testonly_exit3,
    &lfs_testonly_sigterm,
    &lfs_testonly_alarm,
    &lfs_testonly_segvdfl,
    &lfs_testonly_closestdio,
    &lfs_testonly_smash,
    &lfs_testonly_libcfree,
    &lfs_testonly_fork,
    &lfs_testonly_loop,
    &lfs_testonly_loopinit,
    &lfs_testonly_thread
);
