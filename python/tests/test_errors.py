"""One exception class per WEFT_ERROR_* kind."""

import pytest

import weft
from weft import errors


def test_one_class_per_kind():
    kinds = {getattr(errors, n) for n in dir(errors) if n.startswith("ERROR_")}
    assert kinds == set(range(1, 17))
    classes = {errors.error_class(k) for k in kinds}
    assert len(classes) == 16 and weft.WeftError not in classes
    for k in kinds:
        assert errors.error_class(k).KIND == k
    assert errors.error_class(999) is weft.WeftError


def test_builtin_bases():
    assert issubclass(weft.InvalidArgumentError, ValueError)
    assert issubclass(weft.IoError, OSError)
    assert issubclass(weft.NotFoundError, LookupError)
    assert issubclass(weft.ClosedError, weft.StateError)
    for cls in (weft.Trap, weft.Interrupted, weft.TimedOut, weft.LinkError, weft.CompileError):
        assert issubclass(cls, weft.WeftError)


def test_message_kind_and_str(engine):
    with pytest.raises(weft.CompileError) as info:
        weft.Module(engine, b"\0asm garbage")
    e = info.value
    assert e.kind == weft.CompileError.KIND == 5
    assert str(e) == e.message and e.message
