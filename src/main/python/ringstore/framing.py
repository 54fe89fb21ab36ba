"""The wire framing of ringstore.proto: each message is preceded by its length as a varint.

::

    +----------------------+---------------------------+
    | length (varint, 1-5) | message (length bytes)    |
    +----------------------+---------------------------+

A varint holds 7 bits per byte, low group first; the high bit of a byte says another byte
follows. This is protobuf's delimited format (Java's ``writeDelimitedTo``). There is no
checksum (the socket is local) and no version (the schema evolves by adding fields).
"""
from __future__ import annotations

from typing import List

# A length that fits in 32 bits takes at most 5 varint bytes.
MAX_VARINT_BYTES = 5


class FramingError(Exception):
    """The bytes are not a frame: a varint longer than 5 bytes or a length above the limit."""


def encode_length(n: int) -> bytes:
    """The varint bytes of a frame length."""
    if n < 0:
        raise ValueError(f"negative length: {n}")
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame(body: bytes) -> bytes:
    """One frame: the length prefix, then the body."""
    return encode_length(len(body)) + body


class FrameDecoder:
    """Cuts a byte stream into frame bodies; feed it what recv() returned, in order.

    A declared length above ``max_length`` raises FramingError before any of the body is
    buffered, so a wrong length cannot make the client allocate gigabytes.
    """

    def __init__(self, max_length: int) -> None:
        self._max = max_length
        self._buf = bytearray()
        self._pos = 0
        self._need = -1  # length of the frame being read, -1 while its varint is incomplete

    def feed(self, data: bytes) -> List[bytes]:
        """Appends data; returns every frame body it completed (possibly none)."""
        buf = self._buf
        buf += data
        bodies: List[bytes] = []
        pos = self._pos
        end = len(buf)
        while True:
            if self._need < 0:
                n = shift = 0
                i = pos
                while True:
                    if i >= end:
                        # The varint is not complete yet.
                        self._compact(pos)
                        return bodies
                    byte = buf[i]
                    i += 1
                    n |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        break
                    shift += 7
                    if i - pos >= MAX_VARINT_BYTES:
                        raise FramingError(f"length varint longer than {MAX_VARINT_BYTES} bytes at offset={pos}")
                if n > self._max:
                    raise FramingError(f"frame too large: length={n} max={self._max}")
                self._need = n
                pos = i
            if end - pos < self._need:
                self._compact(pos)
                return bodies
            bodies.append(bytes(buf[pos:pos + self._need]))
            pos += self._need
            self._need = -1

    def _compact(self, pos: int) -> None:
        # Drop consumed bytes once they are a good share of the buffer, so it does not grow.
        if pos > 65536 or pos == len(self._buf):
            del self._buf[:pos]
            pos = 0
        self._pos = pos
