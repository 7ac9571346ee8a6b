//! Bad input never crashes the host: malformed, truncated, oversized and
//! ill-formed threaded modules give clear errors at load or at spawn, and a
//! bounded randomized test loads (and, when valid, runs) random bytes,
//! mutated modules and `wasm-smith` modules with shared memories and spawns
//! (every WebAssembly proposal Wasmtime 48 enables by default on), checks
//! that weft's rewrite never makes a module Wasmtime compiles fail to load,
//! and that such modules run the same with and without the rewrite.
//!
//! Tunables (environment): `WEFT_FUZZ_ITERS` (default 200: random and
//! mutated inputs; a quarter as many `wasm-smith` modules), `WEFT_FUZZ_SEED`.

#[path = "termination/probe.rs"]
mod probe;

use std::time::{Duration, Instant};

use weft::runtime::{Config, Engine, ErrorKind, HostFuncs, Instance, Outcome, Program};
use weft::wasi::{Stdio, WasiConfig};

fn engine() -> Engine {
    Engine::new(&Config::default()).unwrap()
}

fn load_err(bytes: &[u8]) -> weft::runtime::Error {
    match Program::from_bytes(&engine(), bytes) {
        Ok(_) => panic!("{:?} loaded", String::from_utf8_lossy(bytes)),
        Err(e) => e,
    }
}

fn quiet() -> WasiConfig {
    let mut w = WasiConfig::new();
    w.stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    w
}

#[test]
fn garbage_and_truncated_modules_are_compile_errors() {
    for bytes in [
        &b""[..],
        b"\0asm",
        b"\0asm\x02\0\0\0",
        b"\0asm\x01\0\0\0\x01",
        b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f",
        b"not wasm at all",
        b"(module (func (result i32)))",
        b"(module",
        &[0xff; 64],
    ] {
        let e = load_err(bytes);
        assert_eq!(e.kind(), ErrorKind::Compile, "{bytes:?}: {e}");
        assert!(!e.message().is_empty());
    }
    // Every strict prefix of a valid threaded module is rejected cleanly.
    let valid = wat::parse_str(SPAWNER.replace(
        "ENTRY",
        r#"(func (export "wasi_thread_start") (param i32 i32))"#,
    ))
    .unwrap();
    // (A prefix that ends exactly between sections is a smaller valid module.)
    let mut boundaries = vec![8];
    for payload in wasmparser::Parser::new(0).parse_all(&valid) {
        if let Some((_, range)) = payload.unwrap().as_section() {
            boundaries.push(range.end);
        }
    }
    let e = engine();
    for len in 0..valid.len() {
        let r = Program::from_bytes(&e, &valid[..len]);
        if !boundaries.contains(&len) {
            assert!(r.is_err(), "prefix of {len} bytes loaded");
        }
    }
    Program::from_bytes(&engine(), &valid).unwrap();
}

#[test]
fn oversized_modules_are_errors_not_allocations() {
    // A section claiming 4 G entries, a 64 MiB custom section (fine: loads),
    // 64 MiB of garbage, and a memory larger than the cap.
    let e = load_err(b"\0asm\x01\0\0\0\x01\x05\xff\xff\xff\xff\x0f");
    assert_eq!(e.kind(), ErrorKind::Compile);
    let mut big = b"\0asm\x01\0\0\0".to_vec();
    let payload = 64 << 20;
    big.push(0);
    let mut len = payload + 2;
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        big.push(if len > 0 { b | 0x80 } else { b });
        if len == 0 {
            break;
        }
    }
    big.extend_from_slice(&[1, b'x']);
    big.resize(big.len() + payload, 0);
    let t = Instant::now();
    Program::from_bytes(&engine(), &big).unwrap();
    let mut garbage = b"\0asm\x01\0\0\0".to_vec();
    garbage.resize(64 << 20, 0x41);
    assert_eq!(load_err(&garbage).kind(), ErrorKind::Compile);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    let capped = Engine::new(&Config {
        max_memory: Some(1 << 20),
        ..Config::default()
    })
    .unwrap();
    let p = Program::from_bytes(
        &capped,
        br#"(module (import "env" "memory" (memory 100 200 shared)) (func (export "_start")))"#,
    )
    .unwrap();
    let e = Instance::new(&p, &quiet(), &HostFuncs::new())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Link);
    assert!(e.message().contains("cap"), "{e}");
    // The largest 32-bit shared memory (4 GiB maximum) is fine.
    Program::from_bytes(
        &engine(),
        br#"(module (import "env" "memory" (memory 1 65536 shared)))"#,
    )
    .unwrap();
}

