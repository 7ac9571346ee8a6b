//! Wasmtime's profiling agents through weft (`Config::profiler`, C
//! `weft_config_set_profiler`, `weft-run --profile`): a threaded guest run
//! with each profiler leaves the file `perf` reads, naming the guest's
//! functions.
//!
//! * `Profiler::JitDump` writes `./jit-<pid>.dump` (in the current
//!   directory, as `wasmtime run --profile=jitdump` does), in the jitdump
//!   format of the Linux kernel's `tools/perf/Documentation/jitdump-specification.txt`:
//!   a file header, then one `JIT_CODE_LOAD` record per compiled function.
//! * `Profiler::PerfMap` appends `START SIZE NAME` lines (hex) to `/tmp/perf-<pid>.map`.
//!
//! Both files are per process, so this file holds a single test, which
//! changes the current directory to a scratch one.

mod common;

use std::path::Path;

use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Profiler, Program};

/// Main spawns two threads that each run `$profiled_worker` and count down
/// at 0; main waits (untimed) until both are done. Functions without a
/// name in the name section (here: none) appear as `wasm[0]::function[N]`,
/// N being the index in weft's rewritten module.
const GUEST: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $profiled_worker (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc))
  (func $wasi_thread_start (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.atomic.store offset=16 (i32.const 0) (call $profiled_worker (local.get $arg)))
    (drop (i32.atomic.rmw.sub (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func $profiled_main (local $v i32)
    (i32.atomic.store (i32.const 0) (i32.const 2))
    (if (i32.lt_s (call $spawn (i32.const 100000)) (i32.const 0)) (then unreachable))
    (if (i32.lt_s (call $spawn (i32.const 100000)) (i32.const 0)) (then unreachable))
    (block $done
      (loop $w
        (local.set $v (i32.atomic.load (i32.const 0)))
        (br_if $done (i32.eqz (local.get $v)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1)))
        (br $w))))
  (func (export "_start") (call $profiled_main)))"#;

/// Runs [`GUEST`] on a fresh engine with `profiler`; it must exit 0.
fn run_guest(profiler: Profiler) {
    let engine = Engine::new(&Config {
        profiler,
        ..Config::default()
    })
    .expect("engine with the profiler");
    let program = Program::from_bytes(&engine, GUEST.as_bytes()).expect("compile");
    let instance = Instance::new(
        &program,
        &common::captured(&["profiled"]),
        &HostFuncs::new(),
    )
    .expect("new");
    assert_eq!(instance.run().expect("run"), Outcome::Exit(0));
    assert_eq!(instance.stats().spawned, 2);
}

/// One `JIT_CODE_LOAD` record of a jitdump file.
#[derive(Debug)]
struct CodeLoad {
    pid: u32,
    address: u64,
    size: u64,
    name: String,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}

/// Parses a jitdump file, checking its header and every record's framing;
/// returns the code-load records.
fn parse_jitdump(bytes: &[u8]) -> Vec<CodeLoad> {
    // struct file_header: magic, version, total_size, elf_mach, pad1, pid (u32 each), timestamp, flags (u64).
    assert!(bytes.len() >= 40, "jitdump shorter than its header");
    assert_eq!(u32_at(bytes, 0), 0x4A69_5444, "magic \"JiTD\"");
    assert_eq!(u32_at(bytes, 4), 1, "jitdump version");
    let header_size = u32_at(bytes, 8) as usize;
    assert_eq!(header_size, 40);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(u32_at(bytes, 12), 62, "e_machine EM_X86_64");
    }
    assert_eq!(u32_at(bytes, 20), std::process::id(), "pid in the header");
    let mut records = Vec::new();
    let mut at = header_size;
    while at < bytes.len() {
        // struct record_header: id, total_size (u32), timestamp (u64).
        assert!(at + 16 <= bytes.len(), "truncated record header at {at}");
        let id = u32_at(bytes, at);
        let total = u32_at(bytes, at + 4) as usize;
        assert!(
            total >= 16 && at + total <= bytes.len(),
            "record at {at}: size {total}"
        );
        if id == 0 {
            // JIT_CODE_LOAD: pid, tid (u32), vma, code_addr, code_size, code_index (u64), name\0, code.
            let body = &bytes[at + 16..at + total];
            let size = u64_at(body, 24);
            let name_end = body[40..]
                .iter()
                .position(|&b| b == 0)
                .expect("NUL-terminated name")
                + 40;
            assert_eq!(
                name_end + 1 + size as usize,
                body.len(),
                "code load record at {at}: name and code fill it"
            );
            records.push(CodeLoad {
                pid: u32_at(body, 0),
                address: u64_at(body, 16),
                size,
                name: String::from_utf8(body[40..name_end].to_vec()).expect("UTF-8 name"),
            });
        }
        at += total;
    }
    records
}

/// Names of the guest's functions in `names`, which every profiler must show.
fn assert_guest_functions(what: &str, names: &[&str]) {
    for want in ["profiled_worker", "profiled_main", "wasi_thread_start"] {
        assert!(
            names.iter().any(|n| n.contains(want)),
            "{what}: no function named like {want:?} among {names:?}"
        );
    }
}

fn check_jitdump(dir: &Path) {
    let path = dir.join(format!("jit-{}.dump", std::process::id()));
    let _ = std::fs::remove_file(&path);
    if !cfg!(feature = "jitdump") {
        // A build without the feature refuses the setting, naming it.
        let err = Engine::new(&Config {
            profiler: Profiler::JitDump,
            ..Config::default()
        })
        .err()
        .expect("jitdump refused without the feature");
        assert!(err.to_string().contains("`jitdump`"), "{err}");
        return;
    }
    run_guest(Profiler::JitDump);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records = parse_jitdump(&bytes);
    assert!(!records.is_empty(), "no code load record");
    for r in &records {
        assert_eq!(r.pid, std::process::id(), "{r:?}");
        assert!(r.address != 0 && r.size > 0, "{r:?}");
    }
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    assert_guest_functions("jitdump", &names);
}

fn check_perfmap() {
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let _ = std::fs::remove_file(&path);
    run_guest(Profiler::PerfMap);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut names = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (start, size, name) = (parts.next(), parts.next(), parts.next());
        // Wasmtime writes the start as `{:p}` (with `0x`), which perf accepts.
        let hex = |s: Option<&str>| {
            let s = s?;
            u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
        };
        assert!(
            hex(start).is_some_and(|a| a != 0) && hex(size).is_some_and(|s| s > 0),
            "perf map line {line:?}"
        );
        names.push(name.expect("a name").to_string());
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_guest_functions("perf map", &names);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn profilers_write_the_files_perf_reads_with_guest_function_names() {
    let dir = common::scratch_dir("profilers");
    std::env::set_current_dir(&dir).expect("cd to the scratch dir");
    check_jitdump(&dir);
    check_perfmap();
}
