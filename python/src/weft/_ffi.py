"""Loads libweft and declares the C functions of include/weft.h for ctypes.

Private: the rest of the package calls ``lib.weft_*`` through this module and
turns every ``weft_error_t *`` into an exception with :func:`check`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .errors import WeftError, error_class

#: The file name the wheel bundles next to this module.
BUNDLED_NAME = "libweft.dylib" if sys.platform == "darwin" else "libweft.so"

WAIT_FOREVER = 2**64 - 1

c_ptr = ctypes.c_void_p
c_ptr_p = ctypes.POINTER(ctypes.c_void_p)
c_size_p = ctypes.POINTER(ctypes.c_size_t)


class ValUnion(ctypes.Union):
    """``weft_val_union_t``."""

    _fields_ = [
        ("i32", ctypes.c_int32),
        ("i64", ctypes.c_int64),
        ("f32", ctypes.c_float),
        ("f64", ctypes.c_double),
    ]


class Val(ctypes.Structure):
    """``weft_val_t``."""

    _fields_ = [("kind", ctypes.c_uint32), ("of", ValUnion)]


Val_p = ctypes.POINTER(Val)

#: ``weft_host_callback_t``. The return value is a ``weft_error_t *``.
HOST_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, Val_p, ctypes.c_size_t, Val_p, ctypes.c_size_t
)
#: ``weft_finalizer_t``.
FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
#: ``weft_log_callback_t``.
LOG_CALLBACK = ctypes.CFUNCTYPE(
    None,
    ctypes.c_void_p,
    ctypes.c_uint32,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
)

u32, u64, i32, size = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32, ctypes.c_size_t
cstr = ctypes.c_char_p
u32_p = ctypes.POINTER(ctypes.c_uint32)
u64_p = ctypes.POINTER(ctypes.c_uint64)
i32_p = ctypes.POINTER(ctypes.c_int32)
bool_p = ctypes.POINTER(ctypes.c_bool)

# name: (restype, argtypes). Every function of include/weft.h.
SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    "weft_version": (cstr, []),
    "weft_config_new": (c_ptr, []),
    "weft_config_delete": (None, [c_ptr]),
    "weft_config_set_max_threads": (c_ptr, [c_ptr, u32]),
    "weft_config_set_wasm_stack_size": (c_ptr, [c_ptr, size]),
    "weft_config_set_os_stack_size": (c_ptr, [c_ptr, size]),
    "weft_config_set_max_memory": (c_ptr, [c_ptr, u64]),
    "weft_config_set_timeout_ms": (c_ptr, [c_ptr, u64]),
    "weft_config_set_cache_dir": (c_ptr, [c_ptr, cstr, size]),
    "weft_config_set_deadlock_detection": (c_ptr, [c_ptr, ctypes.c_bool]),
    "weft_config_set_interrupt_wasm": (c_ptr, [c_ptr, ctypes.c_bool]),
    "weft_config_set_precise_dumps": (c_ptr, [c_ptr, ctypes.c_bool]),
    "weft_config_set_huge_pages": (c_ptr, [c_ptr, ctypes.c_bool]),
    "weft_config_set_detect_races": (c_ptr, [c_ptr, ctypes.c_bool]),
    "weft_config_set_profiler": (c_ptr, [c_ptr, u32]),
    "weft_config_set_wasm_feature": (c_ptr, [c_ptr, cstr, size, ctypes.c_bool]),
    "weft_config_set_wasm_features": (c_ptr, [c_ptr, cstr, size]),
    "weft_config_wasm_feature": (c_ptr, [c_ptr, cstr, size, bool_p]),
    "weft_wasm_feature_names": (cstr, []),
    "weft_engine_new": (c_ptr, [c_ptr, c_ptr_p]),
    "weft_engine_clone": (c_ptr, [c_ptr]),
    "weft_engine_delete": (None, [c_ptr]),
    "weft_error_new": (c_ptr, [cstr, size]),
    "weft_error_delete": (None, [c_ptr]),
    "weft_error_kind": (u32, [c_ptr]),
    "weft_error_message": (cstr, [c_ptr]),
    "weft_error_trap_tid": (ctypes.c_bool, [c_ptr, u32_p]),
    "weft_error_backtrace": (cstr, [c_ptr]),
    "weft_error_exit_code": (ctypes.c_bool, [c_ptr, i32_p]),
    "weft_host_funcs_new": (c_ptr, []),
    "weft_host_funcs_delete": (None, [c_ptr]),
    "weft_host_funcs_define": (
        c_ptr,
        [c_ptr, cstr, size, cstr, size, u32_p, size, u32_p, size, HOST_CALLBACK, c_ptr, FINALIZER],
    ),
    "weft_caller_tid": (u32, [c_ptr]),
    "weft_caller_memory_data": (c_ptr, [c_ptr]),
    "weft_caller_memory_size": (size, [c_ptr]),
    "weft_release_idle_threads": (size, []),
    "weft_instance_new": (c_ptr, [c_ptr, c_ptr, c_ptr, c_ptr_p]),
    "weft_instance_delete": (None, [c_ptr]),
    "weft_instance_run": (c_ptr, [c_ptr, i32_p]),
    "weft_instance_start": (c_ptr, [c_ptr]),
    "weft_instance_wait": (c_ptr, [c_ptr, u64, bool_p, i32_p]),
    "weft_instance_outcome": (c_ptr, [c_ptr, bool_p, i32_p]),
    "weft_instance_interrupt": (c_ptr, [c_ptr]),
    "weft_instance_stats": (c_ptr, [c_ptr, u64_p, u32_p, u32_p]),
    "weft_instance_initialize": (c_ptr, [c_ptr]),
    "weft_instance_call": (c_ptr, [c_ptr, cstr, size, Val_p, size, Val_p, size]),
    "weft_instance_stdout": (c_ptr, [c_ptr, c_ptr_p, c_size_p]),
    "weft_instance_stderr": (c_ptr, [c_ptr, c_ptr_p, c_size_p]),
    "weft_bytes_free": (None, [c_ptr, size]),
    "weft_instance_race_count": (size, [c_ptr]),
    "weft_instance_race_shadow_bytes": (size, [c_ptr]),
    "weft_instance_race_report": (c_ptr, [c_ptr, size, c_ptr_p, c_size_p]),
    "weft_instance_threads": (c_ptr, [c_ptr, c_ptr_p]),
    "weft_instance_dump": (c_ptr, [c_ptr, c_ptr_p]),
    "weft_thread_list_delete": (None, [c_ptr]),
    "weft_thread_list_len": (size, [c_ptr]),
    "weft_thread_list_tid": (u32, [c_ptr, size]),
    "weft_thread_list_os_tid": (ctypes.c_int64, [c_ptr, size]),
    "weft_thread_list_os_name": (cstr, [c_ptr, size]),
    "weft_thread_list_state": (u32, [c_ptr, size]),
    "weft_thread_list_call_name": (cstr, [c_ptr, size]),
    "weft_thread_list_wait": (ctypes.c_bool, [c_ptr, size, u64_p, bool_p]),
    "weft_thread_list_cpu_time_ns": (u64, [c_ptr, size]),
    "weft_thread_list_state_time_ns": (u64, [c_ptr, size]),
    "weft_thread_list_backtrace": (cstr, [c_ptr, size]),
    "weft_thread_list_text": (cstr, [c_ptr]),
    "weft_set_log_callback": (None, [LOG_CALLBACK, c_ptr, u32]),
    "weft_module_new": (c_ptr, [c_ptr, cstr, size, c_ptr_p]),
    "weft_module_new_file": (c_ptr, [c_ptr, cstr, size, c_ptr_p]),
    "weft_module_clone": (c_ptr, [c_ptr]),
    "weft_module_delete": (None, [c_ptr]),
    "weft_module_export_func": (c_ptr, [c_ptr, cstr, size, u32_p, size, c_size_p, u32_p, size, c_size_p]),
    "weft_module_uses_threads": (ctypes.c_bool, [c_ptr]),
    "weft_module_serialize": (c_ptr, [c_ptr, c_ptr_p, c_size_p]),
    "weft_module_deserialize": (c_ptr, [c_ptr, cstr, size, c_ptr_p]),
    "weft_wasi_config_new": (c_ptr, []),
    "weft_wasi_config_delete": (None, [c_ptr]),
    "weft_wasi_config_push_arg": (c_ptr, [c_ptr, cstr, size]),
    "weft_wasi_config_push_env": (c_ptr, [c_ptr, cstr, size, cstr, size]),
    "weft_wasi_config_inherit_env": (c_ptr, [c_ptr]),
    "weft_wasi_config_set_stdio": (c_ptr, [c_ptr, u32, u32, cstr, size]),
    "weft_wasi_config_preopen_dir": (c_ptr, [c_ptr, cstr, size, cstr, size, u32]),
    "weft_wasi_config_preopen_tcp_listener": (c_ptr, [c_ptr, cstr, size]),
    "weft_wasi_config_set_stdin_bytes": (c_ptr, [c_ptr, cstr, size]),
    "weft_wasi_config_set_stdio_fd": (c_ptr, [c_ptr, u32, i32]),
    "weft_wasi_config_set_parallelism": (c_ptr, [c_ptr, u32, u32]),
    "weft_host_parallelism": (u32, []),
}

# Functions newer libraries add; looked up with hasattr, absent is fine.
OPTIONAL_SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    "weft_instance_completion_fd": (c_ptr, [c_ptr, ctypes.POINTER(ctypes.c_int)]),
    "weft_instance_memory_data": (c_ptr, [c_ptr]),
    "weft_instance_memory_size": (size, [c_ptr]),
}


def library_path() -> str:
    """Where the library is loaded from: ``$WEFT_LIBRARY``, else the copy
    bundled in the package, else the system's ``libweft``."""
    env = os.environ.get("WEFT_LIBRARY")
    if env:
        return env
    bundled = Path(__file__).with_name(BUNDLED_NAME)
    if bundled.exists():
        return str(bundled)
    found = ctypes.util.find_library("weft")
    return found or "libweft.so.0"


