/* SPDX-License-Identifier: MIT */
/*
 * cleanup.h: scope-bound cleanup and ownership steal, in the style of systemd's _cleanup_ and TAKE_PTR.
 *
 *   _cleanup_free_ char *name = strdup(host);       freed when `name` goes out of scope, whatever the exit
 *   _cleanup_close_ int fd = socket(...);            closed likewise
 *   _cleanup_(http_server_freep) struct http_server *server = http_server_new(mode);
 *   ...
 *   *ret_server = TAKE_PTR(server);                  ownership leaves: the cleanup now sees NULL
 *
 * Rules that keep it safe: initialise every cleanup variable where it is declared; never jump with goto over
 * one (clang refuses, gcc does not warn); do not mix goto-cleanup and cleanup variables in one function.
 * GNU C only (gcc, clang): MSVC has no cleanup attribute, which is why NOTES.md also shows the goto form.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* __unused__: clang before 17 calls a variable that is only cleaned up "unused". */
#define _cleanup_(func) __attribute__((__cleanup__(func), __unused__))

/* Marks a result that must not be dropped: a dropped TAKE_PTR() is a leak. */
static inline __attribute__((__warn_unused_result__)) const volatile void *take_must_use_(const volatile void *p)
{
        return p;
}

/* Returns the pointer held in variable p and sets p to NULL: the caller now owns what p owned. */
#define TAKE_PTR(p)                                                                                         \
        ((__typeof__(p)) take_must_use_(__extension__({                                                     \
                __typeof__(p) *take_ptr_ = &(p);                                                            \
                __typeof__(p) take_value_ = *take_ptr_;                                                     \
                *take_ptr_ = NULL;                                                                          \
                take_value_;                                                                                \
        })))

/* Returns the descriptor held in variable fd and sets fd to -1. */
#define TAKE_FD(fd)                                                                                         \
        __extension__({                                                                                     \
                int *take_fd_ = &(fd);                                                                      \
                int take_value_ = *take_fd_;                                                                \
                *take_fd_ = -1;                                                                             \
                take_value_;                                                                                \
        })

/* Frees *p (void ** in disguise, so that it fits any pointer variable) and sets it to NULL. */
static inline void freep(void *p)
{
        void **pp = p;

        free(*pp);
        *pp = NULL;
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd if it is open, keeping errno, and returns -1 (so that `fd = safe_close(fd);` reads well). */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved_errno = errno;

                close(fd);
                errno = saved_errno;
        }
        return -1;
}
static inline void closep(int *fd)
{
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Defines funcp(type *p) for a destructor `type func(type)` that accepts NULL and returns NULL (the systemd
 * convention: p = foo_free(p);). Use it as _cleanup_(funcp). */
#define DEFINE_CLEANUP_FUNC(type, func)                                                                     \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p)                                                                                     \
                        *p = func(*p);                                                                      \
        }

/* The same for a destructor `void func(type)`. */
#define DEFINE_CLEANUP_FUNC_VOID(type, func)                                                                \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p) {                                                                                   \
                        func(*p);                                                                           \
                        *p = NULL;                                                                          \
                }                                                                                           \
        }
