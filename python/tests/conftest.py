"""Fixtures: an engine, and real guests built with the toolchains that exist.

Guests:
* ``pthread_guest``: ``guests/pthreads.c`` built with ``$WASI_SDK_PATH/bin/clang
  --target=wasm32-wasip1-threads -pthread`` (or the file ``$WEFT_TEST_PTHREAD_GUEST``);
* ``rust_guest``: ``guests/rust_threads`` built with ``cargo --target
  wasm32-wasip1-threads`` (or the file ``$WEFT_TEST_RUST_GUEST``).

Without the toolchain the tests that need it are skipped with the reason; with
``WEFT_TEST_REQUIRE_PTHREAD=1`` / ``WEFT_TEST_REQUIRE_RUST=1`` (set by the
ctest where CMake found the toolchain) a missing toolchain fails instead.
``$WEFT_TEST_CARGO`` names cargo (default: the one on ``PATH``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

import weft

HERE = Path(__file__).resolve().parent
GUESTS = HERE / "guests"

PTHREAD_FLAGS = [
    "--target=wasm32-wasip1-threads",
    "-pthread",
    "-O2",
    "-Wl,--import-memory,--export-memory,--max-memory=67108864",
]


def missing(reason: str, kind: str) -> None:
    flag = f"WEFT_TEST_REQUIRE_{kind}"
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1)")
    pytest.skip(reason)


@pytest.fixture
def engine() -> Iterator[weft.Engine]:
    with weft.Engine() as e:
        yield e


def wasi_clang() -> Path:
    sdk = os.environ.get("WASI_SDK_PATH")
    if not sdk:
        missing("no wasi-sdk: set WASI_SDK_PATH to build the wasi-libc pthread guest", "PTHREAD")
    clang = Path(sdk) / "bin" / "clang"  # type: ignore[arg-type]
    if not clang.exists():
        missing(f"no clang in WASI_SDK_PATH={sdk}", "PTHREAD")
    return clang


def build_c_guest(source: Path, out: Path, *extra: str) -> Path:
    clang = wasi_clang()
    cmd = [str(clang), *PTHREAD_FLAGS, "-Wall", "-Wextra", "-Werror", *extra, str(source), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"building {source.name} failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return out


@pytest.fixture(scope="session")
def pthread_guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``guests/pthreads.c`` as a wasi-libc pthread guest."""
    given = os.environ.get("WEFT_TEST_PTHREAD_GUEST")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("pthread") / "pthreads.wasm"
    return build_c_guest(GUESTS / "pthreads.c", out)


@pytest.fixture(scope="session")
def pthread_host_guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``guests/pthreads.c`` with its ``callback`` mode: imports ``env.host_add``."""
    given = os.environ.get("WEFT_TEST_PTHREAD_HOST_GUEST")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("pthread") / "pthreads_host.wasm"
    # host_add is imported from "env"; the linker leaves it to the host.
    return build_c_guest(GUESTS / "pthreads.c", out, "-DWITH_HOST_ADD", "-Wl,--allow-undefined")


def find_cargo() -> "str | None":
    return os.environ.get("WEFT_TEST_CARGO") or shutil.which("cargo")


def rust_target_installed(cargo: str) -> bool:
    rustc = shutil.which("rustc", path=str(Path(cargo).parent)) or shutil.which("rustc")
    if not rustc:
        return False
    sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
    return (Path(sysroot) / "lib" / "rustlib" / "wasm32-wasip1-threads").is_dir()


def cargo_target_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("WEFT_TEST_CARGO_TARGET_DIR")
    return Path(given) if given else tmp_path_factory.mktemp("cargo")


@pytest.fixture(scope="session")
def rust_guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``guests/rust_threads`` (std::thread, no crates) for wasm32-wasip1-threads."""
    given = os.environ.get("WEFT_TEST_RUST_GUEST")
    if given:
        return Path(given)
    cargo = find_cargo()
    if not cargo:
        missing("no cargo: cannot build the Rust guest", "RUST")
    assert cargo
    if not rust_target_installed(cargo):
        missing("the Rust target wasm32-wasip1-threads is not installed "
                "(rustup target add wasm32-wasip1-threads)", "RUST")
    target = cargo_target_dir(tmp_path_factory)
    cmd = [cargo, "build", "--release", "--locked", "--offline", "--target", "wasm32-wasip1-threads",
           "--target-dir", str(target)]
    proc = subprocess.run(cmd, cwd=GUESTS / "rust_threads", capture_output=True, text=True)  # type: ignore[list-item]
    if proc.returncode != 0:
        pytest.fail(f"building the Rust guest failed: {' '.join(map(str, cmd))}\n{proc.stderr}")
    return target / "wasm32-wasip1-threads" / "release" / "rust_threads.wasm"
