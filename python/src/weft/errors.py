"""Exceptions: one class per ``WEFT_ERROR_*`` kind, all subclasses of :class:`WeftError`.

A guest that exits (``proc_exit(n)``, or ``_start`` returning) is **not** an
error: :meth:`weft.Instance.run` returns the exit code. Only
:meth:`weft.Instance.call`, which must return results, raises :class:`Exited`.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

ERROR_INTERNAL = 1
ERROR_NULL_ARGUMENT = 2
ERROR_INVALID_ARGUMENT = 3
ERROR_IO = 4
ERROR_COMPILE = 5
ERROR_LINK = 6
ERROR_INSTANTIATE = 7
ERROR_TRAP = 8
ERROR_ENDED = 9
ERROR_INTERRUPTED = 10
ERROR_TIMED_OUT = 11
ERROR_STATE = 12
ERROR_NOT_FOUND = 13
ERROR_EXITED = 14
ERROR_HOST = 15
ERROR_DEADLOCK = 16


class WeftError(Exception):
    """An error reported by weft.

    ``kind`` is the ``WEFT_ERROR_*`` number, ``message`` the library's message
    (``str(e)`` is the message too).
    """

    #: The ``WEFT_ERROR_*`` kind this class stands for.
    KIND: int = 0

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[int] = None,
        tid: Optional[int] = None,
        backtrace: str = "",
        exit_code: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind: int = self.KIND if kind is None else kind
        self._tid = tid
        self._backtrace = backtrace
        self._exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class InternalError(WeftError):
    """weft itself failed (a bug, including a caught panic)."""

    KIND = ERROR_INTERNAL


class NullArgumentError(WeftError):
    """A required pointer was NULL (the Python API never passes one)."""

    KIND = ERROR_NULL_ARGUMENT


class InvalidArgumentError(WeftError, ValueError):
    """An argument is malformed: invalid UTF-8, unknown constant, absurd size."""

    KIND = ERROR_INVALID_ARGUMENT


class IoError(WeftError, OSError):
    """A host I/O operation failed (reading a file, opening a preopened directory)."""

    KIND = ERROR_IO


class CompileError(WeftError):
    """The bytes are not a valid WebAssembly module or WAT text."""

    KIND = ERROR_COMPILE


class LinkError(WeftError):
    """The module's imports cannot be satisfied."""

    KIND = ERROR_LINK


class InstantiateError(WeftError):
    """Instantiation failed (including a trap in the module's start function)."""

    KIND = ERROR_INSTANTIATE


class Trap(WeftError):
    """A guest thread trapped, which ended the whole program.

    ``tid`` is the trapping thread (0 = main thread), ``backtrace`` the wasm
    backtrace, one frame per line. A Python exception raised by a host
    function traps the calling thread: its traceback is in the message.
    """

    KIND = ERROR_TRAP

    @property
    def tid(self) -> Optional[int]:
        """The trapping thread's TID (0 = main thread)."""
        return self._tid

    @property
    def backtrace(self) -> str:
        """The wasm backtrace, one frame per line."""
        return self._backtrace


class Ended(WeftError):
    """The program has already ended."""

    KIND = ERROR_ENDED


class Interrupted(WeftError):
    """The host interrupted the program (:meth:`weft.Instance.interrupt`)."""

    KIND = ERROR_INTERRUPTED


class TimedOut(WeftError):
    """The program ran past its timeout (``Config(timeout=…)``)."""

    KIND = ERROR_TIMED_OUT


class StateError(WeftError):
    """The call is not valid in the object's current state."""

    KIND = ERROR_STATE


class ClosedError(StateError, ValueError):
    """The handle was closed (``close()`` or the end of a ``with`` block)."""


class NotFoundError(WeftError, LookupError):
    """A named export does not exist or has the wrong type."""

    KIND = ERROR_NOT_FOUND


class Exited(WeftError):
    """The guest called ``proc_exit`` during :meth:`weft.Instance.call`;
    ``exit_code`` holds the code. (``run()`` returns exit codes instead.)"""

    KIND = ERROR_EXITED

    @property
    def exit_code(self) -> Optional[int]:
        """The guest's exit code."""
        return self._exit_code


class HostError(WeftError):
    """An error returned by a host function."""

    KIND = ERROR_HOST


class Deadlock(WeftError):
    """Every live thread of the program was parked in an untimed
    ``memory.atomic.wait``: the run ended at once. The message starts with
    ``deadlock:`` and holds the thread dump (every thread with its backtrace).
    Turn detection off with ``Config(deadlock_detection=False)``."""

    KIND = ERROR_DEADLOCK


_BY_KIND: Dict[int, Type[WeftError]] = {
    cls.KIND: cls
    for cls in (
        InternalError,
        NullArgumentError,
        InvalidArgumentError,
        IoError,
        CompileError,
        LinkError,
        InstantiateError,
        Trap,
        Ended,
        Interrupted,
        TimedOut,
        StateError,
        NotFoundError,
        Exited,
        HostError,
        Deadlock,
    )
}


def error_class(kind: int) -> Type[WeftError]:
    """The exception class for a ``WEFT_ERROR_*`` kind (:class:`WeftError` if unknown)."""
    return _BY_KIND.get(kind, WeftError)
