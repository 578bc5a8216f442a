# harness/kata.mk: the one make fragment that builds and checks every kata and every solution.
#
# A kata's Makefile (and its solution's) sets three variables and includes this file:
#   KATA     the kata's name, the same as its folder's
#   SOURCES  the .c files of the folder being built: the code under test
#   TEST     the test file, which lives in katas/$(KATA)/ and serves the kata and the solution alike
# and may set TEST_DIR when the test file lives elsewhere (the toolbox's own tests do).
#
# Targets: check (DETECTOR=valgrind|asan|none), coverage, clean, help. V=1 shows every command.
# Everything built goes to build/<katas|solutions>/<kata>/ at the top of the repository.

HARNESS := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ROOT := $(abspath $(HARNESS)/..)
HERE := $(CURDIR)
SIDE := $(notdir $(abspath $(HERE)/..))
BUILD := $(ROOT)/build/$(SIDE)/$(KATA)
TEST_DIR ?= $(ROOT)/katas/$(KATA)
TOOLBOX := $(HARNESS)/toolbox
TOOLS := $(HARNESS)/tools

DETECTOR ?= valgrind
ifeq ($(filter $(DETECTOR),valgrind asan none),)
$(error DETECTOR=$(DETECTOR) is not a detector: use DETECTOR=valgrind (the default), asan or none)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Valgrind and DETECTOR=none run the same plain build; ASan and coverage need builds of their own.
VARIANT_valgrind := plain
VARIANT_none := plain
VARIANT_asan := asan
VARIANT := $(VARIANT_$(DETECTOR))

CC ?= cc
# What pkg-config and the compiler say about Check, cached in build/toolchain-<compiler>.mk: asking costs four shells
# (about 20 ms) on every make. A cache made with another compiler or pkg-config path is asked again (so is one
# of another version: the key's first field, raised when the cached facts change), and an incomplete answer
# (something missing) is never cached, so that installing it takes effect at once.
TOOLCHAIN_CACHE := $(ROOT)/build/toolchain-$(notdir $(CC)).mk
TOOLCHAIN_KEY := 2|$(CC)|$(PKG_CONFIG_PATH)|$(PKG_CONFIG_LIBDIR)
-include $(TOOLCHAIN_CACHE)
ifneq ($(CACHED_TOOLCHAIN_KEY),$(TOOLCHAIN_KEY))
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS_PC := $(shell pkg-config --libs check 2>/dev/null)
# Under Valgrind each shared library costs start-up time on every run: link Check's helper libsubunit
# statically when its archive is there, and leave out libm (harness/test/check_floor.c stands in for it).
SUBUNIT_ARCHIVE := $(if $(filter -lsubunit,$(CHECK_LIBS_PC)),$(shell $(CC) -print-file-name=libsubunit.a 2>/dev/null))
CC_PATH := $(shell command -v $(CC) 2>/dev/null)
# gold links a kata's binaries in about half the time of the default linker (80 ms of the ASan loop's link):
# used where the compiler can use it.
FAST_LD := $(if $(findstring GNU gold,$(shell $(CC) -fuse-ld=gold -Wl,--version 2>/dev/null)),-fuse-ld=gold)
ifneq ($(and $(CHECK_LIBS_PC),$(CC_PATH)),)
$(shell mkdir -p $(ROOT)/build)
$(file >$(TOOLCHAIN_CACHE),CACHED_TOOLCHAIN_KEY := $(TOOLCHAIN_KEY))
$(file >>$(TOOLCHAIN_CACHE),CHECK_CFLAGS := $(CHECK_CFLAGS))
$(file >>$(TOOLCHAIN_CACHE),CHECK_LIBS_PC := $(CHECK_LIBS_PC))
$(file >>$(TOOLCHAIN_CACHE),SUBUNIT_ARCHIVE := $(SUBUNIT_ARCHIVE))
$(file >>$(TOOLCHAIN_CACHE),CC_PATH := $(CC_PATH))
$(file >>$(TOOLCHAIN_CACHE),FAST_LD := $(FAST_LD))
endif
endif
CHECK_LIBS := $(filter-out -lm $(if $(filter /%,$(SUBUNIT_ARCHIVE)),-lsubunit),$(CHECK_LIBS_PC)) \
	$(filter /%,$(SUBUNIT_ARCHIVE))

