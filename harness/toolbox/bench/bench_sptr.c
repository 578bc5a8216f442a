/* SPDX-License-Identifier: MIT */
/*
 * One round of harness/tools/bench-sptr, in C with sptr: make one object, take REFS references to it (each
 * stored in a holder, as a pool or a player would), release them, release the object. bench_make_shared.cpp
 * does the same with std::make_shared, line for line. Usage: bench_sptr ROUNDS.
 */
#include <sptr.h>

#include <stdio.h>
#include <stdlib.h>

#define REFS 10

struct payload {
        long fields[6];
};

static unsigned long destroyed;

static void payload_destroy(void *object)
{
        const struct payload *payload = object;

        destroyed += (unsigned long) payload->fields[0] + 1;
}

static struct payload *holders[REFS];

/* Keeps the compiler from folding the references away: as if p went to code it cannot see. Emits nothing. */
static inline void escape(const void *p)
{
        __asm__ volatile("" : : "r"(p) : "memory");
}

/* What callgrind counts (--toggle-collect=run_rounds). */
__attribute__((__noinline__)) void run_rounds(unsigned long rounds);
__attribute__((__noinline__)) void run_rounds(unsigned long rounds)
{
        for (unsigned long round = 0; round < rounds; round++) {
                struct payload *p = sptr_new_of(struct payload, payload_destroy);

                if (!p)
                        abort();
                p->fields[0] = (long) round;
                escape(p);
                for (int i = 0; i < REFS; i++) {
                        holders[i] = sptr_ref(p);
                        escape(holders[i]);
                }
                for (int i = 0; i < REFS; i++) {
                        holders[i] = sptr_unref(holders[i]);
                        escape(holders[i]);
                }
                p = sptr_unref(p);
                escape(p);
        }
}

int main(int argc, char **argv)
{
        unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;

        run_rounds(rounds);
        /* Every object destroyed once: the sum of round + 1 over all rounds. */
        if (destroyed != rounds * (rounds + 1) / 2 || sptr_live_count() != 0) {
                fprintf(stderr, "bench_sptr: wrong result (destroyed %lu)\n", destroyed);
                return 1;
        }
        return 0;
}
