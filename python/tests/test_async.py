"""asyncio: await instance.wait_async()."""

import asyncio
import os
import threading

import pytest

import weft
import weft._ffi
import weft.instance
from wat import EXIT_FROM_THREAD, SPIN, TRAP_IN_THREAD


def test_wait_async_returns_the_exit_code(engine):
    async def main():
        with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
            return await inst.run_async()

    assert asyncio.run(main()) == 7


def test_wait_async_raises_traps_and_interrupts(engine):
    async def main():
        with weft.Module(engine, TRAP_IN_THREAD) as m, weft.Instance(m) as inst:
            inst.start()
            with pytest.raises(weft.Trap):
                await inst.wait_async()
        with weft.Module(engine, SPIN) as m, weft.Instance(m) as inst:
            inst.start()
            asyncio.get_running_loop().call_later(0.05, inst.interrupt)
            with pytest.raises(weft.Interrupted):
                await inst.wait_async()

    asyncio.run(main())


def test_many_programs_awaited_at_once(engine):
    async def main():
        with weft.Module(engine, EXIT_FROM_THREAD) as m:
            insts = [weft.Instance(m) for _ in range(8)]
            try:
                return await asyncio.gather(*(i.run_async() for i in insts))
            finally:
                for i in insts:
                    i.close()

    assert asyncio.run(main()) == [7] * 8


def test_wait_async_can_be_cancelled(engine):
    async def main():
        with weft.Module(engine, SPIN) as m, weft.Instance(m) as inst:
            inst.start()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(inst.wait_async(), 0.1)
            assert inst.poll() is None  # still running
            inst.interrupt()
            with pytest.raises(weft.Interrupted):
                await inst.wait_async()

    asyncio.run(main())


def test_wait_async_before_start(engine):
    async def main():
        with weft.Module(engine, SPIN) as m, weft.Instance(m) as inst:
            with pytest.raises(weft.StateError):
                await inst.wait_async()

    asyncio.run(main())


class _FakeCompletionFd:
    """Stands in for weft_instance_completion_fd on libraries without it: a
    pipe made readable by a thread once the outcome is decided."""

    def __init__(self):
        self.fds = []
        self.threads = []

    def __call__(self, ptr, fd_out):
        r, w = os.pipe()
        self.fds += [r, w]
        inst = next(i for i in weft.instance._live if i._ptr == ptr)

        def signal():
            try:
                while inst._wait_ms(50, interruptible=False) is None:
                    pass
            except weft.WeftError:
                pass
            os.write(w, b"x")

        t = threading.Thread(target=signal, daemon=True)
        t.start()
        self.threads.append(t)
        fd_out._obj.value = r
        return None


def test_wait_async_on_a_completion_fd(engine, monkeypatch):
    fake = _FakeCompletionFd()
    monkeypatch.setattr(weft.instance, "completion_fd_available", lambda: True)
    monkeypatch.setattr(weft._ffi.lib, "weft_instance_completion_fd", fake, raising=False)

    async def main():
        with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
            code = await inst.run_async()
        with weft.Module(engine, SPIN) as m, weft.Instance(m) as inst:
            inst.start()
            asyncio.get_running_loop().call_later(0.05, inst.interrupt)
            with pytest.raises(weft.Interrupted):
                await inst.wait_async()
        with weft.Module(engine, SPIN) as m:
            inst = weft.Instance(m)
            inst.start()
            task = asyncio.ensure_future(inst.wait_async())
            await asyncio.sleep(0.05)
            inst.close()  # a pending await ends with an error, not a hang
            with pytest.raises(weft.StateError):
                await task
        return code

    try:
        assert asyncio.run(main()) == 7
    finally:
        for t in fake.threads:
            t.join(10)
        for fd in fake.fds:
            os.close(fd)


@pytest.mark.skipif(not weft.completion_fd_available(),
                    reason="the loaded libweft has no weft_instance_completion_fd (wait_async uses a thread)")
def test_real_completion_fd(engine):
    async def main():
        with weft.Module(engine, EXIT_FROM_THREAD) as m, weft.Instance(m) as inst:
            return await inst.run_async()

    assert asyncio.run(main()) == 7
