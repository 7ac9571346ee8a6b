"""Host functions: Python callables that guests import, called from every guest thread."""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import threading
import traceback
import weakref
from typing import (
    Any, Callable, ContextManager, Dict, Iterable, Iterator, Optional, Sequence, Tuple, TypeVar, Union, overload,
)

from . import _ffi
from ._ffi import check, lib
from ._handle import Handle, _in_callback
from ._text import encode_str
from .errors import ClosedError
from .values import ValType, ValTypeLike, load, store, val_types

F = TypeVar("F", bound=Callable[..., Any])


class Memory:
    """A bounds-checked view of a guest's linear memory.

    From :attr:`Caller.memory` it is valid only during the host call that
    produced it; from :attr:`weft.Instance.memory` while the instance is open.
    Other guest threads may read and write the memory at the same time (it is
    the program's shared memory), so reads are copies. Accesses outside the
    memory raise ``IndexError``; use after the call returned (or the instance
    closed) raises :class:`weft.ClosedError`.
    """

    __slots__ = ("_span",)

    def __init__(self, span: Callable[[], ContextManager[Tuple[int, int]]]) -> None:
        self._span = span

    def _base(self) -> Tuple[int, int]:
        with self._span() as (base, size):
            return base, size

    def _range(self, offset: object, length: object) -> ContextManager[int]:
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError(f"offset must be an int, not {type(offset).__name__}")
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError(f"length must be an int, not {type(length).__name__}")
        return self._checked(offset, length)

    @contextlib.contextmanager
    def _checked(self, offset: int, length: int) -> Iterator[int]:
        with self._span() as (base, size):
            if offset < 0 or length < 0 or offset + length > size:
                raise IndexError(
                    f"memory access [{offset}, {offset}+{length}) outside the memory of {size} bytes"
                )
            yield base + offset

    def __len__(self) -> int:
        return self._base()[1]

    @property
    def size(self) -> int:
        """The memory's current size in bytes (it can grow while you look)."""
        return self._base()[1]

    def read(self, offset: int, length: int) -> bytes:
        """Copies ``length`` bytes starting at ``offset``."""
        with self._range(offset, length) as addr:
            return ctypes.string_at(addr, length) if length else b""

    def write(self, offset: int, data: Union[bytes, bytearray, memoryview]) -> None:
        """Copies ``data`` into the memory at ``offset``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
        raw = bytes(data)
        with self._range(offset, len(raw)) as addr:
            if raw:
                ctypes.memmove(addr, raw, len(raw))

    def read_str(self, offset: int, length: int, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Decodes ``length`` bytes at ``offset`` (UTF-8 by default)."""
        return self.read(offset, length).decode(encoding, errors)

    def read_cstr(self, offset: int, max_length: int = 1 << 20) -> bytes:
        """The NUL-terminated bytes at ``offset`` (without the NUL), at most ``max_length``."""
        size = self.size
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < size:
            raise IndexError(f"offset {offset!r} outside the memory of {size} bytes")
        n = min(max_length, size - offset)
        chunk = self.read(offset, n)
        end = chunk.find(b"\0")
        if end < 0:
            raise IndexError(f"no NUL byte within {n} bytes of offset {offset}")
        return chunk[:end]

    @overload
    def __getitem__(self, key: int) -> int: ...
    @overload
    def __getitem__(self, key: slice) -> bytes: ...
    def __getitem__(self, key: Union[int, slice]) -> Union[int, bytes]:
        if isinstance(key, slice):
            start, stop = self._slice(key)
            return self.read(start, stop - start)
        return self.read(key, 1)[0]

    def __setitem__(self, key: Union[int, slice], value: Any) -> None:
        if isinstance(key, slice):
            start, stop = self._slice(key)
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"memory[a:b] = … takes bytes, not {type(value).__name__}")
            if len(value) != stop - start:
                raise ValueError(f"memory[{start}:{stop}] takes {stop - start} bytes, got {len(value)}")
            self.write(start, value)
            return
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise ValueError(f"memory[i] = … takes an int in 0..255, not {value!r}")
        self.write(key, bytes([value]))

    def _slice(self, key: slice) -> Tuple[int, int]:
        if key.step not in (None, 1):
            raise ValueError("memory slices must have step 1")
        if key.start is None or key.stop is None:
            raise ValueError("memory slices need an explicit start and stop")
        start, stop = key.start, key.stop
        if not isinstance(start, int) or not isinstance(stop, int) or start < 0 or stop < start:
            raise IndexError(f"bad memory slice [{start}:{stop}]")
        return start, stop


class Caller:
    """The guest thread calling a host function; valid only during the call."""

    __slots__ = ("_ptr", "__weakref__")

    def __init__(self, ptr: int) -> None:
        self._ptr: Optional[int] = ptr

    def _live(self) -> int:
        if self._ptr is None:
            raise ClosedError("a weft.Caller is valid only during its host call")
        return self._ptr

    @contextlib.contextmanager
    def _span(self) -> Iterator[Tuple[int, int]]:
        ptr = self._live()
        base = lib.weft_caller_memory_data(ptr)
        if not base:
            raise ClosedError("the guest has no linear memory")
        yield int(base), int(lib.weft_caller_memory_size(ptr))

    @property
    def tid(self) -> int:
        """The calling thread's TID (0 = the main thread)."""
        return int(lib.weft_caller_tid(self._live()))

    @property
    def memory(self) -> Memory:
        """The guest's linear memory (bounds-checked)."""
        self._live()
        return Memory(self._span)


