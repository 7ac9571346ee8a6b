"""Module: bytes, path, WAT, serialize/deserialize, exports, bad input."""

import os

import pytest

import weft
from wat import HELLO, REACTOR, SPIN


def test_from_wat_text_and_bytes(engine):
    with weft.Module(engine, SPIN) as a, weft.Module(engine, SPIN.encode()) as b:
        assert a.uses_threads and b.uses_threads
    with weft.Module(engine, bytearray(HELLO.encode())) as c:
        assert not c.uses_threads
    with weft.Module(engine, memoryview(HELLO.encode())) as d:
        assert not d.uses_threads


def test_from_file_str_pathlike_bytes(engine, tmp_path):
    p = tmp_path / "spin.wat"
    p.write_text(SPIN)
    for path in (str(p), p, os.fsencode(p)):
        with weft.Module.from_file(engine, path) as m:
            assert m.uses_threads


def test_from_non_utf8_path(engine, tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9.wat"
    with open(raw, "wb") as f:
        f.write(SPIN.encode())
    with weft.Module.from_file(engine, raw) as m:
        assert m.uses_threads
    with weft.Module.from_file(engine, os.fsdecode(raw)) as m:
        assert m.uses_threads
    with pytest.raises(weft.IoError):
        weft.Module.from_file(engine, os.fsencode(tmp_path) + b"/missing\xe9.wasm")


def test_missing_file_is_io_error(engine, tmp_path):
    with pytest.raises(weft.IoError) as info:
        weft.Module.from_file(engine, tmp_path / "nope.wasm")
    assert isinstance(info.value, OSError)
    assert "nope.wasm" in str(info.value)


def test_not_wasm(engine, tmp_path):
    for junk in (b"", b"not wasm", b"\0asm\x01\0\0\0\xff\xff", os.urandom(64)):
        with pytest.raises(weft.CompileError):
            weft.Module(engine, junk)
    with pytest.raises(weft.CompileError):
        weft.Module(engine, "(module (func (export \"f\") (result i32)))")  # type error
    p = tmp_path / "junk.wasm"
    p.write_bytes(b"\x7fELF not wasm")
    with pytest.raises(weft.CompileError):
        weft.Module.from_file(engine, p)


def test_unsatisfiable_import_is_link_error(engine):
    with pytest.raises(weft.LinkError, match="shared|memory"):
        weft.Module(engine, '(module (import "env" "memory" (memory 1)))')


def test_wrong_types(engine):
    with pytest.raises(TypeError):
        weft.Module(engine, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.Module("engine", b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.Module.from_file(engine, 3.5)  # type: ignore[arg-type]
    with pytest.raises(weft.InvalidArgumentError):
        weft.Module(engine, "(module) \udcff")
    with pytest.raises(weft.InvalidArgumentError, match="NUL"):
        weft.Module.from_file(engine, "a\0b")


def test_serialize_roundtrip(engine):
    with weft.Module(engine, REACTOR) as m:
        data = m.serialize()
    assert isinstance(data, bytes) and len(data) > 100
    with weft.Module.deserialize(engine, data) as m2, m2.instantiate() as inst:
        inst.initialize()
        assert inst.call("base") == 100


def test_deserialize_garbage(engine):
    for junk in (b"", b"garbage", HELLO.encode()):
        with pytest.raises(weft.CompileError):
            weft.Module.deserialize(engine, junk)
    with pytest.raises(TypeError):
        weft.Module.deserialize(engine, "text")  # type: ignore[arg-type]


def test_deserialize_with_other_engine_config(engine):
    with weft.Module(engine, REACTOR) as m:
        data = m.serialize()
    with weft.Config(wasm_stack_size=256 << 10) as c, weft.Engine(c) as other:
        try:
            weft.Module.deserialize(other, data).close()
        except weft.CompileError:
            pass  # refusing is fine; crashing is not


def test_export_func(engine):
    with weft.Module(engine, REACTOR) as m:
        assert m.export_func("add") == weft.FuncType((weft.I32, weft.I32), (weft.I32,))
        assert m.export_func("scale") == ((weft.F32, weft.F64), (weft.F64,))
        assert m.export_func("pair").results == (weft.I32, weft.I64)
        assert m.export_func("nothing") == ((), ())
        with pytest.raises(weft.NotFoundError):
            m.export_func("absent")
        with pytest.raises(LookupError):
            m.export_func("memory")
        with pytest.raises(TypeError):
            m.export_func(1)  # type: ignore[arg-type]
        assert str(weft.I64) == "i64"


def test_clone_and_use_after_close(engine):
    m = weft.Module(engine, SPIN)
    c = m.clone()
    m.close()
    for call in (lambda: m.uses_threads, m.serialize, m.clone, lambda: m.export_func("_start"),
                 lambda: weft.Instance(m)):
        with pytest.raises(weft.ClosedError):
            call()
    with pytest.raises(weft.ClosedError):
        with m:
            pass
    assert c.uses_threads
    c.close()


def test_del_is_a_safety_net(engine):
    import gc

    for _ in range(20):
        weft.Module(engine, SPIN)
    gc.collect()
