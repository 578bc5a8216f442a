/* SPDX-License-Identifier: MIT */
/*
 * toolbox_tests.h: what the toolbox's test files share. The binary has one kata_register() (in
 * test_toolbox.c), which calls the register function of each file.
 */
#pragma once

#include "kata_test.h"

void register_sptr_tests(TCase *tc);
void register_once_cb_tests(TCase *tc);
void register_cleanup_tests(TCase *tc);
void register_thread_tests(TCase *tc);

/*
 * For misuse tests, first thing in the forked child of kata_assert_aborts(): no core file for the abort
 * that is about to happen, and, in an ASan build, ASan's own death turned into an abort (see
 * test_toolbox.c for why).
 *
 * Under Valgrind, a child that reads freed memory on purpose gets an "Invalid read" in its own log
 * (valgrind.<child pid>.log). That is expected: the error counts of the test process are its own, and the
 * test passes when the child aborts with the expected message.
 */
void misuse_child_setup(void);

/*
 * What the aborting child's stderr must contain after a use after free: our own message, except in an ASan
 * build, where ASan stops the child at the invalid read, before the toolbox's check runs, and says
 * "heap-use-after-free" instead.
 */
const char *use_after_free_says(const char *toolbox_message);
