//! wasm-smith modules with every WebAssembly proposal Wasmtime 48 enables by
//! default (exception handling, GC, typed function references, tail calls,
//! memory64, multi-memory, threads, relaxed SIMD, extended constants), with
//! a shared memory and `thread-spawn` to use, through weft's load-time
//! rewrite; valid ones are instantiated and run with a short timeout. Any
//! panic, abort, hang or module weft's rewrite makes invalid is a bug.
//!
//! ```text
//! cargo +nightly fuzz run smith_load_and_run -- -max_total_time=60
//! ```
//!
//! On stable Rust, `cargo test --test bad_input` runs the same generator
//! (and `cargo test --lib smith` the rewrite alone, every output validated).
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use weft::runtime::{Config, Engine, ErrorKind, HostFuncs, Instance, Program};
use weft::wasi::{Stdio, WasiConfig};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(&Config {
            timeout: Some(Duration::from_millis(50)),
            max_threads: 8,
            max_memory: Some(16 << 20),
            ..Config::default()
        })
        .expect("engine")
    })
}

fn module(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    static IMPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    let imports = IMPORTS.get_or_init(|| {
        wat::parse_str(
            r#"(module
              (import "wasi" "thread-spawn" (func (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
              (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
              (import "env" "memory" (memory 1 16 shared)))"#,
        )
        .expect("imports")
    });
    let mut config = wasm_smith::Config {
        available_imports: Some(imports.clone()),
        ..wasm_smith::Config::default()
    };
    config.threads_enabled = true;
    config.gc_enabled = true;
    config.reference_types_enabled = true;
    config.exceptions_enabled = true;
    config.tail_call_enabled = true;
    config.memory64_enabled = true;
    config.relaxed_simd_enabled = true;
    config.extended_const_enabled = true;
    config.max_memories = 4;
    config.compact_imports_enabled = false;
    config.wide_arithmetic_enabled = false;
    config.custom_page_sizes_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.max_memory32_bytes = 16 << 16;
    config.max_memory64_bytes = 16 << 16;
    config.max_instructions = 300;
    Ok(wasm_smith::Module::new(config, u)?.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = module(&mut Unstructured::new(data)) else {
        return;
    };
    let program = match Program::from_bytes(engine(), &bytes) {
        Ok(p) => p,
        // The generator only makes valid modules: weft may refuse one (a
        // memory threads cannot share, a Wasmtime limit), but its rewrite
        // must never be what breaks it.
        Err(e) => {
            assert!(
                !(e.kind() == ErrorKind::Compile && e.message().contains("weft's stop checks")),
                "{e}"
            );
            return;
        }
    };
    let mut wasi = WasiConfig::new();
    wasi.stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    let Ok(instance) = Instance::new(&program, &wasi, &HostFuncs::new()) else {
        return;
    };
    if program.is_command() {
        let _ = instance.run();
    }
});
