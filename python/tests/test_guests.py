"""Real guests (issue 9): a wasi-libc pthread C guest and a Rust std::thread guest.

They are skipped, with the reason, where the toolchain is absent; the ctest
sets WEFT_TEST_REQUIRE_PTHREAD/RUST=1 where CMake found it, so there they must run.
"""

import threading

import pytest

import weft


def test_pthread_counter(pthread_guest):
    r = weft.run(pthread_guest, ["count", "8"], capture_output=True)
    assert r == (0, b"counter = 80000\n", b"")


def test_pthread_guest_calls_python_from_8_threads(pthread_host_guest, engine):
    tids = []
    lock = threading.Lock()
    host = weft.HostFuncs()

    @host.func("env", "host_add", params=["i32", "i32"], results=["i32"], access_caller=True)
    def host_add(caller, a, b):
        with lock:
            tids.append(caller.tid)
        return a + b

    with host, weft.Module.from_file(engine, pthread_host_guest) as m, weft.WasiConfig(
        args=["pthreads", "callback", "8"], stdout=weft.CAPTURE
    ) as wasi, weft.Instance(m, wasi, host) as inst:
        assert inst.run() == 0
        # thread i returns sum(i + k for k < 100) = 100 i + 4950
        assert inst.stdout == b"total = %d\n" % sum(100 * i + 4950 for i in range(8))
        assert inst.stats.spawned == 8
    assert len(tids) == 800 and 0 not in tids  # every call from a spawned thread


def test_pthread_guest_host_exception_traps(pthread_host_guest, engine):
    def host_add(a, b):
        raise ValueError("no adding today")

    with weft.HostFuncs() as host, weft.Module.from_file(engine, pthread_host_guest) as m:
        host.define("env", "host_add", ["i32", "i32"], ["i32"], host_add)
        with weft.WasiConfig(args=["pthreads", "callback", "8"]) as wasi, weft.Instance(m, wasi, host) as inst:
            with pytest.raises(weft.Trap, match="ValueError: no adding today") as info:
                inst.run()
    assert info.value.tid != 0


def test_pthread_files_in_preopened_dirs(pthread_guest, tmp_path):
    r = weft.run(pthread_guest, ["files", "/data"], dirs=[weft.Dir(tmp_path, "/data")], capture_output=True)
    assert r.exit_code == 0, r
    assert r.stdout == b"".join(b"thread %d\n" % i for i in range(8))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"t{i}.txt" for i in range(8)]
    # read-only: every write fails, the program says so
    ro = tmp_path / "ro"
    ro.mkdir()
    r = weft.run(pthread_guest, ["files", "/ro"], dirs=[weft.Dir(ro, "/ro", read_only=True)], capture_output=True)
    assert (r.exit_code, r.stdout) == (1, b"8 writes failed\n")
    assert list(ro.iterdir()) == []


def test_pthread_exit_from_thread(pthread_guest):
    assert weft.run(pthread_guest, ["exit"], timeout=30).exit_code == 3


def test_rust_guest(rust_guest):
    r = weft.run(rust_guest, capture_output=True)
    assert r.exit_code == 0, r
    assert r.stdout.decode().splitlines() == [
        "scoped sum = 5000050000",
        'channel = [("worker-0", 0), ("worker-1", 1), ("worker-2", 4), ("worker-3", 9)]',
        "condvar = 42",
    ]


def test_rust_panic_in_a_thread_is_a_trap(rust_guest):
    with pytest.raises(weft.Trap) as info:
        weft.run(rust_guest, ["panic"], capture_output=True, timeout=30)
    assert info.value.tid not in (None, 0)


def test_rust_guest_async(rust_guest, engine):
    import asyncio

    async def main():
        with weft.Module.from_file(engine, rust_guest) as m:
            insts = [m.instantiate(weft.WasiConfig(stdout=weft.CAPTURE)) for _ in range(3)]
            try:
                codes = await asyncio.gather(*(i.run_async() for i in insts))
                return codes, {i.stdout for i in insts}
            finally:
                for i in insts:
                    i.close()

    codes, outs = asyncio.run(main())
    assert codes == [0, 0, 0] and len(outs) == 1
