"""WebAssembly feature switches from Python: Config(wasm_features=...),
Config.set_wasm_feature/wasm_feature, weft.wasm_feature_names(); a module that
uses a switched-off proposal raises CompileError naming the switch; every
proposal's WAT test (c-tests/guests/wat/features, several threads) runs."""

from pathlib import Path

import pytest

import weft

FEATURES = Path(__file__).resolve().parents[2] / "c-tests" / "guests" / "wat" / "features"
PROPOSALS = [
    "simd", "relaxed-simd", "bulk-memory", "multi-value", "reference-types", "tail-call",
    "multi-memory", "memory64", "extended-const", "function-references", "gc", "exceptions",
    "threads", "wide-arithmetic", "custom-page-sizes",
]


def feature_wat(name: str) -> Path:
    path = FEATURES / f"{name}.wat"
    if not path.exists():
        pytest.skip(f"{path} is not next to this checkout")
    return path


def test_names_and_defaults():
    names = weft.wasm_feature_names()
    assert names[:3] == ["simd", "relaxed-simd", "bulk-memory"]
    assert names[-1] == "all-proposals" and "shared-memory" in names
    with weft.Config() as c:
        assert c.wasm_feature("exceptions") and c.wasm_feature("gc") and c.wasm_feature("threads")
        assert not c.wasm_feature("wide-arithmetic") and not c.wasm_feature("all-proposals")


def test_switches_and_refusals():
    c = weft.Config(wasm_features="exceptions=n,gc=n")
    assert not c.wasm_feature("exceptions") and not c.wasm_feature("gc")
    c.set_wasm_features({"exceptions": True, "wide-arithmetic": True})
    assert c.wasm_feature("exceptions") and c.wasm_feature("wide-arithmetic")
    c.set_wasm_feature("gc", True)
    with pytest.raises(weft.InvalidArgumentError, match=r'unknown WebAssembly feature "exception"; known: simd, .*all-proposals'):
        c.set_wasm_feature("exception", True)
    with pytest.raises(weft.InvalidArgumentError, match="cannot be switched off"):
        c.set_wasm_feature("threads", False)
    with pytest.raises(weft.InvalidArgumentError, match="cannot be switched off"):
        weft.Config(wasm_features={"shared-memory": False})
    with pytest.raises(weft.InvalidArgumentError, match="use y or n"):
        c.set_wasm_features("gc=maybe")
    with pytest.raises(TypeError):
        c.set_wasm_feature("gc", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.set_wasm_features(["gc"])  # type: ignore[arg-type]
    with pytest.raises(weft.InvalidArgumentError):
        c.wasm_feature("nope")
    assert c.wasm_feature("gc")
    c.set_wasm_features("simd=n")
    with pytest.raises(weft.InvalidArgumentError, match='"relaxed-simd" needs "simd"'):
        weft.Engine(c)
    c.close()


def run_ok(engine: weft.Engine, wat: Path) -> None:
    module = weft.Module.from_file(engine, wat)
    result = weft.run(module, capture_output=True)
    assert result.exit_code == 0 and result.stdout == b"ok\n", result


def test_all_proposals_switches_every_proposal_but_threads():
    # On: every proposal, the default-off ones included, which then run.
    with weft.Config(wasm_features="all-proposals", timeout=120) as c:
        assert c.wasm_feature("all-proposals")
        assert all(c.wasm_feature(name) for name in PROPOSALS + ["shared-memory"])
        with weft.Engine(c) as engine:
            for name in ("wide-arithmetic", "custom-page-sizes"):
                run_ok(engine, feature_wat(name))
    # Off: every proposal but threads and shared memory, which weft always
    # runs: a threaded module still runs, one with exceptions is refused.
    with weft.Config(wasm_features={"all-proposals": False}, timeout=120) as c:
        assert c.wasm_feature("threads") and c.wasm_feature("shared-memory")
        assert not any(c.wasm_feature(name) for name in PROPOSALS if name != "threads")
        assert not c.wasm_feature("all-proposals")
        with weft.Engine(c) as engine:
            run_ok(engine, feature_wat("threads"))
            with pytest.raises(weft.CompileError) as info:
                weft.Module.from_file(engine, feature_wat("exceptions"))
        assert (
            "the module uses the reference-types and exceptions proposals, which are switched off "
            "(turn them on with weft-run -W reference-types=y,exceptions=y" in str(info.value)
        )
        c.set_wasm_feature("all-proposals", True)
        assert c.wasm_feature("all-proposals") and c.wasm_feature("exceptions")


def test_shared_memory_can_be_switched_on():
    # What wasmtime run 46 command lines pass for wasi-threads guests
    # (-W threads=y,shared-memory=y): accepted as what weft always does.
    with weft.Config(wasm_features="threads=y,shared-memory=y", timeout=120) as c:
        c.set_wasm_feature("shared-memory", True)
        c.set_wasm_features({"shared-memory": True, "threads": True})
        assert c.wasm_feature("shared-memory") and c.wasm_feature("threads")
        with weft.Engine(c) as engine:
            run_ok(engine, feature_wat("threads"))


@pytest.mark.parametrize("name", PROPOSALS)
def test_every_proposal_runs_and_is_refused_when_off(name: str):
    wat = feature_wat(name)
    with weft.Engine(weft.Config(wasm_features={name: True}, timeout=120)) as engine:
        module = weft.Module.from_file(engine, wat)
        result = weft.run(module, capture_output=True)
        assert result.exit_code == 0 and result.stdout == b"ok\n", result
    if name == "threads":
        return
    off = {name: False}
    if name == "simd":
        off["relaxed-simd"] = False
    with weft.Engine(weft.Config(wasm_features=off)) as engine:
        with pytest.raises(weft.CompileError) as info:
            weft.Module.from_file(engine, wat)
    assert f"the module uses the {name} proposal, which is switched off (turn it on with weft-run -W {name}=y" in str(info.value)


def test_an_uncaught_exception_is_a_trap_of_its_thread():
    wat = FEATURES.parent / "uncaught_in_thread.wat"
    if not wat.exists():
        pytest.skip(f"{wat} is not next to this checkout")
    with pytest.raises(weft.Trap) as info:
        weft.run(str(wat), capture_output=True, timeout=60)
    assert info.value.tid >= 1
    assert "uncaught exception: thrown Wasm exception (i32 42)" in str(info.value)
