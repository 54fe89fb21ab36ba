"""Append load through the Python client, for client-bench.sh.

    python3 python_load.py SOCKET CONNECTIONS IN_FLIGHT SECONDS DAEMON_PID

As JavaLoad.java: each connection (a thread sending, the client's reading thread completing)
appends one sensor-like event per request, with a client-made event id, to its own stream,
keeping IN_FLIGHT outstanding; after a one-second warm-up it counts acknowledgements for SECONDS
and prints one JSON line with this process's and the daemon's CPU seconds over that window.
"""
import json
import os
import sys
import threading
import time
import uuid

import ringstore


def daemon_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    path, connections, in_flight, seconds, daemon = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                                     float(sys.argv[4]), int(sys.argv[5]))
    stop = threading.Event()
    acked = [0] * connections  # each only touched by its connection's reading thread
    failed = [0] * connections
    run = uuid.uuid4().hex[:8]
    clients = [ringstore.connect(path) for _ in range(connections)]

    def work(c: int) -> None:
        client = clients[c]
        stream = f"bench-python-{run}-{c}"
        window = threading.Semaphore(in_flight)

        def done(f) -> None:
            if f.exception() is None:
                acked[c] += 1
            else:
                failed[c] += 1
            window.release()

        i = 0
        while not stop.is_set():
            window.acquire()
            data = {"celsius": 40 + (i % 200) / 10.0, "sensor": "cpu"}
            i += 1
            client.append_async(stream, [ringstore.NewEvent("reading", data)]).add_done_callback(done)
        for _ in range(in_flight):
            window.acquire()

    threads = [threading.Thread(target=work, args=(c,)) for c in range(connections)]
    for t in threads:
        t.start()
    time.sleep(1)
    a0, cpu0, d0, t0 = sum(acked), time.process_time(), daemon_cpu(daemon), time.monotonic()
    time.sleep(seconds)
    a1, cpu1, d1, t1 = sum(acked), time.process_time(), daemon_cpu(daemon), time.monotonic()
    stop.set()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    print(json.dumps({"client": "python", "connections": connections, "in_flight": in_flight, "events": a1 - a0,
                      "seconds": round(t1 - t0, 3), "client_cpu": round(cpu1 - cpu0, 3),
                      "daemon_cpu": round(d1 - d0, 3), "failed": sum(failed)}))


if __name__ == "__main__":
    main()
