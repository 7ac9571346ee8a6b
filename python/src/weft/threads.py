"""Thread snapshots and dumps: :class:`ThreadState`, :class:`ThreadInfo`,
:class:`ThreadDump` (what :meth:`weft.Instance.threads` and
:meth:`weft.Instance.dump` return)."""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from . import _ffi
from ._ffi import check, lib


class ThreadState(enum.IntEnum):
    """What a guest thread is doing (``WEFT_THREAD_*``)."""

    #: Spawned; its ``wasi_thread_start`` has not begun yet.
    STARTING = 0
    #: Running wasm code.
    RUNNING = 1
    #: Inside a WASI function (:attr:`ThreadInfo.call_name` names it).
    WASI_CALL = 2
    #: Inside a host function (:attr:`ThreadInfo.call_name` is ``module.name``).
    HOST_CALL = 3
    #: Parked in ``memory.atomic.wait32/64`` (see :attr:`ThreadInfo.wait_address`).
    PARKED = 4
    #: Its wasm returned; it is letting go of the program.
    ENDING = 5
    #: The main thread when not running wasm (not started, or a reactor between calls).
    IDLE = 6


@dataclass(frozen=True)
class ThreadInfo:
    """One guest thread in a snapshot. Times are in seconds."""

    #: The TID (0 = the main thread).
    tid: int
    #: The kernel thread id (Linux ``gettid``), ``None`` when it has no OS thread.
    os_tid: Optional[int]
    #: The OS thread's name (``weft-main``, ``weft-thread-<tid>``, ...); ``""`` when idle.
    os_name: str
    state: ThreadState
    #: The WASI function (``WASI_CALL``) or host function ``module.name`` (``HOST_CALL``); else ``""``.
    call_name: str
    #: The address waited on (``PARKED``), else ``None``.
    wait_address: Optional[int]
    #: Whether that wait has a timeout (``PARKED``), else ``None``.
    wait_timed: Optional[bool]
    #: CPU time the thread has used.
    cpu_time: float
    #: How long it had been in :attr:`state` (a few milliseconds resolution).
    state_time: float
    #: The wasm backtrace, one frame per line (:meth:`weft.Instance.dump` only;
    #: ``None`` in :meth:`weft.Instance.threads`, for idle or ending threads and
    #: threads that did not answer in time; ``""``: no wasm frames).
    backtrace: Optional[str]


@dataclass(frozen=True)
class ThreadDump:
    """A thread dump: every thread with its backtrace, and the text rendering."""

    threads: Tuple[ThreadInfo, ...]
    #: Like a JVM thread dump: one paragraph per thread.
    text: str

    def __str__(self) -> str:
        return self.text


def _str(raw: Optional[bytes]) -> str:
    return (raw or b"").decode("utf-8", "replace")


def _entry(handle: int, i: int) -> ThreadInfo:
    address, timed = ctypes.c_uint64(), ctypes.c_bool()
    parked = bool(lib.weft_thread_list_wait(handle, i, ctypes.byref(address), ctypes.byref(timed)))
    os_tid = int(lib.weft_thread_list_os_tid(handle, i))
    raw_state = int(lib.weft_thread_list_state(handle, i))
    try:
        state = ThreadState(raw_state)
    except ValueError:  # a newer library's state: report it as running
        state = ThreadState.RUNNING
    backtrace = lib.weft_thread_list_backtrace(handle, i)
    return ThreadInfo(
        tid=int(lib.weft_thread_list_tid(handle, i)),
        os_tid=None if os_tid < 0 else os_tid,
        os_name=_str(lib.weft_thread_list_os_name(handle, i)),
        state=state,
        call_name=_str(lib.weft_thread_list_call_name(handle, i)),
        wait_address=int(address.value) if parked else None,
        wait_timed=bool(timed.value) if parked else None,
        cpu_time=int(lib.weft_thread_list_cpu_time_ns(handle, i)) / 1e9,
        state_time=int(lib.weft_thread_list_state_time_ns(handle, i)) / 1e9,
        backtrace=None if backtrace is None else _str(backtrace),
    )


def take_list(make: Callable[[Any, Any], Any], instance_ptr: int) -> Tuple[List[ThreadInfo], str]:
    """Calls ``weft_instance_threads``/``dump`` and reads, then frees, the list."""
    out = _ffi.c_ptr()
    check(make(instance_ptr, ctypes.byref(out)))
    handle: int = out.value or 0
    try:
        n = int(lib.weft_thread_list_len(handle))
        threads = [_entry(handle, i) for i in range(n)]
        return threads, _str(lib.weft_thread_list_text(handle))
    finally:
        lib.weft_thread_list_delete(handle)
