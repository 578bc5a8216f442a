/* SPDX-License-Identifier: MIT */
#include "sptr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SPTR_HAVE_VALGRIND_H 1
#endif
#endif

/* Atomic, so that threads that share no object can make and release objects at the same time. Relaxed: it
 * orders nothing, it only counts. */
static atomic_ulong live_objects;

void *sptr_new(size_t size, sptr_destroy_fn destroy)
{
        struct sptr_header_ *header;

        if (size > SIZE_MAX - sizeof *header)
                return NULL;
        /* malloc and memset rather than calloc: glibc's calloc does not use the per-thread cache. */
        header = malloc(sizeof *header + size);
        if (!header)
                return NULL;
        memset(header->object, 0, size);
        header->count = 1;
        header->magic = SPTR_ALIVE_;
        header->destroy = destroy;
        atomic_fetch_add_explicit(&live_objects, 1, memory_order_relaxed);
        /* The caller's pointer points just past the header, into the same block, and sptr_unref() frees
         * the block: not a leak, though gcc's analyzer and cppcheck cannot see it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
        return header->object; // cppcheck-suppress memleak
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

#ifndef NDEBUG
/* The quarantine of debug builds: the last QUARANTINE_SIZE released blocks, kept from reuse (each is freed
 * when a later release takes its slot), so that a stale call on one of them still finds SPTR_DEAD_ and
 * aborts at the stale caller. Off where a detector keeps freed memory from reuse itself. */
#define QUARANTINE_SIZE 64
static _Atomic(struct sptr_header_ *) quarantine[QUARANTINE_SIZE];
static atomic_uint quarantine_next;

/* Present when the program is linked with a sanitizer's runtime, even if this file was built without one
 * (the harness's allocation-failure sweep links plain objects with AddressSanitizer's). */
void __sanitizer_print_stack_trace(void) __attribute__((__weak__));

static bool quarantine_wanted(void)
{
        if (__sanitizer_print_stack_trace)
                return false;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
        return false;
#endif
#endif
#ifdef SPTR_HAVE_VALGRIND_H
        return !RUNNING_ON_VALGRIND;
#else
        return true;
#endif
}

static void free_later(struct sptr_header_ *header)
{
        unsigned slot;

        if (!quarantine_wanted()) {
                free(header);
                return;
        }
        slot = atomic_fetch_add_explicit(&quarantine_next, 1, memory_order_relaxed) % QUARANTINE_SIZE;
        free(atomic_exchange_explicit(&quarantine[slot], header, memory_order_acq_rel));
}
#else
#define free_later free
#endif

void sptr_release_(void *object)
{
        struct sptr_header_ *header = sptr_header_of_(object);

        if (header->destroy)
                header->destroy(object);
        header->magic = SPTR_DEAD_;
        atomic_fetch_sub_explicit(&live_objects, 1, memory_order_relaxed);
        free_later(header);
}

void sptr_misuse_(const void *object, const char *operation, const char *file, int line)
{
        const struct sptr_header_ *header = sptr_header_of_(object);
        char where[256] = "";

        if (file)
                snprintf(where, sizeof where, " at %s:%d", file, line);
        if (header->magic != SPTR_ALIVE_)
                fprintf(stderr, "sptr: %s%s of %p, which is not a live shared object (released already, or never "
                                "made by sptr_new)\n", operation, where, object);
        else if (header->count == 0)
                fprintf(stderr, "sptr: %s%s of %p, whose count is %s\n", operation, where, object,
                        strcmp(operation, "sptr_unref") == 0 ? "already 0" : "0 (it is being destroyed)");
        else
                fprintf(stderr, "sptr: %s%s of %p: its reference count overflows\n", operation, where, object);
        abort();
}

void *sptr_unref_(void *object)
{
        return sptr_unref_at_(object, NULL, 0);
}

unsigned sptr_count(const void *object)
{
        if (!object)
                return 0;
#ifndef NDEBUG
        if (sptr_header_of_(object)->magic != SPTR_ALIVE_)
                sptr_misuse_(object, "sptr_count", NULL, 0);
#endif
        return sptr_header_of_(object)->count;
}

unsigned long sptr_live_count(void)
{
        return atomic_load_explicit(&live_objects, memory_order_relaxed);
}