#[test]
fn ill_formed_threaded_modules_are_link_errors_at_load() {
    for (wat, needle) in [
        (
            r#"(module (import "a" "m" (memory 1 1 shared)) (import "b" "m" (memory 1 1 shared)))"#,
            "two memories",
        ),
        (
            r#"(module (import "env" "memory" (memory 1 1)))"#,
            "not shared",
        ),
        (
            r#"(module (import "env" "memory" (memory i64 1 1 shared)))"#,
            "64-bit",
        ),
        (
            r#"(module (import "wasi" "thread-spawn" (func (param i32))))"#,
            "thread-spawn",
        ),
        (
            r#"(module (import "wasi" "thread-spawn" (func (param i64) (result i32))))"#,
            "thread-spawn",
        ),
        (
            r#"(module (import "wasi" "thread-spawn" (func (param i32) (result i32 i32))))"#,
            "thread-spawn",
        ),
    ] {
        let e = load_err(wat.as_bytes());
        assert_eq!(e.kind(), ErrorKind::Link, "{wat}: {e}");
        assert!(e.message().contains(needle), "{wat}: {e}");
    }
    // A thread-spawn import that is not a function at all does not link.
    let p = Program::from_bytes(
        &engine(),
        br#"(module (import "wasi" "thread-spawn" (global i32)))"#,
    );
    let err = match p {
        Err(e) => e,
        Ok(p) => Instance::new(&p, &quiet(), &HostFuncs::new())
            .err()
            .unwrap(),
    };
    assert_eq!(err.kind(), ErrorKind::Link, "{err}");
}

#[test]
fn weft_internal_imports_are_checked_like_any_other() {
    // Importing the reserved functions with the wrong type is a link error;
    // with the right type they are harmless.
    let p = Program::from_bytes(
        &engine(),
        br#"(module (import "weft:internal" "memory.atomic.notify" (func (param i32))))"#,
    )
    .unwrap();
    let e = Instance::new(&p, &quiet(), &HostFuncs::new())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Link, "{e}");
    let wat = r#"(module
      (import "weft:internal" "memory.atomic.notify" (func $n (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "_start") (call $exit (call $n (i32.const 0) (i32.const 1) (i32.const 0)))))"#;
    let p = Program::from_bytes(&engine(), wat.as_bytes()).unwrap();
    let inst = Instance::new(&p, &quiet(), &HostFuncs::new()).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
    // The stop checks' memory is not for guests: one that imports it could
    // clear the word its own checks read, and run on after its end.
    let wat = r#"(module
      (import "weft:internal" "stop" (memory 1 1 shared))
      (func (export "_start") (loop $l (i32.atomic.store (i32.const 0) (i32.const 0)) (br $l))))"#;
    let e = Program::from_bytes(&engine(), wat.as_bytes())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Link, "{e}");
    assert!(
        e.message().contains("reserved for weft's stop checks"),
        "{e}"
    );
}

const SPAWNER: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  ENTRY
  (func (export "_start")
    (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 42))))
    (call $exit (i32.const 0))))"#;

#[test]
fn bad_entry_points_fail_at_spawn() {
    for entry in [
        "",
        r#"(global (export "wasi_thread_start") i32 (i32.const 0))"#,
        r#"(table (export "wasi_thread_start") 1 funcref)"#,
        r#"(func (export "wasi_thread_start") (param i64 i32))"#,
        r#"(func (export "wasi_thread_start") (param i32 i32) (result i32) (i32.const 0))"#,
    ] {
        let wat = SPAWNER.replace("ENTRY", entry);
        let p = Program::from_bytes(&engine(), wat.as_bytes()).unwrap();
        let inst = Instance::new(&p, &quiet(), &HostFuncs::new()).unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(42), "{entry}");
    }
    // A memory export named like the entry point, with the import present.
    let wat = SPAWNER.replace("ENTRY", r#"(memory (export "wasi_thread_start") 1)"#);
    if let Ok(p) = Program::from_bytes(&engine(), wat.as_bytes()) {
        let inst = Instance::new(&p, &quiet(), &HostFuncs::new()).unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(42));
    }
}

