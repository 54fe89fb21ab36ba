#!/bin/sh
# Events/s and CPU per event through the Python client and the Java client, in the same run:
# one daemon (default settings: durability sync) on a temporary folder, 8 connections, 1 and 32
# requests in flight, each client in turn, SECONDS (default 10) measured after a 1 s warm-up.
#
#   sh src/dev/client-bench.sh [SECONDS] [DURABILITY]
#
# DURABILITY (sync, periodic, none; default sync) is the daemon's: with sync, 8 connections at
# in-flight 1 are bound by the forces, not by the clients.
# Needs target/ringstore.jar (mvn -B package -DskipTests), protoc and python3-protobuf.
# Prints one JSON line per run and a table: events/s, and CPU microseconds per event in the
# client process, the daemon, and both.
set -eu
. "$(dirname "$0")/env.sh"
cd "$ROOT"
SECONDS_PER_RUN=${1:-10}
DURABILITY=${2:-sync}
D=$(mktemp -d /tmp/ringstore-client-bench.XXXXXX)
sh src/main/python/build.sh "$D/py" >/dev/null
java --enable-native-access=ALL-UNNAMED -Xmx256m -jar target/ringstore.jar serve --data "$D/data" \
    --socket "$D/s.sock" --durability "$DURABILITY" > "$D/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; rm -rf "$D"' EXIT INT TERM
i=0
until grep -q 'ready: ' "$D/daemon.log"; do
    i=$((i + 1)); [ $i -lt 240 ] || { cat "$D/daemon.log" >&2; exit 1; }
    sleep 0.25
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for depth in 1 32; do
    java -cp target/ringstore.jar src/dev/client-bench/JavaLoad.java "$D/s.sock" 8 "$depth" "$SECONDS_PER_RUN" "$DAEMON" | tee -a "$D/results"
    PYTHONPATH="$D/py" "$PY" src/dev/client-bench/python_load.py "$D/s.sock" 8 "$depth" "$SECONDS_PER_RUN" "$DAEMON" | tee -a "$D/results"
done
"$PY" - "$D/results" <<'PYTHON'
import json, sys
print(f"{'client':8} {'in flight':>9} {'events/s':>10} {'client us/ev':>13} {'daemon us/ev':>13} {'total us/ev':>12}")
for line in open(sys.argv[1]):
    r = json.loads(line)
    n = max(r["events"], 1)
    print(f"{r['client']:8} {r['in_flight']:>9} {r['events'] / r['seconds']:>10.0f} {r['client_cpu'] / n * 1e6:>13.1f} "
          f"{r['daemon_cpu'] / n * 1e6:>13.1f} {(r['client_cpu'] + r['daemon_cpu']) / n * 1e6:>12.1f}")
PYTHON
