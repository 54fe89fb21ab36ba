"""Every error this client raises, one class per ErrorCode of ringstore.proto.

The classes are made from the generated ``ErrorCode`` enum when this module is imported, so a
code added to the proto later gets its own class (its name in CamelCase, e.g. ``NOT_PRIMARY`` ->
``NotPrimary``) as soon as the module is generated again; the codes known when this was written
have named classes below, with docstrings. ``error_class(code)`` finds the class of a code, by
number or name.

Hierarchy::

    RingStoreError
    +-- ConnectionLost (also a ConnectionError, so an OSError)
    +-- ServerError (the daemon refused: .code, .code_name, .message, ...)
        +-- WrongExpectedVersion, StreamNotFound, ... (one per ErrorCode)

``Retriable`` marks the errors after which the same request may succeed later (retry an append
with the same event ids): ConnectionLost, Overloaded, StorageError, StorageFull, ShuttingDown,
ReplicaUnavailable.
"""
from __future__ import annotations

from typing import Dict, Optional, Type, Union

from . import ringstore_pb2 as pb


class RingStoreError(Exception):
    """Base of everything this package raises on purpose."""


class Retriable(RingStoreError):
    """The same request may succeed later: retry it (an append with the same event ids)."""


class ConnectionLost(Retriable, ConnectionError):
    """The connection ended (the daemon closed it, stopped, or the client closed it).

    Whatever was in flight on it has an unknown outcome unless the daemon said why it closed
    (then that typed error is raised instead, see ``Client``): retry appends with the same
    event ids on a new connection; a retry that was already applied is answered as a replay.
    """


class ServerError(RingStoreError):
    """The daemon answered a request with an error.

    Attributes:
        code: the ErrorCode number.
        code_name: its name in ringstore.proto, e.g. ``"WRONG_EXPECTED_VERSION"``.
        message: the daemon's explanation (key=value pairs).
        current_version: WRONG_EXPECTED_VERSION only: the stream's version (-1: no stream).
        resume_after_position: a subscription's end: subscribe again after this position.
        request_id: the id of the request answered (0: a connection-level error).
        primary_board, primary_address, primary_epoch: NOT_PRIMARY only, each None when the
            daemon does not know it: the board appends go to, its address between boards
            (host:port of its group or replication port, not a client socket: the host is where
            to talk to ringstore) and the epoch it is primary in.
    """

    CODE_NAME: Optional[str] = None

    def __init__(self, code: int, code_name: str, message: str, *, current_version: Optional[int] = None,
                 resume_after_position: Optional[int] = None, request_id: int = 0,
                 primary_board: Optional[str] = None, primary_address: Optional[str] = None,
                 primary_epoch: Optional[int] = None) -> None:
        super().__init__(f"{code_name}: {message}" if message else code_name)
        self.code = code
        self.code_name = code_name
        self.message = message
        self.current_version = current_version
        self.resume_after_position = resume_after_position
        self.request_id = request_id
        self.primary_board = primary_board
        self.primary_address = primary_address
        self.primary_epoch = primary_epoch


class WrongExpectedVersion(ServerError):
    """The stream's version did not match the expectation; see ``current_version``."""
    CODE_NAME = "WRONG_EXPECTED_VERSION"


class StreamNotFound(ServerError):
    """The stream has never been written."""
    CODE_NAME = "STREAM_NOT_FOUND"


class StreamDeleted(ServerError):
    """The stream was hard-deleted: appends, limit changes and reads are refused for good."""
    CODE_NAME = "STREAM_DELETED"


class InvalidRequest(ServerError):
    """The request is malformed or a field is out of range; the message says which."""
    CODE_NAME = "INVALID_REQUEST"


class FrameTooLarge(ServerError):
    """A frame or an event is larger than the daemon's limit (a frame: connection closed)."""
    CODE_NAME = "FRAME_TOO_LARGE"


class StorageFull(ServerError, Retriable):
    """No room for a new log segment, or the store is over its disk budget."""
    CODE_NAME = "STORAGE_FULL"


