#!/bin/sh
# Installs the .deb in a Debian trixie arm64 root file system under qemu-user-static, starts the
# daemon there (directly: PID 1 of a chroot is not systemd) with the unit's JVM options, appends
# and reads events through the socket with the CLI and with the Python client (python3-ringstore,
# from beside the .deb), stops it with SIGTERM (exit 0), then removes the packages (data kept) and
# purges them (data gone). Prints how long each step took.
#
#   sh image-build/test-deb.sh [--deb PATH] [--keep-root DIR]
#
# --keep-root DIR leaves the root (with the package installed again) at DIR, for
# SystemdUnitTest (RINGSTORE_TARGET_ROOT=DIR). Needs root; the base root file system comes from
# base-rootfs.sh (cached; 9-15 minutes when cold).
set -eu
. "$(dirname "$0")/lib.sh"

DEB=""
KEEP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) DEB=$2; shift 2 ;;
        --keep-root) KEEP=$2; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done
need_root
ensure_binfmt
lock_cache
t0=$(date +%s)
BASE=$(sh "$IMAGE_BUILD/base-rootfs.sh" | tail -n 1)
[ -n "$DEB" ] || DEB=$(sh "$IMAGE_BUILD/build-deb.sh" | tail -n 1)
PYDEB="$(dirname "$DEB")/python3-ringstore_$(project_version)_all.deb"
[ -s "$PYDEB" ] || die "no $PYDEB (build-deb.sh builds it beside the ringstore .deb)"
ROOT=${KEEP:-$CACHE/work/test-deb}
DAEMON=""

