"""What a guest sees: arguments, environment, directories, sockets and standard streams."""

from __future__ import annotations

import enum
import os
from typing import IO, Any, Iterable, Mapping, NamedTuple, Optional, Tuple, Union

from ._ffi import check, lib
from ._handle import Handle
from ._text import StrPath, encode_path, encode_str, fs_path, is_utf8

WEFT_STDIO_INHERIT = 0
WEFT_STDIO_NULL = 1
WEFT_STDIO_FILE = 2
WEFT_STDIO_CAPTURE = 3
WEFT_DIR_READ_ONLY = 1
WEFT_PARALLELISM_NONE = 0
WEFT_PARALLELISM_HOST = 1
WEFT_PARALLELISM_FIXED = 2

#: A parallelism hint: ``"host"``, a number of threads, or ``None``/``"none"``.
ParallelismSpec = Union[int, str, None]


class Stdio(enum.IntEnum):
    """Where a standard stream goes (besides a path, a file descriptor, a
    file object or, for stdin, ``bytes``)."""

    #: The host process's own stream (the default).
    INHERIT = WEFT_STDIO_INHERIT
    #: Reads see end of file; writes are discarded.
    NULL = WEFT_STDIO_NULL
    #: stdout/stderr only: kept in memory, read with ``Instance.stdout``/``stderr``.
    CAPTURE = WEFT_STDIO_CAPTURE


INHERIT, NULL, CAPTURE = Stdio.INHERIT, Stdio.NULL, Stdio.CAPTURE

#: A standard stream's destination.
StdioSpec = Union[Stdio, StrPath, int, IO[Any], bytes, bytearray, memoryview]


class Dir(NamedTuple):
    """A preopened directory: ``host`` path, the ``guest`` path it appears as
    (default: the same as ``host``), and whether it is read-only."""

    host: StrPath
    guest: Optional[str] = None
    read_only: bool = False


DirSpec = Union[Dir, StrPath, Tuple[Any, ...]]


def _as_dir(spec: object) -> Dir:
    if isinstance(spec, Dir):
        return spec
    if isinstance(spec, (str, bytes, os.PathLike)):
        return Dir(spec)
    if isinstance(spec, tuple) and 1 <= len(spec) <= 3:
        return Dir(*spec)
    raise TypeError(
        "a directory must be a path, a (host, guest[, read_only]) tuple or a weft.Dir, "
        f"not {type(spec).__name__}"
    )


