"""WasiConfig: args, env, directories, TCP listeners, standard streams."""

import os
import socket

import pytest

import weft
from wat import CAT, ECHO, HELLO


def run(engine, wat, wasi):
    with weft.Module(engine, wat) as m, weft.Instance(m, wasi) as inst:
        code = inst.run()
        return code, inst.stdout, inst.stderr


def test_args_and_env(engine):
    with weft.WasiConfig(args=["prog", "a b", "ünï"], env={"K": "V", "E": ""}, stdout=weft.CAPTURE) as w:
        w.push_arg("last")
        w.push_env("Z", "z=1")
        code, out, _ = run(engine, ECHO, w)
    assert code == 0
    args, env = out.split(b"\0", 4)[:4], out.split(b"\0")[4:]
    assert args == [b"prog", b"a b", "ünï".encode(), b"last"]
    assert env[:3] == [b"K=V", b"E=", b"Z=z=1"]


def test_inherit_env(engine, monkeypatch):
    monkeypatch.setenv("WEFT_PY_TEST_VAR", "inherited")
    with weft.WasiConfig(inherit_env=True, stdout=weft.CAPTURE) as w:
        _, out, _ = run(engine, ECHO, w)
    assert b"WEFT_PY_TEST_VAR=inherited\0" in out


def test_bad_args_and_env():
    with weft.WasiConfig() as w:
        with pytest.raises(TypeError):
            w.push_arg(b"bytes")  # type: ignore[arg-type]
        with pytest.raises(weft.InvalidArgumentError, match="UTF-8"):
            w.push_arg("\udc80")
        with pytest.raises(weft.InvalidArgumentError):
            w.push_env("A=B", "c")
        with pytest.raises(weft.InvalidArgumentError):
            w.push_env("", "c")
        with pytest.raises(TypeError):
            w.push_env("A", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.WasiConfig(args="prog")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.WasiConfig(env=[("A", "B")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        weft.WasiConfig(dirs=[42])  # type: ignore[list-item]


def test_capture_file_null_and_fd(engine, tmp_path):
    with weft.WasiConfig(stdout=tmp_path / "out.txt", stderr=weft.NULL) as w:
        code, out, err = run(engine, HELLO, w)
    assert (code, out, err) == (0, b"", b"")
    assert (tmp_path / "out.txt").read_bytes() == b"hi\n"
    with open(tmp_path / "err.txt", "wb") as f, weft.WasiConfig(stdout=weft.CAPTURE, stderr=f) as w:
        assert run(engine, HELLO, w)[1] == b"hi\n"
    assert (tmp_path / "err.txt").read_bytes() == b"oops\n"
    r, wfd = os.pipe()
    try:
        with weft.WasiConfig(stdout=wfd, stderr=weft.CAPTURE) as w:
            assert run(engine, HELLO, w)[2] == b"oops\n"
        os.close(wfd)
        wfd = -1
        assert os.read(r, 100) == b"hi\n"
    finally:
        os.close(r)
        if wfd >= 0:
            os.close(wfd)


def test_non_utf8_stdout_path(engine, tmp_path):
    raw = os.fsencode(tmp_path) + b"/out\xff.txt"
    with weft.WasiConfig(stdout=os.fsdecode(raw)) as w:
        run(engine, HELLO, w)
    with open(raw, "rb") as f:
        assert f.read() == b"hi\n"


def test_stdin_bytes_file_and_null(engine, tmp_path):
    with weft.WasiConfig(stdin=b"from bytes", stdout=weft.CAPTURE) as w:
        assert run(engine, CAT, w)[1] == b"from bytes"
    (tmp_path / "in.txt").write_bytes(b"from a file\n")
    with weft.WasiConfig(stdin=tmp_path / "in.txt", stdout=weft.CAPTURE) as w:
        assert run(engine, CAT, w)[1] == b"from a file\n"
    with weft.WasiConfig(stdin=weft.NULL, stdout=weft.CAPTURE) as w:
        assert run(engine, CAT, w)[1] == b""


def test_bad_stdio():
    with weft.WasiConfig() as w:
        with pytest.raises(weft.InvalidArgumentError):
            w.set_stdin(weft.CAPTURE)  # capture is for output
        with pytest.raises(TypeError):
            w.set_stdout(b"bytes are stdin data, not a path")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            w.set_stdout(True)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            w.set_stderr(1.5)  # type: ignore[arg-type]
        with pytest.raises(weft.IoError):
            w.set_stdout(987654)  # not an open descriptor
        with pytest.raises(OverflowError):
            w.set_stdout(2**40)


def test_missing_stdout_directory_fails_at_instantiation(engine, tmp_path):
    with weft.WasiConfig(stdout=tmp_path / "no" / "such" / "dir" / "out") as w:
        with pytest.raises(weft.IoError):
            run(engine, HELLO, w)


def test_preopen_dirs_and_errors(engine, tmp_path):
    with weft.WasiConfig() as w:
        w.preopen_dir(tmp_path, "/data")
        w.preopen_dir(str(tmp_path), read_only=True)
        w.preopen_dir(os.fsencode(tmp_path), ".")
        with pytest.raises(weft.InvalidArgumentError, match="UTF-8"):
            w.preopen_dir(os.fsencode(tmp_path) + b"/\xff", "/x")
        with pytest.raises(weft.InvalidArgumentError):
            w.preopen_dir("", "/x")
        with pytest.raises(TypeError):
            w.preopen_dir(tmp_path, "/x", read_only="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            w.preopen_dir(tmp_path, 5)  # type: ignore[arg-type]
        with weft.Module(engine, HELLO) as m:
            weft.Instance(m, w).close()
    with weft.WasiConfig(dirs=[tmp_path / "absent"]) as w, weft.Module(engine, HELLO) as m:
        with pytest.raises(weft.IoError):
            weft.Instance(m, w)


def test_tcp_listener():
    with weft.WasiConfig(tcp_listeners=["127.0.0.1:0"]) as w:
        w.preopen_tcp_listener("127.0.0.1:0")
        with pytest.raises(weft.InvalidArgumentError):
            w.preopen_tcp_listener("not an address")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        with weft.WasiConfig() as w, pytest.raises(weft.IoError):
            w.preopen_tcp_listener("127.0.0.1:%d" % s.getsockname()[1])
    finally:
        s.close()


def test_use_after_close():
    w = weft.WasiConfig()
    w.close()
    for call in (lambda: w.push_arg("x"), w.inherit_env, lambda: w.set_stdout(weft.CAPTURE),
                 lambda: w.preopen_dir(".", ".")):
        with pytest.raises(weft.ClosedError):
            call()


def guest_env(engine, wasi):
    """The environment ECHO sees (its args are ["p"])."""
    code, out, _ = run(engine, ECHO, wasi)
    assert code == 0
    return [e.decode() for e in out.split(b"\0")[1:-1]]


def test_parallelism_is_off_by_default(engine):
    with weft.WasiConfig(args=["p"], env={"A": "1"}, stdout=weft.CAPTURE) as w:
        assert guest_env(engine, w) == ["A=1"]
    for none in (None, "none"):
        with weft.WasiConfig(args=["p"], env={"A": "1"}, stdout=weft.CAPTURE, parallelism=none) as w:
            assert guest_env(engine, w) == ["A=1"]


def test_parallelism_fixed_and_host(engine):
    with weft.WasiConfig(args=["p"], env={"A": "1"}, stdout=weft.CAPTURE, parallelism=3) as w:
        assert guest_env(engine, w) == ["A=1", "RAYON_NUM_THREADS=3", "OMP_NUM_THREADS=3"]
    n = weft.host_parallelism()
    assert n >= 1
    with weft.WasiConfig(args=["p"], stdout=weft.CAPTURE, parallelism="host") as w:
        assert guest_env(engine, w) == [f"RAYON_NUM_THREADS={n}", f"OMP_NUM_THREADS={n}"]


def test_parallelism_capped_by_max_threads():
    with weft.Config(max_threads=2) as c, weft.Engine(c) as engine:
        with weft.WasiConfig(args=["p"], stdout=weft.CAPTURE) as w:
            w.set_parallelism(3)
            assert guest_env(engine, w) == ["RAYON_NUM_THREADS=2", "OMP_NUM_THREADS=2"]


def test_parallelism_yields_to_the_embedders_variables(engine, monkeypatch):
    env = {"RAYON_NUM_THREADS": "1"}
    with weft.WasiConfig(args=["p"], env=env, stdout=weft.CAPTURE, parallelism=3) as w:
        assert guest_env(engine, w) == ["RAYON_NUM_THREADS=1", "OMP_NUM_THREADS=3"]
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("RAYON_NUM_THREADS", raising=False)
    with weft.WasiConfig(args=["p"], inherit_env=True, stdout=weft.CAPTURE, parallelism=3) as w:
        seen = guest_env(engine, w)
    assert "OMP_NUM_THREADS=7" in seen and "OMP_NUM_THREADS=3" not in seen
    assert seen[-1] == "RAYON_NUM_THREADS=3"


def test_bad_parallelism():
    with weft.WasiConfig() as w:
        # The core's rule, in the core's words (as from C and Rust).
        with pytest.raises(weft.InvalidArgumentError, match="^parallelism must be at least 1 thread$"):
            w.set_parallelism(0)
        with pytest.raises(OverflowError):
            w.set_parallelism(-1)
        with pytest.raises(OverflowError):
            w.set_parallelism(2**32)
        for bad in ("lots", "HOST", True, 2.0):
            with pytest.raises(TypeError):
                w.set_parallelism(bad)  # type: ignore[arg-type]
    with pytest.raises(weft.InvalidArgumentError):
        weft.WasiConfig(parallelism=0)


def test_run_passes_parallelism(tmp_path):
    path = tmp_path / "echo.wat"
    path.write_text(ECHO)
    result = weft.run(path, parallelism=2, argv0="p", capture_output=True)
    assert result.stdout.split(b"\0")[1:-1] == [b"RAYON_NUM_THREADS=2", b"OMP_NUM_THREADS=2"]
