"""Loads libweft through ctypes and runs guests: a threaded example, a trap,
and a timeout. Usage: WEFT_LIBRARY=path/libweft.so.0 python3 test_weft.py hello-threads.wat"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weft  # noqa: E402

SPIN = b"""(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
  (func (export "_start") (drop (call $spawn (i32.const 0))) (loop $l (br $l))))"""

TRAP = b"""(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) unreachable)
  (func (export "_start") (drop (call $spawn (i32.const 0))) (loop $l (br $l))))"""


def main():
    lib = weft.load()
    print("libweft", lib.weft_version().decode())

    code, out, err = weft.run_file(lib, sys.argv[1], args=["hello"])
    assert code == 0, (code, out, err)
    lines = out.decode().splitlines()
    assert lines == [f"hello from thread {i}" for i in range(1, 5)] + ["main: all 4 threads done"], lines

    try:
        weft.run_bytes(lib, TRAP)
        raise AssertionError("no trap")
    except weft.WeftError as e:
        assert e.kind == weft.ERROR_TRAP and "thread 1" in e.message, e

    try:
        weft.run_bytes(lib, SPIN, timeout_ms=100)
        raise AssertionError("no timeout")
    except weft.WeftError as e:
        assert e.kind == weft.ERROR_TIMED_OUT, e

    try:
        weft.run_bytes(lib, b"not wasm")
        raise AssertionError("garbage accepted")
    except weft.WeftError as e:
        assert e.kind == 5, e  # WEFT_ERROR_COMPILE
    print("python ctypes ok")


if __name__ == "__main__":
    main()
