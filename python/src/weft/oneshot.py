"""``weft.run``: compile, configure and run a program in one call."""

from __future__ import annotations

import os
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence, Union

from ._text import StrPath, fs_path
from .engine import Config, Engine
from .host import HostFuncs
from .instance import Instance
from .module import Module
from .wasi import CAPTURE, DirSpec, ParallelismSpec, StdioSpec, WasiConfig


class Completed(NamedTuple):
    """What :func:`weft.run` returns: the exit code and, when captured, the output."""

    exit_code: int
    stdout: Optional[bytes]
    stderr: Optional[bytes]


def run(
    program: Union[StrPath, Module],
    args: Sequence[str] = (),
    *,
    dirs: Iterable[DirSpec] = (),
    env: Optional[Mapping[str, str]] = None,
    inherit_env: bool = False,
    argv0: Optional[str] = None,
    stdin: Optional[StdioSpec] = None,
    stdout: Optional[StdioSpec] = None,
    stderr: Optional[StdioSpec] = None,
    capture_output: bool = False,
    timeout: Optional[float] = None,
    max_threads: Optional[int] = None,
    max_memory: Optional[int] = None,
    tcp_listeners: Iterable[str] = (),
    host: Optional[HostFuncs] = None,
    parallelism: ParallelismSpec = None,
) -> Completed:
    """Runs a ``.wasm``/``.wat`` file (or a compiled :class:`weft.Module`) to its end.

    ``args`` are the program's arguments; ``argv[0]`` is ``argv0`` (default:
    the file's name). ``dirs`` are preopened directories (paths, ``(host,
    guest)`` tuples or :class:`weft.Dir`); ``capture_output=True`` captures
    stdout and stderr into the result. ``parallelism`` (``"host"`` or a
    number) tells the guest's thread pools how many threads to start
    (:meth:`weft.WasiConfig.set_parallelism`). Returns :class:`Completed`; a trap,
    a timeout (``timeout`` seconds) or an interrupt raises as
    :meth:`weft.Instance.run` does. ::

        result = weft.run("prog.wasm", ["--fast"], dirs=["."], capture_output=True)
        print(result.exit_code, result.stdout)
    """
    if isinstance(args, (str, bytes)):
        raise TypeError("args must be a sequence of str, not a single string")
    if capture_output:
        if stdout is not None or stderr is not None:
            raise ValueError("capture_output cannot be combined with stdout or stderr")
        stdout = stderr = CAPTURE
    if isinstance(program, Module):
        if timeout is not None or max_threads is not None or max_memory is not None:
            raise ValueError("timeout, max_threads and max_memory belong to the module's engine: "
                             "pass a path, or set them in the engine's weft.Config")
        name = argv0 if argv0 is not None else "main.wasm"
        module = program.clone()
    else:
        raw = fs_path(program, "program")
        name = argv0 if argv0 is not None else os.path.basename(raw).decode("utf-8", "replace")
        with Config(timeout=timeout, max_threads=max_threads, max_memory=max_memory) as config, \
                Engine(config) as engine:
            module = Module.from_file(engine, program)
    with module, WasiConfig(
        args=[name, *args], env=env, inherit_env=inherit_env, dirs=dirs, tcp_listeners=tcp_listeners,
        stdin=stdin, stdout=stdout, stderr=stderr, parallelism=parallelism,
    ) as wasi, Instance(module, wasi, host) as instance:
        code = instance.run()
        captured = stdout is CAPTURE, stderr is CAPTURE
        return Completed(
            code,
            instance.stdout if captured[0] else None,
            instance.stderr if captured[1] else None,
        )
