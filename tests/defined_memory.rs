//! Threaded modules that define their shared memory (linked without
//! `-Wl,--import-memory`) run on one memory shared by every thread; what
//! cannot be shared safely is refused with an error naming the memory and
//! the fix.

mod common;

use std::time::Duration;

use common::guest::Memory;
use common::*;
use weft::runtime::{Config, Engine, ErrorKind, Outcome, Program};

/// Four threads add 1 to the counter at address 0 (atomically), main waits
/// for all four, then exits with the counter: 4 only if they share memory.
const COUNTER: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1 shared)
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $v i32)
    (loop $more
      (drop (call $spawn (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 4))))
    (loop $wait
      (local.set $v (i32.atomic.load (i32.const 0)))
      (if (i32.ne (local.get $v) (i32.const 4))
        (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1))) (br $wait))))
    (call $exit (i32.atomic.load (i32.const 0)))))"#;

#[test]
fn wat_threads_share_a_defined_memory() {
    // On private per-thread copies main would wait forever: time out instead.
    let inst = instance(
        COUNTER.as_bytes(),
        &captured(&["counter"]),
        Some(Duration::from_secs(20)),
    );
    assert_eq!(inst.run().unwrap(), Outcome::Exit(4));
}

fn load_error(wat: &str) -> weft::runtime::Error {
    let engine = Engine::new(&Config::default()).unwrap();
    match Program::from_bytes(&engine, wat.as_bytes()) {
        Ok(_) => panic!("loaded: {wat}"),
        Err(e) => e,
    }
}

#[test]
fn what_cannot_be_shared_is_refused_with_the_fix() {
    let spawn = r#"(import "wasi" "thread-spawn" (func (param i32) (result i32)))"#;
    let cases = [
        (
            format!(r#"(module {spawn} (memory (export "memory") 1))"#),
            "memory 0 (exported as \"memory\") is defined by the module and not shared",
        ),
        (
            format!(r#"(module {spawn} (memory 1 1 shared) (data (i32.const 16) "x"))"#),
            "memory 0 is defined by the module and has 1 active data segment(s)",
        ),
        (
            format!(
                r#"(module {spawn} (import "env" "memory" (memory 1 1 shared)) (memory 1 1 shared))"#
            ),
            "the module has 2 memories (1 imported, 1 defined)",
        ),
    ];
    for (wat, want) in cases {
        let e = load_error(&wat);
        assert_eq!(e.kind(), ErrorKind::Link, "{e}");
        assert!(e.message().contains(want), "{e}");
        assert!(e.message().contains("-Wl,--import-memory"), "{e}");
    }
    // An invalid module still gets Wasmtime's own error.
    let e = load_error(&format!(r#"(module {spawn} (memory 1) (func (i32.add)))"#));
    assert_eq!(e.kind(), ErrorKind::Compile, "{e}");
}

#[test]
fn wasi_sdk_threads_share_a_defined_memory() {
    let src = "c-tests/guests/pthreads/defined_memory_counter.c";
    for (name, memory) in [("defined", Memory::Defined), ("imported", Memory::Imported)] {
        let test = "wasi_sdk_threads_share_a_defined_memory";
        let Some(wasm) = guest::pthread(test, src, memory) else {
            return;
        };
        let r = run_file(&wasm, &captured(&["counter"]));
        assert_ok(&r);
        assert_eq!(r.stdout, "counter 40000\n", "{name} memory");
    }
}

#[test]
fn a_precompiled_module_with_a_defined_memory_is_refused() {
    let engine = Engine::new(&Config::default()).unwrap();
    let module = wasmtime::Module::new(engine.wasmtime(), COUNTER).unwrap();
    let e = match Program::from_module(&engine, module) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Link, "{e}");
    assert!(e.message().contains("-Wl,--import-memory"), "{e}");
}