# -gdwarf-4: Valgrind 3.19 cannot read the DWARF 5 that clang 14 writes.
# SPTR_TRACK_REFS: the toolbox records where each live shared reference was taken, for the report (sptr.h).
# CFLAGS_COMMON builds what every kata shares (the harness, the toolbox); CFLAGS_BASE adds the kata's own.
# -pipe: the compiler hands its assembly to the assembler without a temporary file (10 ms of each compile).
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -DSPTR_TRACK_REFS -g -gdwarf-4 -pipe -Wall -Wextra -Werror -MMD -MP \
	-fmacro-prefix-map=$(ROOT)/= -I$(HARNESS)/test -I$(TOOLBOX) $(CHECK_CFLAGS)
CFLAGS_BASE := $(CFLAGS_COMMON) -I$(HERE) -DKATA_NAME='"$(KATA)"'
# -fPIC: the plain objects also make the shared library that the Valgrind run loads (see PREWARM below).
CFLAGS_plain := -O0 -fPIC
CFLAGS_asan := -O0 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS_coverage := -O0 --coverage -DKATA_COVERAGE
LDFLAGS_asan := -fsanitize=address,undefined
LDFLAGS_coverage := --coverage

TOOLBOX_SOURCES := $(notdir $(wildcard $(TOOLBOX)/*.c))

# The harness's and the toolbox's objects are the same for every kata: they are built once per compiler and
# variant, in build/shared/<compiler>/<variant>/, and shared. Only harness/test/kata_name.c is compiled for
# each kata. Coverage measures the kata's own sources only: its shared objects have no counters.
SHARED := $(ROOT)/build/shared/$(notdir $(CC))
SHARED_CFLAGS_plain := $(CFLAGS_plain)
SHARED_CFLAGS_asan := $(CFLAGS_asan)
SHARED_CFLAGS_coverage := $(CFLAGS_plain) -DKATA_COVERAGE

# objects_of(variant): every object the test binary of that variant links, but main().
objects_of = $(SOURCES:%.c=$(BUILD)/$(1)/src/%.o) $(TEST:%.c=$(BUILD)/$(1)/test/%.o) $(BUILD)/$(1)/harness/kata_name.o \
	$(addprefix $(SHARED)/$(1)/,harness/kata_test.o harness/kata_calls.o harness/check_floor.o \
	$(TOOLBOX_SOURCES:%.c=toolbox/%.o))

# The calls of the code under test (and of the toolbox) that the harness sees, in every build: each object is
# compiled, then these calls are renamed to harness/test/kata_calls.c's kata_call_<name>(), which knows who
# opened each descriptor, catches a bad close(), and fails one chosen call for the allocation-failure sweep.
# The test file's calls, Check's and libc's are left alone.
KATA_CALLS := malloc calloc realloc reallocarray strdup strndup asprintf vasprintf socket socketpair accept accept4 \
	pipe pipe2 open fopen dup close fclose mmap munmap
RENAME_CALLS := $(foreach call,$(KATA_CALLS),--redefine-sym $(call)=kata_call_$(call))
binary_of = $(BUILD)/$(1)/test_$(subst -,_,$(KATA))

BIN := $(call binary_of,$(VARIANT))

.PHONY: all check coverage clean help tools-check hint watch reset oom wrong-fixes
.DEFAULT_GOAL := check

all: $(BIN)

help:
	@printf '%s\n' \
	  "In $(SIDE)/$(KATA):" \
	  "  make check                    build, then run the tests under Valgrind memcheck" \
	  "  make check DETECTOR=asan      the same with AddressSanitizer and LeakSanitizer" \
	  "  make check DETECTOR=none      behaviour only, no leak checking" \
	  "  make coverage                 line and branch coverage report (lcov + genhtml)" \
	  "  make hint                     the next hint (make hint N=2: hint 2 again)" \
	  "  make watch                    run make check again whenever a source file changes" \
	  "  make reset                    put the kata back as it was (your version is saved first)" \
	  "  make oom                      fail each allocation in turn: every error path must stay leak-free" \
	  "  make wrong-fixes [N=01]       apply each wrong fix of the catalogue to the solution: the tests catch it" \
	  "  KATA_TESTS=a,b                run only the tests named (with check, coverage or oom)" \
	  "  KATA_WARM=no                  at a terminal, make check leaves Valgrind started for the next run" \
	  "                                (it waits 10 minutes at most): this neither uses nor leaves one" \
	  "  make clean                    remove this folder's build outputs" \
	  "  V=1                           show every command"

# The compiler and Check must be there before anything is built; say so in one sentence if not. Checked
# only when pkg-config found no Check or the compiler is missing, so that a normal run spends nothing here.
TOOLS_MISSING := $(if $(and $(CHECK_LIBS_PC),$(CC_PATH)),,tools-check)
tools-check:
	@command -v $(CC) >/dev/null 2>&1 || { echo "No C compiler ($(CC)) found: run 'make setup' at the top of the repository (it installs build-essential)."; exit 2; }
	@command -v pkg-config >/dev/null 2>&1 || { echo "pkg-config is not installed: run 'make setup' at the top of the repository."; exit 2; }
	@pkg-config --exists check 2>/dev/null || { echo "Check (libcheck) is not installed: run 'make setup' at the top of the repository (or: apt-get install check)."; exit 2; }

# compile(variant[, rename]): the recipe that compiles one source file, with one sentence on failure; with
# rename, the calls of KATA_CALLS are renamed in the object (code under test and toolbox).
define compile
	@mkdir -p $(dir $@)
	$(if $(Q),@printf '  CC  %s\n' "$(patsubst $(ROOT)/%,%,$<)")
	$(Q)$(CC) $(CFLAGS_BASE) $(CFLAGS_$(1)) -c $< -o $@ || { printf 'Compile error in %s: fix it (the compiler says where, above), then run make check again.\n' "$(patsubst $(ROOT)/%,%,$<)"; exit 1; }
	$(if $(2),$(Q)objcopy $(RENAME_CALLS) $@)
endef

# compile_shared(variant[, rename]): the same for an object every kata shares. It is written under another
# name, then renamed: two katas built at once may both build it, and neither may link a half-written one.
define compile_shared
	@mkdir -p $(dir $@)
	$(if $(Q),@printf '  CC  %s\n' "$(patsubst $(ROOT)/%,%,$<)")
	$(Q)$(CC) $(CFLAGS_COMMON) $(SHARED_CFLAGS_$(1)) -MF $@.d.$$$$ -MT $@ -c $< -o $@.$$$$ \
		$(if $(2),&& objcopy $(RENAME_CALLS) $@.$$$$) && mv -f $@.d.$$$$ $(@:.o=.d) && mv -f $@.$$$$ $@ \
		|| { rm -f $@.$$$$ $@.d.$$$$; printf 'Compile error in %s: fix it (the compiler says where, above), then run make check again.\n' "$(patsubst $(ROOT)/%,%,$<)"; exit 1; }
endef

define variant_rules
# Objects depend on this file too: a change of flags here rebuilds them.
$(BUILD)/$(1)/src/%.o: $(HERE)/%.c $(HARNESS)/kata.mk | $(TOOLS_MISSING)
	$$(call compile,$(1),rename)
# The test files' assertions go through the harness (harness/test/kata_test.c: kata_assert_failed() and
# kata_mark_point()).
$(BUILD)/$(1)/test/%.o: $(TEST_DIR)/%.c $(HARNESS)/kata.mk | $(TOOLS_MISSING)
	$$(call compile,$(1))
	$(Q)objcopy --redefine-sym _ck_assert_failed=kata_assert_failed --redefine-sym _mark_point=kata_mark_point $$@
$(BUILD)/$(1)/harness/%.o: $(HARNESS)/test/%.c $(HARNESS)/kata.mk | $(TOOLS_MISSING)
	$$(call compile,$(1))
$(SHARED)/$(1)/harness/%.o: $(HARNESS)/test/%.c $(HARNESS)/kata.mk | $(TOOLS_MISSING)
	$$(call compile_shared,$(1))
$(SHARED)/$(1)/toolbox/%.o: $(TOOLBOX)/%.c $(HARNESS)/kata.mk | $(TOOLS_MISSING)
	$$(call compile_shared,$(1),rename)
$(call binary_of,$(1)): $(call objects_of,$(1)) $(SHARED)/$(1)/harness/kata_main.o
	$(if $(Q),@printf '  LD  %s\n' "$$(patsubst $(ROOT)/%,%,$$@)")
	$(Q)$(CC) $(FAST_LD) $(LDFLAGS_$(1)) $$^ -o $$@ $(CHECK_LIBS)
-include $(patsubst %.o,%.d,$(call objects_of,$(1)))
endef
$(foreach v,plain asan coverage,$(eval $(call variant_rules,$(v))))

# The allocation-failure sweep (harness/tools/sweep) runs the ASan build natively, one forked child per
# failure point: AddressSanitizer and UBSan catch an invalid access on an error path where it happens (a write
# to a freed block included), LeakSanitizer what it lost. DETECTOR=asan sweeps with its own test binary.
SWEEP_BIN := $(call binary_of,asan)
SWEEP_BIN_valgrind := $(SWEEP_BIN)
SWEEP_BIN_asan := $(SWEEP_BIN)
SWEEP_BIN_none :=


# Under Valgrind, 'make check' overlaps Valgrind's start-up with the build (harness/test/kata_prewarm.c):
# the launcher starts at once and loads the tests as a shared library when run-tests says they are built.
PREWARM := $(BUILD)/plain/kata_prewarm
TESTS_SO := $(BUILD)/plain/tests.so
# The launcher loads the libraries the tests need while it waits, out of the learner's way.
$(PREWARM): $(SHARED)/plain/harness/kata_prewarm.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FAST_LD) -pthread $< -o $@ -ldl -Wl,--no-as-needed $(filter-out -lm -lcheck% -pthread,$(CHECK_LIBS_PC))
# libsubunit's archive is not position-independent: the library takes the shared one.
$(TESTS_SO): $(call objects_of,plain)
	$(if $(Q),@printf '  LD  %s\n' "$(patsubst $(ROOT)/%,%,$@)")
	$(Q)$(CC) $(FAST_LD) -shared $^ -o $@ $(filter-out -lm,$(CHECK_LIBS_PC))

oom: $(SWEEP_BIN)
	$(Q)KATA=$(KATA) SIDE=$(SIDE) ROOT=$(ROOT) DETECTOR=asan $(TOOLS)/sweep $(SWEEP_BIN) $(BUILD)/sweep-run

# When every test passes, check runs the allocation-failure sweep before it says green (not with
# DETECTOR=none, which checks behaviour only; SWEEP=no skips it, and says so).
# The sweep's binary is built while the tests run (SWEEP_BUILD), and waited for only when the sweep runs.
# The shell of the recipe gives its place to run-tests (exec): one process fewer on the learner's path.
RUN_ENV = KATA=$(KATA) SIDE=$(SIDE) ROOT=$(ROOT) DETECTOR=$(DETECTOR) V=$(V) SWEEP=$(SWEEP) \
	SWEEP_BIN=$(SWEEP_BIN_$(DETECTOR)) SWEEP_BUILD="$(MAKE) $(if $(Q),-s) --no-print-directory $(SWEEP_BIN)"
ifeq ($(DETECTOR),valgrind)
check: $(PREWARM)
	$(Q)export $(RUN_ENV) KATA_BUILD="$(MAKE) $(if $(Q),-s) --no-print-directory $(TESTS_SO)" && \
		exec $(TOOLS)/run-tests --prewarm $(PREWARM) $(TESTS_SO)
else
check: $(BIN)
	$(Q)export $(RUN_ENV) && exec $(TOOLS)/run-tests $(BIN)
endif

# Coverage counts the ordinary tests and the allocation-failure sweep's runs (natively, DETECTOR=none: gcov
# needs no detector), so that error paths reached only when memory runs out count as reached.
coverage: $(call binary_of,coverage)
	$(Q)KATA=$(KATA) SIDE=$(SIDE) ROOT=$(ROOT) SOURCES="$(SOURCES)" HERE=$(HERE) \
		$(TOOLS)/coverage $(call binary_of,coverage) $(BUILD)/coverage

hint:
	$(Q)KATA=$(KATA) ROOT=$(ROOT) $(TOOLS)/hint $(ROOT)/katas/$(KATA)/hints $(ROOT)/build/hints/$(KATA) $(N)

watch:
	$(Q)$(TOOLS)/watch "$(MAKE) --no-print-directory check DETECTOR=$(DETECTOR)" $(HERE) $(TEST_DIR)

wrong-fixes:
	$(Q)$(TOOLS)/wrong-fixes $(KATA) $(N)

reset:
	$(Q)KATA=$(KATA) SIDE=$(SIDE) ROOT=$(ROOT) $(TOOLS)/reset

clean:
	$(Q)$(TOOLS)/stop-warm $(BUILD) && rm -rf $(BUILD)
	@echo "Removed $(patsubst $(ROOT)/%,%,$(BUILD))."
