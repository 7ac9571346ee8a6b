"""Compiled WebAssembly modules."""

from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING, Dict, Optional, Union

from . import _ffi
from ._ffi import check, lib
from ._handle import Handle
from ._text import StrPath, encode_str, fs_path, is_utf8
from .engine import Engine
from .values import FuncType, ValType

if TYPE_CHECKING:
    from .host import HostFuncs
    from .instance import Instance
    from .wasi import WasiConfig

Bytes = Union[bytes, bytearray, memoryview]


def _engine_ptr_check(engine: object) -> Engine:
    if not isinstance(engine, Engine):
        raise TypeError(f"engine must be a weft.Engine, not {type(engine).__name__}")
    return engine


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes, bytearray or memoryview, not {type(data).__name__}")


class Module(Handle):
    """A compiled module, ready to instantiate any number of times.

    ``Module(engine, wasm)`` compiles binary WebAssembly (``bytes``-like) or WAT
    text (``str``). Bytes that are neither raise :class:`weft.CompileError`;
    imports weft can never satisfy raise :class:`weft.LinkError`. Modules are
    safe to share between threads.
    """

    def __init__(self, engine: Engine, wasm: Union[Bytes, str]) -> None:
        _engine_ptr_check(engine)
        data = encode_str(wasm, "WAT text") if isinstance(wasm, str) else _as_bytes(wasm, "wasm")
        out = _ffi.c_ptr()
        with engine._use() as eptr:
            check(lib.weft_module_new(eptr, data, len(data), out))
        super().__init__(out.value or 0, lib.weft_module_delete)
        self._exports: Dict[str, FuncType] = {}

    @classmethod
    def _adopt(cls, ptr: int) -> "Module":
        module = cls.__new__(cls)
        Handle.__init__(module, ptr, lib.weft_module_delete)
        module._exports = {}
        return module

    @classmethod
    def from_file(cls, engine: Engine, path: StrPath) -> "Module":
        """Reads and compiles a ``.wasm`` or ``.wat`` file.

        A missing or unreadable file raises :class:`weft.IoError` (an ``OSError``).
        Paths that are not UTF-8 work too (Python reads those files itself).
        """
        _engine_ptr_check(engine)
        raw = fs_path(path, "path")
        if not is_utf8(raw):
            try:
                with open(raw, "rb") as f:
                    data = f.read()
            except OSError as e:
                from .errors import IoError

                raise IoError(f"cannot read {os.fsdecode(raw)!r}: {e.strerror}") from e
            return cls(engine, data)
        out = _ffi.c_ptr()
        with engine._use() as eptr:
            check(lib.weft_module_new_file(eptr, raw, len(raw), out))
        return cls._adopt(out.value or 0)

    @classmethod
    def deserialize(cls, engine: Engine, data: Bytes) -> "Module":
        """Loads :meth:`serialize`'s output without compiling.

        **Never deserialize untrusted bytes**: they are run as native code.
        Bytes that are not a serialized module of this Wasmtime version and
        engine configuration raise :class:`weft.CompileError`.
        """
        _engine_ptr_check(engine)
        raw = _as_bytes(data, "data")
        out = _ffi.c_ptr()
        with engine._use() as eptr:
            check(lib.weft_module_deserialize(eptr, raw, len(raw), out))
        return cls._adopt(out.value or 0)

    def serialize(self) -> bytes:
        """The compiled machine code, for :meth:`deserialize`."""
        data, length = _ffi.c_ptr(), ctypes.c_size_t()
        with self._use() as ptr:
            check(lib.weft_module_serialize(ptr, data, length))
        return _ffi.take_bytes(data, length)

    def clone(self) -> "Module":
        """A new reference to the same compiled module, closed independently."""
        with self._use() as ptr:
            return Module._adopt(lib.weft_module_clone(ptr))

    @property
    def uses_threads(self) -> bool:
        """Whether the module imports ``wasi`` ``thread-spawn``."""
        with self._use() as ptr:
            return bool(lib.weft_module_uses_threads(ptr))

    def export_func(self, name: str) -> FuncType:
        """The parameter and result types of exported function ``name``.

        Raises :class:`weft.NotFoundError` (a ``LookupError``) if there is none.
        """
        cached = self._exports.get(name) if isinstance(name, str) else None
        if cached is not None:
            return cached
        raw = encode_str(name, "name")
        nparams, nresults = ctypes.c_size_t(), ctypes.c_size_t()
        with self._use() as ptr:
            check(lib.weft_module_export_func(ptr, raw, len(raw), None, 0, nparams, None, 0, nresults))
            params = (ctypes.c_uint32 * max(nparams.value, 1))()
            results = (ctypes.c_uint32 * max(nresults.value, 1))()
            check(
                lib.weft_module_export_func(
                    ptr, raw, len(raw), params, nparams.value, nparams, results, nresults.value, nresults
                )
            )
        ft = FuncType(
            tuple(ValType(params[i]) for i in range(nparams.value)),
            tuple(ValType(results[i]) for i in range(nresults.value)),
        )
        self._exports[name] = ft
        return ft

    def instantiate(
        self, wasi: Optional[WasiConfig] = None, host: Optional[HostFuncs] = None
    ) -> Instance:
        """Same as ``weft.Instance(self, wasi, host)``."""
        from .instance import Instance

        return Instance(self, wasi, host)