/// xorshift64*: deterministic, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Loads `bytes` with weft, `None` if it refuses them. A refusal may be by
/// design (an invalid module; a link error: a memory threads cannot share,
/// a 64-bit or unshared memory import, an ill-typed `thread-spawn`), but
/// never weft's rewrite breaking a module: a compile error for a module
/// Wasmtime compiles as given with the same engine (so the same
/// WebAssembly features), such as "cannot insert weft's stop checks", or
/// the defined-memory rewrite failing on it ("cannot rewrite the module").
/// The fuzz target `smith_load_and_run` asserts the same.
fn load(engine: &Engine, bytes: &[u8]) -> Option<Program> {
    let e = match Program::from_bytes(engine, bytes) {
        Ok(program) => return Some(program),
        Err(e) => e,
    };
    let rewrite_failed = match e.kind() {
        ErrorKind::Compile => wasmtime::Module::new(engine.wasmtime(), bytes).is_ok(),
        ErrorKind::Link => e.message().contains("cannot rewrite the module"),
        _ => false,
    };
    assert!(
        !rewrite_failed,
        "weft's rewrite broke a module Wasmtime compiles: {e}; module saved in {}",
        save(bytes)
    );
    None
}

/// Loads `bytes` (see [`load`]); if they form a module, runs it with a
/// short timeout. Returns whether it ran.
fn load_and_run(engine: &Engine, bytes: &[u8]) -> bool {
    let Some(program) = load(engine, bytes) else {
        return false;
    };
    let Ok(inst) = Instance::new(&program, &quiet(), &HostFuncs::new()) else {
        return false;
    };
    if program.is_command() {
        let t = Instant::now();
        let outcome = inst.run();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "a run with a 50 ms timeout took {:?}",
            t.elapsed()
        );
        drop(outcome);
    }
    // Reactors are only instantiated: their exports run on the calling
    // thread, which the timeout does not cover.
    true
}

fn fuzz_engine() -> Engine {
    Engine::new(&Config {
        timeout: Some(Duration::from_millis(50)),
        max_threads: 8,
        max_memory: Some(16 << 20),
        ..Config::default()
    })
    .unwrap()
}

const SEEDS: [&str; 3] = [
    r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 2 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
        (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1))))
      (func (export "_start")
        (drop (call $spawn (i32.const 7)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 1000000)))
        (drop (memory.grow (i32.const 1)))
        (call $exit (i32.atomic.load (i32.const 0)))))"#,
    r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (table 2 funcref) (elem (i32.const 0) $a $b)
      (func $a (result i32) (memory.atomic.wait64 offset=8 (i32.const 0) (i64.const 0) (i64.const 100)))
      (func $b (result i32) (call $spawn (i32.const 1)))
      (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
      (func (export "_start")
        (drop (call_indirect (result i32) (i32.const 1)))
        (drop (call_indirect (result i32) (i32.const 0)))))"#,
    r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 8) "\10\00\00\00\05\00\00\00hello")
      (func (export "_start") (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))))"#,
];

#[test]
fn random_and_mutated_modules_never_crash_the_host() {
    let iters: usize = env_or("WEFT_FUZZ_ITERS", 200);
    let seed: u64 = env_or("WEFT_FUZZ_SEED", 0x5eed_cafe_f00d_d00d);
    println!("WEFT_FUZZ_SEED={seed} WEFT_FUZZ_ITERS={iters}");
    let mut rng = Rng(seed | 1);
    let engine = fuzz_engine();
    let seeds: Vec<Vec<u8>> = SEEDS.iter().map(|s| wat::parse_str(s).unwrap()).collect();
    for s in &seeds {
        assert!(load_and_run(&engine, s), "seeds are valid");
    }
    let (mut loaded, mut total) = (0, 0);
    for _ in 0..iters {
        // Pure noise, with and without a valid header.
        let len = rng.below(256);
        let mut noise = rng.bytes(len);
        if rng.below(2) == 0 {
            noise.splice(0..0, *b"\0asm\x01\0\0\0");
        }
        loaded += load_and_run(&engine, &noise) as u32;
        // A mutated seed.
        let mut m = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(m.len());
            match rng.below(4) {
                0 => m[at] ^= 1 << rng.below(8),
                1 => m[at] = rng.next() as u8,
                2 => m.insert(at, rng.next() as u8),
                _ => m.truncate(at.max(8)),
            }
        }
        loaded += load_and_run(&engine, &m) as u32;
        total += 2;
    }
    println!("{loaded} of {total} random/mutated inputs loaded and ran");
    assert!(
        probe::until(Duration::from_secs(2), || probe::program_threads()
            .is_empty())
        .is_some()
    );
}

