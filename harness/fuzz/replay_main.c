/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c: runs a fuzz harness without libFuzzer, for harness/tools/fuzz-replay. Each file named on
 * the command line is read whole and given to LLVMFuzzerTestOneInput() once, in order, in one process;
 * "replaying FILE" on stderr says which one runs. A broken invariant aborts, and ASan and UBSan stop at
 * what they find. Leaks are checked after each input, as libFuzzer does: when the input allocated more
 * blocks than it freed, LeakSanitizer looks for lost ones, and any it finds fail that input (exit 1). A
 * file that cannot be read exits 2 with one sentence.
 */
#include <sanitizer/lsan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sanitizers' runtime has it (LLVM's sanitizer/allocator_interface.h declares it; gcc ships no header). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static unsigned long mallocs, frees;

static void count_malloc(const volatile void *pointer, size_t size)
{
        (void) pointer;
        (void) size;
        mallocs++;
}

static void count_free(const volatile void *pointer)
{
        (void) pointer;
        frees++;
}

/* The file's bytes in a block of exactly their size (a read past them is an ASan error, as under libFuzzer),
 * or NULL with one sentence said. */
static uint8_t *read_input(const char *path, size_t *ret_size)
{
        FILE *file = fopen(path, "rb");
        uint8_t *data;
        long size;

        if (!file || fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
                fprintf(stderr, "fuzz-replay: %s cannot be read.\n", path);
                if (file)
                        fclose(file);
                return NULL;
        }
        data = malloc(size ? (size_t) size : 1);
        if (!data || fread(data, 1, (size_t) size, file) != (size_t) size) {
                fprintf(stderr, "fuzz-replay: %s cannot be read.\n", path);
                free(data);
                fclose(file);
                return NULL;
        }
        fclose(file);
        *ret_size = (size_t) size;
        return data;
}

int main(int argc, char **argv)
{
        __sanitizer_install_malloc_and_free_hooks(count_malloc, count_free);
        for (int i = 1; i < argc; i++) {
                size_t size = 0;
                uint8_t *data = read_input(argv[i], &size);
                unsigned long blocks;

                if (!data)
                        return 2;
                fprintf(stderr, "replaying %s\n", argv[i]);
                blocks = mallocs - frees;
                LLVMFuzzerTestOneInput(data, size);
                if (mallocs - frees != blocks && __lsan_do_recoverable_leak_check()) {
                        fprintf(stderr, "fuzz-replay: %s leaked memory (LeakSanitizer's report above).\n", argv[i]);
                        return 1;
                }
                free(data);
        }
        return 0;
}