cleanup() {
    if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then kill -KILL "$DAEMON" 2>/dev/null || true; fi
    umount_chroot "$ROOT"
    [ -n "$KEEP" ] || rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

ms() { date +%s%3N; }
took() { echo "$(( ($(ms) - $1) )) ms"; }
in_root() { chroot "$ROOT" "$@"; }

umount_chroot "$ROOT"
rm -rf "$ROOT"
mkdir -p "$ROOT"
t=$(ms); tar -xf "$BASE" -C "$ROOT"; say "root file system unpacked: $(took "$t")"
mount_chroot "$ROOT"
cp "$DEB" "$PYDEB" "$ROOT/tmp/"
DEB_SIZE=$(stat -c %s "$DEB")

t=$(ms)
in_root dpkg -i "/tmp/$(basename "$DEB")" >&2
INSTALL_MS=$(( $(ms) - t ))
say "installed $(basename "$DEB") ($DEB_SIZE bytes): $INSTALL_MS ms"
t=$(ms)
in_root dpkg -i "/tmp/$(basename "$PYDEB")" >&2
say "installed $(basename "$PYDEB"): $(took "$t")"

in_root getent passwd ringstore >/dev/null || die "postinst made no ringstore user"
in_root getent group ringstore >/dev/null || die "postinst made no ringstore group"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/ringstore.service" ] || die "ringstore.service not enabled"
[ -f "$ROOT/etc/ringstore/ringstore.conf" ] || die "no /etc/ringstore/ringstore.conf"
in_root ringstore --help >/dev/null || die "the launcher cannot run ringstore --help"

# What systemd would set up for the unit: its folders and the JVM options it sets.
OPTS=$(sed -n 's/^Environment="RINGSTORE_JAVA_OPTS=\(.*\)"$/\1/p' "$ROOT/usr/lib/systemd/system/ringstore.service")
[ -n "$OPTS" ] || die "no RINGSTORE_JAVA_OPTS in the unit"
for d in /var/lib/ringstore /run/ringstore /var/cache/ringstore; do
    install -d -o "$(in_root id -u ringstore)" -g "$(in_root id -g ringstore)" "$ROOT$d"
done
LOG="$OUT/test-deb-daemon.log"
mkdir -p "$OUT"
t=$(ms)
chroot --userspec=ringstore:ringstore "$ROOT" env RINGSTORE_JAVA_OPTS="$OPTS" /usr/bin/ringstore serve > "$LOG" 2>&1 &
DAEMON=$!
while ! grep -q 'ready: ' "$LOG"; do
    kill -0 "$DAEMON" 2>/dev/null || { cat "$LOG" >&2; die "the daemon exited before it was ready"; }
    [ $(( $(ms) - t )) -lt 180000 ] || { cat "$LOG" >&2; die "the daemon was not ready after 180 s"; }
    sleep 0.5
done
READY_MS=$(( $(ms) - t ))
say "daemon ready (as user ringstore): $READY_MS ms"
RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$DAEMON/status")

SOCK=/run/ringstore/ringstore.sock
t=$(ms)
in_root ringstore append --socket "$SOCK" room-1 reading '{"celsius":21.5}' >&2
in_root ringstore append --socket "$SOCK" room-1 reading '{"celsius":22.0}' >&2
OUTPUT=$(in_root ringstore read --socket "$SOCK" room-1)
echo "$OUTPUT" >&2
[ "$(echo "$OUTPUT" | grep -c '"stream":"room-1"')" = 2 ] || die "read did not return the two events"
echo "$OUTPUT" | grep -q '"data":{"celsius":21.5}' || die "the first event's data did not round-trip"
in_root ringstore status --socket "$SOCK" >&2
ROUND_MS=$(( $(ms) - t ))
say "two appends, a read and a status through the socket: $ROUND_MS ms (four client JVM starts)"

# The Python client: an append with an expected version, its retry answered as a replay, a read.
t=$(ms)
PY_OUT=$(in_root python3 - "$SOCK" <<'PYTHON'
import sys
import ringstore
with ringstore.connect(sys.argv[1]) as rs:
    events = [ringstore.NewEvent("reading", {"celsius": 23.0})]
    first = rs.append("room-2", events, ringstore.Expected.NO_STREAM)
    again = rs.append("room-2", events, ringstore.Expected.NO_STREAM)
    assert again.replayed and again.first_version == first.first_version, (first, again)
    try:
        rs.append("room-2", [ringstore.NewEvent("reading", {})], ringstore.Expected.NO_STREAM)
        raise SystemExit("no WrongExpectedVersion")
    except ringstore.WrongExpectedVersion as e:
        assert e.current_version == 0, e
    print("python-client-ok", [e.json() for e in rs.iter_stream("room-2")])
PYTHON
) || die "the Python client's round trip failed: $PY_OUT"
echo "$PY_OUT" >&2
echo "$PY_OUT" | grep -q "python-client-ok \[{'celsius': 23.0}\]" || die "the Python client read back: $PY_OUT"
PY_MS=$(( $(ms) - t ))
say "Python client: append, idempotent retry, conflict, read: $PY_MS ms"

t=$(ms)
kill -TERM "$DAEMON"
set +e; wait "$DAEMON"; CODE=$?; set -e
DAEMON=""
[ "$CODE" = 0 ] || { cat "$LOG" >&2; die "the daemon exited $CODE on SIGTERM, not 0"; }
say "stopped on SIGTERM with exit 0: $(took "$t")"
in_root ringstore verify --data /var/lib/ringstore >&2 || die "verify found damage after a clean stop"

t=$(ms)
in_root dpkg -P python3-ringstore >&2
[ ! -e "$ROOT/usr/lib/python3/dist-packages/ringstore" ] || die "purging python3-ringstore left its modules"
in_root dpkg -r ringstore >&2
[ -d "$ROOT/var/lib/ringstore/log" ] || die "remove deleted the data"
[ -f "$ROOT/etc/ringstore/ringstore.conf" ] || die "remove deleted the conffile"
in_root dpkg -P ringstore >&2
[ ! -e "$ROOT/var/lib/ringstore" ] || die "purge left /var/lib/ringstore"
[ ! -e "$ROOT/etc/ringstore/ringstore.conf" ] || die "purge left the conffile"
say "remove kept the data, purge removed it: $(took "$t")"

if [ -n "$KEEP" ]; then
    in_root dpkg -i "/tmp/$(basename "$DEB")" "/tmp/$(basename "$PYDEB")" >/dev/null
    say "root kept at $KEEP with the package installed"
fi
cat <<REPORT
test-deb: ok
deb: $(basename "$DEB") $DEB_SIZE bytes ($(( DEB_SIZE / 1024 )) KiB)
install (dpkg -i, qemu-user arm64): $INSTALL_MS ms
daemon start to ready (qemu-user): $READY_MS ms, RSS ${RSS_KB} KiB (under emulation: the host's JIT, not a board's)
client round trip (2 appends, read, status): $ROUND_MS ms
Python client round trip (3 appends, read; one python3 start): $PY_MS ms
total (cached base): $(( $(date +%s) - t0 )) s
REPORT
