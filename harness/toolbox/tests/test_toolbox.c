/* SPDX-License-Identifier: MIT */
/*
 * The toolbox's own tests: one binary, one TCase. Each file registers its own tests; this one adds the
 * helpers the misuse tests of several files share.
 */
#include "toolbox_tests.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

void misuse_child_setup(void)
{
        /* The abort is the expected outcome: leave no core file (Valgrind writes vgcore.<pid> files too). */
        const struct rlimit no_core = { 0, 0 };

        (void) setrlimit(RLIMIT_CORE, &no_core);

#if defined(__SANITIZE_ADDRESS__)
        /*
         * ASan reports a use after free at the invalid read and then exits with status 1, so the child
         * would not die of SIGABRT. Making ASan's death an abort keeps kata_assert_aborts() strict: the
         * child must still die, and by a detected error. The parent stops reading the child's stderr after
         * 4 KB while ASan's report is longer: ignore SIGPIPE, so that writing the rest cannot kill the
         * child by another signal before it aborts.
         */
        signal(SIGPIPE, SIG_IGN);
        __sanitizer_set_death_callback(abort);
#endif
}

const char *use_after_free_says(const char *toolbox_message)
{
#if defined(__SANITIZE_ADDRESS__)
        (void) toolbox_message;
        return "heap-use-after-free";
#else
        return toolbox_message;
#endif
}

void kata_register(TCase *tc)
{
        register_sptr_tests(tc);
        register_once_cb_tests(tc);
        register_cleanup_tests(tc);
        register_thread_tests(tc);
}
