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

/* Returns p, and makes a dropped result a warning (gcc warns even after a (void) cast; clang takes any
 * cast of the result, such as TAKE_PTR's own, for a use): a dropped TAKE_PTR() or TAKE_FD() is a leak.
 * sptr.h uses it for sptr_unref() too. */
static inline __attribute__((__warn_unused_result__)) void *must_use_(const volatile void *p)
{
        return (void *) p;
}
static inline __attribute__((__warn_unused_result__)) int must_use_int_(int value)
{
        return value;
}

/* TAKE_GENERIC(var, type, empty): returns the value held in variable var, as a type, and sets var to empty.
 * Evaluates var once. Both TAKE_PTR and TAKE_FD are built on it; the result must be used. */
#define TAKE_GENERIC(var, type, empty)                                                                      \
        __extension__({                                                                                     \
                __typeof__(var) *take_var_ = &(var);                                                        \
                type take_value_ = *take_var_;                                                              \
                *take_var_ = (empty);                                                                       \
                take_value_;                                                                                \
        })

/* Returns the pointer held in variable p and sets p to NULL: the caller now owns what p owned. */
#define TAKE_PTR(p) ((__typeof__(p)) must_use_(TAKE_GENERIC(p, __typeof__(p), NULL)))

/* Returns the descriptor held in variable fd and sets fd to -1. */
#define TAKE_FD(fd) must_use_int_(TAKE_GENERIC(fd, int, -1))

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
 * convention: p = foo_free(p);). Use it as _cleanup_(funcp). Write it as a statement, with its `;`: the
 * macro ends in a declaration that absorbs it (no -Wextra-semi). */
#define DEFINE_CLEANUP_FUNC(type, func)                                                                     \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p)                                                                                     \
                        *p = func(*p);                                                                      \
        }                                                                                                   \
        struct cleanup_semicolon_

/* The same for a destructor `void func(type)`. */
#define DEFINE_CLEANUP_FUNC_VOID(type, func)                                                                \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p) {                                                                                   \
                        func(*p);                                                                           \
                        *p = NULL;                                                                          \
                }                                                                                           \
        }                                                                                                   \
        struct cleanup_semicolon_
