# The repository's own commands. A kata's commands live in its folder: make -C katas/<kata> help.

TOOLS := harness/tools
# The tools run from here check katas once each: none keeps Valgrind started for a next run (see README).
export KATA_WARM := no
# In the order a learner should take them (each kata's manifest says where it stands).
KATAS := $(shell $(TOOLS)/manifest katas)

.PHONY: help setup doctor check gate status report bench bench-sptr clean coverage oom lint mutants fuzz fresh-debian
.DEFAULT_GOAL := help

help:
	@printf '%s\n' \
	  "Memory-leak refactoring katas in C. Start here:" \
	  "  make setup      install what the katas need (compiler, Check, Valgrind, lcov, pkg-config, cppcheck, git)" \
	  "  make doctor     check this machine in seconds: one line per tool a learner needs, and what to do" \
	  "  make check      the repository's self-test: every kata leaks, every solution is clean (about a minute)" \
	  "  make status     your progress: each kata not started, red or green, and the next one to do" \
	  "  make report     your progress as one line, for the workshop's sheet or chat: make report NAME=ada-linus" \
	  "" \
	  "Then do a kata:" \
	  "  cd katas/$(firstword $(KATAS)) && make check     (make help there lists the rest: hint, watch, reset)" \
	  "" \
	  "For facilitators and maintainers:" \
	  "  make gate       the tests catch every wrong fix in the catalogues; the harness catches each class of" \
	  "                  wrong fix in its fixtures; the docs' samples match real runs; clang, TSan, lint (minutes)" \
	  "  make coverage   one line and branch coverage report over all solutions" \
	  "  make oom        the allocation-failure sweep of every solution: no leak on any error path" \
	  "  make lint       gcc -fanalyzer and cppcheck over the solutions and the toolbox" \
	  "  make mutants    break every solution in small ways (a free deleted or doubled, a steal made a copy, ...): the tests must catch each" \
	  "  make fuzz       fuzz every solution with libFuzzer, ASan and UBSan, FUZZ_SECONDS per target (default 10)" \
	  "  make bench      time the learner's loop (edit, make check) against Valgrind's own start-up," \
	  "                  then make bench-sptr" \
	  "  make bench-sptr instructions per shared object: sptr against C++'s std::make_shared (callgrind)" \
	  "  make fresh-debian" \
	  "                  the Dockerfile's RUN lines, then the quick start, on a bare Debian 12 (root, network)" \
	  "  make clean      remove build/ (and end the Valgrind runs kept warm for your next make check)" \
	  "" \
	  "The katas, in order (each builds on the one before):"
	@printf '  katas/%s\n' $(KATAS)

# Installs the tools with apt-get (through sudo when not root), or says what to install where there is none.
setup:
	@$(TOOLS)/setup

# A learner's setup, in seconds: compiler, make, pkg-config, Check, and Valgrind or else a working ASan.
doctor:
	@CC="$(CC)" $(TOOLS)/doctor $(KATAS)

check:
	@$(TOOLS)/selftest check

# What the tests must catch (every wrong fix in the catalogues, the harness's own fixtures), the docs' samples
# of output against real runs, the clang build, the toolbox under TSan, and lint.
gate:
	@$(TOOLS)/selftest gate

# Both read each kata's last check (Valgrind or ASan) when nothing changed since, else check it now.
status:
	@DETECTOR="$(DETECTOR)" $(TOOLS)/status $(KATAS)

report:
	@DETECTOR="$(DETECTOR)" $(TOOLS)/status --report "$(NAME)" $(KATAS)

coverage:
	@$(TOOLS)/coverage-all $(KATAS)

oom:
	@for kata in $(KATAS); do $(MAKE) -s --no-print-directory -C solutions/$$kata oom || exit 1; done

lint:
	@$(TOOLS)/lint $(KATAS)

# JOBS=N: mutants judged at once (default 2).
mutants:
	@$(TOOLS)/mutants $(KATAS)

# FUZZ_SECONDS=N: how long each target is fuzzed (default 10). See docs/fuzzing.md.
fuzz:
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" $(TOOLS)/fuzz $(KATAS)

bench:
	@$(TOOLS)/bench-learner-loop
	@$(TOOLS)/bench-sptr

bench-sptr:
	@$(TOOLS)/bench-sptr

# Root only: debootstrap, chroot. See harness/tools/fresh-debian.
fresh-debian:
	@$(TOOLS)/fresh-debian

clean:
	$(TOOLS)/stop-warm build && rm -rf build
