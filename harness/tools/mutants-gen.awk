# mutants-gen.awk: lists the mutants of C source files, for harness/tools/mutants. Run as
#   awk -f mutants-gen.awk FILE.c...
# Prints one mutant a line, tab-separated: ID, FILE (as given), LINE, OPERATOR, the mutated line. Every mutant
# changes one line. ID is FILE:FUNCTION:OPERATOR:WHAT, with WHAT the code changed, spaces removed (and #2, #3
# for a repeat in the same function): it does not change when lines move or other functions change.
#
# Operators, each applied to code in function bodies (comments and string literals are never touched):
#   delete     a call that releases, hands off or ends something (free, close, *_free, *_unref, *_close,
#              *_complete, *_cancel, *_interrupt, *_dispose, *_remove, *_forget_*, destroy) is deleted: a
#              statement becomes (void) 0, a value (p = x_unref(p), return x_free(x)) a null of its type;
#              so is the clearing of a pointer in a structure (x->y = NULL), a back-pointer or a slot
#   twice      a call that frees or releases (free, close, *_free, *_unref, *_complete, *_cancel, destroy)
#              runs twice
#   copy       a steal (TAKE_PTR(x), TAKE_FD(x)) becomes a plain copy (x): the variable still owns it
#   no-cleanup a cleanup attribute (_cleanup_(f), _cleanup_free_, ...) is dropped from its declaration
#   return     an early exit (a return that is not the last line of its function) returns another value:
#              -!(value): 0 for a non-zero value and -1 for zero (an int, an enum, a bool), NULL for a pointer (a
#              function's own NULL is left alone), keeping the returned expression's side effects
# Assumes the repository's style: a function's definition starts at column 0 and its braces sit alone on
# their lines at column 0; a call that is mutated fits on one line.

function is_release(name) {
        return name ~ /^(free|close|safe_close|destroy)$/ ||
               name ~ /_(free|unref|unref_|close|complete|cancel|interrupt|dispose|remove|destroy)$/ ||
               name ~ /_forget_[a-z_]+$/
}
function is_freeing(name) {
        return name ~ /^(free|close|safe_close|destroy)$/ || name ~ /_(free|unref|unref_|complete|cancel|destroy)$/
}
function nospace(s) { gsub(/[ \t]+/, "", s); return s }
function indent(s) { match(s, /^[ \t]*/); return substr(s, 1, RLENGTH) }
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

# Blanks comments and the contents of string and character literals, keeping every column in place.
function blank(line,    out, i, c, n, quote) {
        out = ""
        n = length(line)
        for (i = 1; i <= n; i++) {
                c = substr(line, i, 1)
                if (in_comment) {
                        if (c == "*" && substr(line, i + 1, 1) == "/") { out = out "  "; i++; in_comment = 0 }
                        else out = out " "
                } else if (c == "/" && substr(line, i + 1, 1) == "*") {
                        out = out "  "; i++; in_comment = 1
                } else if (c == "/" && substr(line, i + 1, 1) == "/") {
                        while (i <= n) { out = out " "; i++ }
                } else if (c == "\"" || c == "'") {
                        quote = c
                        out = out c
                        for (i++; i <= n; i++) {
                                c = substr(line, i, 1)
                                if (c == "\\") { out = out "  "; i++; continue }
                                if (c == quote) break
                                out = out " "
                        }
                        if (i <= n) out = out quote
                } else out = out c
        }
        return out
}

# The column of the parenthesis that closes the one at column open, or 0.
function closing(code, open,    i, depth, c) {
        depth = 0
        for (i = open; i <= length(code); i++) {
                c = substr(code, i, 1)
                if (c == "(") depth++
                else if (c == ")" && --depth == 0) return i
        }
        return 0
}

