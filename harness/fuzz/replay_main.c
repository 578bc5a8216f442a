/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c: runs a fuzz harness without libFuzzer, for harness/tools/fuzz-replay. Each file named on
 * the command line is read whole and given to LLVMFuzzerTestOneInput(), once, in order. A broken invariant
 * aborts, and the sanitizers (ASan, UBSan, LeakSanitizer at exit) report what they find; a file that cannot
 * be read exits 2 with one sentence.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                FILE *file = fopen(argv[i], "rb");
                uint8_t *data = NULL;
                size_t size = 0, allocated = 0, n;

                if (!file) {
                        fprintf(stderr, "fuzz-replay: %s cannot be opened.\n", argv[i]);
                        return 2;
                }
                do {
                        if (size == allocated) {
                                uint8_t *bigger = realloc(data, allocated = allocated ? 2 * allocated : 4096);

                                if (!bigger) {
                                        fprintf(stderr, "fuzz-replay: out of memory reading %s.\n", argv[i]);
                                        return 2;
                                }
                                data = bigger;
                        }
                        n = fread(data + size, 1, allocated - size, file);
                        size += n;
                } while (n > 0);
                if (ferror(file)) {
                        fprintf(stderr, "fuzz-replay: %s cannot be read.\n", argv[i]);
                        return 2;
                }
                fclose(file);
                /* Like libFuzzer, the harness gets a block of exactly the input's size: ASan sees a read past it. */
                uint8_t *input = malloc(size ? size : 1);
                if (!input) {
                        fprintf(stderr, "fuzz-replay: out of memory reading %s.\n", argv[i]);
                        return 2;
                }
                memcpy(input, data, size);
                free(data);
                LLVMFuzzerTestOneInput(input, size);
                free(input);
        }
        return 0;
}
