//! The rewrite over wasm-smith modules that use every proposal Wasmtime 48
//! enables by default (exception handling, GC, typed function references,
//! tail calls, memory64, multi-memory, threads on any memory, relaxed SIMD,
//! extended constants): it never panics or fails, and its output always
//! validates with Wasmtime 48's default features. Bounded in time.

use std::time::{Duration, Instant};

use wasmparser::{Validator, WasmFeatures};

use crate::runtime::program::defined_memory::import_defined_memory;
use crate::runtime::program::wait_rewrite::rewrite;

/// xorshift64: a reproducible stream of bytes for `arbitrary`.
fn bytes(seed: &mut u64, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed as u8
        })
        .collect()
}

pub(crate) fn smith_config(imports: Vec<u8>) -> wasm_smith::Config {
    let mut c = wasm_smith::Config {
        available_imports: Some(imports),
        ..wasm_smith::Config::default()
    };
    c.exceptions_enabled = true;
    c.gc_enabled = true;
    c.reference_types_enabled = true;
    c.tail_call_enabled = true;
    c.memory64_enabled = true;
    c.max_memories = 4;
    c.threads_enabled = true;
    c.relaxed_simd_enabled = true;
    c.extended_const_enabled = true;
    // Not on by default in Wasmtime 48.
    c.compact_imports_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.min_funcs = 2;
    c.max_instructions = 300;
    c
}

fn validate(bytes: &[u8]) -> Result<(), String> {
    Validator::new_with_features(WasmFeatures::WASM3)
        .validate_all(bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn every_proposal_goes_through_the_rewrite_and_stays_valid() {
    let spawns = wat::parse_str(
        r#"(module
          (import "wasi" "thread-spawn" (func (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "env" "memory" (memory 1 16 shared)))"#,
    )
    .unwrap();
    let plain = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "env" "memory" (memory 1 16 shared)))"#,
    )
    .unwrap();
    let mut seed: u64 = std::env::var("WEFT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x20_5eed);
    let started = Instant::now();
    let (mut valid, mut rewritten, mut with_eh) = (0, 0, 0);
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(4) && i < 3000 {
        i += 1;
        let data = bytes(&mut seed, 8192);
        let mut u = arbitrary::Unstructured::new(&data);
        let imports = if i % 2 == 0 { &spawns } else { &plain };
        let Ok(module) = wasm_smith::Module::new(smith_config(imports.clone()), &mut u) else {
            continue;
        };
        let input = module.to_bytes();
        if validate(&input).is_err() {
            continue;
        }
        valid += 1;
        with_eh += wasmparser::Parser::new(0)
            .parse_all(&input)
            .any(|p| matches!(p, Ok(wasmparser::Payload::TagSection(_)))) as u32;
        // As `compile` does: a defined shared memory becomes an import first.
        let input = match import_defined_memory(&input) {
            Ok(None) => input,
            Ok(Some((shared, _))) => shared,
            Err(_) => continue, // refused on purpose (defined_memory's tests)
        };
        for checks in [false, true] {
            match rewrite(&input, checks) {
                Ok(None) => {}
                Ok(Some((out, _map))) => {
                    rewritten += 1;
                    if let Err(e) = validate(&out) {
                        let path = std::env::temp_dir().join(format!("weft-smith-{i}.wasm"));
                        std::fs::write(&path, &input).unwrap();
                        panic!(
                            "module {i} (checks {checks}): invalid output: {e}; input in {}",
                            path.display()
                        );
                    }
                }
                Err(e) => {
                    let path = std::env::temp_dir().join(format!("weft-smith-{i}.wasm"));
                    std::fs::write(&path, &input).unwrap();
                    panic!(
                        "module {i} (checks {checks}): rewrite failed: {e}; input in {}",
                        path.display()
                    );
                }
            }
        }
    }
    println!(
        "{i} tries, {valid} valid modules ({with_eh} with tags), {rewritten} rewrites validated, in {:?}",
        started.elapsed()
    );
    // Bounded by time: sanitizer builds (.ci/tsan runs --lib) see fewer.
    assert!(valid >= 10, "only {valid} valid modules in {i} tries");
}
