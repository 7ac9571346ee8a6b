"""Observing a running program: threads(), dump(), deadlock detection, the profiler setting."""

import dataclasses
import threading
import time

import pytest

import weft

# `_start` spawns one thread per behaviour (the start argument picks it), then
# parks untimed on 256 (never notified):
#   1: spins in $spin   2: parks untimed on 64 in $park
#   3: parks with a 10 s timeout on 128 in $park_timed
#   4: calls the host function test.block in $in_host
STATES = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "test" "block" (func $block))
  (import "env" "memory" (memory 1 1 shared))
  (func $spin (loop $l (br $l)))
  (func $park (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $park_timed
    (loop $l
      (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const 10000000000)))
      (br $l)))
  (func $in_host (call $block))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (if (i32.eq (local.get $arg) (i32.const 1)) (then (call $spin)))
    (if (i32.eq (local.get $arg) (i32.const 2)) (then (call $park)))
    (if (i32.eq (local.get $arg) (i32.const 3)) (then (call $park_timed)))
    (if (i32.eq (local.get $arg) (i32.const 4)) (then (call $in_host))))
  (func $main_park (drop (memory.atomic.wait32 (i32.const 256) (i32.const 0) (i64.const -1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 1)))
    (drop (call $spawn (i32.const 2)))
    (drop (call $spawn (i32.const 3)))
    (drop (call $spawn (i32.const 4)))
    (call $main_park)))"""

# A true deadlock: the child waits (untimed) on 64 for a notify that never
# comes; main waits (untimed) on 128 for the child.
DEADLOCK = """(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $wait_for_main (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
  (func $wait_for_child (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $wait_for_main)
    (i32.atomic.store (i32.const 128) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 128) (i32.const 1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (call $wait_for_child)))"""


def settled(inst, want, timeout=10.0):
    """Polls threads() until `want(threads)` holds; returns the last snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        threads = inst.threads()
        if want(threads) or time.monotonic() > deadline:
            return threads
        time.sleep(0.01)


def all_settled(threads):
    states = sorted(t.state for t in threads)
    expected = sorted([weft.ThreadState.PARKED] * 3 + [weft.ThreadState.RUNNING, weft.ThreadState.HOST_CALL])
    return states == expected and all(t.cpu_time > 0 for t in threads if t.state == weft.ThreadState.RUNNING)


@pytest.fixture
def states_program():
    """The STATES program on an engine with precise dumps, started, with
    every thread settled; yields (instance, snapshot, what the host function
    saw)."""
    with weft.Config(precise_dumps=True) as config, weft.Engine(config) as engine:
        yield from run_states(engine)


@pytest.fixture
def states_program_default(engine):
    """The same on a default engine (weft's stop checks)."""
    yield from run_states(engine)


def run_states(engine):
    release, entered = threading.Event(), threading.Event()
    seen = {}
    host = weft.HostFuncs()
    holder = {}

    def block():
        seen["threads"] = holder["inst"].threads()  # callable from a host function
        entered.set()
        release.wait(30)

    host.define("test", "block", [], [], block)
    with host, weft.Module(engine, STATES) as m, weft.Instance(m, host=host) as inst:
        holder["inst"] = inst
        inst.start()
        try:
            assert entered.wait(30)
            threads = settled(inst, all_settled)
            yield inst, threads, seen
        finally:
            release.set()
            inst.interrupt()
            with pytest.raises(weft.Interrupted):
                inst.wait(30)


def test_threads_of_a_running_program(states_program):
    inst, threads, seen = states_program
    assert all_settled(threads), threads
    assert [t.tid for t in threads] == sorted(t.tid for t in threads)
    assert len({t.tid for t in threads}) == 5 and threads[0].tid == 0
    by_state = {}
    for t in threads:
        by_state.setdefault(t.state, []).append(t)
        assert isinstance(t, weft.ThreadInfo) and isinstance(t.state, weft.ThreadState)
        assert isinstance(t.os_tid, int) and t.os_tid > 0
        assert t.os_name == ("weft-main" if t.tid == 0 else f"weft-thread-{t.tid}")
        assert t.backtrace is None  # a snapshot has no backtraces
        assert t.cpu_time >= 0 and t.state_time >= 0
    main = threads[0]
    assert main.state == weft.ThreadState.PARKED and main.wait_address == 256 and main.wait_timed is False
    parked = {t.wait_address: t.wait_timed for t in by_state[weft.ThreadState.PARKED]}
    assert parked == {256: False, 64: False, 128: True}
    (spinner,) = by_state[weft.ThreadState.RUNNING]
    assert spinner.wait_address is None and spinner.wait_timed is None and spinner.call_name == ""
    (in_host,) = by_state[weft.ThreadState.HOST_CALL]
    assert in_host.call_name == "test.block"
    # The host function itself saw a snapshot with its own thread in HOST_CALL.
    assert any(t.state == weft.ThreadState.HOST_CALL for t in seen["threads"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        main.tid = 9  # type: ignore[misc]


def test_dump_has_every_thread_and_backtraces(states_program):
    inst, threads, _ = states_program
    dump = inst.dump()
    assert isinstance(dump, weft.ThreadDump) and str(dump) == dump.text
    assert dump.text.startswith("weft thread dump: 5 threads")
    assert {t.tid for t in dump.threads} == {t.tid for t in threads}
    for t in dump.threads:
        assert f"tid={t.tid}" in dump.text
        assert f"os_tid={t.os_tid}" in dump.text
    backtraces = {t.wait_address: t.backtrace for t in dump.threads if t.state == weft.ThreadState.PARKED}
    assert "main_park" in (backtraces[256] or ""), dump.text
    assert "park_timed" in (backtraces[128] or ""), dump.text
    assert "park" in (backtraces[64] or ""), dump.text
    # With precise dumps a running thread answers at its next epoch check (within the dump's
    # 100 ms on an idle machine; a loaded one may need another try).
    for _ in range(5):
        (spinner,) = [t for t in dump.threads if t.state == weft.ThreadState.RUNNING]
        if spinner.backtrace is not None:
            break
        dump = inst.dump()
    assert "spin" in (spinner.backtrace or ""), dump.text
    # The program keeps running after the dump.
    assert inst.poll() is None and all_settled(inst.threads())


def test_without_precise_dumps_a_running_thread_has_no_frames(states_program_default):
    inst, _, _ = states_program_default
    dump = inst.dump()
    (spinner,) = [t for t in dump.threads if t.state == weft.ThreadState.RUNNING]
    assert spinner.backtrace is None, dump.text
    assert "answers only with precise dumps" in dump.text
    parked = {t.wait_address: t.backtrace for t in dump.threads if t.state == weft.ThreadState.PARKED}
    assert "main_park" in (parked[256] or ""), dump.text


def test_threads_before_start_and_after_close(engine):
    with weft.Module(engine, DEADLOCK) as m:
        inst = weft.Instance(m)
        (main,) = inst.threads()
        assert main.tid == 0 and main.state == weft.ThreadState.IDLE
        assert main.os_tid is None and main.os_name == "" and main.wait_address is None
        (dumped,) = inst.dump().threads
        assert dumped.state == weft.ThreadState.IDLE and dumped.backtrace is None
        inst.close()
        with pytest.raises(weft.ClosedError):
            inst.threads()
        with pytest.raises(weft.ClosedError):
            inst.dump()


def test_a_deadlock_ends_the_run_with_the_dump(engine):
    with weft.Module(engine, DEADLOCK) as m, weft.Instance(m) as inst:
        with pytest.raises(weft.Deadlock) as info:
            inst.run()
        e = info.value
        assert isinstance(e, weft.WeftError) and e.kind == weft.Deadlock.KIND == 16
        assert e.message.startswith("deadlock: ")
        assert "weft thread dump: 2 threads" in e.message
        assert "tid=0" in e.message and "tid=1" in e.message
        assert "wait_for_child" in e.message and "wait_for_main" in e.message
        with pytest.raises(weft.Deadlock):  # the same outcome again
            inst.wait()


def test_a_deadlock_is_the_outcome_of_start_and_wait_async(engine):
    import asyncio

    async def main():
        with weft.Module(engine, DEADLOCK) as m, weft.Instance(m) as inst:
            return await inst.run_async()

    with pytest.raises(weft.Deadlock, match="deadlock: "):
        asyncio.run(main())


def test_without_detection_a_deadlock_hangs_until_interrupted():
    with weft.Config(deadlock_detection=False) as config, weft.Engine(config) as engine:
        assert config.deadlock_detection is False
        with weft.Module(engine, DEADLOCK) as m, weft.Instance(m) as inst:
            inst.start()
            threads = settled(inst, lambda ts: len(ts) == 2 and all(t.state == weft.ThreadState.PARKED for t in ts))
            assert [t.state for t in threads] == [weft.ThreadState.PARKED] * 2
            assert inst.wait(0.5) is None  # still hanging
            inst.interrupt()
            with pytest.raises(weft.Interrupted):
                inst.wait(30)


def test_deadlock_detection_setting():
    with weft.Config() as config:
        assert config.deadlock_detection is True
        config.deadlock_detection = False
        config.deadlock_detection = True
        assert config.deadlock_detection is True
        with pytest.raises(TypeError, match="deadlock_detection must be a bool"):
            config.deadlock_detection = 1  # type: ignore[assignment]


def test_profiler_setting():
    with weft.Config() as config:
        assert config.profiler is None
        config.profiler = "perfmap"
        assert config.profiler == "perfmap"
        config.profiler = None
        assert config.profiler is None
        with pytest.raises(ValueError, match="profiler must be 'perfmap', 'jitdump' or None, got 'perf'"):
            config.profiler = "perf"
        with pytest.raises(TypeError, match="profiler must be a str or None"):
            config.profiler = 1  # type: ignore[assignment]
        assert config.profiler is None
        try:
            config.profiler = "jitdump"
        except weft.InvalidArgumentError as e:  # a library built without the jitdump feature
            assert "jitdump" in str(e)
            assert config.profiler is None
        else:
            assert config.profiler == "jitdump"
    with pytest.raises(ValueError, match="got 'PERFMAP'"):
        weft.Config(profiler="PERFMAP")
