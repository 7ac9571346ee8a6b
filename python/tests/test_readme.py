"""The examples of python/README.md run as written and print what it says.

An example starts at ``<!-- example: NAME [cwd=repo] -->`` and runs to the next
heading. Its code blocks, in order: a block whose first line is a comment
naming a file (``// counter.c``, ``# Cargo.toml``) is written to that file;
``sh`` blocks run with bash; ``python`` blocks run with this interpreter; a
``text`` block after "Output:" must equal the Python block's stdout. Examples
run in a fresh directory (``cwd=repo``: the repository root).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple, Tuple

import pytest

from conftest import find_cargo, missing, rust_target_installed

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
REPO = HERE.parents[1]


class Example(NamedTuple):
    name: str
    in_repo: bool
    blocks: List[Tuple[str, str, bool]]  # (language, code, follows "Output:")


def examples() -> List[Example]:
    text = README.read_text()
    found = []
    for m in re.finditer(r"<!-- example: (\w+)( cwd=repo)? -->(.*?)(?=\n## |\Z)", text, re.S):
        blocks = [
            (lang, code, bool(re.search(r"Output:\s*$", before)))
            for before, lang, code in re.findall(r"([^`]*)```(\w+)\n(.*?)```", m.group(3), re.S)
        ]
        found.append(Example(m.group(1), bool(m.group(2)), blocks))
    return found


FILE_COMMENT = re.compile(r"^(?://|#) ([\w./-]+\.\w+)(?::.*)?$")


def test_readme_has_the_promised_examples():
    names = {e.name for e in examples()}
    assert {"quickstart", "pthread", "rayon", "host", "timeout", "hang", "reactor"} <= names


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.name)
def test_readme_example(example: Example, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory):
    shell = "\n".join(code for lang, code, _ in example.blocks if lang == "sh")
    env = dict(os.environ)
    if "$WASI_SDK_PATH" in shell:
        sdk = os.environ.get("WASI_SDK_PATH")
        if not sdk or not (Path(sdk) / "bin" / "clang").exists():
            missing(f"README example {example.name} needs a wasi-sdk (WASI_SDK_PATH)", "PTHREAD")
    if "cargo " in shell:
        cargo = find_cargo()
        if not cargo or not rust_target_installed(cargo):
            missing(f"README example {example.name} needs cargo and the wasm32-wasip1-threads target", "RUST")
        assert cargo
        env["PATH"] = f"{Path(cargo).parent}{os.pathsep}{env.get('PATH', '')}"
        # Keep cargo's output between runs (a rayon build takes a while).
        cache = os.environ.get("WEFT_TEST_CARGO_TARGET_DIR")
        target = Path(cache) / f"readme-{example.name}" if cache else tmp_path_factory.mktemp("readme-target")
        target.mkdir(parents=True, exist_ok=True)
        (tmp_path / "target").symlink_to(target)
    cwd = REPO if example.in_repo else tmp_path
    ran_python = False
    expected_output = None
    actual_output = None
    for lang, code, is_output in example.blocks:
        first = code.splitlines()[0] if code else ""
        named = FILE_COMMENT.match(first)
        if lang == "text" and is_output:
            expected_output = code
            assert actual_output is not None, f"{example.name}: Output block before any Python block"
            assert actual_output == expected_output
            continue
        if named and lang != "sh":
            path = tmp_path / named.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        if lang == "sh":
            proc = subprocess.run(["bash", "-euc", code], cwd=cwd, env=env, capture_output=True, text=True)
            assert proc.returncode == 0, f"{example.name}: {code}\n{proc.stdout}{proc.stderr}"
        elif lang == "python":
            proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                                  text=True, timeout=300)
            assert proc.returncode == 0, f"{example.name}:\n{proc.stdout}{proc.stderr}"
            actual_output = proc.stdout
            ran_python = True
    assert ran_python, f"example {example.name} has no Python block"
    assert expected_output is not None, f"example {example.name} shows no Output"


def test_install_commands_are_the_real_ones():
    text = README.read_text()
    assert "pip install ./python" in text
    assert "WEFT_PREBUILT_LIBRARY=build/lib/libweft.so.0 pip install ./python" in text
    assert shutil.which("bash")
