#!/bin/sh
# Runs inside the booted image (QEMU), started by boot-test.sh's one-off unit once
# multi-user.target is reached. Every line starting "RSTEST:" goes to the serial console, where
# the host reads it. Ends with "RSTEST: PASS" or "RSTEST: FAIL ...".
set -u
say() { echo "RSTEST: $*"; }
fail() {
    say "FAIL $*"
    systemctl status ringstore --no-pager 2>&1 | sed 's/^/RSTEST-LOG: /'
    journalctl -b -u ringstore -u ringstore-firstboot --no-pager 2>&1 | tail -n 60 | sed 's/^/RSTEST-LOG: /'
    exit 1
}
show() { systemctl show -p "$1" --value ringstore; }
wait_active() { # wait_active SECONDS
    i=0
    while [ "$i" -lt "$1" ]; do
        case "$(show ActiveState)" in
            active) return 0 ;;
            failed) fail "ringstore.service failed" ;;
        esac
        sleep 1; i=$((i + 1))
    done
    fail "ringstore.service not active after $1 s (state $(show ActiveState)/$(show SubState))"
}

wait_active 300
# Type=notify: "active" is reached only on READY=1.
say "ringstore.service $(show ActiveState)/$(show SubState) type=$(show Type) enabled=$(systemctl is-enabled ringstore)"
say "status_text=$(show StatusText)"
say "ready_monotonic_us=$(show ActiveEnterTimestampMonotonic) started_monotonic_us=$(show ExecMainStartTimestampMonotonic)"
say "userspace_monotonic_us=$(systemctl show -p UserspaceTimestampMonotonic --value)"
PID=$(show MainPID)
say "rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status") main_pid=$PID user=$(ps -o user= -p "$PID")"
say "mem_total_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo) cgroup_memory_current=$(show MemoryCurrent)"
say "cmdline: $(cat /proc/cmdline)"
[ -r /proc/pressure/io ] || fail "no /proc/pressure/io: psi=1 missing"
say "psi_io: $(head -n 1 /proc/pressure/io)"
say "root_fs: $(df -h --output=size,used,avail / | tail -n 1) on $(findmnt -n -o SOURCE /)"
systemctl is-active ringstore-firstboot >/dev/null || fail "ringstore-firstboot did not run"
say "firstboot: $(journalctl -b -u ringstore-firstboot -o cat --no-pager | grep '^ringstore-firstboot: root file system')"
say "ringstore groups: $(id -nG ringstore)"
say "journal: $(journalctl -b -u ringstore -o cat --no-pager | grep -m1 'status LEDs')"
if grep -q 'Raspberry Pi' /proc/device-tree/model 2>/dev/null; then
    # On a Pi (or its QEMU model) the LEDs must be driven, from inside the sandbox.
    journalctl -b -u ringstore -o cat --no-pager | grep -q 'status LEDs: write=' \
        || fail "on $(tr -d '\0' < /proc/device-tree/model) the LEDs were not driven"
    say "LEDs driven on $(tr -d '\0' < /proc/device-tree/model): $(ringstore status | grep -o '"leds":{[^}]*}')"
fi
say "/run mount options: $(findmnt -no OPTIONS /run)"
say "java.io.tmpdir (/var/cache/ringstore): $(ls -A /var/cache/ringstore | tr '\n' ' ')"
say "journal: $(journalctl -b -u ringstore -o cat --no-pager | grep -m1 'ready: ')"

i=0
until [ "$(show WatchdogTimestampMonotonic)" != 0 ]; do
    i=$((i + 1)); [ "$i" -le 60 ] || fail "no WATCHDOG=1 ping in 60 s"; sleep 1
done
say "watchdog ping received (WatchdogTimestampMonotonic=$(show WatchdogTimestampMonotonic))"

ringstore append sensor-1 reading '{"celsius":21.5}' || fail "append exit $?"
OUT=$(ringstore read sensor-1) || fail "read exit $?"
say "read: $OUT"
echo "$OUT" | grep -q '"data":{"celsius":21.5}' || fail "the event did not round-trip"
say "status: $(ringstore status)"
# The socket is 0660, group ringstore: a member may use it, another user may not (exit 6).
useradd --create-home --groups ringstore rs-member && useradd --create-home rs-other || fail "useradd"
runuser -u rs-member -- ringstore read sensor-1 | grep -q celsius || fail "a member of group ringstore cannot read"
runuser -u rs-other -- ringstore status >/dev/null 2>&1; code=$?
[ "$code" = 6 ] || fail "a user outside group ringstore got exit $code, not 6 (cannot connect)"
say "socket access: group ringstore member reads; other user refused (exit 6)"

t=$(date +%s%3N)
systemctl restart ringstore || fail "restart failed"
say "restart to ready: $(( $(date +%s%3N) - t )) ms"
wait_active 120
OUT=$(ringstore read sensor-1) || fail "read after restart exit $?"
say "read after restart: $OUT"
echo "$OUT" | grep -q '"data":{"celsius":21.5}' || fail "the event did not survive the restart"
# "Deactivated successfully": the first run exited 0 on SIGTERM.
journalctl -b -u ringstore -o cat --no-pager | grep -q 'Deactivated successfully' || fail "the stop before the restart was not clean (exit 0)"
say "restart: first run stopped with exit 0; $(journalctl -b -u ringstore -o cat --no-pager | grep -c 'ready: ') ready lines; NRestarts=$(show NRestarts)"

# The package's scripts with systemd running: remove stops the service and keeps the data;
# install starts it again (boot-test.sh puts the .deb beside this script).
DEB=$(ls "$(dirname "$0")"/ringstore*.deb 2>/dev/null | head -n 1)
if [ -n "$DEB" ]; then
    dpkg -r ringstore >/dev/null 2>&1 || fail "dpkg -r ringstore failed"
    [ "$(show ActiveState)" = inactive ] || [ -z "$(show ActiveState)" ] || fail "remove left the service $(show ActiveState)"
    [ -d /var/lib/ringstore/log ] || fail "remove deleted the data"
    t=$(date +%s%3N)
    dpkg -i "$DEB" >/dev/null 2>&1 || fail "dpkg -i failed"
    wait_active 120
    say "package: remove stopped the service and kept the data; install started it (READY after $(( $(date +%s%3N) - t )) ms)"
    ringstore read sensor-1 | grep -q '"data":{"celsius":21.5}' || fail "the event is gone after remove and install"
    systemctl is-enabled ringstore >/dev/null || fail "not enabled after reinstall"
fi

say "security: $(systemd-analyze security ringstore.service --no-pager 2>/dev/null | tail -n 1)"
say "PASS"
