"""Host functions: Python callables called concurrently from guest threads."""

import gc
import threading

import pytest

import weft
from weft.host import live_host_functions
from wat import HOST_CALLS, HOST_MEMORY, HOST_TICK


def test_eight_guest_threads_call_back(engine):
    lock = threading.Lock()
    calls = []
    reports = {}
    threads = set()

    host = weft.HostFuncs()

    @host.func("host", "add", params=[weft.I32, weft.I32], results=[weft.I32], access_caller=True)
    def add(caller, a, b):
        with lock:
            calls.append(caller.tid)
            threads.add(threading.get_ident())
        return a + b

    @host.func("host", "report", params=["i32", "i32"])
    def report(arg, acc):
        reports[arg] = acc

    with host, weft.Module(engine, HOST_CALLS) as m, weft.Instance(m, host=host) as inst:
        assert inst.run() == 0
    assert reports == {i: 1000 for i in range(8)}
    assert len(calls) == 8000
    assert sorted(set(calls)) == list(range(1, 9))
    assert len(threads) == 8  # each guest thread called from its own OS thread


def test_exception_traps_with_python_traceback(engine):
    host = weft.HostFuncs()

    def add(a, b):
        if a == 500:
            raise RuntimeError("the host gives up at 500")
        return a + b

    host.define("host", "add", [weft.I32, weft.I32], [weft.I32], add)
    host.define("host", "report", ["i32", "i32"], [], lambda arg, acc: None)
    with host, weft.Module(engine, HOST_CALLS) as m, weft.Instance(m, host=host) as inst:
        with pytest.raises(weft.Trap) as info:
            inst.run()
    e = info.value
    assert e.tid is not None and 1 <= e.tid <= 8
    assert "RuntimeError: the host gives up at 500" in e.message
    assert "Traceback (most recent call last)" in e.message
    assert "host.add" in e.message and "test_host.py" in e.message


@pytest.mark.parametrize("bad, why", [
    (lambda: "nope", "must be an int"),
    (lambda: 2**40, "does not fit"),
    (lambda: (1, 2), "must be an int"),
    (lambda: None, "must be an int"),
])
def test_bad_results_trap(engine, bad, why):
    host = weft.HostFuncs()
    host.define("host", "add", ["i32", "i32"], ["i32"], lambda a, b: bad())
    host.define("host", "report", ["i32", "i32"], [], lambda *a: None)
    with host, weft.Module(engine, HOST_CALLS) as m, weft.Instance(m, host=host) as inst:
        with pytest.raises(weft.Trap, match=why):
            inst.run()


def test_result_on_void_function_traps(engine):
    with weft.HostFuncs() as host, weft.Module(engine, HOST_TICK) as m:
        host.define("host", "tick", [], [], lambda: 1)
        with weft.Instance(m, host=host) as inst, pytest.raises(weft.Trap, match="no results"):
            inst.run()


def test_keyboard_interrupt_and_system_exit_in_callback_trap(engine):
    for exc in (KeyboardInterrupt, SystemExit):
        def tick(exc=exc):
            raise exc()

        with weft.HostFuncs() as host, weft.Module(engine, HOST_TICK) as m:
            host.define("host", "tick", [], [], tick)
            with weft.Instance(m, host=host) as inst, pytest.raises(weft.Trap, match=exc.__name__):
                inst.run()


def test_memory_view(engine):
    seen = {}
    kept = []
    host = weft.HostFuncs()

    @host.func("host", "greet", params=["i32", "i32"], access_caller=True)
    def greet(caller, ptr, n):
        mem = caller.memory
        seen["text"] = mem.read_str(ptr, n)
        seen["slice"] = mem[ptr:ptr + n]
        seen["byte"] = mem[ptr]
        seen["size"] = len(mem)
        seen["cstr"] = mem.read_cstr(ptr)
        for bad in (lambda: mem.read(len(mem) - 2, 4), lambda: mem.read(-1, 1), lambda: mem[len(mem)],
                    lambda: mem.write(len(mem), b"x"), lambda: mem.read_cstr(len(mem) + 5)):
            try:
                bad()
            except IndexError:
                seen.setdefault("index_errors", 0)
                seen["index_errors"] += 1
        for bad in (lambda: mem.read("0", 1), lambda: mem.write(0, "str")):
            try:
                bad()
            except TypeError:
                seen.setdefault("type_errors", 0)
                seen["type_errors"] += 1
        kept.append(caller)
        kept.append(mem)

    @host.func("host", "fill", params=["i32", "i32"], access_caller=True)
    def fill(caller, ptr, n):
        caller.memory.write(ptr, bytes([10, 20]))
        caller.memory[ptr + 2:ptr + 4] = b"\x1e\x28"

    with host, weft.Module(engine, HOST_MEMORY) as m, weft.Instance(m, host=host) as inst:
        assert inst.run() == 100
    assert seen["text"] == "hello" and seen["slice"] == b"hello" and seen["byte"] == ord("h")
    assert seen["size"] == 65536 and seen["cstr"] == b"hello"
    assert seen["index_errors"] == 5 and seen["type_errors"] == 2
    caller, mem = kept
    with pytest.raises(weft.ClosedError):
        caller.tid
    with pytest.raises(weft.ClosedError):
        mem.read(0, 1)


