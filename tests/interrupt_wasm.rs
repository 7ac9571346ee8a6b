//! `Config::interrupt_wasm = false`: programs run without epoch checks, the
//! end of a program still returns from `run`, and modules compiled both ways
//! are cached apart.

use std::time::{Duration, Instant};

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

#[test]
fn both_settings_are_cached_apart() {
    let dir = std::env::temp_dir().join(format!("weft-interrupt-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for interrupt_wasm in [true, false, true, false] {
        let engine = Engine::new(&Config {
            interrupt_wasm,
            cache_dir: Some(dir.clone()),
            ..Config::default()
        })
        .unwrap();
        let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
        let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
        assert_eq!(inst.run().unwrap(), Outcome::Exit(7));
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