function emit(file, func, op, what, lineno, text,    id, base) {
        base = file
        sub(/^.*\//, "", base)
        id = base ":" func ":" op ":" nospace(what)
        if (++seen[id] > 1) id = id "#" seen[id]
        print id "\t" file "\t" lineno "\t" op "\t" text
}

function scan_file(file,    lineno, line, code, n, i, depth, func, rettype, m, pos, name, open, close_at,
                          before, after, call, stmt, repl, expr, k, next_code, text, value) {
        n = 0
        in_comment = 0
        while ((getline line < file) > 0) {
                n++
                src[n] = line
                blanked[n] = blank(line)
        }
        close(file)
        depth = 0
        func = "(top)"
        for (lineno = 1; lineno <= n; lineno++) {
                line = src[lineno]
                code = blanked[lineno]
                # A definition's first line, at column 0 outside any body: its name and return type.
                if (depth == 0 && code ~ /^[A-Za-z_]/ && match(code, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
                        func = substr(code, RSTART, RLENGTH)
                        sub(/[ \t]*\($/, "", func)
                        rettype = substr(code, 1, RSTART - 1)
                        rettype = rettype ~ /\*/ ? "pointer" : rettype ~ /(^|[^A-Za-z0-9_])void[ \t]*$/ ? "void" : "value"
                }
                if (depth > 0) {
                        # Calls that release, hand off or end something.
                        pos = 1
                        while (match(substr(code, pos), /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
                                m = pos + RSTART - 1                # the name's column
                                open = pos + RSTART + RLENGTH - 2   # its parenthesis
                                name = substr(code, m, RLENGTH)
                                sub(/[ \t]*\($/, "", name)
                                pos = open + 1
                                if (!is_release(name)) continue
                                # Include the object it is reached through: a->b->destroy(...).
                                while (m > 2 && substr(code, m - 2, 2) == "->" || m > 1 && substr(code, m - 1, 1) == ".") {
                                        m -= substr(code, m - 1, 1) == "." ? 1 : 2
                                        while (m > 1 && substr(code, m - 1, 1) ~ /[A-Za-z0-9_]/) m--
                                }
                                close_at = closing(code, open)
                                if (!close_at) continue
                                call = substr(line, m, close_at - m + 1)
                                before = trim(substr(code, 1, m - 1))
                                after = trim(substr(code, close_at + 1))
                                stmt = after ~ /^;/ && (before == "" || before ~ /[){;]$/ || before ~ /(^|[^A-Za-z0-9_])else$/)
                                repl = stmt ? "(void) 0" : "((__typeof__(" call ")) 0)"
                                emit(file, func, "delete", call, lineno,
                                     substr(line, 1, m - 1) repl substr(line, close_at + 1))
                                if (is_freeing(name))
                                        emit(file, func, "twice", call, lineno,
                                             substr(line, 1, m - 1) "((void) " call ", " call ")" substr(line, close_at + 1))
                        }
                        # x->y = NULL; (a field cleared, not a local variable).
                        if (match(code, /^[ \t]*[A-Za-z_][A-Za-z0-9_]*(->|\.)[A-Za-z0-9_>.-]*[ \t]*=[ \t]*NULL[ \t]*;/)) {
                                text = substr(line, RSTART, RLENGTH)
                                after = substr(line, RSTART + RLENGTH)
                                emit(file, func, "delete", text, lineno, indent(line) "(void) 0;" after)
                        }
                        # Steals.
                        if (match(code, /TAKE_(PTR|FD)[ \t]*\(/)) {
                                open = RSTART + RLENGTH - 1
                                close_at = closing(code, open)
                                if (close_at) {
                                        call = substr(line, RSTART, close_at - RSTART + 1)
                                        emit(file, func, "copy", call, lineno,
                                             substr(line, 1, RSTART - 1) "(" substr(line, open + 1, close_at - open - 1) ")" substr(line, close_at + 1))
                                }
                        }
                        # Cleanup attributes.
                        if (match(code, /_cleanup_[A-Za-z0-9_]*/)) {
                                m = RSTART
                                k = RSTART + RLENGTH
                                if (substr(code, k, 1) == "(") k = closing(code, k) + 1
                                text = substr(line, m, k - m)
                                emit(file, func, "no-cleanup", text, lineno, substr(line, 1, m - 1) substr(line, k + (substr(line, k, 1) == " ")))
                        }
                        # Early exits: a return that is not the last line of its function.
                        # (Not a return right under a case label: that is a table, not an exit.)
                        k = lineno - 1
                        while (k > 1 && blanked[k] ~ /^[ \t]*$/) k--
                        if (rettype != "void" && match(code, /^[ \t]*return[ \t(]/) && blanked[k] !~ /:[ \t]*$/) {
                                k = lineno + 1
                                while (k <= n && blanked[k] ~ /^[ \t]*$/) k++
                                next_code = k <= n ? blanked[k] : "}"
                                expr = line
                                sub(/^[ \t]*return[ \t]*/, "", expr)
                                if (next_code !~ /^}/ && match(expr, /;[ \t]*(\/\*.*\*\/)?[ \t]*$/)) {
                                        after = substr(expr, RSTART)
                                        expr = trim(substr(expr, 1, RSTART - 1))
                                        value = ""
                                        if (rettype == "pointer") {
                                                if (expr != "NULL" && expr !~ /_(unref|free)\(/)
                                                        value = expr ~ /\(/ ? "((void) (" expr "), NULL)" : "NULL"
                                        } else if (expr != "")
                                                value = "-!(" expr ")"
                                        if (value != "")
                                                emit(file, func, "return", expr, lineno,
                                                     indent(line) "return " value after)
                                }
                        }
                }
                # Depth after this line.
                for (i = 1; i <= length(code); i++) {
                        if (substr(code, i, 1) == "{") depth++
                        else if (substr(code, i, 1) == "}") depth--
                }
                if (depth == 0 && code ~ /^}/) func = "(top)"
        }
        for (k in seen) delete seen[k]
}

BEGIN {
        for (a = 1; a < ARGC; a++) scan_file(ARGV[a])
        exit 0
}