def test_define_bad_input():
    with weft.HostFuncs() as host:
        with pytest.raises(TypeError):
            host.define("m", "f", [], [], "not callable")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="i128"):
            host.define("m", "f", ["i128"], [], lambda: None)
        with pytest.raises(TypeError):
            host.define("m", "f", "i32", [], lambda: None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            host.define("m", "f", [object()], [], lambda: None)  # type: ignore[list-item]
        with pytest.raises(weft.InvalidArgumentError):
            host.define("m\udc80", "f", [], [], lambda: None)
        with pytest.raises(TypeError):
            host.define(b"m", "f", [], [], lambda: None)  # type: ignore[arg-type]
    with pytest.raises(weft.ClosedError):
        host.define("m", "f", [], [], lambda: None)


def test_wrong_host_signature_is_link_error(engine):
    with weft.HostFuncs() as host, weft.Module(engine, HOST_TICK) as m:
        host.define("host", "tick", ["i64"], [], lambda x: None)
        with pytest.raises(weft.LinkError):
            weft.Instance(m, host=host)


def test_definitions_are_finalized(engine):
    gc.collect()
    before = live_host_functions()
    with weft.HostFuncs() as host, weft.Module(engine, HOST_TICK) as m:
        host.define("host", "tick", [], [], lambda: None)
        host.define("host", "tick", [], [], lambda: None)  # replaces the first
        host.define("other", "unused", ["f32"], ["f64"], lambda x: x)
        with weft.Instance(m, host=host) as inst:
            assert inst.run() == 0
    assert live_host_functions() == before


def test_host_set_can_be_closed_before_the_run(engine):
    ticks = []
    host = weft.HostFuncs()
    host.define("host", "tick", [], [], lambda: ticks.append(1))
    with weft.Module(engine, HOST_TICK) as m:
        inst = weft.Instance(m, host=host)
        host.close()
        with inst:
            assert inst.run() == 0
    assert ticks == [1]


def test_closing_instance_inside_callback_is_refused(engine):
    box = {}

    def tick():
        try:
            box["inst"].close()
        except weft.StateError as e:
            box["error"] = str(e)

    with weft.HostFuncs() as host, weft.Module(engine, HOST_TICK) as m:
        host.define("host", "tick", [], [], tick)
        with weft.Instance(m, host=host) as inst:
            box["inst"] = inst
            assert inst.run() == 0
    assert "host function" in box["error"]


def test_interpreter_exit_while_guest_threads_call_back(tmp_path):
    """At exit, weft interrupts and frees live instances before Python goes
    away: a guest thread calling into a finalizing interpreter would abort the
    process ("FATAL: exception not rethrown")."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "exit_while_running.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import weft, wat\n"
        "host = weft.HostFuncs()\n"
        "calls = []\n"
        "host.define('host', 'add', ['i32', 'i32'], ['i32'], lambda a, b: calls.append(1) or a + b)\n"
        "host.define('host', 'report', ['i32', 'i32'], [], lambda *a: None)\n"
        "m = weft.Module(weft.Engine(), wat.HOST_CALLS.replace('(i32.const 1000)', '(i32.const 100000000)'))\n"
        "inst = weft.Instance(m, host=host)\n"
        "inst.start()\n"
        "time.sleep(0.3)\n"
        "print('calls', bool(calls))\n"
    )
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stdout) == (0, "calls True\n"), proc.stderr
