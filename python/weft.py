"""A small ctypes binding for weft's C API (include/weft.h).

    import weft
    lib = weft.load()                      # $WEFT_LIBRARY or libweft.so.0
    code, out, err = weft.run_file(lib, "program.wasm", args=["program"])

Covers engines, modules, WASI configs with captured output, running, and
errors; extend it the same way for the rest of the header.
"""
import ctypes
import ctypes.util
import os

ERROR_TRAP = 8
ERROR_INTERRUPTED = 10
ERROR_TIMED_OUT = 11
STDIO_CAPTURE = 3


class WeftError(Exception):
    """A weft_error_t: `kind` is a WEFT_ERROR_* value."""

    def __init__(self, kind, message):
        super().__init__(f"weft error {kind}: {message}")
        self.kind = kind
        self.message = message


def load(path=None):
    """Loads the shared library and declares the functions used here."""
    path = path or os.environ.get("WEFT_LIBRARY") or ctypes.util.find_library("weft") or "libweft.so.0"
    lib = ctypes.CDLL(path)
    p = ctypes.c_void_p
    sig = {
        "weft_version": (ctypes.c_char_p, []),
        "weft_error_kind": (ctypes.c_uint32, [p]),
        "weft_error_message": (ctypes.c_char_p, [p]),
        "weft_error_delete": (None, [p]),
        "weft_config_new": (p, []),
        "weft_config_delete": (None, [p]),
        "weft_config_set_timeout_ms": (p, [p, ctypes.c_uint64]),
        "weft_engine_new": (p, [p, ctypes.POINTER(p)]),
        "weft_engine_delete": (None, [p]),
        "weft_module_new": (p, [p, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(p)]),
        "weft_module_delete": (None, [p]),
        "weft_wasi_config_new": (p, []),
        "weft_wasi_config_delete": (None, [p]),
        "weft_wasi_config_push_arg": (p, [p, ctypes.c_char_p, ctypes.c_size_t]),
        "weft_wasi_config_set_stdio": (p, [p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]),
        "weft_instance_new": (p, [p, p, p, ctypes.POINTER(p)]),
        "weft_instance_delete": (None, [p]),
        "weft_instance_run": (p, [p, ctypes.POINTER(ctypes.c_int32)]),
        "weft_instance_stdout": (p, [p, ctypes.POINTER(p), ctypes.POINTER(ctypes.c_size_t)]),
        "weft_instance_stderr": (p, [p, ctypes.POINTER(p), ctypes.POINTER(ctypes.c_size_t)]),
        "weft_bytes_free": (None, [p, ctypes.c_size_t]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def check(lib, err):
    """Raises WeftError for a non-NULL weft_error_t *, freeing it."""
    if err:
        kind = lib.weft_error_kind(err)
        message = lib.weft_error_message(err).decode("utf-8", "replace")
        lib.weft_error_delete(err)
        raise WeftError(kind, message)


def _captured(lib, getter, inst):
    data, size = ctypes.c_void_p(), ctypes.c_size_t()
    check(lib, getter(inst, ctypes.byref(data), ctypes.byref(size)))
    try:
        return ctypes.string_at(data, size.value) if size.value else b""
    finally:
        lib.weft_bytes_free(data, size)


def run_bytes(lib, wasm, args=(), timeout_ms=0):
    """Runs a module (binary or WAT bytes); returns (exit code, stdout, stderr)."""
    config = lib.weft_config_new()
    wasi = lib.weft_wasi_config_new()
    engine, module, inst = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    try:
        check(lib, lib.weft_config_set_timeout_ms(config, timeout_ms))
        check(lib, lib.weft_engine_new(config, ctypes.byref(engine)))
        check(lib, lib.weft_module_new(engine, wasm, len(wasm), ctypes.byref(module)))
        for a in args:
            b = a.encode()
            check(lib, lib.weft_wasi_config_push_arg(wasi, b, len(b)))
        for fd in (1, 2):
            check(lib, lib.weft_wasi_config_set_stdio(wasi, fd, STDIO_CAPTURE, None, 0))
        check(lib, lib.weft_instance_new(module, wasi, None, ctypes.byref(inst)))
        code = ctypes.c_int32(-1)
        check(lib, lib.weft_instance_run(inst, ctypes.byref(code)))
        return (code.value, _captured(lib, lib.weft_instance_stdout, inst),
                _captured(lib, lib.weft_instance_stderr, inst))
    finally:
        lib.weft_instance_delete(inst)
        lib.weft_module_delete(module)
        lib.weft_engine_delete(engine)
        lib.weft_wasi_config_delete(wasi)
        lib.weft_config_delete(config)


def run_file(lib, path, args=(), timeout_ms=0):
    with open(path, "rb") as f:
        return run_bytes(lib, f.read(), args, timeout_ms)
