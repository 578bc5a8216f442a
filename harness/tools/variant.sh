# variant.sh: builds and judges a variant of a solution (a wrong fix, a mutant) from the solution's objects,
# so that only the files the variant changed are compiled again. Sourced by harness/tools/wrong-fixes and
# harness/tools/mutants (POSIX sh); needs $root, the repository, and lib.sh.
#
# A variant is a folder with the solution's files (the changed ones as real files, the others as copies or
# links that keep their time stamps) and its Makefile; it is built with the kata's own Makefile (-I finds
# harness/kata.mk) under SIDE=variants/KATA/NAME, so its objects live in build/variants/KATA/NAME/KATA/ and
# start as copies of the solution's: make compiles only what is newer than them.
#
# Judging, cheapest first (VARIANT_PLAN, for measuring; the default is "native"):
#   native    1. the tests natively, on the ASan build (AddressSanitizer, UBSan, LeakSanitizer, held bytes,
#                bad frees and closes, descriptors), then, if they pass, the allocation-failure sweep on that
#                same binary: the sweep that 'make check' runs, except that it stops at a point that takes
#                the tests down (--first) instead of running every point again, one child each, to name it;
#             2. if all that is green: 'make check' under Valgrind without the sweep (SWEEP=no), so that
#                what only Valgrind sees (a read of uninitialised memory) is seen.
#             Green only if both are: the same verdict as 'make check' (tests under Valgrind, then the sweep).
#   valgrind  'make check' under Valgrind, sweep included: what a learner runs, nothing saved but the build.
# The verdict is run-tests' word (harness/tools/lib.sh): green, red-leak, red-memory-error, red-behaviour,
# crashed, red-error-path, ...; build-failed when the variant does not compile.

variant_plan=${VARIANT_PLAN:-native}
case $variant_plan in
native | valgrind) ;;
*)
        echo "VARIANT_PLAN=$variant_plan is not a plan: use native (the default) or valgrind." >&2
        exit 2
        ;;
esac

# A verdict needs no file:line: while variants are judged, the report's addr2line look-ups (one process per
# frame) are answered at once by a stand-in that knows nothing, and the sanitizers do not symbolize. The
# verdict is the same; the logs show fewer lines.
variant_quick_stacks() {
        # shellcheck disable=SC2154 # root: set by the script that sources this file
        mkdir -p "$root/build/variants/bin"
        printf '#!/bin/sh\necho "??"\necho "??:0"\n' >"$root/build/variants/bin/addr2line"
        chmod +x "$root/build/variants/bin/addr2line"
        PATH="$root/build/variants/bin:$PATH"
        ASAN_OPTIONS="$(asan_options):symbolize=0"
        export PATH ASAN_OPTIONS
}

# variant_base KATA: builds the solution's objects that variants start from. Says why and fails if it cannot.
variant_base() {
        vb_log="$root/build/variants/$1.base.log"
        mkdir -p "$root/build/variants"
        if ! make -s --no-print-directory -C "$root/solutions/$1" all "$root/build/solutions/$1/plain/kata_prewarm" \
                >"$vb_log" 2>&1; then
                echo "$1: the solution does not build; see ${vb_log#"$root"/}."
                return 1
        fi
        if ! make -s --no-print-directory -C "$root/solutions/$1" all DETECTOR=asan >>"$vb_log" 2>&1; then
                echo "$1: the solution does not build with DETECTOR=asan; see ${vb_log#"$root"/}."
                return 1
        fi
}

# variant_objects KATA COPY BUILD BUILDS...: starts BUILD (the copy's build folder, build/<side>/KATA) with
# the solution's objects of each of BUILDS (plain, asan), and makes their dependency lists name COPY's files
# instead of the solution's, so that a changed file (a header too) compiles again what depends on it.
variant_objects() {
        vo_kata=$1 vo_copy=$2 vo_build=$3
        shift 3
        mkdir -p "$vo_build"
        for vo_variant in "$@"; do
                [ -d "$root/build/solutions/$vo_kata/$vo_variant" ] &&
                        cp -pR "$root/build/solutions/$vo_kata/$vo_variant" "$vo_build/"
        done
        find "$vo_build" -name '*.d' -exec sed -i -e "s|$root/solutions/$vo_kata/|$vo_copy/|g" \
                -e "s|$root/build/solutions/$vo_kata/|$vo_build/|g" {} +
}

# variant_folder KATA NAME: makes (empty) and prints the folder of variant NAME's files.
variant_folder() {
        vf="$root/build/variants/$1/$2"
        rm -rf "$vf"
        mkdir -p "$vf/src"
        echo "$vf/src"
}

