"""One run of a module: :class:`Instance`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import weakref
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple, Union

from . import _ffi
from ._ffi import check, lib
from ._handle import Handle
from ._text import encode_str
from .engine import timeout_to_ms
from .errors import StateError, WeftError
from .host import HostFuncs, Memory
from .module import Module
from .threads import ThreadDump, ThreadInfo, take_list
from .values import Number, load, store_all
from .wasi import WasiConfig

# Slice length of blocking waits on the main thread, so Ctrl-C is seen.
_SLICE_MS = 100

_live: "weakref.WeakSet[Instance]" = weakref.WeakSet()


class Stats(NamedTuple):
    """Thread statistics (the main thread is not counted)."""

    spawned: int
    peak_live: int
    live: int


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Instance(Handle):
    """One run of a module: its shared memory, WASI context and threads.

    ``Instance(module, wasi=None, host=None)`` instantiates the main thread's
    instance (``wasi`` and ``host`` are copied; they may be closed right
    after). Then either run it as a command — :meth:`run`, or :meth:`start`
    and :meth:`wait` / :meth:`wait_async` — or use it as a reactor:
    :meth:`initialize` and :meth:`call`.

    :meth:`interrupt`, :attr:`stats`, :attr:`stdout` and :attr:`stderr` may be
    called from any thread while the program runs. ``close()`` interrupts a
    program still running and frees the instance.
    """

    def __init__(
        self, module: Module, wasi: Optional[WasiConfig] = None, host: Optional[HostFuncs] = None
    ) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"module must be a weft.Module, not {type(module).__name__}")
        if wasi is not None and not isinstance(wasi, WasiConfig):
            raise TypeError(f"wasi must be a weft.WasiConfig, not {type(wasi).__name__}")
        if host is not None and not isinstance(host, HostFuncs):
            raise TypeError(f"host must be a weft.HostFuncs, not {type(host).__name__}")
        out = _ffi.c_ptr()
        with contextlib.ExitStack() as borrowed:
            mptr = borrowed.enter_context(module._use())
            wptr = borrowed.enter_context(wasi._use()) if wasi is not None else None
            hptr = borrowed.enter_context(host._use()) if host is not None else None
            check(lib.weft_instance_new(mptr, wptr, hptr, out))
            # Our own reference: the caller may close `module` right away.
            own = module.clone()

        def delete(ptr: int) -> None:
            lib.weft_instance_delete(ptr)
            own.close()

        super().__init__(out.value or 0, delete)
        #: The instance's module (a reference of its own, closed with the instance).
        self.module = own
        self._started = False
        self._waiters: List[Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"]] = []
        _live.add(self)

    # ---- commands -------------------------------------------------------

    def run(self) -> int:
        """Runs ``_start`` to the end and returns the exit code.

        ``proc_exit(n)`` in any thread, or ``_start`` returning (0), is not an
        error. Raises :class:`weft.Trap`, :class:`weft.Interrupted`,
        :class:`weft.TimedOut`, :class:`weft.Deadlock` (every thread parked in
        an untimed wait; the message holds the thread dump),
        :class:`weft.NotFoundError` (no ``_start``) or
        :class:`weft.StateError` (already started). On Python's main thread a
        ``KeyboardInterrupt`` interrupts the program and is re-raised.
        """
        if _on_main_thread():
            self.start()
            try:
                result = self.wait()
            except KeyboardInterrupt:
                self.interrupt()
                try:
                    self._wait_ms(_ffi.WAIT_FOREVER, interruptible=False)
                except WeftError:  # Interrupted, or whatever ended it first
                    pass
                raise
            assert result is not None
            return result
        code = ctypes.c_int32()
        with self._use() as ptr:
            self._started = True
            check(lib.weft_instance_run(ptr, code))
        return int(code.value)

    def start(self) -> None:
        """Starts ``_start`` on a new thread and returns at once; collect the
        outcome with :meth:`wait` or :meth:`wait_async`. A configured timeout
        counts from here."""
        with self._use() as ptr:
            check(lib.weft_instance_start(ptr))
            self._started = True

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Waits up to ``timeout`` seconds (``None``: until the end) for the
        program to end and returns its exit code, or ``None`` if it is still
        running. Raises the same errors as :meth:`run`; after the end it
        reports the same outcome again."""
        ms = _ffi.WAIT_FOREVER if timeout is None else timeout_to_ms(timeout)
        return self._wait_ms(ms, interruptible=True)

    def poll(self) -> Optional[int]:
        """``wait(0)``: the exit code if the program ended, else ``None``."""
        return self._wait_ms(0, interruptible=False)

    def outcome(self) -> Optional[int]:
        """The exit code as soon as the program's outcome is decided, or
        ``None`` while it runs; raises as :meth:`run` does for the other
        outcomes. Unlike :meth:`poll` it does not wait for the other threads
        to stop: they may still be running guest code on their way to their
        next stop check. For a host that ends its process with the program
        (``os._exit``); one that goes on calls :meth:`wait` first."""
        finished, code = ctypes.c_bool(), ctypes.c_int32()
        with self._use() as ptr:
            check(lib.weft_instance_outcome(ptr, finished, code))
        return int(code.value) if finished.value else None

    def _wait_ms(self, ms: int, interruptible: bool) -> Optional[int]:
        if not self._started:
            raise StateError("the program was not started: call start() (or run()) first")
        sliced = interruptible and _on_main_thread()
        while True:
            step = min(ms, _SLICE_MS) if sliced else ms
            finished, code = ctypes.c_bool(), ctypes.c_int32()
            with self._use() as ptr:
                check(lib.weft_instance_wait(ptr, step, finished, code))
            if finished.value:
                return int(code.value)
            if ms == _ffi.WAIT_FOREVER:
                continue
            ms -= step
            if ms <= 0:
                return None

    async def wait_async(self) -> int:
        """Awaits the end of a started program and returns its exit code
        (raising as :meth:`run` does).

        With a library that has ``weft_instance_completion_fd`` this watches
        that descriptor with ``loop.add_reader`` (no thread); otherwise a
        worker thread waits. Cancelling the await leaves the program running.
        """
        if not self._started:
            raise StateError("the program was not started: call start() first")
        if completion_fd_available():
            fd = self._completion_fd()
            loop = asyncio.get_running_loop()
            fut: "asyncio.Future[None]" = loop.create_future()

            def ready() -> None:
                if not fut.done():
                    fut.set_result(None)

            loop.add_reader(fd, ready)
            entry = (loop, fd, fut)
            self._waiters.append(entry)
            try:
                await fut
            finally:
                if entry in self._waiters:
                    self._waiters.remove(entry)
                    loop.remove_reader(fd)
            code = self.poll()
            if code is not None:
                return code
            # Decided, but the other threads are still unwinding (at most
            # about 250 ms): finish on a thread, not on the event loop.
        return await _wait_on_thread(self)

    def _completion_fd(self) -> int:
        fd = ctypes.c_int(-1)
        with self._use() as ptr:
            check(_ffi.lib.weft_instance_completion_fd(ptr, ctypes.byref(fd)))
        return int(fd.value)

    async def run_async(self) -> int:
        """:meth:`start`, then ``await`` :meth:`wait_async`."""
        self.start()
        return await self.wait_async()

    def interrupt(self) -> None:
        """Ends the program as :class:`weft.Interrupted` (unless it already
        ended). Callable from any thread."""
        with self._use() as ptr:
            check(lib.weft_instance_interrupt(ptr))

    # ---- observation ----------------------------------------------------

    @property
    def stats(self) -> Stats:
        """Threads spawned so far, most alive at once, alive now."""
        spawned, peak, live = ctypes.c_uint64(), ctypes.c_uint32(), ctypes.c_uint32()
        with self._use() as ptr:
            check(lib.weft_instance_stats(ptr, spawned, peak, live))
        return Stats(int(spawned.value), int(peak.value), int(live.value))

    def threads(self) -> List[ThreadInfo]:
        """A snapshot of every live guest thread, ordered by TID (main first):
        state, OS thread, CPU time, time in the state; no backtraces (see
        :meth:`dump`). Cheap, and callable from any thread while the program
        runs, also from a host function."""
        with self._use() as ptr:
            threads, _ = take_list(lib.weft_instance_threads, ptr)
        return threads

    def dump(self) -> ThreadDump:
        """A thread dump: :meth:`threads` plus each thread's wasm backtrace,
        and the text rendering (``.text``, like a JVM thread dump). Threads
        running wasm code have ``backtrace=None`` unless the engine's config
        has ``precise_dumps`` (then they answer at their next epoch check and
        continue); a thread that
        has not answered within 100 ms (e.g. in a long host function or a
        WASI sleep) has ``backtrace=None``. Once the program has ended (after
        :meth:`interrupt` or a timeout), every thread as the end stopped it,
        with the frames of its stop (running threads' too). Callable from any
        thread, but not from a host function of this program."""
        with self._use() as ptr:
            threads, text = take_list(lib.weft_instance_dump, ptr)
        return ThreadDump(tuple(threads), text)

    @property
    def races(self) -> List[str]:
        """The data races found so far, one text per race (address and size,
        the variable there when the module's DWARF names one, both accesses
        with thread, function and offset, the current access's backtrace);
        empty unless the engine's config has ``detect_races``. Callable from
        any thread."""
        out = []
        with self._use() as ptr:
            for i in range(lib.weft_instance_race_count(ptr)):
                data, length = _ffi.c_ptr(), ctypes.c_size_t()
                check(lib.weft_instance_race_report(ptr, i, data, length))
                out.append(_ffi.take_bytes(data, length).decode("utf-8", "replace"))
        return out

    @property
    def stdout(self) -> bytes:
        """Everything the guest wrote to stdout so far (with :data:`weft.CAPTURE`; else ``b""``)."""
        return self._captured(lib.weft_instance_stdout)

    @property
    def stderr(self) -> bytes:
        """Everything the guest wrote to stderr so far (with :data:`weft.CAPTURE`; else ``b""``)."""
        return self._captured(lib.weft_instance_stderr)

    def _captured(self, getter: Any) -> bytes:
        data, length = _ffi.c_ptr(), ctypes.c_size_t()
        with self._use() as ptr:
            check(getter(ptr, data, length))
        return _ffi.take_bytes(data, length)

    @property
    def memory(self) -> Memory:
        """A bounds-checked view of the program's linear memory, e.g. to fill
        in data before calling a reactor export with pointer arguments.

        Needs a library with ``weft_instance_memory_data`` (``NotImplementedError``
        otherwise). Guest threads may access the memory concurrently.
        """
        if not (_ffi.has("weft_instance_memory_data") and _ffi.has("weft_instance_memory_size")):
            raise NotImplementedError("the loaded libweft has no weft_instance_memory_data")
        return Memory(self._memory_span)

    @contextlib.contextmanager
    def _memory_span(self) -> Iterator[Tuple[int, int]]:
        with self._use() as ptr:
            base = _ffi.lib.weft_instance_memory_data(ptr)
            if not base:
                raise StateError("the program has no linear memory (or a call is running)")
            yield int(base), int(_ffi.lib.weft_instance_memory_size(ptr))

    # ---- reactors -------------------------------------------------------

    def initialize(self) -> None:
        """Initializes a reactor: calls its ``_initialize`` export if it has one."""
        with self._use() as ptr:
            check(lib.weft_instance_initialize(ptr))
            self._started = True

    def call(self, name: str, *args: Number) -> Union[None, Number, Tuple[Number, ...]]:
        """Calls exported function ``name`` with ``args`` on this thread.

        Returns ``None`` (no results), the result, or a tuple of results.
        Raises :class:`weft.NotFoundError`, ``TypeError``/``OverflowError`` for
        arguments that do not fit, :class:`weft.Trap`, and :class:`weft.Exited`
        if the guest calls ``proc_exit``. Threads it spawns keep running.
        """
        raw = encode_str(name, "name")
        ft = self.module.export_func(name)
        argv = store_all(ft.params, args, f"{name}()")
        results = (_ffi.Val * max(len(ft.results), 1))()
        with self._use() as ptr:
            self._started = True
            check(lib.weft_instance_call(ptr, raw, len(raw), argv, len(ft.params), results, len(ft.results)))
        values = tuple(load(results[i]) for i in range(len(ft.results)))
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    # ---- lifetime -------------------------------------------------------

    def _before_close(self) -> None:
        if self._ptr is None:
            return
        try:
            self.interrupt()
        except Exception:
            pass
        for loop, fd, fut in list(self._waiters):
            self._waiters.remove((loop, fd, fut))

            def cancel(loop: asyncio.AbstractEventLoop = loop, fd: int = fd, fut: Any = fut) -> None:
                loop.remove_reader(fd)
                if not fut.done():
                    fut.set_exception(StateError("the instance was closed while awaited"))

            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                cancel()
            else:
                loop.call_soon_threadsafe(cancel)


def completion_fd_available() -> bool:
    """Whether the loaded library has ``weft_instance_completion_fd``, which
    :meth:`Instance.wait_async` then uses instead of a worker thread."""
    return _ffi.has("weft_instance_completion_fd")


async def _wait_on_thread(instance: Instance) -> int:
    loop = asyncio.get_running_loop()
    fut: "asyncio.Future[int]" = loop.create_future()
    stop = threading.Event()

    def deliver(result: Any, error: Optional[BaseException]) -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)

    def worker() -> None:
        try:
            while not stop.is_set():
                code = instance._wait_ms(_SLICE_MS, interruptible=False)
                if code is not None:
                    loop.call_soon_threadsafe(deliver, code, None)
                    return
        except BaseException as e:  # delivered to the awaiting task
            try:
                loop.call_soon_threadsafe(deliver, None, e)
            except RuntimeError:  # the loop is closed
                pass

    threading.Thread(target=worker, name="weft-wait-async", daemon=True).start()
    try:
        return await fut
    finally:
        stop.set()


def close_all() -> None:
    """Interrupts and frees every live instance (run at interpreter exit, so no
    guest thread calls into Python after it is gone)."""
    for inst in list(_live):
        try:
            inst.close()
        except Exception:
            pass
