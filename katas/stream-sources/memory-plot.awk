# memory-plot.awk: reads the demo's output for the kata and for the solution (demo.c), prints them side by
# side and writes an SVG plot of memory against streams.
#
#   awk -f memory-plot.awk -v svg=memory-growth.svg kata.txt solution.txt
#
# Input lines: "# LABEL N streams", "streams heap_bytes rss_kb", "# done LABEL bytes_per_stream seconds".

function commas(n,    s, out) {
        s = sprintf("%d", n)
        out = ""
        while (length(s) > 3) {
                out = "," substr(s, length(s) - 2) out
                s = substr(s, 1, length(s) - 3)
        }
        return s out
}
function mb(bytes) { return bytes / 1000000 }
# A round step for about `parts` grid lines up to top: 1, 2 or 5 times a power of ten.
function nice_step(top, parts,    raw, power, f) {
        raw = top / parts
        if (raw <= 0) return 1
        power = exp(log(10) * int(log(raw) / log(10) + (raw < 1 ? -1 : 0)))
        f = raw / power
        return sprintf("%.6g", (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power) + 0 # no float dust
}

FNR == 1 { side++ }
/^# done / { per_stream[side] = $4; seconds[side] = $5; next }
/^# / { label[side] = $2; total[side] = $3; next }
NF == 3 {
        n = ++count[side]
        x[side, n] = $1; heap[side, n] = $2; rss[side, n] = $3 * 1024
        if (mb($2) > ymax) ymax = mb($2)
        if (mb($3 * 1024) > ymax) ymax = mb($3 * 1024)
        if ($1 > xmax) xmax = $1
}

END {
        if (side != 2 || !count[1] || !count[2]) {
                print "memory-plot.awk: expected the output of two demo runs" > "/dev/stderr"
                exit 1
        }

        # ---- the table: every fifth sample and the last ----
        printf "%12s | %-28s | %-28s\n", "", label[1] " (heap held, RSS)", label[2] " (heap held, RSS)"
        for (i = 1; i <= count[1] && i <= count[2]; i++) {
                if (i != 1 && (i - 1) % 5 != 0 && i != count[1])
                        continue
                printf "%12s | %13s B %9.1f MB | %13s B %9.1f MB\n", commas(x[1, i]),
                       commas(heap[1, i]), mb(rss[1, i]), commas(heap[2, i]), mb(rss[2, i])
        }
        printf "\n"
        for (s = 1; s <= 2; s++)
                printf "%-9s %s bytes retained per stream after %s streams (%s s)\n", label[s] ":",
                       per_stream[s], commas(total[s]), seconds[s]

        # ---- the plot ----
        width = 720; height = 420; left = 80; right = 44; top = 48; bottom = 56
        pw = width - left - right; ph = height - top - bottom
        ystep = nice_step(ymax, 5); ytop = ystep * (int(ymax / ystep) + 1)
        xstep = nice_step(xmax, 5); xtop = xmax
        colour[1] = "#c0392b"; colour[2] = "#1f77b4"

        printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" " \
               "font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height > svg
        printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n" > svg
        printf "<text x=\"%d\" y=\"24\" font-size=\"15\">Memory held while %s streams come and go: %s and %s</text>\n",
               left, commas(xmax), label[1], label[2] > svg
        for (v = 0; v <= ytop + ystep / 2; v += ystep) {
                y = top + ph - v / ytop * ph
                printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y,
                       left + pw, y > svg
                printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g MB</text>\n", left - 6, y + 4, v > svg
        }
        for (v = 0; v <= xtop; v += xstep) {
                xx = left + v / xtop * pw
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", xx, top, xx,
                       top + ph > svg
                printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", xx, top + ph + 18,
                       commas(v) > svg
        }
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">streams published, played and gone</text>\n",
               left + pw / 2, height - 12 > svg
        printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", left, top,
               pw, ph > svg
        for (s = 1; s <= 2; s++)
                for (what = 1; what <= 2; what++) {
                        points = ""
                        for (i = 1; i <= count[s]; i++) {
                                v = what == 1 ? heap[s, i] : rss[s, i]
                                points = points sprintf("%.1f,%.1f ", left + x[s, i] / xtop * pw,
                                                        top + ph - mb(v) / ytop * ph)
                        }
                        printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>\n",
                               colour[s], what == 2 ? " stroke-dasharray=\"6 4\"" : "", points > svg
                }
        # The legend, top left inside the plot.
        ly = top + 18
        for (s = 1; s <= 2; s++)
                for (what = 1; what <= 2; what++) {
                        printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                               left + 12, ly - 4, left + 40, ly - 4, colour[s],
                               what == 2 ? " stroke-dasharray=\"6 4\"" : "" > svg
                        text = what == 1 ? sprintf("heap held (%s B per stream)", per_stream[s]) : "resident set size"
                        printf "<text x=\"%d\" y=\"%d\">%s: %s</text>\n", left + 48, ly, label[s], text > svg
                        ly += 18
                }
        printf "</svg>\n" > svg
        close(svg)
        printf "Plot written to %s\n", svg
}
