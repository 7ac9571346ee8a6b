"""The build hook: without WEFT_PREBUILT_LIBRARY it runs cargo and bundles its output."""

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import weft

PACKAGE = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (PACKAGE.parent / "Cargo.toml").exists(), reason="not in a checkout")
def test_wheel_built_with_cargo(tmp_path):
    # A stand-in cargo that "builds" by copying the library this suite uses.
    fake = tmp_path / "bin" / "cargo"
    fake.parent.mkdir()
    log = tmp_path / "cargo-args"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{log}"\n'
        'mkdir -p "$CARGO_TARGET_DIR/release"\n'
        'echo not-really-a-library > "$CARGO_TARGET_DIR/release/libweft.so"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k != "WEFT_PREBUILT_LIBRARY"}
    env["PATH"] = f"{fake.parent}{os.pathsep}{env.get('PATH', '')}"
    env["CARGO_TARGET_DIR"] = str(tmp_path / "target")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(PACKAGE)],
        env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0 and "No matching distribution" in proc.stderr:
        pytest.skip("PyPI (hatchling) is not reachable")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().split() == ["build", "--release", "--lib", "--locked"]
    (wheel,) = (tmp_path / "dist").glob("weft-*-py3-none-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert "weft/libweft.so" in z.namelist()
        assert "weft/py.typed" in z.namelist()


def load_hook(monkeypatch, root):
    """hatch_build.CustomBuildHook with a stand-in for hatchling's base class."""
    import importlib.util
    import types

    for name in ("hatchling", "hatchling.builders", "hatchling.builders.hooks", "hatchling.builders.hooks.plugin"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    iface = types.ModuleType("hatchling.builders.hooks.plugin.interface")

    class BuildHookInterface:
        def __init__(self, root, target_name):
            self.root, self.target_name = root, target_name
            self.app = types.SimpleNamespace(display_info=lambda *a: None)

    iface.BuildHookInterface = BuildHookInterface
    monkeypatch.setitem(sys.modules, iface.__name__, iface)
    spec = importlib.util.spec_from_file_location("hatch_build_under_test", PACKAGE / "hatch_build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.CustomBuildHook(str(root), "wheel")


def test_hook_with_a_prebuilt_library(monkeypatch, tmp_path):
    lib = tmp_path / "libweft.so.0"
    lib.write_bytes(b"lib")
    monkeypatch.setenv("WEFT_PREBUILT_LIBRARY", str(lib))
    data = {"force_include": {}}
    load_hook(monkeypatch, PACKAGE).initialize("standard", data)
    assert data["force_include"] == {str(lib.resolve()): "weft/libweft.so"}
    assert data["pure_python"] is False and data["tag"].startswith("py3-none-")


def test_hook_errors_are_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("WEFT_PREBUILT_LIBRARY", str(tmp_path / "absent.so"))
    with pytest.raises(RuntimeError, match="WEFT_PREBUILT_LIBRARY=.* is not a file"):
        load_hook(monkeypatch, PACKAGE).initialize("standard", {"force_include": {}})
    monkeypatch.delenv("WEFT_PREBUILT_LIBRARY")
    lonely = tmp_path / "python"  # a copy of the package without the repository around it
    lonely.mkdir()
    with pytest.raises(RuntimeError, match="no Cargo.toml .* set WEFT_PREBUILT_LIBRARY"):
        load_hook(monkeypatch, lonely).initialize("standard", {"force_include": {}})