class _Entry:
    __slots__ = ("fn", "params", "results", "access_caller", "label")

    def __init__(
        self, fn: Callable[..., Any], params: Tuple[ValType, ...], results: Tuple[ValType, ...],
        access_caller: bool, label: str,
    ) -> None:
        self.fn, self.params, self.results = fn, params, results
        self.access_caller, self.label = access_caller, label


# env pointer -> definition; an entry leaves when weft finalizes its env.
_registry: Dict[int, _Entry] = {}
_keys = itertools.count(1)
_registry_lock = threading.Lock()


def _error(message: str) -> int:
    raw = message.encode("utf-8", "replace")
    return int(lib.weft_error_new(raw, len(raw)) or 0)


def _call(env: Optional[int], caller: Optional[int], args: Any, nargs: int, results: Any, nresults: int) -> int:
    entry = _registry.get(env or 0)
    if entry is None:
        return _error("weft: host function called after it was finalized")
    c = Caller(caller or 0)
    _in_callback.depth = getattr(_in_callback, "depth", 0) + 1
    try:
        values = [load(args[i]) for i in range(nargs)]
        out = entry.fn(c, *values) if entry.access_caller else entry.fn(*values)
        if nresults == 0:
            if out is not None:
                raise TypeError(f"{entry.label} declares no results but returned {type(out).__name__}")
        elif nresults == 1:
            store(entry.results[0], out, results[0], f"result of {entry.label}")
        else:
            if not isinstance(out, (tuple, list)) or len(out) != nresults:
                raise TypeError(f"{entry.label} must return a tuple of {nresults} values")
            for i in range(nresults):
                store(entry.results[i], out[i], results[i], f"result {i} of {entry.label}")
        return 0
    except BaseException:
        tb = traceback.format_exc()
        return _error(f"Python exception in host function {entry.label}:\n{tb.rstrip()}")
    finally:
        c._ptr = None
        _in_callback.depth -= 1


def _finalize(env: Optional[int]) -> None:
    with _registry_lock:
        _registry.pop(env or 0, None)


# One trampoline for every host function; kept alive for the life of the process.
_CALLBACK = _ffi.HOST_CALLBACK(_call)
_FINALIZER = _ffi.FINALIZER(_finalize)


class HostFuncs(Handle):
    """A set of host functions for :class:`weft.Instance`; every guest thread
    of every instance created with it can import them.

    **The functions are called concurrently from every guest thread** (each
    call takes the GIL). An exception traps the calling guest thread, ending
    the program with :class:`weft.Trap` whose message holds the Python
    traceback. ::

        host = weft.HostFuncs()

        @host.func("env", "add", params=["i32", "i32"], results=["i32"])
        def add(a, b):
            return a + b
    """

    def __init__(self) -> None:
        super().__init__(lib.weft_host_funcs_new(), lib.weft_host_funcs_delete)
        _live_sets.add(self)

    def define(
        self,
        module: str,
        name: str,
        params: Iterable[ValTypeLike],
        results: Iterable[ValTypeLike],
        fn: Callable[..., Any],
        *,
        access_caller: bool = False,
    ) -> None:
        """Defines import ``module``.``name`` with the given types as ``fn``.

        ``fn(*args)`` (or ``fn(caller, *args)`` with ``access_caller=True``,
        where ``caller`` is a :class:`Caller`) returns ``None`` for no results,
        a number for one, a tuple for several. Defining a name again replaces it.
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        rm, rn = encode_str(module, "module name"), encode_str(name, "function name")
        ps, rs = val_types(params, "params"), val_types(results, "results")
        pa = (ctypes.c_uint32 * max(len(ps), 1))(*ps)
        ra = (ctypes.c_uint32 * max(len(rs), 1))(*rs)
        entry = _Entry(fn, ps, rs, bool(access_caller), f"{module}.{name}")
        with _registry_lock:
            key = next(_keys)
            _registry[key] = entry
        try:
            with self._use() as ptr:
                check(
                    lib.weft_host_funcs_define(
                        ptr, rm, len(rm), rn, len(rn), pa, len(ps), ra, len(rs), _CALLBACK, key, _FINALIZER
                    )
                )
        except BaseException:
            with _registry_lock:  # on error weft does not finalize: env is ours
                _registry.pop(key, None)
            raise

    def func(
        self,
        module: str,
        name: str,
        *,
        params: Sequence[ValTypeLike] = (),
        results: Sequence[ValTypeLike] = (),
        access_caller: bool = False,
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`define`; returns the function unchanged."""

        def register(fn: F) -> F:
            self.define(module, name, params, results, fn, access_caller=access_caller)
            return fn

        return register


_live_sets: "weakref.WeakSet[HostFuncs]" = weakref.WeakSet()


def close_all() -> None:
    """Frees every live set (at interpreter exit, after the instances), so
    that no finalizer runs once Python is gone."""
    for funcs in list(_live_sets):
        try:
            funcs.close()
        except Exception:
            pass


def live_host_functions() -> int:
    """How many host function definitions weft still holds (for tests)."""
    return len(_registry)