def _load() -> ctypes.CDLL:
    path = library_path()
    try:
        cdll = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"weft: cannot load the weft library from {path!r} ({e}); "
            "install the package with `pip install ./python` or set WEFT_LIBRARY "
            "to the path of libweft.so"
        ) from e
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError as e:
            raise ImportError(f"weft: {path!r} has no function {name}: is it libweft?") from e
        fn.restype = restype
        fn.argtypes = argtypes
    for name, (restype, argtypes) in OPTIONAL_SIGNATURES.items():
        if hasattr(cdll, name):
            fn = getattr(cdll, name)
            fn.restype = restype
            fn.argtypes = argtypes
    return cdll


lib = _load()
LIBRARY_PATH = library_path()


def has(name: str) -> bool:
    """Whether the loaded library exports ``name`` (for optional functions)."""
    return hasattr(lib, name)


def take_error(err: int) -> WeftError:
    """Converts an owned ``weft_error_t *`` into an exception and frees it."""
    try:
        kind = int(lib.weft_error_kind(err))
        message = (lib.weft_error_message(err) or b"").decode("utf-8", "replace")
        tid_out = ctypes.c_uint32()
        tid: Optional[int] = int(tid_out.value) if lib.weft_error_trap_tid(err, ctypes.byref(tid_out)) else None
        backtrace = (lib.weft_error_backtrace(err) or b"").decode("utf-8", "replace")
        code_out = ctypes.c_int32()
        code: Optional[int] = (
            int(code_out.value) if lib.weft_error_exit_code(err, ctypes.byref(code_out)) else None
        )
    finally:
        lib.weft_error_delete(err)
    return error_class(kind)(message, kind=kind, tid=tid, backtrace=backtrace, exit_code=code)


def check(err: Optional[int]) -> None:
    """Raises the exception for a non-NULL ``weft_error_t *`` (and frees it)."""
    if err:
        raise take_error(err)


def take_bytes(data: ctypes.c_void_p, length: ctypes.c_size_t) -> bytes:
    """Copies library-owned bytes into a ``bytes`` and frees them."""
    try:
        return ctypes.string_at(data.value, length.value) if data.value and length.value else b""
    finally:
        lib.weft_bytes_free(data, length)
