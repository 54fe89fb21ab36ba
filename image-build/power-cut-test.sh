#!/bin/sh
# A real power cut in the emulated board. Boots the image under qemu-system-aarch64 -M virt
# (2 cores, 512 MiB, as boot-test.sh) with its disk as a raw file attached with cache=none
# (O_DIRECT: QEMU keeps no cache of its own, so what the guest has written out is in the file and
# what is still in the guest's page cache is not). Inside (power-cut-test/guest.sh), once
# ringstore.service is READY: every test stream and $all are read back onto a small kit disk,
# then two writers append events without end through `ringstore append` (durability sync, the
# default) and print each acknowledgement to the serial console. The host keeps the ledger from
# the console and kills QEMU with SIGKILL at a random moment (seeded; the seed and each round's
# delay are printed): the guest's page cache and every write in flight are gone, as with a
# pulled plug. The next boot of the same disk (file-system journal replay, the store's recovery
# without --repair) reads everything back, and power-cut-test/check.sh checks every event the
# ledger holds, from every round so far: lost must be 0. N rounds take N+1 boots (each boot
# checks the previous round and runs the next one's load; the last one only reads).
# Before it reports, the checker is run once more on the last read with one acknowledged event
# taken out, and must catch it (lost=1): a checker that cannot fail fails the test.
#
#   sh image-build/power-cut-test.sh [--image PATH] [--rounds N] [--seed S]
#
# --rounds (default 5, RINGSTORE_POWERCUT_ROUNDS), --seed (default: the clock,
# RINGSTORE_POWERCUT_SEED). The cut comes RINGSTORE_POWERCUT_MIN_MS..RINGSTORE_POWERCUT_MAX_MS
# (default 2,000..45,000) after the round's first acknowledgement reaches the host, drawn from
# sha256(seed-round). RINGSTORE_BOOT_TIMEOUT (s, default 900) limits each boot up to READ-DONE.
# Builds the image first (build-image.sh) when none is given. Prints per round: acknowledged,
# lost, the timings; exits non-zero on any loss or problem. Work files: target/image-build/power-cut-test/.
set -eu
. "$(dirname "$0")/lib.sh"

IMG=""
ROUNDS=${RINGSTORE_POWERCUT_ROUNDS:-5}
SEED=${RINGSTORE_POWERCUT_SEED:-$(date +%s)}
MIN_MS=${RINGSTORE_POWERCUT_MIN_MS:-2000}
MAX_MS=${RINGSTORE_POWERCUT_MAX_MS:-45000}
LIMIT=${RINGSTORE_BOOT_TIMEOUT:-900}
while [ $# -gt 0 ]; do
    case "$1" in
        --image) IMG=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done
need_tools qemu-system-aarch64:qemu-system-arm mcopy:mtools mkfs.vfat:dosfstools partx:util-linux
[ "$ROUNDS" -ge 1 ] || die "--rounds must be 1 or more"
[ -n "$IMG" ] || IMG=$(sh "$IMAGE_BUILD/build-image.sh" | tail -n 1)
KIT_DIR="$IMAGE_BUILD/power-cut-test"
CHECK="$KIT_DIR/check.sh"
WORK="$OUT/power-cut-test"
rm -rf "$WORK"
mkdir -p "$WORK"
say "seed $SEED: $ROUNDS rounds, cut ${MIN_MS}..${MAX_MS} ms after the first acknowledgement (reproduce the delays with --seed $SEED)"

guest_boot_files "$IMG" "$WORK"
# The data disk: a raw copy of the image (sparse), 4 GiB so the first boot's growpart has room.
cp --sparse=always "$IMG" "$WORK/disk.raw"
truncate -s 4G "$WORK/disk.raw"
RUN='mkdir -p /run/pctest && mount -o rw,flush LABEL=PCKIT /run/pctest && cp /run/pctest/guest.sh /run/pc-guest.sh && exec sh /run/pc-guest.sh'
UNIT=$(printf '%s\n' '[Unit]' 'Description=ringstore power-cut test (from power-cut-test.sh, not in the image)' \
    'After=multi-user.target' '[Service]' 'Type=simple' 'StandardOutput=journal+console' \
    "ExecStart=/bin/sh -c \"$RUN\"" | base64 -w0)
