"""weft: run threaded WebAssembly guests (wasi-threads) from Python.

wasi-sdk ``wasm32-wasip1-threads -pthread`` programs and Rust
``wasm32-wasip1-threads`` programs run on Wasmtime 48 through libweft's C API::

    import weft
    result = weft.run("prog.wasm", ["arg"], dirs=["."], capture_output=True)
    print(result.exit_code, result.stdout.decode())

The pieces: :class:`Config` and :class:`Engine` (limits), :class:`Module`
(compiled code), :class:`WasiConfig` (what the guest sees), :class:`HostFuncs`
(Python functions the guest imports), :class:`Instance` (one run). Errors are
exceptions, one class per kind, all :class:`WeftError`; a guest's exit code is
a return value, not an error.

The library is the one bundled in the package, unless ``$WEFT_LIBRARY`` names
another ``libweft.so``.
"""

from __future__ import annotations

import atexit

from . import _ffi
from .engine import Config, Engine, wasm_feature_names
from .errors import (
    ClosedError,
    CompileError,
    Deadlock,
    Ended,
    Exited,
    HostError,
    InstantiateError,
    InternalError,
    Interrupted,
    InvalidArgumentError,
    IoError,
    LinkError,
    NotFoundError,
    NullArgumentError,
    StateError,
    TimedOut,
    Trap,
    WeftError,
)
from .host import Caller, HostFuncs, Memory
from .instance import Instance, Stats, completion_fd_available
from .log import disable_logging, enable_logging
from .module import Module
from .oneshot import Completed, run
from .threads import ThreadDump, ThreadInfo, ThreadState
from .values import F32, F64, I32, I64, FuncType, ValType
from .wasi import CAPTURE, INHERIT, NULL, Dir, Stdio, WasiConfig

__version__ = "0.1.0"

__all__ = [
    "CAPTURE", "F32", "F64", "I32", "I64", "INHERIT", "NULL",
    "Caller", "ClosedError", "CompileError", "Completed", "Config", "Deadlock", "Dir", "Ended", "Engine",
    "Exited", "FuncType", "HostError", "HostFuncs", "Instance", "InstantiateError",
    "InternalError", "Interrupted", "InvalidArgumentError", "IoError", "LinkError", "Memory",
    "Module", "NotFoundError", "NullArgumentError", "StateError", "Stats", "Stdio", "ThreadDump",
    "ThreadInfo", "ThreadState", "TimedOut", "Trap", "ValType", "WasiConfig", "WeftError",
    "completion_fd_available", "disable_logging", "enable_logging", "library_path",
    "host_parallelism", "library_version", "release_idle_threads", "run", "wasm_feature_names",
]


def library_version() -> str:
    """The loaded libweft's version, ``"MAJOR.MINOR.PATCH"``."""
    return (_ffi.lib.weft_version() or b"").decode("ascii", "replace")


def library_path() -> str:
    """The path the library was loaded from."""
    return _ffi.LIBRARY_PATH


def host_parallelism() -> int:
    """The number of CPUs this process may use (its CPU affinity, capped by its
    cgroup CPU quota; at least 1): what ``WasiConfig(parallelism="host")``
    tells a guest, before the thread limit."""
    return int(_ffi.lib.weft_host_parallelism())


def release_idle_threads() -> int:
    """Tells weft's parked idle OS threads to exit now; returns how many were told."""
    return int(_ffi.lib.weft_release_idle_threads())


def _at_exit() -> None:
    from . import host, instance

    disable_logging()
    instance.close_all()
    host.close_all()


atexit.register(_at_exit)
