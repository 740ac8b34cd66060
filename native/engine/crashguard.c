/*
 * crashguard.c — code under test that crashes ends its execution, not the
 * harness (stepped build).
 *
 * Design. The structures under test are broken on purpose, and a structure a
 * user brings may fail an assert() (SIGABRT), divide by zero (SIGFPE) or
 * dereference a pointer without the primitives (SIGSEGV/SIGBUS). Every one of
 * those is *synchronous*: the kernel delivers it to the thread that raised
 * it, while that thread is running a virtual thread's fiber. So the guard
 * does what a debugger's "catch" does, in-process: a handler for SIGABRT,
 * SIGSEGV, SIGBUS, SIGFPE and SIGILL asks the stepper (the hook) whether a
 * fiber was running; if so the stepper records a "crash" violation naming the
 * signal, the faulting instruction and whether it lies in the engine's own
 * code (code_address.c: then the bug is lfstress's, not the code under
 * test's) and switches back to the driver, abandoning the fiber's stack (and
 * the handler's frame on it) as it abandons a thread that hit a wild pointer.
 * The execution is a deterministic function of its schedule, so the crash
 * replays from its token like any other violation.
 *
 * Why this is sound enough:
 *   - SA_NODEFER: leaving the handler by a context switch never runs
 *     sigreturn, so a signal blocked during the handler would stay blocked;
 *     with SA_NODEFER and an empty sa_mask, the mask in the handler is the
 *     mask the fiber ran with, and nothing needs restoring.
 *   - glibc's abort() drops its lock before raising SIGABRT and allows a
 *     handler that does not return (it is "repeated calls of abort" safe).
 *   - SA_ONSTACK with a per-thread alternate stack: a runaway recursion hits
 *     the fiber's guard page (fiber.c), and the handler needs a stack to run.
 *   - Signals sent by another process (si_pid not ours and no fault code)
 *     and signals taken outside a fiber are passed on to the previous
 *     disposition (Python's faulthandler under pytest, or the default): the
 *     harness itself crashing stays a crash.
 *
 * What it cannot do: code under test that corrupts the C heap before it
 * aborts leaves the process unsound. Free-running mode (real threads) runs in
 * a child process instead (stress/contained.py, stress/bench/realstress.py).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "code_address.h"
#include "crashguard.h"

#define ALT_STACK_SIZE (64 * 1024)

static const int guarded[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
static struct sigaction previous[NSIG];
static lfs_crash_hook_t crash_hook;
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static __thread int armed;

/* The interrupted instruction, from the signal's machine context. */
static uintptr_t interrupted_pc(const void *uc)
{
    const ucontext_t *ctx = uc;
#if defined(__x86_64__)
    return (uintptr_t)ctx->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)ctx->uc_mcontext.pc;
#else
    (void)ctx;
    return 0; /* the report then names no instruction */
#endif
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uc)
{
    int fault = info->si_code > 0;            /* a fault the kernel raised here */
    int ours = fault || info->si_pid == getpid(); /* or raise() / abort() in this process */
    if (ours && crash_hook) {
        lfs_crash_site_t site = { .signal = sig };
        if (fault) {
            site.pc = interrupted_pc(uc);
            site.address = (uintptr_t)info->si_addr;
            site.in_engine = lfs_code_in_engine(site.pc);
        }
        crash_hook(&site); /* does not return when a fiber was running */
    }

    const struct sigaction *prev = &previous[sig];
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, uc);
        return;
    }
    if (prev->sa_handler == SIG_IGN)
        return;
    if (prev->sa_handler != SIG_DFL) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL); /* die of it, as if never guarded */
    raise(sig);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++)
        sigaction(guarded[i], &sa, &previous[guarded[i]]);
}

void lfs_crashguard_arm(lfs_crash_hook_t hook)
{
    if (armed)
        return;
    armed = 1;
    crash_hook = hook;
    pthread_once(&installed, install);
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
        /* Kept for the thread's life: a thread may take a signal until it exits. */
        void *mem = malloc(ALT_STACK_SIZE);
        if (mem) {
            ss.ss_sp = mem;
            ss.ss_size = ALT_STACK_SIZE;
            ss.ss_flags = 0;
            if (sigaltstack(&ss, NULL) != 0)
                free(mem);
        }
    }
}
