// SPDX-License-Identifier: MIT
// The C++ baseline of harness/tools/bench-sptr: bench_sptr.c's round with std::make_shared, line for line.
// Usage: bench_make_shared ROUNDS.
#include <cstdio>
#include <cstdlib>
#include <memory>

#define REFS 10

static unsigned long destroyed;

struct payload {
        long fields[6];
        ~payload() { destroyed += (unsigned long) fields[0] + 1; }
};

static std::shared_ptr<payload> holders[REFS];

static inline void escape(const void *p)
{
        __asm__ volatile("" : : "r"(p) : "memory");
}

extern "C" __attribute__((__noinline__)) void run_rounds(unsigned long rounds)
{
        for (unsigned long round = 0; round < rounds; round++) {
                std::shared_ptr<payload> p = std::make_shared<payload>();

                p->fields[0] = (long) round;
                escape(p.get());
                for (int i = 0; i < REFS; i++) {
                        holders[i] = p;
                        escape(holders[i].get());
                }
                for (int i = 0; i < REFS; i++) {
                        holders[i].reset();
                        escape(holders[i].get());
                }
                p.reset();
                escape(p.get());
        }
}

int main(int argc, char **argv)
{
        unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;

        run_rounds(rounds);
        if (destroyed != rounds * (rounds + 1) / 2) {
                std::fprintf(stderr, "bench_make_shared: wrong result (destroyed %lu)\n", destroyed);
                return 1;
        }
        return 0;
}
