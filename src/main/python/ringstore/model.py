"""The values the client takes and returns: plain, immutable data classes."""
from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

from . import ringstore_pb2 as pb

#: What NewEvent accepts as data: bytes as they are, str as UTF-8, anything else as JSON.
Data = Union[bytes, bytearray, str, dict, list, int, float, bool, None]


def _encode(data: Data) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


class Expected(enum.Enum):
    """What an append or a delete expects of the stream, besides an exact version (an int)."""
    #: Whatever the stream's version is.
    ANY = "any"
    #: The stream must not exist yet.
    NO_STREAM = "no_stream"
    #: The stream must exist.
    STREAM_EXISTS = "stream_exists"


#: An expectation: one of Expected, or the exact last version (an int >= 0).
ExpectedVersion = Union[Expected, int]


class Direction(enum.Enum):
    """Which way a stream read goes."""
    FORWARD = pb.FORWARD
    BACKWARD = pb.BACKWARD


@dataclass(frozen=True)
class NewEvent:
    """An event to append.

    ``event_id`` is 16 random bytes made when the NewEvent is made: append the same NewEvent
    objects again after a failure (a lost connection, STORAGE_ERROR, a timeout) and the daemon
    applies them once, answering the retry with the original result (``replayed=True``).
    ``data`` and ``metadata`` may be bytes, str (UTF-8) or any JSON value (encoded compactly).
    """
    type: str
    data: Data = b""
    metadata: Data = b""
    event_id: bytes = field(default_factory=lambda: uuid.uuid4().bytes)

    def __post_init__(self) -> None:
        if not self.type:
            raise ValueError("an event's type must not be empty")
        if len(self.event_id) != 16:
            raise ValueError(f"event_id must be 16 bytes, not {len(self.event_id)}")
        object.__setattr__(self, "data", _encode(self.data))
        object.__setattr__(self, "metadata", _encode(self.metadata))


@dataclass(frozen=True)
class Event:
    """An event as stored."""
    stream: str
    #: Version within its stream, counting from 0.
    version: int
    #: Position in the $all order: unique, increasing, the resume token of subscriptions.
    position: int
    event_id: bytes
    type: str
    data: bytes
    metadata: bytes
    #: When the store accepted it, microseconds since the Unix epoch.
    timestamp_micros: int

    @staticmethod
    def from_wire(e: "pb.Event") -> "Event":
        return Event(e.stream, e.version, e.position, e.event_id, e.type, e.data, e.metadata, e.timestamp_micros)

    def json(self) -> Any:
        """The data parsed as JSON."""
        return json.loads(self.data)

    @property
    def event_uuid(self) -> Optional[uuid.UUID]:
        """The event id as a UUID (None if it is not 16 bytes)."""
        return uuid.UUID(bytes=self.event_id) if len(self.event_id) == 16 else None


@dataclass(frozen=True)
class AppendResult:
    """What an append got."""
    stream: str
    first_version: int
    #: The stream's version after the append.
    last_version: int
    first_position: int
    last_position: int
    #: "SYNC", "PERIODIC" or "NONE": when the daemon acknowledged it (see ringstore.proto).
    durability: str
    #: True when these event ids had been appended before and this is the original result.
    replayed: bool
    #: The replication epoch the append was acknowledged in (None: no replication).
    epoch: Optional[int] = None


@dataclass(frozen=True)
class StreamPage:
    """A page of one stream."""
    events: List[Event]
    #: The stream's last version when the read started.
    last_version: int
    #: Where the next page starts, -1 when done.
    next_version: int
    end_of_stream: bool

    @property
    def done(self) -> bool:
        """Whether no page follows this one (in the direction read)."""
        return self.end_of_stream or self.next_version < 0 or not self.events


@dataclass(frozen=True)
class AllPage:
    """A page of the $all order. It may hold no events and still not be the end: follow next_position."""
    events: List[Event]
    next_position: int
    end: bool


@dataclass(frozen=True)
class CaughtUp:
    """A subscription has delivered everything stored when this was sent; what follows is live."""
    position: int


@dataclass(frozen=True)
class StreamLimits:
    """A stream's retention limits (None: no such limit)."""
    max_count: Optional[int] = None
    max_age_seconds: Optional[int] = None
    truncate_before: Optional[int] = None

    @staticmethod
    def from_wire(m: "pb.StreamLimits") -> "StreamLimits":
        return StreamLimits(m.max_count if m.HasField("max_count") else None,
                            m.max_age_seconds if m.HasField("max_age_seconds") else None,
                            m.truncate_before if m.HasField("truncate_before") else None)

    def to_wire(self) -> "pb.StreamLimits":
        m = pb.StreamLimits()
        if self.max_count is not None:
            m.max_count = self.max_count
        if self.max_age_seconds is not None:
            m.max_age_seconds = self.max_age_seconds
        if self.truncate_before is not None:
            m.truncate_before = self.truncate_before
        return m


@dataclass(frozen=True)
class StreamLimitsInfo:
    """A stream's own limits, the ones that apply, and whether it is hard-deleted."""
    #: Set through set_stream_limits or a delete; None when it has none.
    own: Optional[StreamLimits]
    #: Its own, completed from the daemon's config by name prefix; None when nothing applies.
    effective: Optional[StreamLimits]
    deleted: bool
