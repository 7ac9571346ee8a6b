//! The WebAssembly feature switches from Rust (`Config::wasm_features`,
//! `Config::set_wasm_feature`): every proposal's WAT test
//! (c-tests/guests/wat/features, run from several threads) runs with its
//! switch on and is refused with it off, the error naming the switch; the
//! defaults are `wasmtime run` 48's; `weft::embed` engines take the same
//! switches.

mod common;

use common::*;
use weft::runtime::{Config, Engine, ErrorKind, Outcome, Program, WasmFeatures};

/// Every `-W` name with a test file, and whether it is on by default.
const PROPOSALS: &[(&str, bool)] = &[
    ("simd", true),
    ("relaxed-simd", true),
    ("bulk-memory", true),
    ("multi-value", true),
    ("reference-types", true),
    ("tail-call", true),
    ("multi-memory", true),
    ("memory64", true),
    ("extended-const", true),
    ("function-references", true),
    ("gc", true),
    ("exceptions", true),
    ("threads", true),
    ("wide-arithmetic", false),
    ("custom-page-sizes", false),
];

fn wat(name: &str) -> Vec<u8> {
    std::fs::read(root().join(format!("c-tests/guests/wat/features/{name}.wat"))).unwrap()
}

fn load(config: &Config, bytes: &[u8]) -> Result<Program, weft::runtime::Error> {
    Program::from_bytes(&Engine::new(config)?, bytes)
}

#[test]
fn the_table_is_the_one_documented() {
    let names: Vec<&str> = WasmFeatures::names().collect();
    let mut want: Vec<&str> = PROPOSALS.iter().map(|p| p.0).collect();
    want.insert(13, "shared-memory");
    assert_eq!(names, want);
    let d = WasmFeatures::default();
    for &(name, on) in PROPOSALS {
        assert_eq!(d.get(name).unwrap(), on, "{name}");
    }
    // The README's table lists every switch with its default.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for name in WasmFeatures::names() {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("README has no row for {name}"));
        let on = d.get(name).unwrap();
        assert!(row.contains(if on { "| on |" } else { "| off |" }), "{row}");
    }
}

#[test]
fn every_proposal_runs_from_several_threads_and_is_refused_when_off() {
    for &(name, default) in PROPOSALS {
        let bytes = wat(name);
        let mut config = Config::default();
        config.set_wasm_feature(name, true).unwrap();
        let program = load(&config, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let inst = weft::runtime::Instance::new(
            &program,
            &captured(&[]),
            &weft::runtime::HostFuncs::new(),
        )
        .unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(0), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&inst.wasi().captured_stdout()),
            "ok\n",
            "{name}"
        );
        assert_all_threads_stopped(&inst, name);

        let mut off = Config::default();
        if name == "threads" {
            let e = off.set_wasm_feature(name, false).unwrap_err();
            assert!(e.message().contains("cannot be switched off"), "{e}");
            continue;
        }
        if default {
            off.set_wasm_feature(name, false).unwrap();
        }
        if name == "simd" {
            off.set_wasm_feature("relaxed-simd", false).unwrap();
        }
        let e = load(&off, &bytes)
            .err()
            .unwrap_or_else(|| panic!("{name}: loaded while off"));
        assert_eq!(e.kind(), ErrorKind::Compile, "{name}: {e}");
        assert!(
            e.message().contains(&format!(
                "the module uses the {name} proposal, which is switched off (turn it on with \
                 weft-run -W {name}=y, or with set_wasm_feature(\"{name}\", true)"
            )),
            "{name}: {e}"
        );
    }
}

#[test]
fn defaults_accept_what_wasmtime_48_accepts_and_weft_46_refused() {
    // An externref table needs wasmparser's GC types, which weft lacked
    // before the `gc` cargo feature.
    let r = run_bytes(
        br#"(module (table 1 externref) (func (export "_start")
              (drop (table.grow 0 (ref.null extern) (i32.const 1)))))"#,
        &captured(&[]),
    );
    assert_eq!(r.outcome, Outcome::Exit(0));
}

