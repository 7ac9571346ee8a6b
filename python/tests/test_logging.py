"""weft's log records reach Python's logging."""

import logging

import pytest

import weft
from wat import HELLO


def test_log_records_reach_logging(engine, caplog):
    caplog.set_level(5, logger="weft")
    weft.enable_logging(logging.DEBUG)
    try:
        with weft.Module(engine, HELLO) as m, weft.Instance(m, weft.WasiConfig(stdout=weft.NULL)) as inst:
            assert inst.run() == 0
    finally:
        weft.disable_logging()
    ours = [r for r in caplog.records if r.name.startswith("weft")]
    assert any("program ended" in r.getMessage() for r in ours), [r.getMessage() for r in ours]
    assert all(r.levelno >= 5 for r in ours)


def test_enable_logging_rejects_non_levels():
    with pytest.raises(TypeError):
        weft.enable_logging("DEBUG")  # type: ignore[arg-type]
    weft.enable_logging(logging.ERROR)
    weft.disable_logging()
