# The repository's own commands. A kata's commands live in its folder: make -C katas/<kata> help.

# In the order a learner should take them; a kata folder not listed here comes last.
ORDER := http-early-return data-consumer-callback stream-sources gb-sessions
FOUND := $(notdir $(patsubst %/Makefile,%,$(wildcard katas/*/Makefile)))
KATAS := $(filter $(FOUND),$(ORDER)) $(filter-out $(ORDER),$(FOUND))
TOOLS := harness/tools

.PHONY: help setup check status bench clean coverage oom lint mutants
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
	  "  make oom        fail every allocation of every solution in turn: no leak on any error path" \
	  "  make lint       gcc -fanalyzer and cppcheck over the solutions and the toolbox" \
	  "  make mutants    break every solution in small ways (a free deleted or doubled, a steal made a copy, ...): the tests must catch each" \
	  "  make bench      time the learner's loop (edit, make check) against Valgrind's own start-up" \
	  "  make clean      remove build/" \
	  "" \
	  "Katas: $(KATAS)"

# Installs the tools with apt-get (through sudo when not root), or says what to install where there is none.
setup:
	@$(TOOLS)/setup

check:
	@$(TOOLS)/selftest $(KATAS)

status:
	@$(TOOLS)/status $(KATAS)

coverage:
	@$(TOOLS)/coverage-all $(KATAS)

oom:
	@$(TOOLS)/oom-all $(KATAS)

lint:
	@$(TOOLS)/lint $(KATAS)

# JOBS=N: mutants judged at once (default 2).
mutants:
	@$(TOOLS)/mutants $(KATAS)

bench:
	@$(TOOLS)/bench-learner-loop

clean:
	rm -rf build