#[test]
fn the_compiled_module_depends_on_the_switches() {
    // A serialized module of one set does not load into an engine of
    // another (Wasmtime checks its own features; weft's cache key adds
    // the switches Wasmtime does not see, tested in program::cache).
    let bytes = wat("exceptions");
    let program = load(&Config::default(), &bytes).unwrap();
    let serialized = program.serialize().unwrap();
    let mut off = Config::default();
    off.set_wasm_feature("exceptions", false).unwrap();
    let engine = Engine::new(&off).unwrap();
    // SAFETY: the bytes come from `serialize` just above.
    let e = unsafe { Program::deserialize(&engine, &serialized) }
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Compile, "{e}");
}

#[test]
fn multi_memory_off_refuses_compiled_modules_too() {
    // Wasmtime keeps multi-memory on for weft's stop memory, so it does not
    // refuse a serialized or compiled module with two memories by itself.
    let bytes = wat("multi-memory");
    let serialized = load(&Config::default(), &bytes)
        .unwrap()
        .serialize()
        .unwrap();
    let mut off = Config::default();
    off.set_wasm_feature("multi-memory", false).unwrap();
    let engine = Engine::new(&off).unwrap();
    // SAFETY: the bytes come from `serialize` just above.
    let e = unsafe { Program::deserialize(&engine, &serialized) }
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Compile, "{e}");
    assert!(e.message().contains("multi-memory=y"), "{e}");
    let module = wasmtime::Module::new(engine.wasmtime(), &bytes).unwrap();
    let e = Program::from_module(&engine, module)
        .err()
        .expect("refused");
    assert!(e.message().contains("multi-memory=y"), "{e}");
    // One memory (and weft's own stop memory) is fine with it off.
    let one = load(&Config::default(), &wat("threads")).unwrap();
    // SAFETY: as above.
    unsafe { Program::deserialize(&engine, &one.serialize().unwrap()) }.unwrap();
}

#[test]
fn embed_engines_take_the_same_switches() {
    let mut features = WasmFeatures::default();
    features.parse("exceptions=n").unwrap();
    let mut config = wasmtime::Config::new();
    let engine =
        wasmtime::Engine::new(weft::embed::configure_features(&mut config, &features)).unwrap();
    let bytes = wat("exceptions");
    let Err(e) = weft::embed::compile(&engine, &bytes) else {
        panic!("compiled with exceptions off")
    };
    assert_eq!(e.kind(), ErrorKind::Compile);
    let e = features
        .check_module(&wat::parse_bytes(&bytes).unwrap())
        .unwrap_err();
    assert!(e.message().contains("-W exceptions=y"), "{e}");
    // With the defaults, the module compiles for an embedder.
    let engine = wasmtime::Engine::new(weft::embed::configure_features(
        &mut wasmtime::Config::new(),
        &WasmFeatures::default(),
    ))
    .unwrap();
    weft::embed::compile(&engine, &bytes).unwrap();
}

#[test]
fn waits_on_a_memory_weft_does_not_provide_stay_wasmtimes() {
    // weft makes waits on the imported shared memory stoppable (its parking
    // lot). A module without `thread-spawn` may also wait on a shared memory
    // it defines itself (32- or 64-bit, beside the imported one or alone):
    // no other thread can notify it, and the wait stays Wasmtime's own, which
    // the end of the program cannot cut short. `run` still returns (after
    // STOP_GRACE); the wait keeps its OS thread until its timeout.
    for memories in [
        "(memory $m 1 1 shared)",
        "(memory $m i64 1 1 shared)",
        r#"(import "env" "memory" (memory 1 1 shared)) (memory $m 1 1 shared)"#,
    ] {
        let addr = if memories.contains("i64") {
            "i64.const"
        } else {
            "i32.const"
        };
        let wat = format!(
            r#"(module {memories}
              (func (export "_start")
                (drop (memory.atomic.wait32 $m ({addr} 0) (i32.const 0) (i64.const 3000000000)))))"#
        );
        let config = Config {
            timeout: Some(std::time::Duration::from_millis(100)),
            ..Config::default()
        };
        let program = load(&config, wat.as_bytes()).unwrap();
        let inst = weft::runtime::Instance::new(
            &program,
            &captured(&[]),
            &weft::runtime::HostFuncs::new(),
        )
        .unwrap();
        let t = std::time::Instant::now();
        assert_eq!(inst.run().unwrap(), Outcome::TimedOut, "{memories}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert!(
            !inst.threads().threads.is_empty(),
            "{memories}: the wait was cut short"
        );
        // Its own timeout ends it.
        assert_all_threads_stopped(&inst, memories);
    }
}