/// wasm-smith with every proposal Wasmtime 48 (and weft) enables by default:
/// exception handling, GC, reference types, typed function references, tail
/// calls, memory64, multi-memory (4), threads, relaxed SIMD, extended
/// constants; not the ones it leaves off (wide arithmetic, custom page sizes,
/// compact imports, shared-everything threads).
fn smith_features(config: &mut wasm_smith::Config) {
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
}

/// Whether `bytes` contain `memory.atomic.wait32/64` anywhere.
fn waits(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .any(|p| match p {
            Ok(wasmparser::Payload::CodeSectionEntry(body)) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    return false;
                };
                while let Ok(op) = ops.read() {
                    if matches!(
                        op,
                        wasmparser::Operator::MemoryAtomicWait32 { .. }
                            | wasmparser::Operator::MemoryAtomicWait64 { .. }
                    ) {
                        return true;
                    }
                }
                false
            }
            _ => false,
        })
}

/// A module that runs unrewritten runs the same rewritten: wasm-smith
/// modules with every default proposal, each run once as weft loads it
/// (defined-memory import, stop checks), once instrumented for the race
/// detector too (its inline checks read a second memory, and must trap
/// exactly where the access does), and once as Wasmtime compiles it
/// (`Program::from_module`, no rewrite; an engine with epoch checks, so
/// endless loops still stop). Single-threaded (no `thread-spawn`, no waits:
/// an unrewritten untimed wait could not be stopped), so the outcomes are
/// deterministic and must be equal.
#[test]
fn wasm_smith_modules_run_the_same_rewritten() {
    let iters: usize = env_or::<usize>("WEFT_FUZZ_ITERS", 200) / 2;
    let seed: u64 = env_or("WEFT_FUZZ_SEED", 0x5eed_cafe_f00d_d00d);
    let mut rng = Rng(seed.rotate_left(29) | 1);
    let limits = Config {
        timeout: Some(Duration::from_millis(50)),
        max_memory: Some(16 << 20),
        ..Config::default()
    };
    let rewritten = Engine::new(&limits).unwrap();
    let detecting = Engine::new(&Config {
        detect_races: true,
        ..limits.clone()
    })
    .unwrap();
    let plain = Engine::new(&Config {
        precise_dumps: true,
        ..limits
    })
    .unwrap();
    let imports = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "env" "memory" (memory 1 16 shared)))"#,
    )
    .unwrap();
    let exports = wat::parse_str(r#"(module (func (export "_start")))"#).unwrap();
    let (mut compared, mut generated, mut timed_out) = (0, 0, 0);
    let started = Instant::now();
    for _ in 0..iters {
        let data = rng.bytes(4096);
        let mut u = arbitrary::Unstructured::new(&data);
        let mut config = wasm_smith::Config {
            available_imports: Some(imports.clone()),
            exports: Some(exports.clone()),
            ..wasm_smith::Config::default()
        };
        smith_features(&mut config);
        config.max_memory32_bytes = 16 << 16;
        config.max_memory64_bytes = 16 << 16;
        config.min_funcs = 2;
        config.max_instructions = 200;
        let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
            continue;
        };
        generated += 1;
        let bytes = module.to_bytes();
        if waits(&bytes) {
            continue;
        }
        let Some(a) = load(&rewritten, &bytes) else {
            continue;
        };
        let c = load(&detecting, &bytes).expect("weft loaded it, so it instruments it");
        let module = wasmtime::Module::new(plain.wasmtime(), &bytes)
            .expect("weft loaded it, so Wasmtime compiles it");
        let b = Program::from_module(&plain, module).expect("program");
        let run = |p: &Program| -> Option<Outcome> {
            let inst = Instance::new(p, &quiet(), &HostFuncs::new()).ok()?;
            inst.run().ok()
        };
        let (x, y, z) = (run(&a), run(&b), run(&c));
        // A 50 ms timeout is a property of the machine's speed, not of the
        // module: a run that long (a deep recursion, an endless loop) may
        // time out on one side and end by itself on the other under load.
        if [&x, &y, &z]
            .iter()
            .any(|o| matches!(o, Some(Outcome::TimedOut)))
        {
            timed_out += 1;
            continue;
        }
        // Memory growth can fail in one run and not the other only through
        // the cap, which both share; anything else must be the same.
        assert_eq!(
            x.as_ref().map(outcome_kind),
            y.as_ref().map(outcome_kind),
            "rewritten vs. unrewritten differ; module saved in {}",
            save(&bytes)
        );
        assert_eq!(
            z.as_ref().map(outcome_kind),
            y.as_ref().map(outcome_kind),
            "instrumented vs. unrewritten differ; module saved in {}",
            save(&bytes)
        );
        compared += 1;
    }
    println!(
        "wasm-smith: {generated} generated, {compared} run rewritten and unrewritten alike, \
         {timed_out} timed out on a side (not compared), in {:?}",
        started.elapsed()
    );
    assert!(generated > 0);
}

