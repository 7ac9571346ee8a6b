"""WebAssembly value types and the conversion of Python numbers to ``weft_val_t``."""

from __future__ import annotations

import ctypes
import enum
from typing import Iterable, NamedTuple, Sequence, Tuple, Union

from . import _ffi


class ValType(enum.IntEnum):
    """A WebAssembly number type (the ``WEFT_I32`` … ``WEFT_F64`` tags)."""

    I32 = 0
    I64 = 1
    F32 = 2
    F64 = 3

    def __str__(self) -> str:
        return self.name.lower()


I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64

#: What a value type can be given as: ``weft.I32`` or ``"i32"``.
ValTypeLike = Union[ValType, str]
Number = Union[int, float]


def val_type(value: object) -> ValType:
    """``value`` as a :class:`ValType` (accepts ``"i32"``, ``"i64"``, ``"f32"``, ``"f64"``)."""
    if isinstance(value, ValType):
        return value
    if isinstance(value, str):
        try:
            return ValType[value.upper()]
        except KeyError:
            pass
        raise ValueError(f"unknown value type {value!r}: use 'i32', 'i64', 'f32' or 'f64'")
    raise TypeError(f"a value type must be weft.I32/I64/F32/F64 or a str, not {type(value).__name__}")


def val_types(values: Iterable[object], what: str) -> Tuple[ValType, ...]:
    """A sequence of value types."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of value types, not a single {type(values).__name__}")
    return tuple(val_type(v) for v in values)


class FuncType(NamedTuple):
    """An exported function's parameter and result types."""

    params: Tuple[ValType, ...]
    results: Tuple[ValType, ...]


_INT_BITS = {ValType.I32: 32, ValType.I64: 64}


def store(kind: ValType, value: object, out: _ffi.Val, what: str) -> None:
    """Writes Python ``value`` into ``out`` as ``kind``.

    Integers may be given signed or unsigned (``-1`` and ``0xFFFFFFFF`` are the
    same i32); anything out of range raises ``OverflowError``; floats for
    integer types raise ``TypeError``.
    """
    out.kind = int(kind)
    bits = _INT_BITS.get(kind)
    if bits is not None:
        if not isinstance(value, int):
            raise TypeError(f"{what} must be an int for {kind}, not {type(value).__name__}")
        v = int(value)
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            raise OverflowError(f"{what} = {v} does not fit in {kind}")
        if v >= 1 << (bits - 1):
            v -= 1 << bits
        if bits == 32:
            out.of.i32 = v
        else:
            out.of.i64 = v
        return
    if not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a float for {kind}, not {type(value).__name__}")
    if kind == ValType.F32:
        out.of.f32 = float(value)
    else:
        out.of.f64 = float(value)


def load(val: _ffi.Val) -> Number:
    """The Python value of a ``weft_val_t`` (integers signed)."""
    kind = val.kind
    if kind == ValType.I32:
        return int(val.of.i32)
    if kind == ValType.I64:
        return int(val.of.i64)
    if kind == ValType.F32:
        return float(val.of.f32)
    return float(val.of.f64)


def store_all(kinds: Sequence[ValType], values: Sequence[object], what: str) -> "ctypes.Array[_ffi.Val]":
    """A ``weft_val_t`` array holding ``values`` as ``kinds``."""
    if len(values) != len(kinds):
        raise TypeError(f"{what} takes {len(kinds)} value(s), got {len(values)}")
    arr = (_ffi.Val * max(len(kinds), 1))()
    for i, (k, v) in enumerate(zip(kinds, values)):
        store(k, v, arr[i], f"{what} value {i}")
    return arr

