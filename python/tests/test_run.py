"""weft.run: one call."""

import os

import pytest

import weft
from wat import ECHO, EXIT_FROM_THREAD, HELLO, SPIN, TRAP_IN_THREAD


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_run_a_file(tmp_path):
    prog = write(tmp_path, "echo.wat", ECHO)
    r = weft.run(prog, ["a", "b"], env={"X": "1"}, capture_output=True)
    assert r.exit_code == 0
    assert r.stdout == b"echo.wat\0a\0b\0X=1\0" and r.stderr == b""
    r = weft.run(str(prog), argv0="custom", capture_output=True)
    assert r.stdout.startswith(b"custom\0")
    assert weft.run(write(tmp_path, "exit.wat", EXIT_FROM_THREAD)) == (7, None, None)


def test_run_a_module(engine):
    with weft.Module(engine, HELLO) as m:
        r = weft.run(m, stdout=weft.CAPTURE)
    assert r == weft.Completed(0, b"hi\n", None)
    with weft.Module(engine, HELLO) as m, pytest.raises(ValueError):
        weft.run(m, timeout=1)


def test_run_raises(tmp_path):
    with pytest.raises(weft.Trap):
        weft.run(write(tmp_path, "trap.wat", TRAP_IN_THREAD))
    with pytest.raises(weft.TimedOut):
        weft.run(write(tmp_path, "spin.wat", SPIN), timeout=0.1)
    with pytest.raises(weft.IoError):
        weft.run(tmp_path / "missing.wasm")
    with pytest.raises(weft.CompileError):
        weft.run(write(tmp_path, "bad.wasm", "not wasm"))


def test_run_bad_arguments(tmp_path):
    prog = write(tmp_path, "hello.wat", HELLO)
    with pytest.raises(TypeError):
        weft.run(prog, "a b")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        weft.run(prog, capture_output=True, stdout=weft.NULL)
    with pytest.raises(TypeError):
        weft.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.run(prog, dirs=[3])  # type: ignore[list-item]
    with pytest.raises(weft.InvalidArgumentError):
        weft.run(prog, max_threads=0)


def test_run_non_utf8_program_path(tmp_path):
    raw = os.fsencode(tmp_path) + b"/h\xe9llo.wat"
    with open(raw, "w") as f:
        f.write(HELLO)
    assert weft.run(raw, capture_output=True).stdout == b"hi\n"
