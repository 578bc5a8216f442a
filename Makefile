# The repository's own commands. A kata's commands live in its folder: make -C katas/<kata> help.

TOOLS := harness/tools
# In the order a learner should take them (each kata's manifest says where it stands).
KATAS := $(shell $(TOOLS)/manifest katas)

.PHONY: help setup check status bench bench-sptr clean coverage oom lint
.DEFAULT_GOAL := help

help:
	@printf '%s\n' \
	  "Memory-leak refactoring katas in C. Start here:" \
	  "  make setup      install what the katas need (compiler, Check, Valgrind, lcov, pkg-config, cppcheck)" \
	  "  make check      the repository's self-test: every kata leaks, every solution is clean" \
	  "  make status     your progress: each kata not started, red or green, and the next one to do" \
	  "" \
	  "Then do a kata:" \
	  "  cd katas/http-early-return && make check     (make help there lists the rest: hint, watch, reset)" \
	  "" \
	  "For facilitators and maintainers:" \
	  "  make coverage   one line and branch coverage report over all solutions" \
	  "  make oom        the allocation-failure sweep of every solution: no leak on any error path" \
	  "  make lint       gcc -fanalyzer and cppcheck over the solutions and the toolbox" \
	  "  make bench      time the learner's loop (edit, make check) against Valgrind's own start-up," \
	  "                  then make bench-sptr" \
	  "  make bench-sptr instructions per shared object: sptr against C++'s std::make_shared (callgrind)" \
	  "  make clean      remove build/" \
	  "" \
	  "Katas: $(KATAS)"

# Installs the tools with apt-get (through sudo when not root), or says what to install where there is none.
setup:
	@$(TOOLS)/setup

check:
	@$(TOOLS)/selftest

status:
	@$(TOOLS)/status $(KATAS)

coverage:
	@$(TOOLS)/coverage-all $(KATAS)

oom:
	@for kata in $(KATAS); do $(MAKE) -s --no-print-directory -C solutions/$$kata oom || exit 1; done

lint:
	@$(TOOLS)/lint $(KATAS)

bench:
	@$(TOOLS)/bench-learner-loop
	@$(TOOLS)/bench-sptr

bench-sptr:
	@$(TOOLS)/bench-sptr

clean:
	rm -rf build
