"""Hatchling build hook: puts libweft into the wheel, which becomes a platform wheel.

The library comes from, in order:
* ``$WEFT_PREBUILT_LIBRARY``: a built ``libweft.so`` (CMake's ``build/lib/libweft.so.0``
  or cargo's ``target/release/libweft.so``); nothing is compiled;
* otherwise ``cargo build --release --lib --locked`` in the repository that holds
  this directory (honouring ``$CARGO_TARGET_DIR``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LIB_NAME = "libweft.dylib" if sys.platform == "darwin" else "libweft.so"


def _platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: Dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        library = self._library()
        if version == "editable":
            # Editable installs import from src/: put the library there.
            dest = Path(self.root) / "src" / "weft" / LIB_NAME
            shutil.copyfile(library, dest)
        else:
            build_data["force_include"][str(library)] = f"weft/{LIB_NAME}"
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{_platform_tag()}"

    def _library(self) -> Path:
        prebuilt = os.environ.get("WEFT_PREBUILT_LIBRARY")
        if prebuilt:
            path = Path(prebuilt)
            if not path.is_file():
                raise RuntimeError(f"WEFT_PREBUILT_LIBRARY={prebuilt!r} is not a file")
            return path.resolve()
        repo = Path(self.root).resolve().parent
        if not (repo / "Cargo.toml").is_file():
            raise RuntimeError(
                "weft: no Cargo.toml next to the python/ directory, so libweft cannot be "
                "built; set WEFT_PREBUILT_LIBRARY to a built libweft.so"
            )
        cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
        target = Path(os.environ.get("CARGO_TARGET_DIR", repo / "target"))
        self.app.display_info(f"weft: cargo build --release --lib (target dir {target})")
        subprocess.run(
            [cargo, "build", "--release", "--lib", "--locked"],
            cwd=repo,
            check=True,
            env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        )
        return target / "release" / LIB_NAME
