/*
 * fiber.h — user-level context switch for the stepped build's virtual threads.
 *
 * A fiber is a stack and a saved stack pointer. On x86-64 the switch is a few
 * instructions that save only the callee-saved registers (System V ABI:
 * rbx, rbp, r12-r15) — about 15 ns a round trip against ~300 ns for glibc's
 * swapcontext, which makes a sigprocmask system call every time. Other
 * architectures fall back to ucontext.
 */
#ifndef LFS_FIBER_H
#define LFS_FIBER_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define LFS_FIBER_ASM 1
typedef struct lfs_fiber {
    void *sp;          /* saved stack pointer while switched out */
    void *stack;       /* mmap'd region, guard page at the low end */
    size_t stack_size; /* usable bytes above the guard page */
} lfs_fiber_t;
#else
#include <ucontext.h>
typedef struct lfs_fiber {
    ucontext_t ctx;
    void *stack;
    size_t stack_size;
} lfs_fiber_t;
#endif

typedef void (*lfs_fiber_entry)(void *arg);

/* Allocate a stack (with a guard page). Returns 0 on success. */
int lfs_fiber_create(lfs_fiber_t *f, size_t stack_size);
void lfs_fiber_destroy(lfs_fiber_t *f);
/* Whether addr lies in f's guard page: a fault there is a stack overflow.
 * Async-signal-safe. */
int lfs_fiber_guard_page_holds(const lfs_fiber_t *f, uintptr_t addr);
/* Prepare f so that the next switch into it calls entry(arg) on a fresh
 * stack. entry must never return: it switches away for the last time. */
void lfs_fiber_prepare(lfs_fiber_t *f, lfs_fiber_entry entry, void *arg);
/* Save the running context into from, resume to. */
void lfs_fiber_switch(lfs_fiber_t *from, lfs_fiber_t *to);

#endif
