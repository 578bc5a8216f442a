/* SPDX-License-Identifier: MIT */
#include "sptr.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks a live header; changed to SPTR_DEAD before the memory is freed, so that a later touch is caught. */
#define SPTR_ALIVE 0x5350a11eu
#define SPTR_DEAD 0x5350deadu

/* The hidden header before every shared object: one allocation holds both. */
struct sptr_header {
        uint32_t magic;
        unsigned count;
        sptr_destroy_fn destroy;
        max_align_t object[]; /* the object starts here, aligned for any type */
};

static unsigned long live_objects;

static struct sptr_header *header_of(const void *object, const char *operation)
{
        struct sptr_header *header = (struct sptr_header *) ((const char *) object - offsetof(struct sptr_header, object));

#ifndef NDEBUG
        if (header->magic != SPTR_ALIVE) {
                fprintf(stderr, "sptr: %s of %p, which is not a live shared object (released already, "
                                "or never made by sptr_new)\n", operation, object);
                abort();
        }
#else
        (void) operation;
#endif
        return header;
}

void *sptr_new(size_t size, sptr_destroy_fn destroy)
{
        struct sptr_header *header;

        if (size > SIZE_MAX - sizeof *header)
                return NULL;
        header = calloc(1, sizeof *header + size);
        if (!header)
                return NULL;
        header->magic = SPTR_ALIVE;
        header->count = 1;
        header->destroy = destroy;
        live_objects++;
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

void *sptr_ref_(void *object)
{
        struct sptr_header *header;

        if (!object)
                return NULL;
        header = header_of(object, "sptr_ref");
        /* Count 0 only while destroy() runs: a reference taken then would outlive the memory. */
        if (header->count == 0) {
                fprintf(stderr, "sptr: sptr_ref of %p, whose count is 0 (it is being destroyed)\n", object);
                abort();
        }
        if (header->count == UINT_MAX) {
                fprintf(stderr, "sptr: reference count of %p overflows\n", object);
                abort();
        }
        header->count++;
        return object;
}

void *sptr_unref_(void *object)
{
        struct sptr_header *header;

        if (!object)
                return NULL;
        header = header_of(object, "sptr_unref");
        if (header->count == 0) {
                fprintf(stderr, "sptr: sptr_unref of %p, whose count is already 0\n", object);
                abort();
        }
        if (--header->count > 0)
                return NULL;

        if (header->destroy)
                header->destroy(object);
        header->magic = SPTR_DEAD;
        live_objects--;
        free(header);
        return NULL;
}

void sptr_unrefp(void *holder)
{
        void **object = holder;

        *object = sptr_unref_(*object);
}

unsigned sptr_count(const void *object)
{
        return object ? header_of(object, "sptr_count")->count : 0;
}

unsigned long sptr_live_count(void)
{
        return live_objects;
}
