/* SPDX-License-Identifier: MIT */
/*
 * kata_calls.h: the harness's view of the calls the code under test makes to the allocators and to the
 * descriptor calls. In every build, harness/kata.mk renames those calls in the objects of the code under test
 * and of the toolbox (objcopy --redefine-sym malloc=kata_call_malloc, ...; the list is KATA_CALLS in
 * kata.mk), so that kata_calls.c sees each of them, and only them (the test file's own calls, Check's and
 * libc's go straight through). With that it:
 *
 *   - knows which descriptors the code under test opened, and where (the leak report names the line);
 *   - catches a close() that fails with EBADF (a double close) or that closes a descriptor the code under test
 *     never opened: both are silent for Valgrind and ASan;
 *   - fails one chosen call, for the allocation-failure sweep (harness/tools/sweep): KATA_SWEEP_DISCOVER=FILE
 *     lists, for each test, the first call from each distinct call stack ("test<TAB>n<TAB>call" lines);
 *     KATA_SWEEP_PLAN=FILE (the same lines) runs each test once per line of its own, with its n-th call
 *     failing as it would when memory or descriptors run out.
 *
 * Internal to the harness: kata tests never include it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum { KATA_STACK_DEPTH = 8 };

/* Return addresses, innermost first: the code under test's frames between the call and the test body. */
struct kata_stack {
        int depth;
        void *pcs[KATA_STACK_DEPTH];
};

/* A descriptor call that went wrong (close() of a descriptor that is not open or was not the code's). */
struct kata_misuse {
        const char *what; /* "closed a descriptor that was not open (a double close?)", ... */
        int fd;
        struct kata_stack at;
};

/* How many failure points the sweep's plan has for this test; -1 when there is no plan (not sweeping). */
int kata_calls_points(const char *name);

/* Called by kata_test.c around each test body: `top` is the body's caller's frame, where stacks end; `point`
 * the index of the failure point to inject in this run of the test (the sweep), else ignored. Returns the
 * number of the call that will fail (0: none). */
long kata_calls_begin_test(const char *name, void *top, int point);
void kata_calls_end_test(void);

/* Where the code under test opened fd, if it did and it is still open; false otherwise. */
bool kata_calls_fd_opened_at(int fd, struct kata_stack *at);

/* Memory mappings (mmap) the code under test made since the test began and still has: the next one from
 * *cursor on (start with 0); false when there are no more. */
bool kata_calls_next_mapping(int *cursor, size_t *length, struct kata_stack *at);

/* The misuses seen since the last call (at most max are kept); returns how many there were. */
int kata_calls_take_misuses(struct kata_misuse *out, int max);

/* True when this test had a call failed on purpose (the sweep). */
bool kata_calls_injected(void);
