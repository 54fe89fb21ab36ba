"""The Python client against a real daemon (a child JVM on a temporary folder and socket).

Run by PythonClientTest in the Maven build (README's test command); by hand:
    sh src/main/python/build.sh target/python
    PYTHONPATH=target/python python3 -m unittest discover -s src/test/python -v
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import uuid

import ringstore
from ringstore import (AccessDenied, CaughtUp, Client, ConnectionLost, Direction, Event, Expected, FrameTooLarge,
                       InvalidRequest, NewEvent, ServerError, ShuttingDown, StreamDeleted, StreamLimits,
                       StreamNotFound, WrongExpectedVersion)

from daemon import Daemon

WAIT = 20.0  # the most any one answer may take on a loaded 2-core machine


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


_shared: "Daemon | None" = None


def setUpModule() -> None:
    global _shared
    _shared = Daemon()


def tearDownModule() -> None:
    assert _shared is not None
    code = _shared.stop()
    _shared.cleanup()
    assert code == 0, f"the daemon exited {code} on SIGTERM"


class WithDaemon(unittest.TestCase):
    """One daemon (the module's) for the tests that do not stop it; each test uses its own streams."""

    def setUp(self) -> None:
        assert _shared is not None
        self.daemon = _shared
        self.client = Client(self.daemon.socket, timeout=WAIT)
        self.addCleanup(self.client.close)

    def assertInvalid(self, e: ServerError) -> None:
        # INVALID_REQUEST today; the contract work of issue 17 may give each refusal a finer
        # code (numbered 20-39), which gets its own class: either is a refusal of bad input.
        self.assertTrue(isinstance(e, InvalidRequest) or 20 <= e.code <= 39, e)

    def append_n(self, stream: str, n: int) -> None:
        futures = [self.client.append_async(stream, [NewEvent("n", {"i": i})]) for i in range(n)]
        for f in futures:
            f.result(WAIT)


class AppendTest(WithDaemon):
    def test_expected_versions_are_checked_and_a_conflict_is_typed(self) -> None:
        s = unique("door")
        first = self.client.append(s, [NewEvent("opened", {"by": "a"})], Expected.NO_STREAM)
        self.assertEqual((0, 0, False), (first.first_version, first.last_version, first.replayed))
        self.assertGreater(first.first_position, 0)
        with self.assertRaises(WrongExpectedVersion) as e:
            self.client.append(s, [NewEvent("opened")], Expected.NO_STREAM)
        self.assertEqual(0, e.exception.current_version)
        self.assertEqual("WRONG_EXPECTED_VERSION", e.exception.code_name)
        self.assertIsInstance(e.exception, ServerError)

        second = self.client.append(s, [NewEvent("closed"), NewEvent("opened")], 0)
        self.assertEqual((1, 2), (second.first_version, second.last_version))
        self.assertGreater(second.last_position, second.first_position)
        with self.assertRaises(WrongExpectedVersion) as e:
            self.client.append(s, [NewEvent("closed")], 1)
        self.assertEqual(2, e.exception.current_version)
        with self.assertRaises(WrongExpectedVersion) as e:
            self.client.append(unique("nobody"), [NewEvent("x")], Expected.STREAM_EXISTS)
        self.assertEqual(-1, e.exception.current_version)
        # Refused appends stored nothing.
        page = self.client.read_stream(s)
        self.assertEqual([0, 1, 2], [x.version for x in page.events])
        self.assertEqual(["opened", "closed", "opened"], [x.type for x in page.events])
        self.assertEqual({"by": "a"}, page.events[0].json())

    def test_a_retry_with_the_same_event_ids_is_applied_once(self) -> None:
        s = unique("sensor")
        events = [NewEvent("reading", {"celsius": 21.5}), NewEvent("reading", {"celsius": 21.7})]
        first = self.client.append(s, events)
        # Retried on another connection, as after a lost connection.
        with Client(self.daemon.socket) as other:
            again = other.append(s, events)
        self.assertTrue(again.replayed)
        self.assertFalse(first.replayed)
        self.assertEqual((first.first_version, first.last_version, first.first_position),
                         (again.first_version, again.last_version, again.first_position))
        stored = list(self.client.iter_stream(s))
        self.assertEqual(2, len(stored))
        self.assertEqual([e.event_id for e in events], [e.event_id for e in stored])
        # New NewEvent objects get new ids: appended again.
        fresh = self.client.append(s, [NewEvent("reading", {"celsius": 21.5})])
        self.assertEqual(2, fresh.first_version)

    def test_pipelined_appends_are_applied_in_the_order_sent(self) -> None:
        s = unique("pipe")
        futures = [self.client.append_async(s, [NewEvent("n", str(i))]) for i in range(300)]
        results = [f.result(WAIT) for f in futures]
        self.assertEqual(list(range(300)), [r.first_version for r in results])
        self.assertEqual([str(i).encode() for i in range(300)], [e.data for e in self.client.iter_stream(s)])

    def test_bad_input_is_refused_before_or_by_the_daemon(self) -> None:
        with self.assertRaises(ValueError):
            NewEvent("")
        with self.assertRaises(ValueError):
            NewEvent("x", event_id=b"short")
        with self.assertRaises(ServerError) as e:
            self.client.append("$reserved", [NewEvent("x")])
        self.assertInvalid(e.exception)
        # The connection goes on after a refused request.
        self.assertEqual(b"hi", self.client.ping(b"hi"))


class ReadTest(WithDaemon):
    def test_a_stream_reads_forward_and_backward_in_pages(self) -> None:
        s = unique("pages")
        self.append_n(s, 25)
        page = self.client.read_stream(s, max_count=10)
        self.assertEqual(list(range(10)), [e.version for e in page.events])
        self.assertEqual((10, 24, False), (page.next_version, page.last_version, page.done))
        forward = list(self.client.iter_stream(s, page_size=10))
        self.assertEqual(list(range(25)), [e.version for e in forward])
        self.assertEqual([{"i": i} for i in range(25)], [e.json() for e in forward])

        # Backward with no from_version starts at the end (not at version 0).
        back = self.client.read_stream(s, direction=Direction.BACKWARD, max_count=10)
        self.assertEqual(list(range(24, 14, -1)), [e.version for e in back.events])
        self.assertEqual(14, back.next_version)
        backward = list(self.client.iter_stream(s, direction=Direction.BACKWARD, page_size=10))
        self.assertEqual(list(range(24, -1, -1)), [e.version for e in backward])
        middle = list(self.client.iter_stream(s, 12, Direction.BACKWARD, page_size=5))
        self.assertEqual(list(range(12, -1, -1)), [e.version for e in middle])
        with self.assertRaises(StreamNotFound):
            self.client.read_stream(unique("never"))

    def test_all_reads_every_stream_in_log_order(self) -> None:
        a, b = unique("all-a"), unique("all-b")
        start = self.client.status().committed_position
        written = []
        for i in range(6):
            r = self.client.append(a if i % 2 else b, [NewEvent("n", {"i": i})])
            written.append(r.first_position)
        events = [e for e in self.client.iter_all(0, page_size=4) if e.stream in (a, b)]
        self.assertEqual(written, [e.position for e in events])
        self.assertEqual([{"i": i} for i in range(6)], [e.json() for e in events])
        positions = [e.position for e in self.client.iter_all(0, page_size=3)]
        self.assertEqual(sorted(positions), positions)
        # from_position is an event's position, and that event is included.
        page = self.client.read_all(written[2], max_count=2)
        self.assertEqual(written[2], page.events[0].position)
        self.assertGreaterEqual(written[0], start)
        with self.assertRaises(ServerError) as e:
            self.client.read_all(written[2] + 1)
        self.assertInvalid(e.exception)


class SubscribeTest(WithDaemon):
    def test_catch_up_then_live_then_resume_after_the_last_position(self) -> None:
        s = unique("sub")
        self.append_n(s, 5)
        sub = self.client.subscribe(s)
        self.assertGreater(sub.wait_confirmed(WAIT), 0)
        got = [sub.get(WAIT) for _ in range(6)]
        self.assertEqual(list(range(5)), [e.version for e in got[:5]])
        self.assertIsInstance(got[5], CaughtUp)
        self.assertTrue(sub.caught_up)
        self.client.append(s, [NewEvent("n", {"i": 5})])
        live = sub.get(WAIT)
        self.assertIsInstance(live, Event)
        self.assertEqual(5, live.version)
        resume = sub.last_position
        self.assertEqual(live.position, resume)
        sub.close()
        self.assertIsNone(sub.get(1))  # ended by us: no error
        self.assertEqual([], list(sub))

        self.append_n(s, 3)
        with Client(self.daemon.socket) as other:
            again = other.subscribe(s, after_position=resume)
            versions = []
            for e in again:
                versions.append(e.version)
                if len(versions) == 3:
                    break
            self.assertEqual([6, 7, 8], versions)
            again.close()

    def test_all_subscription_sees_every_stream(self) -> None:
        a, b = unique("suba"), unique("subb")
        sub = self.client.subscribe("$all", from_end=True)
        sub.wait_confirmed(WAIT)
        self.client.append(a, [NewEvent("x")])
        self.client.append(b, [NewEvent("y")])
        seen = []
        while len(seen) < 2:
            item = sub.get(WAIT)
            if isinstance(item, Event) and item.stream in (a, b):
                seen.append((item.stream, item.type))
        self.assertEqual([(a, "x"), (b, "y")], seen)
        sub.close()


class AdminTest(WithDaemon):
    def test_status(self) -> None:
        s = unique("st")
        self.client.append(s, [NewEvent("x")])
        st = self.client.status()
        self.assertGreater(st.committed_position, 0)
        self.assertGreaterEqual(st.events_appended, 1)
        self.assertEqual(ringstore.pb.ACCESS_READ_WRITE, st.access)
        self.assertGreaterEqual(st.connections, 1)

    def test_limits_are_set_read_back_and_applied(self) -> None:
        s = unique("lim")
        self.append_n(s, 6)
        info = self.client.get_stream_limits(s)
        self.assertIsNone(info.own)
        self.assertFalse(info.deleted)
        position = self.client.set_stream_limits(s, StreamLimits(max_count=3))
        self.assertGreater(position, 0)
        info = self.client.get_stream_limits(s)
        self.assertEqual(StreamLimits(max_count=3), info.own)
        self.assertEqual(3, info.effective.max_count)
        self.assertEqual([3, 4, 5], [e.version for e in self.client.iter_stream(s)])

    def test_soft_and_hard_delete(self) -> None:
        s = unique("del")
        self.append_n(s, 3)
        with self.assertRaises(WrongExpectedVersion) as e:
            self.client.delete_stream(s, expected=1)
        self.assertEqual(2, e.exception.current_version)
        self.assertEqual(3, len(list(self.client.iter_stream(s))))  # nothing deleted

        self.assertGreater(self.client.delete_stream(s, expected=2), 0)
        self.assertEqual([], list(self.client.iter_stream(s)))
        again = self.client.append(s, [NewEvent("n")])  # soft: written again, versions go on
        self.assertEqual(3, again.first_version)

        self.client.delete_stream(s, hard=True)
        with self.assertRaises(StreamDeleted):
            self.client.append(s, [NewEvent("n")])
        with self.assertRaises(StreamDeleted):
            self.client.read_stream(s)
        self.assertTrue(self.client.get_stream_limits(s).deleted)
        with self.assertRaises(StreamNotFound):
            self.client.delete_stream(unique("never"))


class ConnectionClosedTest(unittest.TestCase):
    """The daemon closes the connection: typed errors, no hang, no crash."""

    def test_a_frame_too_large_is_typed_and_later_calls_raise_connection_lost(self) -> None:
        daemon = Daemon("--max-frame-bytes", "65536")
        self.addCleanup(daemon.cleanup)
        c = Client(daemon.socket, timeout=WAIT)
        self.addCleanup(c.close)
        s = unique("big")
        c.append(s, [NewEvent("small")])
        with self.assertRaises(FrameTooLarge) as e:
            c.append(s, [NewEvent("big", b"x" * 200_000)])
        self.assertEqual(0, e.exception.request_id)  # a connection-level error
        with self.assertRaises(ConnectionLost) as lost:
            c.ping()
        self.assertIsInstance(lost.exception, OSError)  # `except OSError` covers it too
        self.assertFalse(c.connected)
        # Nothing of the refused frame was stored; a new connection works.
        with Client(daemon.socket) as again:
            self.assertEqual(["small"], [x.type for x in again.iter_stream(s)])
        self.assertEqual(0, daemon.stop())

    def test_a_daemon_that_stops_ends_subscriptions_and_calls_with_typed_errors(self) -> None:
        daemon = Daemon()
        self.addCleanup(daemon.cleanup)
        c = Client(daemon.socket, timeout=WAIT)
        self.addCleanup(c.close)
        s = unique("stop")
        events = [NewEvent("n", {"i": i}) for i in range(3)]
        c.append(s, events)
        sub = c.subscribe(s)
        got = [sub.get(WAIT) for _ in range(4)]
        self.assertIsInstance(got[3], CaughtUp)
        self.assertEqual(0, daemon.stop())
        # The daemon says why the subscription ends, with where to resume, before it closes.
        with self.assertRaises(ShuttingDown) as end:
            while True:
                sub.get(WAIT)
        self.assertEqual(got[2].position, end.exception.resume_after_position)
        with self.assertRaises(ConnectionLost):
            c.append(s, events)
        self.assertFalse(c.connected)
        # The reading thread ended; close() after the loss is harmless.
        c.close()
        with self.assertRaises(OSError):
            Client(daemon.socket)

    def test_a_subscriber_that_does_not_read_is_dropped_and_resumes_with_no_gap(self) -> None:
        daemon = Daemon("--subscriber-buffer-bytes", "4096", "--slow-subscriber-ms", "300")
        self.addCleanup(daemon.cleanup)
        reader = Client(daemon.socket, timeout=WAIT, subscription_buffer=4)
        self.addCleanup(reader.close)
        writer = Client(daemon.socket, timeout=WAIT)
        self.addCleanup(writer.close)
        s = unique("slow")
        writer.append(s, [NewEvent("n", b"x" * 1000)])
        sub = reader.subscribe(s)
        sub.wait_confirmed(WAIT)
        total = 3000
        for f in [writer.append_async(s, [NewEvent("n", b"x" * 1000)]) for _ in range(total - 1)]:
            f.result(WAIT)
        # The program has not read: the reading thread waits on the 4-update buffer, the socket
        # fills, and the daemon drops the subscriber. Wait for that (the daemon's own count).
        deadline = time.monotonic() + WAIT
        while writer.status().subscriptions != 0:
            self.assertLess(time.monotonic(), deadline, "the daemon never dropped the subscriber that did not read")
            time.sleep(0.05)
        versions = []
        with self.assertRaises(ringstore.SubscriberTooSlow) as end:
            while True:
                item = sub.get(WAIT)
                if isinstance(item, Event):
                    versions.append(item.version)
        self.assertEqual(list(range(len(versions))), versions)  # in order, none dropped by the client
        self.assertLess(len(versions), total)
        self.assertEqual(sub.last_position, end.exception.resume_after_position)
        again = writer.subscribe(s, after_position=end.exception.resume_after_position)
        rest = []
        for e in again:
            rest.append(e.version)
            if e.version == total - 1:
                break
        self.assertEqual(list(range(len(versions), total)), rest)
        again.close()
        # Closing a subscription the program stopped reading does not wait for it to be read.
        unread = Client(daemon.socket, timeout=WAIT, subscription_buffer=2)
        self.addCleanup(unread.close)
        behind = unread.subscribe(s)
        behind.wait_confirmed(WAIT)
        started = time.monotonic()
        behind.close()
        self.assertLess(time.monotonic() - started, WAIT / 2)
        self.assertTrue(unread.connected)
        self.assertEqual(b"still", unread.ping(b"still"))
        self.assertEqual(0, daemon.stop())

    def test_closing_the_client_ends_what_is_in_flight_without_a_hang(self) -> None:
        daemon = Daemon()
        self.addCleanup(daemon.cleanup)
        c = Client(daemon.socket, timeout=WAIT)
        sub = c.subscribe("$all", from_end=True)
        sub.wait_confirmed(WAIT)
        futures = [c.append_async(unique("inflight"), [NewEvent("n")]) for _ in range(200)]
        c.close()
        done = lost = 0
        for f in futures:
            try:
                f.result(WAIT)
                done += 1
            except ConnectionLost:
                lost += 1
        self.assertEqual(200, done + lost)  # each answered or failed, none left waiting
        with self.assertRaises(ConnectionLost):
            while True:
                sub.get(WAIT)
        with self.assertRaises(ConnectionLost):
            c.status()
        self.assertEqual(0, daemon.stop())


class ErrorClassesTest(unittest.TestCase):
    def test_every_error_code_has_its_own_class(self) -> None:
        names = [n for n, v in ringstore.pb.ErrorCode.items() if v != 0]
        classes = ringstore.error_classes()
        self.assertEqual(sorted(names), sorted(classes))
        self.assertEqual(len(names), len(set(classes.values())))
        for name, number in ringstore.pb.ErrorCode.items():
            if number:
                cls = ringstore.error_class(number)
                self.assertIs(cls, ringstore.error_class(name))
                self.assertTrue(issubclass(cls, ServerError))
                self.assertEqual(name, cls.CODE_NAME)
        self.assertIs(AccessDenied, ringstore.error_class("ACCESS_DENIED"))
        retriable = {n for n, c in classes.items() if issubclass(c, ringstore.Retriable)}
        self.assertEqual({"OVERLOADED", "STORAGE_ERROR", "STORAGE_FULL", "SHUTTING_DOWN", "REPLICA_UNAVAILABLE", "NO_QUORUM"},
                         retriable)
        self.assertTrue(issubclass(ConnectionLost, ringstore.Retriable))
        self.assertIs(ServerError, ringstore.error_class(99999))

    @unittest.skipUnless(shutil.which("protoc"), "protoc is not installed")
    def test_a_code_added_to_the_proto_gets_a_class_of_its_own(self) -> None:
        # As another change will: a copy of the proto with one more code, generated afresh.
        import ringstore as pkg
        src = os.path.dirname(pkg.__file__)
        proto = os.path.join(os.path.dirname(__file__), "..", "..", "main", "proto", "ringstore.proto")
        with tempfile.TemporaryDirectory() as tmp:
            with open(proto) as f:
                text = f.read()
            text = text.replace("POSITION_RECLAIMED = 12;", "POSITION_RECLAIMED = 12;\n  SOME_FUTURE_CODE = 37;")
            self.assertIn("SOME_FUTURE_CODE = 37", text)
            os.makedirs(os.path.join(tmp, "proto"))
            with open(os.path.join(tmp, "proto", "ringstore.proto"), "w") as f:
                f.write(text)
            shutil.copytree(src, os.path.join(tmp, "ringstore"), ignore=shutil.ignore_patterns("__pycache__"))
            subprocess.run(["protoc", "--python_out=" + os.path.join(tmp, "ringstore"), "-I",
                            os.path.join(tmp, "proto"), "ringstore.proto"], check=True)
            probe = textwrap.dedent("""
                import ringstore
                cls = ringstore.error_class(37)
                assert cls.__name__ == "SomeFutureCode" and cls is ringstore.SomeFutureCode, cls
                assert issubclass(cls, ringstore.ServerError)
                print("ok", cls.__name__)
            """)
            out = subprocess.run([sys.executable, "-c", probe], cwd=tmp, env={**os.environ, "PYTHONPATH": tmp},
                                 capture_output=True, text=True)
            self.assertEqual(0, out.returncode, out.stderr)
            self.assertIn("ok SomeFutureCode", out.stdout)

    def test_not_primary_names_the_primary(self) -> None:
        # As a witness or a standby answers an append (ringstore.proto Error fields 5-7).
        from ringstore.errors import from_wire
        e = ringstore.pb.Error(code=ringstore.pb.NOT_PRIMARY, message="this board (w) is a witness",
                               primary_board="a", primary_address="192.168.1.10:7412", primary_epoch=3)
        err = from_wire(e, 7)
        self.assertIs(ringstore.error_class("NOT_PRIMARY"), type(err))
        self.assertEqual(("a", "192.168.1.10:7412", 3, 7),
                         (err.primary_board, err.primary_address, err.primary_epoch, err.request_id))
        unknown = from_wire(ringstore.pb.Error(code=ringstore.pb.NOT_PRIMARY, message="no primary yet"), 8)
        self.assertEqual((None, None, None), (unknown.primary_board, unknown.primary_address, unknown.primary_epoch))


if __name__ == "__main__":
    unittest.main()
