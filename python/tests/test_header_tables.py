"""Python's copies of the header's numbered tables match include/weft.h exactly:
the error kinds (``WEFT_ERROR_*`` = ``weft.errors.ERROR_*``, one exception
class each), the thread states (``WEFT_THREAD_*`` = ``weft.ThreadState``) and
the parallelism modes (``WEFT_PARALLELISM_*`` = ``weft.wasi.WEFT_PARALLELISM_*``)."""

import re
from pathlib import Path
from typing import Dict

import pytest

import weft
from weft import errors


def header_constants(prefix: str) -> Dict[str, int]:
    """``NAME: value`` of every ``#define WEFT_<prefix>NAME <number>`` in the header."""
    header = Path(__file__).resolve().parents[2] / "include" / "weft.h"
    if not header.exists():
        pytest.skip("include/weft.h is not next to this checkout")
    found = re.findall(rf"^#define WEFT_{prefix}([A-Z0-9_]+) (\d+)$", header.read_text(), re.M)
    assert found, f"no WEFT_{prefix}* constants in {header}"
    table = {name: int(value) for name, value in found}
    assert len(table) == len(found), f"a WEFT_{prefix}* constant is defined twice"
    return table


def test_error_kinds_match_the_header():
    header = header_constants("ERROR_")
    python = {n[len("ERROR_"):]: getattr(errors, n) for n in dir(errors) if n.startswith("ERROR_")}
    assert python == header
    for name, kind in header.items():
        cls = errors.error_class(kind)
        assert cls is not weft.WeftError and cls.KIND == kind, name


def test_thread_states_match_the_header():
    header = header_constants("THREAD_")
    assert {s.name: s.value for s in weft.ThreadState} == header


def test_parallelism_modes_match_the_header():
    from weft import wasi

    python = {n[len("WEFT_PARALLELISM_"):]: getattr(wasi, n) for n in dir(wasi) if n.startswith("WEFT_PARALLELISM_")}
    assert python == header_constants("PARALLELISM_")
