"""The base of every object that owns a C handle.

A handle is freed by ``close()`` or at the end of a ``with`` block; ``__del__``
is only a safety net. Using a closed handle raises :class:`weft.ClosedError`.
``close()`` waits until calls in progress on other threads have returned, so
a handle is never freed under a running call.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Callable, Optional, Type, TypeVar

from .errors import ClosedError, StateError

H = TypeVar("H", bound="Handle")

# Set while the current thread runs a Python host function.
_in_callback = threading.local()


def in_host_callback() -> bool:
    """Whether the calling thread is inside a host function right now."""
    return bool(getattr(_in_callback, "depth", 0))


class _Use:
    __slots__ = ("_handle",)

    def __init__(self, handle: "Handle") -> None:
        self._handle = handle

    def __enter__(self) -> int:
        h = self._handle
        with h._cond:
            if h._ptr is None:
                raise ClosedError(f"this {type(h).__name__} is closed")
            h._users += 1
            return h._ptr

    def __exit__(self, *exc: Any) -> None:
        h = self._handle
        with h._cond:
            h._users -= 1
            if h._users == 0:
                h._cond.notify_all()


class Handle:
    """Owns one C handle, freed exactly once."""

    _delete: Callable[[int], None]

    def __init__(self, ptr: int, delete: Callable[[int], None]) -> None:
        if not ptr:
            raise MemoryError(f"weft could not create a {type(self).__name__}")
        self._ptr: Optional[int] = ptr
        self._delete = delete
        self._users = 0
        self._cond = threading.Condition(threading.Lock())

    def _use(self) -> _Use:
        """``with self._use() as ptr:`` borrows the pointer for one call."""
        return _Use(self)

    def _before_close(self) -> None:
        """Hook run before waiting for calls in progress (e.g. interrupt)."""

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._ptr is None

    def close(self) -> None:
        """Frees the handle. Idempotent; waits for calls in progress."""
        with self._cond:
            if self._ptr is None:
                return
            if self._users and in_host_callback():
                raise StateError(
                    f"cannot close this {type(self).__name__} from a host function while it is in use"
                )
        self._before_close()
        with self._cond:
            while self._users:
                self._cond.wait()
            ptr, self._ptr = self._ptr, None
        if ptr is not None:
            self._delete(ptr)

    def __enter__(self: H) -> H:
        if self._ptr is None:
            raise ClosedError(f"this {type(self).__name__} is closed")
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
        ptr = getattr(self, "_ptr", None)
        if ptr is not None:
            self._ptr = None
            try:
                self._delete(ptr)
            except Exception:  # interpreter shutdown: nothing left to report to
                pass

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else hex(self._ptr)
        return f"<weft.{type(self).__name__} {state}>"
