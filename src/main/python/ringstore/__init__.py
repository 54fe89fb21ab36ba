"""ringstore: a Python client for the ringstore event store daemon.

Pure Python 3 and python3-protobuf; the protocol module (``ringstore_pb2``) is generated from
ringstore.proto with protoc when the package is built (``src/main/python/build.sh``).

    import ringstore
    with ringstore.connect() as rs:
        rs.append("pi-cpu", [ringstore.NewEvent("reading", {"celsius": 48.2})])
        for event in rs.iter_stream("pi-cpu"):
            print(event.version, event.json())
"""
try:
    from . import ringstore_pb2 as pb  # noqa: F401
except ImportError as _e:  # pragma: no cover
    raise ImportError(
        "ringstore.ringstore_pb2 is missing: it is generated from src/main/proto/ringstore.proto; "
        "run sh src/main/python/build.sh OUT_DIR (needs protoc) or install python3-ringstore") from _e

from .client import DEFAULT_SOCKET, Client, Subscription, connect, default_socket
from .errors import (AccessDenied, ConnectionLost, FrameTooLarge, InvalidRequest, Overloaded, PositionReclaimed,
                     RingStoreError, Retriable, ServerError, ShuttingDown, StorageError, StorageFull, StreamDeleted,
                     StreamNotFound, SubscriberTooSlow, WrongExpectedVersion, error_class, error_classes)
from .model import (AllPage, AppendResult, CaughtUp, Direction, Event, Expected, NewEvent, StreamLimits,
                    StreamLimitsInfo, StreamPage)

__all__ = [
    "Client", "Subscription", "connect", "default_socket", "DEFAULT_SOCKET",
    "NewEvent", "Event", "AppendResult", "StreamPage", "AllPage", "CaughtUp", "Direction", "Expected",
    "StreamLimits", "StreamLimitsInfo",
    "RingStoreError", "Retriable", "ConnectionLost", "ServerError", "error_class", "error_classes",
    "WrongExpectedVersion", "StreamNotFound", "StreamDeleted", "InvalidRequest", "FrameTooLarge",
    "StorageFull", "StorageError", "Overloaded", "ShuttingDown", "AccessDenied", "SubscriberTooSlow",
    "PositionReclaimed",
]


def __getattr__(name: str):
    # Codes added to the proto after this file: ringstore.NotPrimary works like the named ones.
    from . import errors
    if hasattr(errors, name):
        return getattr(errors, name)
    raise AttributeError(f"module 'ringstore' has no attribute {name!r}")
