"""A connection to a ringstore daemon over its Unix socket (see ringstore.proto for the protocol)."""
from __future__ import annotations

import itertools
import os
import queue
import socket
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, Dict, Iterable, Iterator, Optional, TypeVar, Union

from . import ringstore_pb2 as pb
from .errors import ConnectionLost, RingStoreError, ServerError, from_wire
from .framing import FrameDecoder, FramingError, frame
from .model import (AllPage, AppendResult, CaughtUp, Direction, Event, Expected, ExpectedVersion, NewEvent,
                    StreamLimits, StreamLimitsInfo, StreamPage)

T = TypeVar("T")

DEFAULT_SOCKET = "/run/ringstore/ringstore.sock"
#: The largest answer accepted: a read page is about 1 MiB of events, or one event of up to 4 MiB.
MAX_RESPONSE_BYTES = 64 << 20
#: How many subscription updates wait for the program before the reading thread waits too. Then
#: the daemon sees a subscriber that does not read and, after its slow-subscriber time, ends the
#: subscription with SUBSCRIBER_TOO_SLOW, as the protocol intends.
SUBSCRIPTION_BUFFER = 10_000


def default_socket() -> str:
    """$RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock (the daemon's default)."""
    return os.environ.get("RINGSTORE_SOCKET") or DEFAULT_SOCKET


def _set_expected(message: Union["pb.AppendRequest", "pb.DeleteStreamRequest"], expected: ExpectedVersion) -> None:
    if isinstance(expected, bool) or not isinstance(expected, (int, Expected)):
        raise TypeError(f"expected must be an Expected or an int version, not {expected!r}")
    if isinstance(expected, int):
        if expected < 0:
            raise ValueError(f"an expected version is >= 0 (use Expected.NO_STREAM for none): {expected}")
        message.expected_version = expected
    elif expected is Expected.NO_STREAM:
        message.expected_state = pb.EXPECT_NO_STREAM
    elif expected is Expected.STREAM_EXISTS:
        message.expected_state = pb.EXPECT_STREAM_EXISTS
    # Expected.ANY: neither field set.


class _End:
    """Queued last on a subscription: why it ended (None: unsubscribed)."""
    __slots__ = ("error",)

    def __init__(self, error: Optional[RingStoreError]) -> None:
        self.error = error


