#!/bin/sh
# Checks what a guest read back after a power cut against the host's ledger of acknowledgements.
#
#   sh image-build/power-cut-test/check.sh LEDGER READDIR
#
# LEDGER: one line per acknowledged event, "ROUND WRITER LINE STREAM VERSION" (from the console's
# PCACK lines). READDIR: what guest.sh wrote: read-STREAM.jsonl (`ringstore read STREAM`) for each
# stream of the test and read-all.jsonl (`ringstore read-all`).
# Fails (exit 1) when an acknowledged event is missing or different in its stream's read or in
# $all (lost), when a stream's versions have a gap, a duplicate or do not start at 0, when one
# appended line (ROUND WRITER LINE) appears twice, or when $all and the stream reads disagree.
# Events present but never acknowledged (in flight at the cut) are allowed and counted.
# Prints one summary line: acked=N lost=N lost_in_all=N ... and the first problems found.
set -eu
[ $# = 2 ] || { echo "usage: check.sh LEDGER READDIR" >&2; exit 2; }
LEDGER=$1
DIR=$2
set --
for f in "$DIR"/read-cut-*.jsonl; do
    [ -e "$f" ] && set -- "$@" "$f"
done
awk -v ledger="$LEDGER" -v all="$DIR/read-all.jsonl" '
function field(line, name,    re, x) { # a number or a quoted string after "name":
    re = "\"" name "\":(\"[^\"]*\"|[0-9]+)"
    if (!match(line, re)) return ""
    x = substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
    gsub(/"/, "", x)
    return x
}
function payload(line,    x) { # "r w n" from data {"r":R,"w":W,"n":N}, or ""
    if (!match(line, /"data":\{"r":[0-9]+,"w":[0-9]+,"n":[0-9]+\}/)) return ""
    x = substr(line, RSTART + 8, RLENGTH - 9)
    gsub(/"[rwn]":/, "", x); gsub(/,/, " ", x)
    return x
}
function problem(msg) { problems++; if (problems <= 10) print "  problem: " msg }
FILENAME == all {
    s = field($0, "stream"); v = field($0, "version")
    if (s !~ /^cut-/) next
    allcount++
    p = payload($0)
    if (((s, v) in inall)) problem("$all has " s "@" v " twice")
    inall[s, v] = p
    if (!((s, v) in ev)) problem("$all has " s "@" v " that the stream read lacks")
    else if (ev[s, v] != p) problem("$all and the stream read differ at " s "@" v)
    next
}
{   # a stream read
    s = field($0, "stream"); v = field($0, "version"); p = payload($0)
    events++
    if (p == "") problem("unexpected event " s "@" v ": " substr($0, 1, 120))
    if (!(s in next_v)) next_v[s] = 0
    if (v + 0 != next_v[s]) problem("stream " s ": version " v " where " next_v[s] " was due (gap or duplicate)")
    next_v[s] = v + 1
    ev[s, v] = p
    if ((p in seen) && p != "") { dups++; problem("appended line " p " appears twice (" seen[p] " and " s "@" v ")") }
    seen[p] = s "@" v
}
END {
    if (allcount != events) problem("$all holds " allcount " events of the test streams, the stream reads " events)
    while ((getline line < ledger) > 0) {
        split(line, a, " ")
        acked++
        key = a[1] " " a[2] " " a[3]
        if (!((a[4], a[5]) in ev)) { lost++; problem("lost: acknowledged " a[4] "@" a[5] " (round " a[1] " writer " a[2] " line " a[3] ") is not in the read") }
        else if (ev[a[4], a[5]] != key) { lost++; problem("lost: " a[4] "@" a[5] " holds " ev[a[4], a[5]] ", acknowledged as " key) }
        if (!((a[4], a[5]) in inall) || inall[a[4], a[5]] != key) lost_all++
        acked_key[key] = 1
    }
    for (p in seen) if (!(p in acked_key)) unacked++
    printf "acked=%d lost=%d lost_in_all=%d events_read=%d in_all=%d unacknowledged_present=%d duplicates=%d problems=%d\n", \
        acked, lost + 0, lost_all + 0, events + 0, allcount + 0, unacked + 0, dups + 0, problems + 0
    exit (problems > 0 || lost > 0 || lost_all > 0) ? 1 : 0
}' "$@" "$DIR/read-all.jsonl"
