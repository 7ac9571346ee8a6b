"""Engine settings (:class:`Config`) and the compilation engine (:class:`Engine`)."""

from __future__ import annotations

import ctypes
import math
import os
from typing import List, Mapping, Optional, Union

from . import _ffi
from ._ffi import check, lib
from ._handle import Handle
from ._text import encode_path

PathLike = Union[str, "os.PathLike[str]"]

#: ``Config.profiler`` names and their ``WEFT_PROFILER_*`` numbers.
PROFILERS = {None: 0, "perfmap": 1, "jitdump": 2}


def timeout_to_ms(timeout: float, what: str = "timeout") -> int:
    """Seconds (int or float, >= 0) to whole milliseconds, rounding up."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(timeout).__name__}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError(f"{what} must be >= 0 seconds, got {timeout!r}")
    if math.isinf(timeout):
        return _ffi.WAIT_FOREVER
    return min(math.ceil(timeout * 1000), _ffi.WAIT_FOREVER - 1)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


class Config(Handle):
    """Engine settings: limits for every program run by engines made from it.

    Every argument is optional; ``None`` keeps weft's default (1024 threads,
    512 KiB wasm stack, 2 MiB OS stack, no memory cap, no timeout, no cache,
    deadlock detection on, no profiler)::

        config = weft.Config(max_threads=64, timeout=5.0)
        engine = weft.Engine(config)

    ``wasm_features`` switches WebAssembly proposals with ``wasmtime run -W``'s
    names and syntax, as a string (``"exceptions=n,gc=n"``) or a mapping
    (``{"exceptions": False}``); see :meth:`set_wasm_feature`.

    The settings are also writable attributes. Invalid values raise
    :class:`weft.InvalidArgumentError` (a ``ValueError``) when set.
    """

    def __init__(
        self,
        *,
        max_threads: Optional[int] = None,
        wasm_stack_size: Optional[int] = None,
        os_stack_size: Optional[int] = None,
        max_memory: Optional[int] = None,
        timeout: Optional[float] = None,
        cache_dir: Optional[PathLike] = None,
        deadlock_detection: Optional[bool] = None,
        profiler: Optional[str] = None,
        interrupt_wasm: Optional[bool] = None,
        precise_dumps: Optional[bool] = None,
        huge_pages: Optional[bool] = None,
        detect_races: Optional[bool] = None,
        wasm_features: Union[str, Mapping[str, bool], None] = None,
    ) -> None:
        super().__init__(lib.weft_config_new(), lib.weft_config_delete)
        self._max_threads: Optional[int] = None
        self._wasm_stack_size: Optional[int] = None
        self._os_stack_size: Optional[int] = None
        self._max_memory: Optional[int] = None
        self._timeout: Optional[float] = None
        self._cache_dir: Optional[PathLike] = None
        self._deadlock_detection = True
        self._interrupt_wasm = True
        self._precise_dumps = False
        self._huge_pages = True
        self._detect_races = False
        self._profiler: Optional[str] = None
        if max_threads is not None:
            self.max_threads = max_threads
        if wasm_stack_size is not None:
            self.wasm_stack_size = wasm_stack_size
        if os_stack_size is not None:
            self.os_stack_size = os_stack_size
        if max_memory is not None:
            self.max_memory = max_memory
        if timeout is not None:
            self.timeout = timeout
        if cache_dir is not None:
            self.cache_dir = cache_dir
        if deadlock_detection is not None:
            self.deadlock_detection = deadlock_detection
        if profiler is not None:
            self.profiler = profiler
        if interrupt_wasm is not None:
            self.interrupt_wasm = interrupt_wasm
        if precise_dumps is not None:
            self.precise_dumps = precise_dumps
        if huge_pages is not None:
            self.huge_pages = huge_pages
        if detect_races is not None:
            self.detect_races = detect_races
        if wasm_features is not None:
            self.set_wasm_features(wasm_features)

    @property
    def max_threads(self) -> Optional[int]:
        """Most guest threads (besides the main thread) alive at once per program."""
        return self._max_threads

    @max_threads.setter
    def max_threads(self, value: int) -> None:
        n = _int(value, "max_threads")
        if n > 0xFFFFFFFF:
            raise ValueError(f"max_threads is too large: {n}")
        with self._use() as ptr:
            check(lib.weft_config_set_max_threads(ptr, n))
        self._max_threads = n

    @property
    def wasm_stack_size(self) -> Optional[int]:
        """The wasm stack limit per guest thread, in bytes."""
        return self._wasm_stack_size

    @wasm_stack_size.setter
    def wasm_stack_size(self, value: int) -> None:
        n = _int(value, "wasm_stack_size")
        with self._use() as ptr:
            check(lib.weft_config_set_wasm_stack_size(ptr, n))
        self._wasm_stack_size = n

    @property
    def os_stack_size(self) -> Optional[int]:
        """The OS stack size of each guest thread, in bytes (at least 64 KiB)."""
        return self._os_stack_size

    @os_stack_size.setter
    def os_stack_size(self, value: int) -> None:
        n = _int(value, "os_stack_size")
        with self._use() as ptr:
            check(lib.weft_config_set_os_stack_size(ptr, n))
        self._os_stack_size = n

    @property
    def max_memory(self) -> Optional[int]:
        """Cap on each program's linear memory in bytes (0: none); ``memory.grow`` past it fails."""
        return self._max_memory

    @max_memory.setter
    def max_memory(self, value: int) -> None:
        n = _int(value, "max_memory")
        if n >= 2**64:
            raise ValueError(f"max_memory is too large: {n}")
        with self._use() as ptr:
            check(lib.weft_config_set_max_memory(ptr, n))
        self._max_memory = n

    @property
    def timeout(self) -> Optional[float]:
        """Wall-clock limit per run in seconds (``None``: none); the run then
        raises :class:`weft.TimedOut`."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: Optional[float]) -> None:
        ms = 0 if value is None else timeout_to_ms(value)
        if value is not None and ms == 0:
            raise ValueError("timeout must be > 0 seconds (None means no timeout)")
        if ms == _ffi.WAIT_FOREVER:
            ms = 0
        with self._use() as ptr:
            check(lib.weft_config_set_timeout_ms(ptr, ms))
        self._timeout = value

    @property
    def cache_dir(self) -> Optional[PathLike]:
        """A directory caching compiled modules across processes (``None``: off).
        Use one only the current user can write: cached files are native code."""
        return self._cache_dir

    @cache_dir.setter
    def cache_dir(self, value: Optional[PathLike]) -> None:
        raw = b"" if value is None else encode_path(value, "cache_dir")
        with self._use() as ptr:
            check(lib.weft_config_set_cache_dir(ptr, raw, len(raw)))
        self._cache_dir = value

    @property
    def deadlock_detection(self) -> bool:
        """Whether a command whose every live thread is parked in an untimed
        ``memory.atomic.wait`` ends at once with :class:`weft.Deadlock` (the
        default: ``True``). Timed waits, sleeps, blocking reads, host
        functions and reactors are never taken for a deadlock. Off, such a
        program hangs until its timeout or an interrupt."""
        return self._deadlock_detection

    @deadlock_detection.setter
    def deadlock_detection(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"deadlock_detection must be a bool, not {type(value).__name__}")
        with self._use() as ptr:
            check(lib.weft_config_set_deadlock_detection(ptr, value))
        self._deadlock_detection = value

    @property
    def detect_races(self) -> bool:
        """Whether programs run under weft's data race detector (default
        ``False``): plain and atomic accesses to the shared memory and the
        buffers of WASI calls are checked (happens-before), and each race
        found is listed by :attr:`weft.Instance.races` and logged. Programs
        run 10-45 times slower; the module cache keeps instrumented modules
        apart from the others. See the README, "Finding data races"."""
        return self._detect_races

    @detect_races.setter
    def detect_races(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"detect_races must be a bool, not {type(value).__name__}")
        with self._use() as ptr:
            check(lib.weft_config_set_detect_races(ptr, value))
        self._detect_races = value

    @property
    def interrupt_wasm(self) -> bool:
        """Whether compiled code checks for the end of the program in every
        loop and at the entry of every function that calls (the default:
        ``True``). Off, loops run a few per cent faster, but the end of the program (an exit or trap in
        another thread, a timeout, an interrupt) can no longer stop a thread
        running wasm: only for trusted guests."""
        return self._interrupt_wasm

    @interrupt_wasm.setter
    def interrupt_wasm(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"interrupt_wasm must be a bool, not {type(value).__name__}")
        with self._use() as ptr:
            check(lib.weft_config_set_interrupt_wasm(ptr, value))
        self._interrupt_wasm = value

    @property
    def precise_dumps(self) -> bool:
        """Whether thread dumps also give the backtraces of threads running
        wasm code (default ``False``: such threads are listed with their
        state and CPU time only). On, weft compiles Wasmtime's epoch checks
        instead of its own stop checks, and tight loops run 20-30 % slower."""
        return self._precise_dumps

    @precise_dumps.setter
    def precise_dumps(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"precise_dumps must be a bool, not {type(value).__name__}")
        with self._use() as ptr:
            check(lib.weft_config_set_precise_dumps(ptr, value))
        self._precise_dumps = value

    @property
    def huge_pages(self) -> bool:
        """Whether the program's shared memory is backed with transparent
        huge pages where the system allows (default ``True``): one page fault
        per 2 MiB instead of 512, and fewer TLB misses, for programs that work
        through large arrays; such a 2 MiB stretch is backed whole once any of
        it is touched. ``False`` keeps 4 KiB pages."""
        return self._huge_pages

    @huge_pages.setter
    def huge_pages(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"huge_pages must be a bool, not {type(value).__name__}")
        with self._use() as ptr:
            check(lib.weft_config_set_huge_pages(ptr, value))
        self._huge_pages = value

    @property
    def profiler(self) -> Optional[str]:
        """How ``perf`` sees compiled guest functions: ``"perfmap"`` (writes
        ``/tmp/perf-<pid>.map`` for ``perf report``), ``"jitdump"`` (a
        ``jit-<pid>.dump`` in the current directory for ``perf inject --jit``;
        a library built without its default cargo feature ``jitdump`` raises
        :class:`weft.InvalidArgumentError`)
        or ``None`` (the default)."""
        return self._profiler

    @profiler.setter
    def profiler(self, value: Optional[str]) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"profiler must be a str or None, not {type(value).__name__}")
        if value not in PROFILERS:
            raise ValueError(f"profiler must be 'perfmap', 'jitdump' or None, got {value!r}")
        with self._use() as ptr:
            check(lib.weft_config_set_profiler(ptr, PROFILERS[value]))
        self._profiler = value


    def set_wasm_feature(self, name: str, enabled: bool) -> None:
        """Switches one WebAssembly proposal on or off by its ``wasmtime run -W``
        name (``"exceptions"``, ``"gc"``, ``"simd"``, …; see
        :func:`wasm_feature_names`). The defaults are ``wasmtime run`` 48's,
        plus threads; ``"threads"`` and ``"shared-memory"`` cannot be switched
        off. A module that uses a switched-off proposal raises
        :class:`weft.CompileError` naming the switch. An unknown name raises
        :class:`weft.InvalidArgumentError` listing the known ones."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be a bool, not {type(enabled).__name__}")
        raw = name.encode("utf-8")
        with self._use() as ptr:
            check(lib.weft_config_set_wasm_feature(ptr, raw, len(raw), enabled))

    def set_wasm_features(self, features: Union[str, Mapping[str, bool]]) -> None:
        """Switches several proposals: a ``wasmtime run -W`` string such as
        ``"exceptions=n,gc=n"``, or a mapping ``{"exceptions": False}``.
        A string is applied all or nothing."""
        if isinstance(features, str):
            raw = features.encode("utf-8")
            with self._use() as ptr:
                check(lib.weft_config_set_wasm_features(ptr, raw, len(raw)))
            return
        if not isinstance(features, Mapping):
            raise TypeError(
                f"wasm_features must be a str or a mapping of str to bool, not {type(features).__name__}"
            )
        for name, enabled in features.items():
            self.set_wasm_feature(name, enabled)

    def wasm_feature(self, name: str) -> bool:
        """Whether the WebAssembly proposal ``name`` is on."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        raw = name.encode("utf-8")
        out = ctypes.c_bool(False)
        with self._use() as ptr:
            check(lib.weft_config_wasm_feature(ptr, raw, len(raw), ctypes.byref(out)))
        return out.value


def wasm_feature_names() -> List[str]:
    """The names :meth:`Config.set_wasm_feature` accepts (``wasmtime run -W``'s),
    in the order of the README's table, ending with ``"all-proposals"``."""
    return (lib.weft_wasm_feature_names() or b"").decode("ascii").split(",")


class Engine(Handle):
    """A compilation engine with its limits; modules compiled with it share them.

    ``Engine()`` uses the defaults; ``Engine(config)`` copies a :class:`Config`
    (which may be closed afterwards). Engines are safe to use from any thread.
    """

    def __init__(self, config: Optional[Config] = None) -> None:
        if config is not None and not isinstance(config, Config):
            raise TypeError(f"config must be a weft.Config, not {type(config).__name__}")
        out = _ffi.c_ptr()
        if config is None:
            check(lib.weft_engine_new(None, out))
        else:
            with config._use() as cptr:
                check(lib.weft_engine_new(cptr, out))
        super().__init__(out.value or 0, lib.weft_engine_delete)

    @classmethod
    def _adopt(cls, ptr: int) -> "Engine":
        engine = cls.__new__(cls)
        Handle.__init__(engine, ptr, lib.weft_engine_delete)
        return engine

    def clone(self) -> "Engine":
        """A new reference to the same engine, closed independently."""
        with self._use() as ptr:
            return Engine._adopt(lib.weft_engine_clone(ptr))