/// What must match between two runs: exit code, or trap message (the
/// backtraces map to the same original frames but are not compared).
fn outcome_kind(o: &Outcome) -> String {
    match o {
        Outcome::Trap(info) => format!("trap: {}", info.message),
        other => format!("{other:?}"),
    }
}

fn save(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("weft-smith-{}.wasm", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn wasm_smith_modules_with_shared_memory_and_spawns_run_safely() {
    let iters: usize = env_or::<usize>("WEFT_FUZZ_ITERS", 200) / 4;
    let seed: u64 = env_or("WEFT_FUZZ_SEED", 0x5eed_cafe_f00d_d00d);
    let mut rng = Rng(seed.rotate_left(17) | 1);
    let engine = fuzz_engine();
    let imports = wat::parse_str(
        r#"(module
          (import "wasi" "thread-spawn" (func (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
          (import "env" "memory" (memory 1 16 shared)))"#,
    )
    .unwrap();
    let exports = wat::parse_str(
        r#"(module
          (func (export "_start"))
          (func (export "wasi_thread_start") (param i32 i32)))"#,
    )
    .unwrap();
    let (mut ran, mut generated) = (0, 0);
    let started = Instant::now();
    for _ in 0..iters {
        let data = rng.bytes(4096);
        let mut u = arbitrary::Unstructured::new(&data);
        let mut config = wasm_smith::Config {
            available_imports: Some(imports.clone()),
            exports: Some(exports.clone()),
            ..wasm_smith::Config::default()
        };
        smith_features(&mut config);
        config.max_memory32_bytes = 16 << 16;
        config.min_funcs = 2;
        config.max_instructions = 200;
        let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
            continue;
        };
        generated += 1;
        let bytes = module.to_bytes();
        ran += load_and_run(&engine, &bytes) as u32;
    }
    println!(
        "wasm-smith: {generated} generated, {ran} loaded and ran, in {:?}",
        started.elapsed()
    );
    assert!(generated > 0);
    assert!(
        probe::until(Duration::from_secs(2), || probe::program_threads()
            .is_empty())
        .is_some()
    );
}

#[test]
fn an_endless_start_function_is_cut_by_the_timeout() {
    // The start function runs inside `Instance::new`, before the host has an
    // instance to interrupt: the run's timeout covers it.
    let engine = Engine::new(&Config {
        timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    })
    .unwrap();
    for wat in [
        r#"(module (func $s (loop $l (br $l))) (start $s) (func (export "_start")))"#,
        r#"(module (import "env" "memory" (memory 1 1 shared))
             (func $s (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))
             (start $s) (func (export "_start")))"#,
    ] {
        let p = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
        let t = Instant::now();
        let e = Instance::new(&p, &quiet(), &HostFuncs::new())
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    // A start function that finishes leaves the run its whole timeout.
    let p = Program::from_bytes(
        &engine,
        br#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (global $g (mut i32) (i32.const 0))
          (func $s (global.set $g (i32.const 4)))
          (start $s)
          (func (export "_start") (call $exit (global.get $g))))"#,
    )
    .unwrap();
    let inst = Instance::new(&p, &quiet(), &HostFuncs::new()).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(4));
}
