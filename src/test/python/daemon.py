"""Starts a real ringstore daemon for the Python client's tests.

The command comes from $RINGSTORE_SERVE_CMD (a JSON list: everything up to and including
"serve", as PythonClientTest passes it: the test JVM's java and class path), else
``java -jar target/ringstore.jar serve`` from the repository root.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import List

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def serve_command() -> List[str]:
    cmd = os.environ.get("RINGSTORE_SERVE_CMD")
    if cmd:
        return json.loads(cmd)
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    return [java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-jar",
            os.path.join(REPO, "target", "ringstore.jar"), "serve"]


class Daemon:
    """A daemon child on a temporary data folder and socket; stop() or kill() it."""

    def __init__(self, *extra: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="ringstore-py-")
        self.socket = os.path.join(self.dir, "s.sock")
        self.output: List[str] = []
        self._ready = threading.Event()
        self._was_ready = False
        self._ended = threading.Event()
        cmd = serve_command() + ["--data", os.path.join(self.dir, "data"), "--socket", self.socket, *extra]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.cmd = cmd
        threading.Thread(target=self._pump, daemon=True).start()
        # Waits for the daemon's own "ready:" line (the socket is listening then), not a time.
        if not self._ready.wait(60) or not self._was_ready:
            self.cleanup()
            raise RuntimeError("the daemon did not become ready: " + "\n".join(self.output[-30:]))

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))
            if "ready: " in line:
                self._was_ready = True
                self._ready.set()
        self._ended.set()
        self._ready.set()  # so that a start that failed is not waited for

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd stops it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._ended.wait(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def cleanup(self) -> None:
        self.kill()
        if self.process.stdout is not None:
            self._ended.wait(5)
            self.process.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
