//! How running wasm is stopped: weft's stop checks (the default), Wasmtime's
//! epochs (`precise_dumps`), or not at all (`interrupt_wasm = false`, where
//! the end of a program still returns from `run`); modules compiled the
//! three ways are cached apart.

use std::time::{Duration, Instant};

mod common;

use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program, STOP_GRACE};
use weft::wasi::WasiConfig;

/// The child counts to 2^26 (a loop with no call), then stores 1; main
/// spawns it and exits with 7 at once.
const GUEST: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 67108864))))
    (i32.atomic.store (i32.const 0) (i32.const 1)))
  (func (export "_start")
    (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 1)) (then (call $exit (i32.const 1))))
    (call $exit (i32.const 7))))"#;

#[test]
fn without_interruption_programs_run_and_end() {
    for interrupt_wasm in [true, false] {
        let engine = Engine::new(&Config {
            interrupt_wasm,
            ..Config::default()
        })
        .unwrap();
        let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
        let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
        let at = Instant::now();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(7), "{interrupt_wasm}");
        // Without interruption, run may wait out the grace period for the
        // counting child, but no longer.
        assert!(at.elapsed() < STOP_GRACE + Duration::from_secs(5));
    }
}

/// The three ways: (interrupt_wasm, precise_dumps).
const MECHANISMS: [(bool, bool); 3] = [(true, false), (true, true), (false, false)];

#[test]
fn every_settings_compiles_apart_in_the_cache() {
    let dir = std::env::temp_dir().join(format!("weft-interrupt-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (interrupt_wasm, precise_dumps) in MECHANISMS.into_iter().chain(MECHANISMS) {
        let engine = Engine::new(&Config {
            interrupt_wasm,
            precise_dumps,
            cache_dir: Some(dir.clone()),
            ..Config::default()
        })
        .unwrap();
        let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
        let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(7));
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Code that never ends by itself, in every shape a stop check must catch.
const ENDLESS: [(&str, &str); 5] = [
    (
        "a loop with no call",
        r#"(module (func (export "_start") (loop $l (br $l))))"#,
    ),
    (
        "tail calls without a loop",
        r#"(module (func $f (return_call $f)) (func (export "_start") (call $f)))"#,
    ),
    (
        "recursion without a loop (2^60 calls)",
        r#"(module
          (func $f (param i32)
            (if (local.get 0) (then
              (call $f (i32.sub (local.get 0) (i32.const 1)))
              (call $f (i32.sub (local.get 0) (i32.const 1))))))
          (func (export "_start") (call $f (i32.const 60))))"#,
    ),
    (
        "indirect recursion through a table",
        r#"(module
          (type $t (func (param i32)))
          (table 1 funcref) (elem (i32.const 0) $f)
          (func $f (param i32)
            (if (local.get 0) (then
              (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))
              (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))
          (func (export "_start") (call $f (i32.const 60))))"#,
    ),
    (
        "a loop in a module with defined memories and data",
        r#"(module
          (import "env" "memory" (memory 1 1 shared))
          (memory $own 1)
          (data (memory $own) (i32.const 8) "\2a")
          (func (export "_start")
            (loop $l
              (i32.store $own (i32.const 0) (i32.add (i32.load8_u $own (i32.const 8)) (i32.const 1)))
              (br_if $l (i32.load $own (i32.const 0))))))"#,
    ),
];

#[test]
fn endless_code_of_every_shape_is_stopped_by_both_mechanisms() {
    for precise_dumps in [false, true] {
        let engine = Engine::new(&Config {
            precise_dumps,
            timeout: Some(Duration::from_millis(200)),
            ..Config::default()
        })
        .unwrap();
        for (what, wat) in ENDLESS {
            let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
            let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
            let outcome = inst.run().unwrap();
            // Stopped, not run into the stack limit.
            assert_eq!(
                outcome,
                Outcome::TimedOut,
                "{what} (precise_dumps {precise_dumps})"
            );
            // And the thread itself stopped: without a working stop it would
            // run on for ever after `run` gave up waiting for it.
            common::assert_all_threads_stopped(
                &inst,
                &format!("{what} (precise_dumps {precise_dumps})"),
            );
        }
    }
}

#[test]
fn stop_checks_leave_results_and_traps_as_they_were() {
    // The checks change no result: a loop that counts, recursion that
    // returns, a trap in a checked function with its original frames.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func $fib (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func $count (result i32) (local $i i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
        (local.get $i))
      (func $named_trapper (param i32) (loop $l (br_if $l (i32.eqz (local.get 0)))) unreachable)
      (func (export "_start")
        (if (i32.ne (call $fib (i32.const 20)) (i32.const 6765)) (then (call $exit (i32.const 1))))
        (if (i32.ne (call $count) (i32.const 1000)) (then (call $exit (i32.const 2))))
        (call $named_trapper (i32.const 1))))"#;
    for (interrupt_wasm, precise_dumps) in MECHANISMS {
        let engine = Engine::new(&Config {
            interrupt_wasm,
            precise_dumps,
            ..Config::default()
        })
        .unwrap();
        let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
        let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
        match inst.run().unwrap() {
            Outcome::Trap(t) => {
                assert!(t.message.contains("unreachable"), "{t:?}");
                assert!(t.backtrace.contains("named_trapper"), "{t:?}");
            }
            o => panic!("{o:?} ({interrupt_wasm}, {precise_dumps})"),
        }
    }
}
