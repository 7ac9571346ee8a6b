"""Converting Python strings and paths to the UTF-8 bytes the C API takes."""

from __future__ import annotations

import os
from typing import Union

from .errors import InvalidArgumentError

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def encode_str(value: object, what: str) -> bytes:
    """``value`` (a ``str``) as UTF-8; ``TypeError`` for other types,
    :class:`InvalidArgumentError` if it cannot be UTF-8 (lone surrogates)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"{what} is not valid UTF-8: {value!r} ({e.reason})") from None


def fs_path(value: object, what: str) -> bytes:
    """The operating system's bytes for a path (``str``, ``bytes`` or ``os.PathLike``)."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{what} must be a path (str, bytes or os.PathLike), not {type(value).__name__}")
    raw = os.fsencode(value)
    if b"\0" in raw:
        raise InvalidArgumentError(f"{what} contains a NUL byte: {value!r}")
    return raw


def encode_path(value: object, what: str) -> bytes:
    """A path as UTF-8 for the C API. Paths that are not valid UTF-8 (weft
    takes UTF-8 paths only) raise :class:`InvalidArgumentError`."""
    raw = fs_path(value, what)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgumentError(
            f"{what} is not valid UTF-8 ({raw!r}); weft takes UTF-8 paths only"
        ) from None
    return raw


def is_utf8(raw: bytes) -> bool:
    """Whether ``raw`` decodes as UTF-8."""
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
