/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: what the fuzz harnesses of harness/fuzz/ share. Each harness reads its input as lines of text,
 * one step a line, so that a saved input is a small text file that diffs well; libFuzzer mutates the bytes
 * as it likes, and a line the harness does not understand is skipped.
 *
 *   struct fuzz_input in = fuzz_input(data, size);
 *   struct fuzz_line line;
 *   while (fuzz_next_line(&in, &line)) {
 *           switch (fuzz_op(&line)) {                 the first byte of the line
 *           case 'n': n = fuzz_number(&line); ...     the next word, read as a decimal number
 *           case 'u': fuzz_rest(&line, buf, sizeof buf); ...   the rest of the line, raw bytes
 *           }
 *   }
 *
 * An invariant the code under test breaks stops the run with FUZZ_CHECK(): one sentence, then abort(),
 * which libFuzzer saves as a crash and harness/tools/fuzz-replay reports as a failed input.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many lines of an input are played: every input stays fast. */
#define FUZZ_MAX_LINES 256

#define FUZZ_CHECK(condition, ...)                                                                         \
        do {                                                                                               \
                if (!(condition)) {                                                                        \
                        fprintf(stderr, "fuzz: invariant broken at %s:%d: ", __FILE__, __LINE__);          \
                        fprintf(stderr, __VA_ARGS__);                                                      \
                        fputc('\n', stderr);                                                               \
                        abort();                                                                           \
                }                                                                                          \
        } while (0)

struct fuzz_input {
        const uint8_t *p, *end;
        unsigned lines;
};

struct fuzz_line {
        const uint8_t *p, *end;
};

static inline struct fuzz_input fuzz_input(const uint8_t *data, size_t size)
{
        return (struct fuzz_input){ .p = data, .end = data + size };
}

/* The next line, without its '\n'; false at the end of the input, or after FUZZ_MAX_LINES lines. */
static inline bool fuzz_next_line(struct fuzz_input *in, struct fuzz_line *line)
{
        const uint8_t *newline;

        if (in->p >= in->end || in->lines >= FUZZ_MAX_LINES)
                return false;
        newline = memchr(in->p, '\n', (size_t) (in->end - in->p));
        line->p = in->p;
        line->end = newline ? newline : in->end;
        in->p = newline ? newline + 1 : in->end;
        in->lines++;
        return true;
}

/* The line's first byte (0 for an empty line), consumed. */
static inline int fuzz_op(struct fuzz_line *line)
{
        return line->p < line->end ? *line->p++ : 0;
}

/* The next word (after spaces): its digits, read as a decimal number (other bytes are skipped; no digit
 * reads as 0). It saturates at UINT64_MAX. */
static inline uint64_t fuzz_number(struct fuzz_line *line)
{
        uint64_t value = 0;

        while (line->p < line->end && *line->p == ' ')
                line->p++;
        for (; line->p < line->end && *line->p != ' '; line->p++) {
                unsigned digit = (unsigned) (*line->p - '0');

                if (digit > 9)
                        continue;
                value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
        }
        return value;
}

/* Whether the line has another word. */
static inline bool fuzz_more(const struct fuzz_line *line)
{
        for (const uint8_t *p = line->p; p < line->end; p++)
                if (*p != ' ')
                        return true;
        return false;
}

/* The rest of the line after one space, raw (NUL bytes included), copied to buf and NUL-terminated there
 * (truncated to size - 1 bytes). Returns its length. */
static inline size_t fuzz_rest(struct fuzz_line *line, char *buf, size_t size)
{
        size_t length;

        if (line->p < line->end && *line->p == ' ')
                line->p++;
        length = (size_t) (line->end - line->p);
        if (length > size - 1)
                length = size - 1;
        memcpy(buf, line->p, length);
        buf[length] = '\0';
        line->p = line->end;
        return length;
}

/* Descriptors open in this process (counted in /proc/self/fd; the directory's own is not counted). */
static inline int fuzz_open_descriptors(void)
{
        DIR *dir = opendir("/proc/self/fd");
        int n = -1; /* the directory's own descriptor */

        FUZZ_CHECK(dir, "/proc/self/fd cannot be read, so descriptors cannot be counted");
        while (readdir(dir))
                n++;
        closedir(dir);
        return n - 2; /* "." and ".." */
}