# variant_first_run BINARY OUTDIR: the tests once, natively, in one process, as run-tests runs them under
# ASan (the same variables) but without its report: a variant that fails here is killed whatever the report
# would call it, and only the survivors pay for a report (under Valgrind). Prints the verdict word, named
# from the records as the report names it (crashed, red-memory-error, red-behaviour, red-leak), or green.
variant_first_run() {
        vr_bin=$1 vr_out=$2
        rm -rf "$vr_out"
        mkdir -p "$vr_out"
        KATA_DETECTOR=asan CK_FORK=no CK_VERBOSITY=normal KATA_TEST_TIMEOUT=5 CK_DEFAULT_TIMEOUT=7 \
                KATA_RECORDS_FILE="$vr_out/results.rec" KATA_TAP_FILE="$vr_out/results.tap" KATA_XML_FILE='' \
                ASAN_OPTIONS="$(asan_options):symbolize=0" LSAN_OPTIONS=leak_check_at_exit=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                timeout -k 5 120 "$vr_bin" >"$vr_out/check.out" 2>"$vr_out/stderr.out"
        vr_rc=$?
        if [ $vr_rc -eq 0 ] && grep -q '^1\.\.[0-9]' "$vr_out/results.tap" && ! grep -q '^not ok' "$vr_out/results.tap"; then
                echo green
                return
        fi
        awk -F '\t' -v rc=$vr_rc '
        FILENAME ~ /results\.rec$/ { kind[$1] = 1; next }
        /ERROR: AddressSanitizer|runtime error:/ { kind["memerr"] = 1 }
        END {
                if (rc == 4 || rc == 124 || rc == 137 || rc > 128 || ("crash" in kind) || ("hang" in kind)) print "crashed"
                else if (("memerr" in kind) || ("misuse" in kind)) print "red-memory-error"
                else if (("assert" in kind) || ("errpath" in kind)) print "red-behaviour"
                else if (("leak" in kind) || ("held" in kind) || ("fd" in kind) || ("growth" in kind) || ("released" in kind)) print "red-leak"
                else print "failed-" rc
        }' "$vr_out/results.rec" "$vr_out/stderr.out" 2>/dev/null || echo "failed-$vr_rc"
}

# variant_judge KATA NAME LOG: builds and judges the variant whose files variant_folder made; prints the
# verdict word, appends what make and the tests said to LOG.
variant_judge() {
        vj_kata=$1 vj_side="variants/$1/$2" vj_log=$3
        vj_copy="$root/build/variants/$1/$2/src"
        vj_build="$root/build/$vj_side/$vj_kata"
        vj_verdict="$root/build/variants/$1/$2/verdict"
        variant_objects "$vj_kata" "$vj_copy" "$vj_build" plain asan
        vj_make="make -s --no-print-directory -C $vj_copy -I $root/solutions/$vj_kata SIDE=$vj_side"

        if [ "$variant_plan" = valgrind ]; then
                rm -f "$vj_verdict"
                KATA_VERDICT="$vj_verdict" $vj_make check >>"$vj_log" 2>&1
                cat "$vj_verdict" 2>/dev/null || echo build-failed
                return
        fi
        # 1. Natively, the ASan build.
        vj_bin="$vj_build/asan/test_$(echo "$vj_kata" | tr - _)"
        if ! $vj_make "$vj_bin" >>"$vj_log" 2>&1; then
                echo build-failed
                return
        fi
        vj_word=$(variant_first_run "$vj_bin" "$vj_build/first")
        cat "$vj_build/first/check.out" "$vj_build/first/stderr.out" >>"$vj_log" 2>/dev/null
        if [ "$vj_word" != green ]; then
                echo "$vj_word"
                return
        fi
        # 2. The allocation-failure sweep, on the same binary.
        KATA="$vj_kata" SIDE="$vj_side" ROOT="$root" "$root/harness/tools/sweep" --quiet --first "$vj_bin" "$vj_build/sweep-run" \
                >>"$vj_log" 2>&1
        case $? in
        0) ;;
        1) echo red-error-path; return ;;
        *) echo failed-sweep; return ;;
        esac
        # 3. Valgrind, without the sweep (it ran above): what only Valgrind sees.
        rm -f "$vj_verdict"
        KATA_VERDICT="$vj_verdict" $vj_make check SWEEP=no >>"$vj_log" 2>&1
        cat "$vj_verdict" 2>/dev/null || echo build-failed
}
