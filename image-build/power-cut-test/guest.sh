#!/bin/sh
# Runs inside the booted image (QEMU), started by power-cut-test.sh's one-off unit once
# multi-user.target is reached, from a copy in /run (the kit disk is unmounted before the load).
# The kit disk (FAT, label PCKIT, mounted read-write at /run/pctest) holds this script and the
# file `round`: a round number, or `final`.
#
# 1. Waits for ringstore.service to be READY (after a power cut: the file system's journal replay
#    and the store's own recovery, no --repair), then reads every stream of the test and $all back
#    onto the kit disk (read-STREAM.jsonl, read-all.jsonl, exit codes in read-codes), syncs and
#    unmounts it, and prints "PCTEST: READ-DONE". The host checks those reads against its ledger.
# 2. Round N: two writers append events without end through `ringstore append` (stdin, one JVM
#    each, 32 in flight, durability sync: the daemon's default), each to its two streams
#    cut-W-0 and cut-W-1, data {"r":N,"w":W,"n":LINE}. Each acknowledgement is printed to the
#    serial console as it comes back:  PCACK ROUND WRITER LINE STREAM VERSION #
#    The host keeps its ledger from those lines and kills QEMU at a random moment.
#    `final`: powers off after the reads.
# Every other line this prints starts "PCTEST:"; a failure is "PCTEST: FAIL ...".
set -u
exec >/dev/console 2>&1
KIT=/run/pctest
STREAMS="cut-0-0 cut-0-1 cut-1-0 cut-1-1"
ROUND=$(cat "$KIT/round")
say() { echo "PCTEST: $*"; }
fail() {
    say "FAIL $*"
    systemctl status ringstore --no-pager 2>&1 | sed 's/^/PCTEST-LOG: /'
    journalctl -b -u ringstore --no-pager 2>&1 | tail -n 60 | sed 's/^/PCTEST-LOG: /'
    exit 1
}
show() { systemctl show -p "$1" --value ringstore; }

say "round $ROUND: boot reached multi-user (uptime $(cut -d' ' -f1 /proc/uptime) s)"
i=0
while [ "$(show ActiveState)" != active ]; do
    [ "$(show ActiveState)" = failed ] && fail "ringstore.service failed (after the cut, without --repair)"
    i=$((i + 1)); [ "$i" -le 600 ] || fail "ringstore.service not active after 600 s ($(show ActiveState)/$(show SubState))"
    sleep 1
done
say "ringstore READY at uptime $(( $(show ActiveEnterTimestampMonotonic) / 1000 )) ms (started at $(( $(show ExecMainStartTimestampMonotonic) / 1000 )) ms), NRestarts=$(show NRestarts)"
journalctl -b -u ringstore -o cat --no-pager | grep -i -E 'recover|repair|damag|torn|ready:' | head -n 12 | sed 's/^/PCTEST: journal: /'

# --- read everything back onto the kit disk ---------------------------------------------------
t=$(date +%s%3N)
: > "$KIT/read-codes"
for s in $STREAMS; do
    ringstore read "$s" > "$KIT/read-$s.jsonl" 2> "$KIT/read-$s.err"
    echo "$s $?" >> "$KIT/read-codes"
done
ringstore read-all > "$KIT/read-all.jsonl" 2> "$KIT/read-all.err"
echo "\$all $?" >> "$KIT/read-codes"
for s in $STREAMS; do
    say "read $s: $(wc -l < "$KIT/read-$s.jsonl") events"
done
say "read \$all: $(wc -l < "$KIT/read-all.jsonl") events; exit codes: $(tr '\n' ' ' < "$KIT/read-codes")"
sync
cd /
umount "$KIT" || fail "cannot unmount the kit disk"
say "READ-DONE in $(( $(date +%s%3N) - t )) ms"

if [ "$ROUND" = final ]; then
    say "final reads done; powering off"
    systemctl --no-block poweroff
    exit 0
fi

# --- the load: acknowledgements to the console until the power is cut --------------------------
load() { # load WRITER
    awk -v r="$ROUND" -v w="$1" 'BEGIN {
        for (n = 1; ; n++) {
            printf "{\"stream\":\"cut-%d-%d\",\"type\":\"cut\",\"data\":{\"r\":%d,\"w\":%d,\"n\":%d}}\n", w, n % 2, r, w, n
            fflush()
        }
    }' | ringstore append 2>/dev/console | awk -v r="$ROUND" -v w="$1" '{
        n++; s = ""; v = ""
        if (match($0, /"stream":"[^"]*"/)) s = substr($0, RSTART + 10, RLENGTH - 11)
        if (match($0, /"version":[0-9]+/)) v = substr($0, RSTART + 10, RLENGTH - 10)
        if ($0 ~ /"error"/ || s == "" || v == "") printf "PCERR %d %d %d %s\n", r, w, n, $0
        else printf "PCACK %d %d %d %s %s #\n", r, w, n, s, v
        fflush()
    }'
}
say "LOAD-START round $ROUND"
load 0 &
load 1 &
wait
fail "the load ended before the power cut"
