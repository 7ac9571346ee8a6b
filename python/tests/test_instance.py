"""Instance: run, start/wait, interrupt, timeouts, traps, stats, reactors, lifetime."""

import os
import signal
import threading
import time

import pytest

import weft
import weft._ffi
from wat import EXIT_FROM_THREAD, HELLO, REACTOR, SPIN, TRAP_IN_THREAD


@pytest.fixture
def spin(engine):
    with weft.Module(engine, SPIN) as m:
        yield m


def test_run_returns_exit_code(engine):
    with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
        assert inst.run() == 7
        assert inst.wait() == 7  # the same outcome again
        assert inst.poll() == 7
    with weft.Module(engine, HELLO) as m, m.instantiate(weft.WasiConfig(stdout=weft.CAPTURE)) as inst:
        assert inst.run() == 0
        assert inst.stdout == b"hi\n" and inst.stderr == b""


def test_run_on_a_non_main_thread(engine):
    result = {}

    def body():
        with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
            result["code"] = inst.run()
        with weft.Module(engine, TRAP_IN_THREAD) as m, weft.Instance(m) as inst:
            try:
                inst.run()
            except weft.Trap as e:
                result["tid"] = e.tid

    t = threading.Thread(target=body)
    t.start()
    t.join(30)
    assert result == {"code": 7, "tid": 1}


def test_trap_has_tid_and_backtrace(engine):
    with weft.Module(engine, TRAP_IN_THREAD) as m, weft.Instance(m) as inst:
        with pytest.raises(weft.Trap) as info:
            inst.run()
    e = info.value
    assert e.tid == 1 and e.kind == 8
    assert "thread 1" in e.message and "unreachable" in e.message
    assert "boom" in e.backtrace or "0x" in e.backtrace


def test_timeout():
    with weft.Config(timeout=0.2) as c, weft.Engine(c) as e, weft.Module(e, SPIN) as m:
        with weft.Instance(m) as inst:
            t0 = time.monotonic()
            with pytest.raises(weft.TimedOut):
                inst.run()
            assert time.monotonic() - t0 < 10


def test_start_wait_interrupt(spin):
    with weft.Instance(spin) as inst:
        inst.start()
        assert inst.wait(0.05) is None
        assert inst.poll() is None
        assert inst.stats.live == 1 and inst.stats.spawned == 1 and inst.stats.peak_live == 1
        threading.Timer(0.05, inst.interrupt).start()
        with pytest.raises(weft.Interrupted):
            inst.wait()
        with pytest.raises(weft.Interrupted):
            inst.wait(1)
        with pytest.raises(weft.StateError):
            inst.start()
        with pytest.raises(weft.StateError):
            inst.run()


def test_outcome_is_known_once_decided(engine, spin):
    with weft.Instance(spin) as inst:
        assert inst.outcome() is None  # not started
        inst.start()
        assert inst.outcome() is None  # running
        inst.interrupt()
        # Decided by the interrupt itself, whether or not the spinner stopped yet.
        with pytest.raises(weft.Interrupted):
            inst.outcome()
        with pytest.raises(weft.Interrupted):
            inst.wait()
    with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
        assert inst.run() == 7
        assert inst.outcome() == 7
    with weft.Module(engine, TRAP_IN_THREAD) as m, weft.Instance(m) as inst:
        inst.start()
        while True:
            try:
                if inst.outcome() is not None:
                    break
            except weft.Trap as e:
                assert e.tid == 1
                break
            time.sleep(0.001)
        with pytest.raises(weft.Trap):
            inst.wait()


def test_wait_before_start_and_bad_timeouts(spin):
    with weft.Instance(spin) as inst:
        with pytest.raises(weft.StateError, match="start"):
            inst.wait(0)
        inst.start()
        with pytest.raises(ValueError):
            inst.wait(-1)
        with pytest.raises(TypeError):
            inst.wait("1")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            inst.wait(float("nan"))
        assert inst.wait(0.001) is None


def test_keyboard_interrupt_interrupts_run(spin):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    # Python ignores SIGINT when started with it ignored (e.g. in a background job).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    try:
        with weft.Instance(spin) as inst:
            backstop = threading.Timer(20, inst.interrupt)  # never hang the suite
            timer.start()
            backstop.start()
            try:
                with pytest.raises(KeyboardInterrupt):
                    inst.run()
            finally:
                backstop.cancel()
            with pytest.raises(weft.Interrupted):
                inst.poll()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def test_close_interrupts_a_running_program(spin):
    inst = weft.Instance(spin)
    inst.start()
    inst.close()
    assert inst.closed
    for call in (inst.start, inst.run, inst.interrupt, inst.poll, lambda: inst.stats,
                 lambda: inst.stdout, inst.initialize, lambda: inst.call("_start")):
        with pytest.raises(weft.ClosedError):
            call()


def test_close_from_another_thread_while_waiting(spin):
    inst = weft.Instance(spin)
    inst.start()
    errors = []

    def waiter():
        try:
            inst.wait()
        except weft.WeftError as e:
            errors.append(type(e))

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    inst.close()  # interrupts, waits for wait() to return, then frees
    t.join(10)
    assert errors == [weft.Interrupted]