CMDLINE="$GUEST_CMDLINE systemd.set_credential_binary=systemd.extra-unit.ringstore-powercut.service:$UNIT systemd.wants=ringstore-powercut.service"

now_ms() { date +%s%3N; }
delay_ms() { # delay_ms ROUND: MIN_MS..MAX_MS from sha256("SEED-ROUND"), the same on any host
    h=$(printf '%s-%s' "$SEED" "$1" | sha256sum | cut -c1-8)
    echo $(( MIN_MS + $(printf '%d' "0x$h") % (MAX_MS - MIN_MS + 1) ))
}
QPID=""
stop_qemu() { [ -z "$QPID" ] || { kill -9 "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true; QPID=""; }; }
trap stop_qemu EXIT INT TERM
boot() { # boot N ROUND_OR_final: starts QEMU on the disk with a fresh kit disk, console to boot-N.log
    rm -f "$WORK/kit.img"
    mkfs.vfat -C -n PCKIT "$WORK/kit.img" 262144 >/dev/null
    mcopy -i "$WORK/kit.img" "$KIT_DIR/guest.sh" ::/guest.sh
    echo "$2" > "$WORK/round"
    mcopy -i "$WORK/kit.img" "$WORK/round" ::/round
    LOG="$WORK/boot-$1.log"
    nice -n 19 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 512 \
        -drive if=none,id=disk,file="$WORK/disk.raw",format=raw,cache=none,aio=threads -device virtio-blk-pci,drive=disk \
        -drive if=none,id=kit,file="$WORK/kit.img",format=raw,cache=writethrough -device virtio-blk-pci,drive=kit \
        -nographic -no-reboot -nic none -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" -append "$CMDLINE" \
        </dev/null >"$LOG" 2>&1 &
    QPID=$!
}
console() { tr -d '\r' < "$LOG"; }
wait_for() { # wait_for REGEX DEADLINE_MS: until the console shows it; fails on FAIL, QEMU's exit or the deadline
    while ! console | grep -q -E "$1"; do
        if console | grep -q 'PCTEST: FAIL'; then
            console | grep -E 'PCTEST' | tail -n 80 >&2
            die "guest reported a failure (console: $LOG)"
        fi
        kill -0 "$QPID" 2>/dev/null || { console | tail -n 60 >&2; die "QEMU exited before '$1' (console: $LOG)"; }
        [ "$(now_ms)" -lt "$2" ] || { console | tail -n 60 >&2; stop_qemu; die "no '$1' within the limit (console: $LOG)"; }
        sleep 0.5
    done
}
read_back() { # read_back N: the guest's reads, from the kit disk, into WORK/read-N/
    mkdir -p "$WORK/read-$1"
    mcopy -n -i "$WORK/kit.img" '::/read-*' "$WORK/read-$1/" 2>/dev/null || true
    [ -s "$WORK/read-$1/read-codes" ] || die "boot $1: no reads on the kit disk"
    ls "$WORK/read-$1"/read-cut-*.jsonl >/dev/null 2>&1 || die "boot $1: no stream reads on the kit disk"
}

: > "$WORK/ledger"
FAILED=0
TOTAL_LOST=0
SUMMARY=""
b=1
while [ "$b" -le $((ROUNDS + 1)) ]; do
    if [ "$b" -le "$ROUNDS" ]; then what=$b; else what=final; fi
    T0=$(now_ms)
    boot "$b" "$what"
    eval "START_$b=$T0"
    wait_for 'PCTEST: READ-DONE' $((T0 + LIMIT * 1000))
    TREAD=$(now_ms)
    ready=$(console | sed -n 's/.*PCTEST: ringstore READY at uptime \([0-9]*\) ms.*/\1/p' | head -n 1)
    say "boot $b: READY at guest uptime ${ready} ms; reads done $(( (TREAD - T0) / 1000 )) s after QEMU start"
    console | grep -E 'PCTEST: (journal|read )' | sed 's/^.*PCTEST: /    /' >&2 || true
    if [ "$what" != final ]; then
        # The load: wait for this round's first acknowledgement on the console, then cut.
        wait_for "PCACK $b [01] [0-9]+ cut-[01]-[01] [0-9]+ #" $(( $(now_ms) + 600000 ))
        TLOAD=$(now_ms)
        d=$(delay_ms "$b")
        sleep "$(( d / 1000 )).$(printf '%03d' $(( d % 1000 )))"
        kill -9 "$QPID"
        TCUT=$(now_ms)
        wait "$QPID" 2>/dev/null || true
        QPID=""
    else
        while kill -0 "$QPID" 2>/dev/null && [ "$(now_ms)" -lt $((TREAD + 300000)) ]; do sleep 1; done
        stop_qemu
    fi
    # The reads of this boot check every round before it.
    read_back "$b"
    if [ "$b" -gt 1 ]; then
        p=$((b - 1))
        set +e
        RESULT=$(sh "$CHECK" "$WORK/ledger" "$WORK/read-$b")
        rc=$?
        set -e
        printf '%s\n' "$RESULT" | sed 's/^/    /' >&2
        lost=$(printf '%s\n' "$RESULT" | sed -n 's/.*acked=[0-9]* lost=\([0-9]*\) .*/\1/p')
        [ "$rc" = 0 ] || FAILED=1
        TOTAL_LOST=$((TOTAL_LOST + ${lost:-0}))
        eval "acks=\$ACKS_$p errs=\$ERRS_$p cut=\$CUT_$p load=\$LOAD_$p start=\$START_$p"
        line="round $p: cut ${cut} ms into the load (seeded); acknowledged $acks (errors $errs); lost ${lost:-?} (ledger of rounds 1-$p: $(wc -l < "$WORK/ledger") events; check exit $rc); round time $(( (TREAD - start) / 1000 )) s (QEMU start -> load $(( load / 1000 )) s, cut, reboot and reads $(( (TREAD - T0) / 1000 )) s)"
        say "$line"
        SUMMARY="$SUMMARY$line
"
    fi
    if [ "$what" != final ]; then
        # The ledger: acknowledgements that reached the host's console before the cut.
        console | grep -o -E "PCACK $b [01] [0-9]+ cut-[01]-[01] [0-9]+ #" | awk '
            { s = "cut-" $3 "-" ($4 % 2) } # the writer W sends line N to cut-W-(N mod 2)
            $5 != s { bad++; next }
            { print $2, $3, $4, $5, $6 }
            END { if (bad) print bad " malformed PCACK lines left out" > "/dev/stderr" }' > "$WORK/acks-$b"
        eval "ACKS_$b=$(wc -l < "$WORK/acks-$b")"
        eval "ERRS_$b=$(console | grep -c "^PCERR $b " || true)"
        eval "CUT_$b=$d LOAD_$b=$((TLOAD - T0))"
        cat "$WORK/acks-$b" >> "$WORK/ledger"
        say "round $b: power cut (SIGKILL to QEMU) $d ms after the first acknowledgement; $(wc -l < "$WORK/acks-$b") acknowledgements on the console"
    fi
    b=$((b + 1))
done

# The checker must be able to fail: the last read with one acknowledged event taken out.
LAST="$WORK/read-$((ROUNDS + 1))"
BROKEN="$WORK/read-broken"
rm -rf "$BROKEN"; cp -r "$LAST" "$BROKEN"
set -- $(tail -n 1 "$WORK/ledger")
if [ $# = 5 ]; then
    grep -v "\"stream\":\"$4\",\"version\":$5," "$LAST/read-$4.jsonl" > "$BROKEN/read-$4.jsonl" || true
    set +e
    sh "$CHECK" "$WORK/ledger" "$BROKEN" > "$WORK/check-broken.txt"
    rc=$?
    set -e
    if [ "$rc" != 0 ] && grep -q ' lost=1 ' "$WORK/check-broken.txt"; then
        say "checker self-test: a read without $4@$5 (acknowledged) -> $(grep acked= "$WORK/check-broken.txt") (caught)"
    else
        say "checker self-test FAILED: a read without $4@$5 passed: $(cat "$WORK/check-broken.txt")"
        FAILED=1
    fi
else
    say "checker self-test FAILED: the ledger is empty (no acknowledgement reached the console)"
    FAILED=1
fi

printf 'power-cut-test: seed %s, %s rounds, disk cache=none\n%s' "$SEED" "$ROUNDS" "$SUMMARY"
echo "total acknowledged $(wc -l < "$WORK/ledger"), lost $TOTAL_LOST; work files: $WORK"
[ "$FAILED" = 0 ] || die "power-cut test FAILED"
echo "power-cut-test: ok"
