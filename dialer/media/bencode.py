"""Bencode, the encoding of rtpengine's ng control protocol: integers, byte strings, lists and dictionaries.

Strings go out as UTF-8 and come back as bytes (the protocol does not say which are text); dictionary keys
come back as text. A malformed reply raises `BencodeError`, never an IndexError from deep inside.
"""

from __future__ import annotations

from typing import Any


class BencodeError(ValueError):
    """Not bencode, or a value bencode cannot carry."""


def encode(value: Any) -> bytes:
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


def _encode(value: Any, out: list[bytes]) -> None:
    if isinstance(value, bool):
        raise BencodeError("bencode has no booleans: say 'yes' or leave the key out")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        out.append(b"%d:" % len(data))
        out.append(data)
    elif isinstance(value, (list, tuple)):
        out.append(b"l")
        for item in value:
            _encode(item, out)
        out.append(b"e")
    elif isinstance(value, dict):
        out.append(b"d")
        for key in sorted(value):  # the specification's order: sorted keys
            _encode(str(key), out)
            _encode(value[key], out)
        out.append(b"e")
    else:
        raise BencodeError(f"cannot bencode a {type(value).__name__}")


def decode(data: bytes) -> Any:
    value, end = _decode(data, 0)
    if end != len(data):
        raise BencodeError(f"{len(data) - end} bytes after the value")
    return value


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    if at >= len(data):
        raise BencodeError("the value ends early")
    kind = data[at:at + 1]
    if kind == b"i":
        end = data.find(b"e", at)
        if end < 0:
            raise BencodeError("an integer without its end")
        try:
            return int(data[at + 1:end]), end + 1
        except ValueError as error:
            raise BencodeError(f"not an integer: {data[at + 1:end]!r}") from error
    if kind == b"l":
        items, at = [], at + 1
        while data[at:at + 1] != b"e":
            item, at = _decode(data, at)
            items.append(item)
        return items, at + 1
    if kind == b"d":
        entries, at = {}, at + 1
        while data[at:at + 1] != b"e":
            key, at = _decode(data, at)
            if not isinstance(key, bytes):
                raise BencodeError("a dictionary key that is not a string")
            entries[key.decode("utf-8", "replace")], at = _decode(data, at)
        return entries, at + 1
    colon = data.find(b":", at)
    if colon < 0 or not data[at:colon].isdigit():
        raise BencodeError(f"unexpected {kind!r} at byte {at}")
    end = colon + 1 + int(data[at:colon])
    if end > len(data):
        raise BencodeError("a string longer than the message")
    return data[colon + 1:end], end