class Subscription:
    """Events of one subscription, in log order: catch-up first, then live.

    Iterate over it for the events; ``get()`` also returns the CaughtUp marker. It ends with
    the typed error the daemon sent (SubscriberTooSlow, ShuttingDown: both carry
    ``resume_after_position``), with ConnectionLost, or quietly after ``close()``. To resume,
    subscribe again with ``after_position=subscription.last_position``.
    """

    def __init__(self, client: "Client", request_id: int, buffer: int) -> None:
        self._client = client
        self.id = request_id
        # Unbounded, but events and markers take a slot each (the end takes none, so it is
        # never dropped nor waits): the reading thread waits when the program is this far behind.
        self._queue: "queue.Queue[object]" = queue.Queue()
        self._slots = threading.Semaphore(buffer)
        self._confirmed: "Future[int]" = Future()
        self._ended = False  # set by the reading thread when _End is queued
        self._discard = False  # set by close(): the program wants no more updates
        self._finished: Optional[_End] = None  # set when the program has taken _End
        #: The position of the last event this program took, None before the first: the resume token.
        self.last_position: Optional[int] = None
        #: Whether the CaughtUp marker has been taken (everything stored at the start was delivered).
        self.caught_up = False

    def wait_confirmed(self, timeout: Optional[float] = None) -> int:
        """Waits for the daemon to start the subscription; returns the committed position then.

        Raises the typed error when the daemon refused the subscription.
        """
        return _result(self._confirmed, timeout)

    def get(self, timeout: Optional[float] = None) -> Union[Event, CaughtUp, None]:
        """The next event or CaughtUp marker; None once the subscription was closed by us.

        Raises TimeoutError when nothing came in time, or the error that ended it.
        """
        if self._finished is not None:
            return self._raise_end(self._finished)
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no subscription update within {timeout} s (subscription={self.id})") from None
        if isinstance(item, _End):
            self._finished = item
            return self._raise_end(item)
        self._slots.release()
        if isinstance(item, Event):
            self.last_position = item.position
        elif isinstance(item, CaughtUp):
            self.caught_up = True
        return item  # type: ignore[return-value]

    @staticmethod
    def _raise_end(end: _End) -> None:
        if end.error is not None:
            raise end.error
        return None

    def __iter__(self) -> Iterator[Event]:
        """The events (CaughtUp markers are skipped, see ``caught_up``), until the subscription ends."""
        while True:
            item = self.get()
            if item is None:
                return
            if isinstance(item, Event):
                yield item

    def close(self, timeout: Optional[float] = None) -> None:
        """Unsubscribes: returns once the daemon has sent the subscription's last event."""
        if self._ended:
            return
        # The unsubscribe is answered after the subscription's last event, which the reading
        # thread could not take while this buffer is full: from now on it drops them.
        self._discard = True
        try:
            self._client._unsubscribe(self.id).result(timeout if timeout is not None else self._client.timeout)
        except (ConnectionLost, FutureTimeout):
            self._deliver_end(None)
        except ServerError:
            if not self._ended:
                raise
            # It ended (the daemon sent its end) while the unsubscribe was on its way.

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the reading thread's side

    def _on(self, response: "pb.Response") -> bool:
        """One response for this subscription; True when it was the last."""
        kind = response.WhichOneof("result")
        if kind == "subscription":
            update = response.subscription
            which = update.WhichOneof("kind")
            if which == "event":
                self._put(Event.from_wire(update.event))
            elif which == "confirmed":
                if not self._confirmed.done():
                    self._confirmed.set_result(update.confirmed.committed_position)
            elif which == "caught_up":
                self._put(CaughtUp(update.caught_up.position))
            return False
        if kind == "error":
            self._deliver_end(from_wire(response.error, response.id))
            return True
        return False

    def _put(self, item: object) -> None:
        # Waits while the program is behind, in steps, so that close() of the client is noticed.
        while not self._client._closing and not self._discard:
            if self._slots.acquire(timeout=0.2):
                self._queue.put(item)
                return

    def _deliver_end(self, error: Optional[RingStoreError]) -> None:
        if self._ended:
            return
        self._ended = True
        if not self._confirmed.done():
            if error is not None:
                self._confirmed.set_exception(error)
            else:
                self._confirmed.set_exception(ConnectionLost(f"subscription={self.id} ended before it was confirmed"))
        # After every event already queued: the program sees them all, then why it ended.
        self._queue.put(_End(error))


def _result(future: "Future[T]", timeout: Optional[float]) -> T:
    try:
        return future.result(timeout)
    except FutureTimeout:
        # The request stays in flight; its answer, if it comes, is dropped.
        raise TimeoutError(f"no answer within {timeout} s") from None


