# warm.sh: Valgrind kept warm between runs; sourced by run-tests (POSIX sh). Its functions answer in
# variables, not on stdout: each command started on the learner's path costs milliseconds.
#
# At a terminal, a run under Valgrind ends by starting the launcher under Valgrind again, for the next run
# (keep_warm): it waits in build/<side>/<kata>/valgrind/warm.<id>/ for at most KATA_WARM_IDLE seconds (600 by
# default), then ends. The next run claims it (claim_warm) when it was started for the same command, hands it
# its environment, builds, and tells it to go: neither Valgrind's start-up nor the build's end waits for the
# other. Each kept launcher has a folder of its own: two runs of one kata at once never share one. In it: go
# and done (FIFOs: the word for the launcher, and Valgrind's exit code for the run that claimed it), pids
# ("Valgrind's pid, its keeper's"), key (the command it was started for; written last), claimed (made by the
# run that takes it), env (that run's environment, removed once read) and Valgrind's output.
# kata_prewarm.c is the other side: its --keep mode is the keeper.
# It reads run-tests' variables (out, launcher, bin, warm_key, ROOT) and sets warm and warm_pid for it:
# shellcheck shell=sh disable=SC2154,SC2034

# warm_wanted: whether this run keeps one for the next. KATA_WARM=yes: always; unset or auto: at a terminal,
# from make in a kata's folder (a tool that runs make check, such as the self-test, is a deeper make level),
# not under make watch (it starts its own while the learner edits); any other value: never.
warm_wanted() {
        [ -n "$launcher" ] && [ -z "${KATA_WAIT:-}" ] || return 1
        case ${KATA_WARM:-auto} in
        yes) return 0 ;;
        auto) [ -t 1 ] && [ "${MAKELEVEL:-1}" -le 1 ] ;;
        *) return 1 ;;
        esac
}

# alive PID...: whether every PID runs (a zombie does not: it ended, and is only not yet reaped).
alive() {
        for pid; do
                stat=""
                { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
                stat=${stat##*) }
                case $stat in Z* | X* | x*) return 1 ;; esac
        done
}

# tell_to_end DIR: the launcher kept in DIR is told to end (the word 'x', as when a build failed). Opened for
# reading and writing, the FIFO never makes this wait, read or not.
tell_to_end() { [ ! -p "$1/go" ] || printf x 2>/dev/null 1<>"$1/go"; }

# stale DIR: whether what DIR's launcher was started with changed since (the key is older): the launcher,
# Check's suppressions, or a .valgrindrc that Valgrind read at its start.
# shellcheck disable=SC3013 # -nt: in POSIX.1-2024, and in every sh here (dash, bash, busybox)
stale() {
        for file in "$launcher" "$ROOT/harness/test/check.supp" .valgrindrc "${HOME:-/nonexistent}/.valgrindrc"; do
                [ ! -e "$file" ] || [ ! "$file" -nt "$1/key" ] || return 0
        done
        return 1
}

# claim_warm: takes a launcher kept warm for this run's command (warm_key) and alive: sets warm (its folder)
# and warm_pid (Valgrind's), with fd 9 open on its go and fd 8 on its done. One kept for another command is
# told to end.
claim_warm() {
        for dir in "$out"/warm.*; do
                [ -f "$dir/key" ] && [ ! -e "$dir/claimed" ] || continue
                key="" pids=""
                { read -r key <"$dir/key" && read -r pids <"$dir/pids"; } 2>/dev/null
                if [ "$key" != "$warm_key" ] || stale "$dir"; then
                        tell_to_end "$dir"
                        continue
                fi
                # shellcheck disable=SC2086 # two pids
                alive $pids || continue
                claimed=no
                set -C
                if true 2>/dev/null >"$dir/claimed"; then claimed=yes; fi
                set +C
                [ $claimed = yes ] || continue
                # done is held for reading and writing while the keeper is checked once more, then for reading
                # only: if the keeper still runs now, its exit code will wait in the pipe for this run, and its
                # end without one (killed) reads as the pipe's end; if it does not, it is not used.
                exec 7<>"$dir/done"
                # shellcheck disable=SC2086
                if alive $pids; then
                        exec 8<"$dir/done" 7>&- 9<>"$dir/go"
                        warm=$dir warm_pid=${pids% *}
                        return 0
                fi
                exec 7>&-
        done
}

# keep_warm: (in the background, with &) ends the launchers kept by earlier runs but one that a run of this
# kata uses at this moment, then starts one for the next run, through the launcher's --keep mode.
keep_warm() {
        exec </dev/null >/dev/null 2>&1
        for dir in "$out"/warm.*; do
                [ -d "$dir" ] || continue
                pids=""
                # shellcheck disable=SC2086
                if [ -e "$dir/claimed" ] && read -r pids <"$dir/pids" && alive $pids; then continue; fi
                tell_to_end "$dir"
                rm -rf "$dir"
        done
        read -r id _ </proc/self/stat
        dir="$out/warm.$id"
        mkdir "$dir" && mkfifo "$dir/go" "$dir/done" || exit 0
        case ${KATA_WARM_IDLE:-} in '' | *[!0-9]* | 0) idle=600 ;; *) idle=$KATA_WARM_IDLE ;; esac
        valgrind_command "$dir"
        # shellcheck disable=SC2086 # the command line is words without spaces
        KATA_PREWARM_FIFO="$dir/go" KATA_PREWARM_IDLE=$idle KATA_PREWARM_ENV="$dir/env" \
                exec "$launcher" --keep "$dir" "$warm_key" $REPLY "$launcher" "$bin"
}