class StorageError(ServerError, Retriable):
    """The storage failed; the append's outcome is unknown: retry with the same event ids."""
    CODE_NAME = "STORAGE_ERROR"


class Overloaded(ServerError, Retriable):
    """The writer's queue stayed full; try again later."""
    CODE_NAME = "OVERLOADED"


class ShuttingDown(ServerError, Retriable):
    """The daemon is stopping (on a subscription: see ``resume_after_position``)."""
    CODE_NAME = "SHUTTING_DOWN"


class AccessDenied(ServerError):
    """This user (uid/gid of the process) may not do this."""
    CODE_NAME = "ACCESS_DENIED"


class SubscriberTooSlow(ServerError):
    """The subscription was dropped because it was not read; resume after ``resume_after_position``."""
    CODE_NAME = "SUBSCRIBER_TOO_SLOW"


class PositionReclaimed(ServerError):
    """A read_all from a position retention has deleted; the message names the oldest one kept."""
    CODE_NAME = "POSITION_RECLAIMED"


class ReplicaUnavailable(ServerError, Retriable):
    """A replica-mode primary's standbys did not hold the append in time. It IS in the primary's
    log, not yet readable: retry with the same event ids to learn its fate (see ringstore.proto)."""
    CODE_NAME = "REPLICA_UNAVAILABLE"


class NoQuorum(ServerError, Retriable):
    """A board in a failover group could not renew its lease from the voters in time. The append
    IS in this board's log, not yet readable: retry with the same event ids (see ringstore.proto)."""
    CODE_NAME = "NO_QUORUM"


class NotPrimary(ServerError):
    """This board is a standby, a witness or a fenced former primary: append to the primary,
    named by ``primary_board`` at ``primary_address`` (epoch ``primary_epoch``) when known."""
    CODE_NAME = "NOT_PRIMARY"


def _camel(code_name: str) -> str:
    return "".join(part.capitalize() for part in code_name.lower().split("_"))


_BY_NUMBER: Dict[int, Type[ServerError]] = {}
_BY_NAME: Dict[str, Type[ServerError]] = {}


def _register() -> None:
    named = {cls.CODE_NAME: cls for cls in ServerError.__subclasses__() if cls.CODE_NAME}
    for name, number in pb.ErrorCode.items():
        if number == 0:
            continue  # ERROR_CODE_UNSPECIFIED: a daemon never sends it; ServerError covers it
        cls = named.get(name)
        if cls is None:
            # A code added to the proto after this file was written: a class of its own, made
            # here, so a program can catch it by name (ringstore.errors.NotPrimary).
            cls = type(_camel(name), (ServerError,), {
                "CODE_NAME": name,
                "__doc__": f"ErrorCode {name} ({number}); see ringstore.proto.",
                "__module__": __name__,
            })
            globals()[cls.__name__] = cls
        _BY_NUMBER[number] = cls
        _BY_NAME[name] = cls


_register()


def error_class(code: Union[int, str]) -> Type[ServerError]:
    """The exception class of an ErrorCode, by number or name; ServerError for an unknown code."""
    if isinstance(code, str):
        return _BY_NAME.get(code, ServerError)
    return _BY_NUMBER.get(code, ServerError)


def error_classes() -> Dict[str, Type[ServerError]]:
    """Every ErrorCode name this module knows, with its class."""
    return dict(_BY_NAME)


def from_wire(error: "pb.Error", request_id: int) -> ServerError:
    """The typed exception for an Error message the daemon sent."""
    try:
        name = pb.ErrorCode.Name(error.code)
    except ValueError:
        # A code newer than the generated module: still a ServerError, with its number.
        name = f"ERROR_CODE_{error.code}"
    cls = error_class(error.code)
    return cls(error.code, name, error.message,
               current_version=error.current_version if error.HasField("current_version") else None,
               resume_after_position=(error.resume_after_position
                                      if error.HasField("resume_after_position") else None),
               request_id=request_id,
               primary_board=error.primary_board if error.HasField("primary_board") else None,
               primary_address=error.primary_address if error.HasField("primary_address") else None,
               primary_epoch=error.primary_epoch if error.HasField("primary_epoch") else None)