class Client:
    """A connection to the daemon. Thread-safe and pipelined.

    Every operation has a blocking form (``append``) and a pipelined one (``append_async``,
    returning a ``concurrent.futures.Future``): send many, then wait for them; answers come
    back in any order and one reading thread completes the futures (a callback added to one runs
    on that thread: it must not block). Appends on one connection are applied in the order they
    were sent.

    Errors: each ErrorCode raises its own class (``ringstore.errors``), ConnectionLost when the
    connection ends. When the daemon says why it closes the connection (a frame too large, a
    malformed frame), what was in flight raises that typed error and later calls raise
    ConnectionLost. Opening the socket raises OSError (FileNotFoundError, PermissionError,
    ConnectionRefusedError), as ``socket.connect`` does.

    >>> with Client("/run/ringstore/ringstore.sock") as rs:
    ...     rs.append("pi-cpu", [NewEvent("reading", {"celsius": 48.2})])
    """

    def __init__(self, path: Optional[str] = None, *, timeout: Optional[float] = 30.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, subscription_buffer: int = SUBSCRIPTION_BUFFER) -> None:
        """Connects to ``path`` (default: $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock).

        ``timeout`` is how long a blocking call waits for its answer (None: for ever); each
        call may override it. ``subscription_buffer``: updates a subscription holds for the
        program before the reading thread waits (see SUBSCRIPTION_BUFFER).
        """
        if subscription_buffer < 1:
            raise ValueError(f"subscription_buffer must be >= 1: {subscription_buffer}")
        self._subscription_buffer = subscription_buffer
        self.path = path or default_socket()
        self.timeout = timeout
        self._max_response = max_response_bytes
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(self.path)
        except BaseException:
            self._sock.close()
            raise
        self._ids = itertools.count(1)  # 0 is what connection-level errors carry
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: Dict[int, "tuple[Future, Callable[[pb.Response], object]]"] = {}
        self._subscriptions: Dict[int, Subscription] = {}
        self._lost: Optional[ConnectionLost] = None
        self._refusal: Optional[ServerError] = None
        self._closing = False
        self._reader = threading.Thread(target=self._read_loop, name=f"ringstore-reader:{self.path}", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection. What is still in flight fails with ConnectionLost."""
        self._closing = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the daemon
        if threading.current_thread() is not self._reader:
            self._reader.join(5.0)
        self._sock.close()
        self._connection_lost("the client closed the connection", None)

    @property
    def connected(self) -> bool:
        """False once the connection has ended, for whatever reason."""
        return self._lost is None

    # ------------------------------------------------------------------ append

    def append_async(self, stream: str, events: Iterable[NewEvent],
                     expected: ExpectedVersion = Expected.ANY) -> "Future[AppendResult]":
        """Sends an append and returns at once; the Future gives the AppendResult or raises.

        The events are appended atomically with consecutive versions. Retry with the same
        NewEvent objects (their event ids) to make a retry idempotent.
        """
        request = pb.Request()
        a = request.append
        a.stream = stream
        for e in events:
            a.events.add(event_id=e.event_id, type=e.type, data=e.data, metadata=e.metadata)
        if not a.events:
            raise ValueError("an append needs at least one event")
        _set_expected(a, expected)
        return self._call(request, _append_result)

    def append(self, stream: str, events: Iterable[NewEvent], expected: ExpectedVersion = Expected.ANY, *,
               timeout: Optional[float] = None) -> AppendResult:
        """Appends events to one stream atomically and waits for the acknowledgement.

        ``expected``: Expected.ANY (default), NO_STREAM, STREAM_EXISTS or the stream's exact
        last version; a mismatch raises WrongExpectedVersion (``current_version``: the stream's,
        -1 when it does not exist) and nothing is appended.
        """
        return _result(self.append_async(stream, events, expected), self._timeout(timeout))

    # ------------------------------------------------------------------ reads

    def read_stream_async(self, stream: str, from_version: Optional[int] = None,
                          direction: Direction = Direction.FORWARD, max_count: int = 0) -> "Future[StreamPage]":
        """Pipelined form of read_stream."""
        request = pb.Request()
        r = request.read_stream
        r.stream = stream
        r.direction = direction.value
        if from_version is None:
            from_version = 0 if direction is Direction.FORWARD else -1
        r.from_version = from_version
        r.max_count = max_count
        return self._call(request, lambda x: StreamPage([Event.from_wire(e) for e in x.read_stream.events],
                                                        x.read_stream.last_version, x.read_stream.next_version,
                                                        x.read_stream.end_of_stream))

    def read_stream(self, stream: str, from_version: Optional[int] = None, direction: Direction = Direction.FORWARD,
                    max_count: int = 0, *, timeout: Optional[float] = None) -> StreamPage:
        """One page of a stream.

        ``from_version``: FORWARD, the first version to read (default 0); BACKWARD, the highest
        (default: the end). ``max_count`` 0 is the daemon's default page (1000). Follow
        ``next_version`` until ``page.done``, or use iter_stream. A stream never written raises
        StreamNotFound; a hard-deleted one StreamDeleted.
        """
        return _result(self.read_stream_async(stream, from_version, direction, max_count), self._timeout(timeout))

    def iter_stream(self, stream: str, from_version: Optional[int] = None, direction: Direction = Direction.FORWARD,
                    page_size: int = 0) -> Iterator[Event]:
        """Every event of a stream from ``from_version`` in ``direction``, a page at a time."""
        version = from_version
        while True:
            page = self.read_stream(stream, version, direction, page_size)
            yield from page.events
            if page.done:
                return
            version = page.next_version

    def read_all_async(self, from_position: int = 0, max_count: int = 0) -> "Future[AllPage]":
        """Pipelined form of read_all."""
        request = pb.Request()
        request.read_all.from_position = from_position
        request.read_all.max_count = max_count
        return self._call(request, lambda x: AllPage([Event.from_wire(e) for e in x.read_all.events],
                                                     x.read_all.next_position, x.read_all.end))

    def read_all(self, from_position: int = 0, max_count: int = 0, *, timeout: Optional[float] = None) -> AllPage:
        """One page of every stream's events in log ($all) order.

        ``from_position``: 0 for the start of what is stored, or an event's position (a
        next_position or the position of an event received): that event is included. A page
        may hold no events and still not be the end; follow next_position until ``end``.
        """
        return _result(self.read_all_async(from_position, max_count), self._timeout(timeout))

    def iter_all(self, from_position: int = 0, page_size: int = 0) -> Iterator[Event]:
        """Every event in $all order from ``from_position`` to what is committed when the last page is read."""
        position = from_position
        while True:
            page = self.read_all(position, page_size)
            yield from page.events
            if page.end:
                return
            position = page.next_position

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, stream: str = "$all", *, after_position: Optional[int] = None,
                  from_version: Optional[int] = None, from_end: bool = False) -> Subscription:
        """Subscribes to a stream, or to every stream with "$all".

        From the start unless one of: ``after_position`` (resume: events after that position),
        ``from_version`` (stream subscriptions: versions from this one), ``from_end`` (only
        events committed after the subscription started). Returns at once; iterate over the
        Subscription for the events. A slow reader holds up this connection's other answers:
        give a busy subscription its own Client.
        """
        if sum(x is not None and x is not False for x in (after_position, from_version, from_end or None)) > 1:
            raise ValueError("give at most one of after_position, from_version, from_end")
        request = pb.Request()
        s = request.subscribe
        s.stream = stream
        if after_position is not None:
            s.after_position = after_position
        elif from_version is not None:
            s.from_version = from_version
        elif from_end:
            s.from_end = True
        else:
            s.from_start = True
        with self._state_lock:
            self._check_open()
            request.id = next(self._ids)
            sub = Subscription(self, request.id, self._subscription_buffer)
            self._subscriptions[request.id] = sub
        self._send(request)
        return sub

    def _unsubscribe(self, subscription_id: int) -> "Future[None]":
        request = pb.Request()
        request.unsubscribe.subscription_id = subscription_id

        def done(_: "pb.Response") -> None:
            # Answered after the subscription's last event: nothing more comes for it.
            with self._state_lock:
                sub = self._subscriptions.pop(subscription_id, None)
            if sub is not None:
                sub._deliver_end(None)

        return self._call(request, done)

    # ------------------------------------------------------------------ limits, delete, status, ping

    def set_stream_limits(self, stream: str, limits: StreamLimits, *, timeout: Optional[float] = None) -> int:
        """Replaces a stream's own retention limits; returns the metadata event's position."""
        request = pb.Request()
        request.set_stream_limits.stream = stream
        request.set_stream_limits.limits.CopyFrom(limits.to_wire())
        return _result(self._call(request, lambda x: x.set_stream_limits.position), self._timeout(timeout))

    def get_stream_limits(self, stream: str, *, timeout: Optional[float] = None) -> StreamLimitsInfo:
        """A stream's own and effective limits, and whether it is hard-deleted."""
        request = pb.Request()
        request.get_stream_limits.stream = stream

        def convert(x: "pb.Response") -> StreamLimitsInfo:
            g = x.get_stream_limits
            return StreamLimitsInfo(StreamLimits.from_wire(g.own) if g.HasField("own") else None,
                                    StreamLimits.from_wire(g.effective) if g.HasField("effective") else None,
                                    g.deleted)

        return _result(self._call(request, convert), self._timeout(timeout))

    def delete_stream(self, stream: str, hard: bool = False, expected: ExpectedVersion = Expected.ANY, *,
                      timeout: Optional[float] = None) -> int:
        """Deletes a stream; returns the metadata event's position.

        Soft (default): hides every event so far; the stream may be written again, its versions
        go on. Hard: a tombstone, every later append or read raises StreamDeleted. With an
        ``expected`` that does not match, raises WrongExpectedVersion and deletes nothing.
        """
        request = pb.Request()
        request.delete_stream.stream = stream
        request.delete_stream.hard = hard
        _set_expected(request.delete_stream, expected)
        return _result(self._call(request, lambda x: x.delete_stream.position), self._timeout(timeout))

    def status(self, drain_splitter: bool = False, *, timeout: Optional[float] = None) -> "pb.StatusResponse":
        """The daemon's state (the StatusResponse message; its fields are documented in ringstore.proto)."""
        request = pb.Request()
        request.status.drain_splitter = drain_splitter
        return _result(self._call(request, lambda x: x.status), self._timeout(timeout))

    def ping(self, payload: bytes = b"", *, timeout: Optional[float] = None) -> bytes:
        """A round trip; returns the payload echoed."""
        request = pb.Request()
        request.ping.payload = payload
        return _result(self._call(request, lambda x: x.ping.payload), self._timeout(timeout))

    # ------------------------------------------------------------------ plumbing

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    def _check_open(self) -> None:
        if self._lost is not None:
            raise ConnectionLost(str(self._lost)) from self._lost

    def _call(self, request: "pb.Request", convert: Callable[["pb.Response"], T]) -> "Future[T]":
        future: "Future[T]" = Future()
        with self._state_lock:
            self._check_open()
            request.id = next(self._ids)
            self._pending[request.id] = (future, convert)
        self._send(request)
        return future

    def _send(self, request: "pb.Request") -> None:
        data = frame(request.SerializeToString())
        try:
            with self._send_lock:
                self._sock.sendall(data)
        except OSError:
            # The daemon closed the connection (EPIPE, ECONNRESET): the reading thread will see
            # the end too, after what the daemon sent before closing, such as why it refused a
            # frame (FRAME_TOO_LARGE). It fails this request's future then, with that reason.
            # Declaring the connection lost here would race it and lose the reason.
            if self._closing:
                self._connection_lost("the connection was closed by this client", None)

    def _read_loop(self) -> None:
        decoder = FrameDecoder(self._max_response)
        why = "the daemon closed the connection"
        cause: Optional[BaseException] = None
        try:
            while True:
                data = self._sock.recv(1 << 16)
                if not data:
                    break
                for body in decoder.feed(data):
                    response = pb.Response()
                    response.ParseFromString(body)
                    self._dispatch(response)
        except (OSError, FramingError, ValueError) as e:
            # ValueError covers protobuf's DecodeError: the daemon sent something that is not
            # a Response, so nothing more on this connection can be trusted.
            cause = e
            why = "the connection was closed by this client" if self._closing else f"reading from the daemon failed: {e}"
        except BaseException as e:  # a bug here must not leave callers waiting for ever
            cause = e
            why = f"the client's reading thread failed: {e!r}"
        if self._refusal is not None:
            why = f"the daemon closed the connection: {self._refusal}"
        self._connection_lost(why, cause)
        # Nothing more can come or go on it: free the descriptor now, not when the Client is
        # collected (a program that reconnects after a loss need not close the old one).
        self._sock.close()

    def _dispatch(self, response: "pb.Response") -> None:
        rid = response.id
        if rid == 0 and response.WhichOneof("result") == "error":
            # A connection-level error: the daemon refused a frame and closes the connection.
            self._refusal = from_wire(response.error, 0)
            return
        sub = self._subscriptions.get(rid)
        if sub is not None:
            if sub._on(response):
                with self._state_lock:
                    self._subscriptions.pop(rid, None)
            return
        with self._state_lock:
            entry = self._pending.pop(rid, None)
        if entry is None:
            return  # the answer to a request whose caller gave up (timeout)
        future, convert = entry
        if response.WhichOneof("result") == "error":
            _settle(future, error=from_wire(response.error, rid))
            return
        try:
            value = convert(response)
        except Exception as e:  # a conversion bug fails this call, not the connection
            _settle(future, error=e)
            return
        _settle(future, value=value)

    def _connection_lost(self, why: str, cause: Optional[BaseException]) -> None:
        with self._state_lock:
            if self._lost is None:
                self._lost = ConnectionLost(f"{why} (socket={self.path})")
                self._lost.__cause__ = cause
            lost = self._lost
            pending = list(self._pending.values())
            self._pending.clear()
            subs = list(self._subscriptions.values())
            self._subscriptions.clear()
        # What was in flight when the daemon said why it closes fails with that typed error.
        failure: RingStoreError = self._refusal if self._refusal is not None else lost
        for future, _ in pending:
            _settle(future, error=failure)
        for sub in subs:
            sub._deliver_end(lost)


def _append_result(x: "pb.Response") -> AppendResult:
    a = x.append
    return AppendResult(a.stream, a.first_version, a.last_version, a.first_position, a.last_position,
                        pb.Durability.Name(a.durability).replace("DURABILITY_", ""), a.replayed,
                        a.epoch if a.HasField("epoch") else None)


def _settle(future: Future, value: object = None, error: Optional[BaseException] = None) -> None:
    if future.done():
        return  # cancelled by its caller
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except Exception:
        pass  # cancelled between the check and the set (InvalidStateError)


def connect(path: Optional[str] = None, *, timeout: Optional[float] = 30.0) -> Client:
    """Opens a Client (see Client); ``path`` defaults to $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock."""
    return Client(path, timeout=timeout)
