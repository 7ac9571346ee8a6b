"""weft's log records, forwarded to Python's :mod:`logging` (logger ``"weft"``)."""

from __future__ import annotations

import ctypes
import logging
from typing import Optional

from . import _ffi
from ._ffi import lib

_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: 5}
TRACE = 5
logger = logging.getLogger("weft")


def _text(ptr: Optional[int], length: int) -> str:
    return ctypes.string_at(ptr, length).decode("utf-8", "replace") if ptr and length else ""


def _forward(env: Optional[int], level: int, target: Optional[int], target_len: int,
             message: Optional[int], message_len: int) -> None:
    try:
        name = _text(target, target_len).replace("::", ".")
        log = logger if name in ("", "weft") else logging.getLogger(
            name if name.startswith("weft.") else f"weft.{name}"
        )
        log.log(_LEVELS.get(level, logging.DEBUG), "%s", _text(message, message_len))
    except BaseException:  # must not unwind into weft
        pass


_CALLBACK = _ffi.LOG_CALLBACK(_forward)
_NO_CALLBACK = _ffi.LOG_CALLBACK()  # NULL: logging off


def enable_logging(level: int = logging.INFO) -> None:
    """Sends weft's records at ``level`` and more severe to the ``"weft"``
    logger (``logging.DEBUG`` and below also gives trace records, level 5)."""
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be a logging level (int), not {type(level).__name__}")
    max_level = 1 if level >= logging.ERROR else 2 if level >= logging.WARNING else (
        3 if level >= logging.INFO else 4 if level >= logging.DEBUG else 5
    )
    lib.weft_set_log_callback(_CALLBACK, None, max_level)


def disable_logging() -> None:
    """Turns weft's logging off again (the default)."""
    lib.weft_set_log_callback(_NO_CALLBACK, None, 0)
