# lib.sh: facts the tools share, sourced by them (POSIX sh). Each fact lives here once. The functions print
# their answer and also leave it in $REPLY: a caller on the learner's path (run-tests) calls them without a
# subshell, which costs milliseconds of every 'make check'.

# run_dir SIDE KATA DETECTOR: where the last run of SIDE/KATA with DETECTOR keeps its results: status (the
# verdict word, see verdict_word), summary, results.rec, the logs, first-green. The one place that knows.
run_dir() {
        REPLY="$ROOT/build/$1/$2/$3"
        printf '%s\n' "$REPLY"
}

# The verdicts, as words (what make status, the self-test and the reports read) and as exit codes of
# run-tests (what callers test with $?).
verdict_word() {
        case $1 in
        0) REPLY=green ;;
        2) REPLY=environment ;;
        3) REPLY=build-failed ;;
        10) REPLY=red-leak ;;
        11) REPLY=red-memory-error ;;
        12) REPLY=red-behaviour ;;
        13) REPLY=crashed ;;
        14) REPLY=red-error-path ;;
        15) REPLY=missing-tool ;;
        *) REPLY="failed-$1" ;;
        esac
        echo "$REPLY"
}

# report_verdict DIR: the verdict word that harness/tools/report wrote in DIR/summary, and the number of
# tests in REPORT_TESTS; both empty when it wrote none. A run or a sweep whose report gave no verdict (a
# broken harness) must never read as a pass: no_verdict WHAT says so, WHAT being what could not be read.
# shellcheck disable=SC2034 # REPORT_TESTS: for the callers
report_verdict() {
        REPLY="" REPORT_TESTS=""
        while IFS='=' read -r key value; do
                case $key in verdict) REPLY=$value ;; tests) REPORT_TESTS=$value ;; esac
        done 2>/dev/null <"$1/summary"
        echo "$REPLY"
}
no_verdict() {
        echo "$SIDE/$KATA: the harness could not read $1 (harness/tools/report wrote no verdict): a bug in the harness, not in your code."
}

# The one Valgrind command line: every leak kind shown (held bytes are failures too), only lost ones count
# as errors at exit, the XML log read by harness/tools/report. --read-inline-info=no: the code under test is
# built at -O0, nothing is inlined, and reading inline information costs start-up time.
# --run-libc-freeres=no: libc frees its own memory at exit only for a leak search at exit, and the test
# binary ends without one (its last search, after the tests, is its own: harness/test/kata_test.c).
# harness/test/check.supp: what Check keeps of each test, made between two tests, is no test's.
valgrind_command() {
        REPLY="valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=definite,indirect"
        REPLY="$REPLY --error-exitcode=99 --read-inline-info=no --run-libc-freeres=no --suppressions=$ROOT/harness/test/check.supp"
        REPLY="$REPLY --xml=yes --xml-file=$1/vg.%p.xml"
        REPLY="$REPLY --log-file=$1/valgrind.%p.log"
        echo "$REPLY"
}

# The sanitizers' settings. LeakSanitizer's check at exit is off in ordinary runs (the harness asks for one
# after each test) and on in the sweep, whose tests end at a failed assertion.
asan_options() {
        REPLY="detect_leaks=1:abort_on_error=0:max_free_fill_size=4096:free_fill_byte=219:malloc_fill_byte=190"
        echo "$REPLY"
}
# The same for a run that harness/tools/report reads: it resolves the stacks' file:line itself, one addr2line
# per module, where the sanitizers' own symbolizer took 200 ms of a kata's run. V=1 (their output shown
# whole) keeps their symbolizer.
asan_report_options() {
        asan_options >/dev/null
        [ "${V:-}" = 1 ] || REPLY="$REPLY:symbolize=0"
        echo "$REPLY"
}

# plural N WORD: "1 test", "2 tests".
plural() { if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 ${2}s"; fi; }

# The coverage gate of every solution (its tests and the sweep's failure points): lines and branches, in %.
COVERAGE_LINES=100
COVERAGE_BRANCHES=95
coverage_gate_met() { awk -v l="$1" -v b="$2" -v L=$COVERAGE_LINES -v B=$COVERAGE_BRANCHES 'BEGIN { exit !(l >= L && b >= B) }'; }

# fuzz_failure LOG: what stopped a fuzz harness (harness/fuzz/), in a few words, from its output: the broken
# invariant, the sanitizer's kind of error, or the leak. Empty when the log names none.
fuzz_failure() {
        sed -n -e 's/^fuzz: \(invariant broken\) at [^ ]*: /\1: /p' \
                -e 's/^.*ERROR: \(AddressSanitizer: [a-z-]*\).*/\1/p' \
                -e 's/^.*ERROR: \(LeakSanitizer\): detected memory leaks/\1: memory leaked/p' \
                -e 's/^.*runtime error: \(.*\)/undefined behaviour (UBSan): \1/p' \
                -e 's/^.*ERROR: \(libFuzzer: [a-z-]*\).*/\1/p' \
                -e 's/^fuzz-replay: \(.*\)\.$/\1/p' "$1" | head -n 1
}
