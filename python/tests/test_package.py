"""Installation and loading: the bundled library, WEFT_LIBRARY, metadata."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import weft
import weft._ffi


def test_version_matches_library():
    assert weft.library_version() == weft.__version__


def test_library_is_found_without_environment():
    # The suite runs without WEFT_LIBRARY (run_tests.py removes it) when installed.
    if os.environ.get("WEFT_LIBRARY"):
        pytest.skip("WEFT_LIBRARY is set for this run")
    path = Path(weft.library_path())
    assert path.name == weft._ffi.BUNDLED_NAME
    assert path.parent == Path(weft.__file__).parent


def test_weft_library_override(tmp_path):
    copy = tmp_path / "libweft-copy.so"
    copy.write_bytes(Path(weft.library_path()).read_bytes())
    out = subprocess.run(
        [sys.executable, "-c", "import weft; print(weft.library_path())"],
        env={**os.environ, "WEFT_LIBRARY": str(copy)}, capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == str(copy)


def test_bad_weft_library_is_an_import_error(tmp_path):
    bogus = tmp_path / "not-a-library.so"
    bogus.write_text("nope")
    out = subprocess.run(
        [sys.executable, "-c", "import weft"],
        env={**os.environ, "WEFT_LIBRARY": str(bogus)}, capture_output=True, text=True,
    )
    assert out.returncode == 1
    assert "ImportError: weft: cannot load the weft library" in out.stderr
    assert "WEFT_LIBRARY" in out.stderr


def test_py_typed_is_installed():
    assert (Path(weft.__file__).parent / "py.typed").exists()


def test_public_names_exist():
    for name in weft.__all__:
        assert hasattr(weft, name), name
    assert weft.Engine.__doc__ and weft.Instance.run.__doc__ and weft.run.__doc__


def test_release_idle_threads():
    assert weft.release_idle_threads() >= 0


def test_every_header_function_is_declared():
    header = Path(__file__).resolve().parents[2] / "include" / "weft.h"
    if not header.exists():
        pytest.skip("include/weft.h is not next to this checkout")
    import re

    names = set(re.findall(r"\b(weft_[a-z0-9_]+)\(", header.read_text()))
    declared = set(weft._ffi.SIGNATURES) | set(weft._ffi.OPTIONAL_SIGNATURES)
    assert names - declared == set(), (
        "include/weft.h has functions the Python package does not bind: declare them in "
        "python/src/weft/_ffi.py (SIGNATURES) and wrap them")


def test_package_version_follows_cargo_toml():
    repo = Path(__file__).resolve().parents[2]
    if not (repo / "Cargo.toml").exists():
        pytest.skip("not in a checkout")
    import re

    cargo = re.search(r'^version = "([^"]+)"', (repo / "Cargo.toml").read_text(), re.M).group(1)
    pyproject = re.search(r'^version = "([^"]+)"', (repo / "python" / "pyproject.toml").read_text(), re.M).group(1)
    assert cargo == pyproject == weft.__version__