def test_unstarted_instance_dropped(spin):
    import gc

    for _ in range(5):
        weft.Instance(spin).start()
    gc.collect()


def test_reactor_calls(engine):
    with weft.Module(engine, REACTOR) as m, weft.Instance(m) as inst:
        inst.initialize()
        assert inst.call("base") == 100
        assert inst.call("add", 2, 3) == 5
        assert inst.call("add", 0xFFFFFFFF, 1) == 0  # unsigned input wraps like i32
        assert inst.call("add", -5, 2) == -3
        assert inst.call("add64", 2**62, 2**62) == -(2**63)
        assert inst.call("scale", 1.5, 2) == 3.0
        assert inst.call("pair", -4) == (-4, -4)
        assert inst.call("nothing") is None
        with pytest.raises(TypeError, match="2 value"):
            inst.call("add", 1)
        with pytest.raises(TypeError):
            inst.call("add", 1.0, 2)
        with pytest.raises(OverflowError):
            inst.call("add", 2**32, 0)
        with pytest.raises(TypeError):
            inst.call("scale", "x", 1.0)
        with pytest.raises(weft.NotFoundError):
            inst.call("absent")
        with pytest.raises(weft.Trap) as info:
            inst.call("fail")
        assert info.value.tid == 0
        with pytest.raises(weft.Trap):  # after the end, every call fails with the same error
            inst.call("base")


def test_reactor_exit(engine):
    with weft.Module(engine, REACTOR) as m, weft.Instance(m) as inst:
        with pytest.raises(weft.Exited) as info:
            inst.call("quit", 4)
        assert info.value.exit_code == 4


def test_command_without_start(engine):
    with weft.Module(engine, REACTOR) as m, weft.Instance(m) as inst:
        with pytest.raises(weft.NotFoundError):
            inst.run()


def test_instance_bad_arguments(engine, spin):
    with pytest.raises(TypeError):
        weft.Instance("module")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.Instance(spin, wasi={})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.Instance(spin, host=lambda: 0)  # type: ignore[arg-type]
    w = weft.WasiConfig()
    w.close()
    with pytest.raises(weft.ClosedError):
        weft.Instance(spin, w)
    with weft.Module(engine, '(module (import "env" "nope" (func)) (func (export "_start")))') as m:
        with pytest.raises(weft.LinkError, match="nope"):
            weft.Instance(m)


def test_max_threads_and_stats(engine):
    wat = """(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
      (func (export "_start")
        (drop (call $spawn (i32.const 0))) (drop (call $spawn (i32.const 0)))
        (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 9))))
        (call $exit (i32.const 1))))"""
    with weft.Config(max_threads=2) as c, weft.Engine(c) as e, weft.Module(e, wat) as m:
        with weft.Instance(m) as inst:
            assert inst.run() == 9
            s = inst.stats
            assert (s.spawned, s.peak_live) == (2, 2)


def test_module_may_be_closed_after_instantiation(engine):
    m = weft.Module(engine, REACTOR)
    inst = weft.Instance(m)
    m.close()
    with inst:
        inst.initialize()
        assert inst.call("add", 1, 2) == 3
        assert not inst.module.closed
    assert inst.module.closed


def test_instance_memory(engine):
    with weft.Module(engine, REACTOR) as m, weft.Instance(m) as inst:
        if not weft._ffi.has("weft_instance_memory_data"):
            with pytest.raises(NotImplementedError):
                inst.memory
            pytest.skip("the loaded libweft has no weft_instance_memory_data")
        mem = inst.memory
        assert len(mem) == 65536
        mem.write(10, b"abc")
        assert mem[10:13] == b"abc"
        with pytest.raises(IndexError):
            mem.read(65535, 2)
    with pytest.raises(weft.ClosedError):
        mem.read(0, 1)


def test_a_race_report_names_the_variable_from_dwarf():
    from wat import RACY_DWARF

    with weft.Config(detect_races=True) as c, weft.Engine(c) as e:
        with weft.Module(e, RACY_DWARF) as m, weft.Instance(m) as inst:
            assert inst.run() == 0
            races = inst.races
    assert len(races) == 1, races
    assert races[0].startswith(
        "data race on 4 bytes at 0x64 (flag+0, a 4-byte variable in the program's data):\n"
    ), races[0]


def test_races_are_listed_with_detect_races_only():
    from wat import RACY

    with weft.Config(detect_races=True) as c, weft.Engine(c) as e:
        assert c.detect_races is True
        with weft.Module(e, RACY) as m, weft.Instance(m) as inst:
            assert inst.run() == 0
            races = inst.races
    assert len(races) == 1, races
    assert races[0].startswith("data race on 4 bytes at 0x64:")
    assert "$publish" in races[0] or "publish" in races[0]
    assert "poll" in races[0]
    with weft.Config() as c, weft.Engine(c) as e:
        assert c.detect_races is False
        with pytest.raises(TypeError, match="detect_races must be a bool"):
            c.detect_races = 1  # type: ignore[assignment]
        with weft.Module(e, RACY) as m, weft.Instance(m) as inst:
            assert inst.run() == 0
            assert inst.races == []
