"""Config and Engine."""

import sys

import pytest

import weft
from wat import HELLO, SPIN


def test_defaults():
    with weft.Config() as c:
        assert c.max_threads is None and c.timeout is None
        with weft.Engine(c) as e:
            assert not e.closed
    assert c.closed and e.closed


def test_settings_are_kept_and_validated(tmp_path):
    c = weft.Config(max_threads=8, wasm_stack_size=1 << 20, os_stack_size=4 << 20,
                    max_memory=1 << 26, timeout=1.5, cache_dir=tmp_path)
    assert (c.max_threads, c.wasm_stack_size, c.os_stack_size, c.max_memory, c.timeout) == (
        8, 1 << 20, 4 << 20, 1 << 26, 1.5)
    assert c.cache_dir == tmp_path
    c.cache_dir = None
    c.timeout = None
    with pytest.raises(weft.InvalidArgumentError, match="max_threads|0|thread"):
        c.max_threads = 0
    with pytest.raises(weft.InvalidArgumentError):
        c.os_stack_size = 1024
    with pytest.raises(TypeError):
        c.max_threads = "8"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        c.max_threads = 2.0  # type: ignore[assignment]
    with pytest.raises(ValueError):
        c.max_memory = -1
    with pytest.raises(ValueError):
        c.timeout = -1
    with pytest.raises(ValueError):
        c.timeout = 0
    with pytest.raises(TypeError):
        weft.Config(timeout="1s")  # type: ignore[arg-type]
    c.close()
    with pytest.raises(weft.ClosedError):
        c.max_threads = 4


def test_inconsistent_stacks_fail_at_engine_creation():
    with weft.Config(wasm_stack_size=8 << 20, os_stack_size=1 << 20) as c:
        with pytest.raises(weft.InvalidArgumentError):
            weft.Engine(c)


def test_engine_rejects_wrong_config_type():
    with pytest.raises(TypeError):
        weft.Engine("defaults")  # type: ignore[arg-type]


def test_config_closed_after_engine_creation_is_fine():
    c = weft.Config(timeout=0.2)
    e = weft.Engine(c)
    c.close()
    m = weft.Module(e, SPIN)
    e.close()  # the module keeps the engine alive
    with m, m.instantiate() as inst:
        with pytest.raises(weft.TimedOut):
            inst.run()


def test_engine_clone_is_independent(engine):
    other = engine.clone()
    engine.close()
    with other:
        with weft.Module(other, "(module)") as m:
            assert not m.uses_threads
    with pytest.raises(weft.ClosedError):
        engine.clone()
    engine.close()  # idempotent
    assert "closed" in repr(engine)


def test_cache_dir_compiles_once(tmp_path):
    with weft.Config(cache_dir=tmp_path / "cache") as c, weft.Engine(c) as e:
        weft.Module(e, SPIN).close()
        weft.Module(e, SPIN).close()
    assert any((tmp_path / "cache").iterdir())


def test_non_utf8_cache_dir_is_a_clear_error(tmp_path):
    with weft.Config() as c:
        with pytest.raises(weft.InvalidArgumentError, match="UTF-8"):
            c.cache_dir = bytes(tmp_path) + b"/\xff"


def test_interrupt_wasm_setting_runs_programs_either_way():
    with weft.Config() as c:
        assert c.interrupt_wasm is True and c.precise_dumps is False
        with pytest.raises(TypeError, match="interrupt_wasm must be a bool"):
            c.interrupt_wasm = 0  # type: ignore[assignment]
        with pytest.raises(TypeError, match="precise_dumps must be a bool"):
            c.precise_dumps = 1  # type: ignore[assignment]
    for on, precise in ((True, False), (True, True), (False, False)):
        with weft.Config(interrupt_wasm=on, precise_dumps=precise) as c, weft.Engine(c) as e:
            assert c.interrupt_wasm is on and c.precise_dumps is precise
            wasi = weft.WasiConfig(stdout=weft.CAPTURE, stderr=weft.CAPTURE)
            with weft.Module(e, HELLO) as m, weft.Instance(m, wasi) as inst:
                assert inst.run() == 0


def _memory_vm_flags(base: int) -> str:
    """The kernel's VmFlags of the mapping holding address ``base``."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:
                a, b = (int(x, 16) for x in head.split("-"))
                inside = a <= base < b
            elif line.startswith("VmFlags:") and inside:
                return line.split(":", 1)[1]
    raise AssertionError(f"no mapping holds {base:#x}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/smaps is Linux's")
def test_huge_pages_advise_the_program_memory_only_when_on():
    shared = """(module
      (import "env" "memory" (memory 1 16 shared))
      (export "memory" (memory 0))
      (func (export "_initialize"))
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"""
    with weft.Config() as c:
        assert c.huge_pages is True
        with pytest.raises(TypeError, match="huge_pages must be a bool"):
            c.huge_pages = 1  # type: ignore[assignment]
    for on in (True, False):
        with weft.Config(huge_pages=on) as c, weft.Engine(c) as e:
            assert c.huge_pages is on
            with weft.Module(e, shared) as m, weft.Instance(m) as inst:
                inst.initialize()
                assert inst.call("add", 1, 2) == 3
                with inst._memory_span() as (base, _):
                    flags = _memory_vm_flags(base).split()
                assert ("hg" in flags) is on, flags
