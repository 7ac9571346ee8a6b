"""Runs the Python package's test suite the way a user would get it.

Creates a fresh virtual environment, ``pip install``s this directory into it
(bundling the library named by ``--library``, so nothing is compiled twice),
installs pytest from PyPI and runs ``tests/`` with the venv's interpreter from
outside the source tree, so the tests import the installed package. CMake
registers this as the ctest ``python_pytest``::

    python3 python/run_tests.py --venv build/python/venv --library build/lib/libweft.so.0

Extra arguments after ``--`` go to pytest. Exit status: pytest's, except that
"no tests collected" (pytest's 5) is reported as a failure with a message.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def step(what: str, cmd: list, **kw: object) -> None:
    start = time.monotonic()
    print(f"[python_pytest] {what}: {' '.join(map(str, cmd))}", flush=True)
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]
    print(f"[python_pytest] {what} took {time.monotonic() - start:.1f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--venv", required=True, type=Path, help="where to create the virtual environment")
    ap.add_argument("--library", required=True, type=Path, help="the built libweft.so to bundle")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    opts = ap.parse_args()

    start = time.monotonic()
    print(f"[python_pytest] creating a fresh venv in {opts.venv}", flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(opts.venv)
    py = opts.venv / "bin" / "python"
    env = {**os.environ, "WEFT_PREBUILT_LIBRARY": str(opts.library.resolve()), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("WEFT_LIBRARY", None)  # the tests must find the bundled library by themselves
    env.pop("PYTHONPATH", None)
    step("pip install the package", [py, "-m", "pip", "install", "-q", str(HERE)], env=env)
    step("pip install pytest", [py, "-m", "pip", "install", "-q", "pytest>=7"], env=env)
    env.pop("WEFT_PREBUILT_LIBRARY")
    # Run from the venv directory: `import weft` must find the installed package.
    cmd = [str(py), "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(HERE / "tests"), *opts.pytest_args]
    print(f"[python_pytest] {' '.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, cwd=opts.venv, env=env).returncode
    print(f"[python_pytest] total {time.monotonic() - start:.1f} s", flush=True)
    if rc == 5:
        print("[python_pytest] FAILED: pytest collected no tests", flush=True)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