class WasiConfig(Handle):
    """Arguments, environment, preopened directories, TCP listeners and
    standard streams; copied into each instance, so one config can serve many.

    Everything can be given to the constructor or added with the methods::

        wasi = weft.WasiConfig(args=["prog", "-v"], env={"LANG": "C"},
                               dirs=[weft.Dir("/srv/data", "/data", read_only=True)],
                               stdout=weft.CAPTURE)
        wasi.push_arg("more")

    ``args`` is the whole ``argv``, including ``argv[0]``. ``parallelism``
    tells the guest's thread pools how many threads to start
    (:meth:`set_parallelism`; default: nothing).
    """

    def __init__(
        self,
        *,
        args: Optional[Iterable[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        inherit_env: bool = False,
        dirs: Optional[Iterable[DirSpec]] = None,
        tcp_listeners: Optional[Iterable[str]] = None,
        stdin: Optional[StdioSpec] = None,
        stdout: Optional[StdioSpec] = None,
        stderr: Optional[StdioSpec] = None,
        parallelism: ParallelismSpec = None,
    ) -> None:
        super().__init__(lib.weft_wasi_config_new(), lib.weft_wasi_config_delete)
        if args is not None:
            if isinstance(args, (str, bytes)):
                raise TypeError("args must be a sequence of str, not a single string")
            for a in args:
                self.push_arg(a)
        if inherit_env:
            self.inherit_env()
        if env is not None:
            if not isinstance(env, Mapping):
                raise TypeError(f"env must be a mapping of str to str, not {type(env).__name__}")
            for name, value in env.items():
                self.push_env(name, value)
        for d in dirs or ():
            spec = _as_dir(d)
            self.preopen_dir(spec.host, spec.guest, read_only=spec.read_only)
        if tcp_listeners is not None:
            if isinstance(tcp_listeners, str):
                raise TypeError("tcp_listeners must be a sequence of addresses, not a single string")
            for address in tcp_listeners:
                self.preopen_tcp_listener(address)
        if stdin is not None:
            self.set_stdin(stdin)
        if stdout is not None:
            self.set_stdout(stdout)
        if stderr is not None:
            self.set_stderr(stderr)
        if parallelism is not None:
            self.set_parallelism(parallelism)

    def push_arg(self, arg: str) -> None:
        """Appends one argument to ``argv`` (the first one is ``argv[0]``)."""
        raw = encode_str(arg, "argument")
        with self._use() as ptr:
            check(lib.weft_wasi_config_push_arg(ptr, raw, len(raw)))

    def push_env(self, name: str, value: str) -> None:
        """Appends environment variable ``name=value``."""
        rn, rv = encode_str(name, "variable name"), encode_str(value, "variable value")
        with self._use() as ptr:
            check(lib.weft_wasi_config_push_env(ptr, rn, len(rn), rv, len(rv)))

    def inherit_env(self) -> None:
        """Makes the guest see the host process's environment (before pushed variables)."""
        with self._use() as ptr:
            check(lib.weft_wasi_config_inherit_env(ptr))

    def preopen_dir(self, host: StrPath, guest: Optional[str] = None, *, read_only: bool = False) -> None:
        """Makes host directory ``host`` visible to the guest as ``guest``
        (default: ``host`` as given). Preopens get descriptors 3, 4, … in order.
        The directory is opened by ``Instance(…)`` (:class:`weft.IoError` if it
        cannot be); a path that is not UTF-8 raises :class:`weft.InvalidArgumentError`.
        """
        rh = encode_path(host, "host directory")
        if guest is None:
            guest = rh.decode("utf-8")
        rg = encode_str(guest, "guest path")
        if not isinstance(read_only, bool):
            raise TypeError(f"read_only must be a bool, not {type(read_only).__name__}")
        flags = WEFT_DIR_READ_ONLY if read_only else 0
        with self._use() as ptr:
            check(lib.weft_wasi_config_preopen_dir(ptr, rh, len(rh), rg, len(rg), flags))

    def preopen_tcp_listener(self, address: str) -> None:
        """Binds a listening TCP socket on ``address`` (e.g. ``"127.0.0.1:8080"``)
        now and preopens it for the guest's ``sock_accept``."""
        raw = encode_str(address, "address")
        with self._use() as ptr:
            check(lib.weft_wasi_config_preopen_tcp_listener(ptr, raw, len(raw)))

    def set_stdin(self, spec: StdioSpec) -> None:
        """Sets stdin: :data:`weft.INHERIT`, :data:`weft.NULL`, ``bytes`` to read
        (then end of file), a path, a file descriptor or a file object."""
        if isinstance(spec, (bytes, bytearray, memoryview)):
            data = bytes(spec)
            with self._use() as ptr:
                check(lib.weft_wasi_config_set_stdin_bytes(ptr, data, len(data)))
            return
        self._set_stdio(0, spec)

    def set_stdout(self, spec: StdioSpec) -> None:
        """Sets stdout: :data:`weft.INHERIT`, :data:`weft.NULL`,
        :data:`weft.CAPTURE`, a path (created or truncated), a file descriptor
        or a file object (its descriptor is duplicated now)."""
        self._set_stdio(1, spec)

    def set_stderr(self, spec: StdioSpec) -> None:
        """Sets stderr, as :meth:`set_stdout`."""
        self._set_stdio(2, spec)

    def _set_stdio(self, fd: int, spec: object) -> None:
        if isinstance(spec, Stdio):
            with self._use() as ptr:
                check(lib.weft_wasi_config_set_stdio(ptr, fd, int(spec), None, 0))
            return
        if isinstance(spec, bool):
            raise TypeError("a standard stream cannot be a bool")
        if isinstance(spec, int):
            self._set_fd(fd, spec)
            return
        if isinstance(spec, (str, os.PathLike)):
            raw = fs_path(spec, "path")
            if is_utf8(raw):
                with self._use() as ptr:
                    check(lib.weft_wasi_config_set_stdio(ptr, fd, WEFT_STDIO_FILE, raw, len(raw)))
                return
            # weft takes UTF-8 paths; open other paths here and hand over the descriptor.
            flags = os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            host_fd = os.open(raw, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                self._set_fd(fd, host_fd)
            finally:
                os.close(host_fd)
            return
        fileno = getattr(spec, "fileno", None)
        if callable(fileno):
            flush = getattr(spec, "flush", None)
            if callable(flush):
                flush()
            self._set_fd(fd, int(fileno()))
            return
        raise TypeError(
            "a standard stream must be weft.INHERIT/NULL/CAPTURE, a path, a file descriptor, "
            f"a file object{' or bytes' if fd == 0 else ''}, not {type(spec).__name__}"
        )

    def _set_fd(self, fd: int, host_fd: int) -> None:
        if not -(2**31) <= host_fd < 2**31:
            raise OverflowError(f"file descriptor {host_fd} out of range")
        with self._use() as ptr:
            check(lib.weft_wasi_config_set_stdio_fd(ptr, fd, host_fd))

    def set_parallelism(self, parallelism: ParallelismSpec) -> None:
        """Sets the parallelism hint: the guest gets ``RAYON_NUM_THREADS`` and
        ``OMP_NUM_THREADS`` (each only if its environment, pushed or inherited,
        lacks it) set to ``parallelism`` threads, or with ``"host"`` to the
        number of CPUs this process may use (:func:`weft.host_parallelism`,
        read when the instance is created); ``None`` or ``"none"`` sets
        nothing (the default). The number is capped at the engine's
        ``max_threads``. ``0`` raises :class:`weft.InvalidArgumentError`.
        """
        if parallelism is None or parallelism == "none":
            mode, threads = WEFT_PARALLELISM_NONE, 0
        elif parallelism == "host":
            mode, threads = WEFT_PARALLELISM_HOST, 0
        elif isinstance(parallelism, int) and not isinstance(parallelism, bool):
            if not 0 <= parallelism < 2**32:
                raise OverflowError(f"parallelism {parallelism} out of range")
            mode, threads = WEFT_PARALLELISM_FIXED, parallelism
        else:
            raise TypeError(
                f'parallelism must be a number of threads, "host", "none" or None, not {parallelism!r}'
            )
        with self._use() as ptr:
            check(lib.weft_wasi_config_set_parallelism(ptr, mode, threads))
