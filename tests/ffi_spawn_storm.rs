//! Issue 21, "a spawn storm that ends": a C host that reuses one engine and
//! module runs, many times in a row, a program whose main thread starts two
//! threads that spawn spinning threads in a tight loop and then calls
//! `proc_exit(7)`. Every run must end; none may hang for seconds while
//! hundreds of spinning threads pile up.
//!
//! Two ways weft made the main thread lose its CPU to the storm, each a
//! whole round of all runnable threads once there are more than CPUs:
//!
//! * the process-wide registry of weft's OS threads stayed locked while the
//!   OS created a thread, so a spawning thread preempted there made every
//!   other spawn, the main thread's included, wait for it;
//! * a woken guest thread preempted the one that woke it: every spawn (the
//!   hand-off to a pooled OS thread) and every `notify` of a lock. When the
//!   guest holds a lock across `thread-spawn`, as wasi-libc's
//!   `pthread_create` holds its thread list lock, the spawner lost its CPU
//!   inside the lock the main thread waits for (`LOCKED_STORM`).
//!
//! Pinned to one CPU, before the fix about one run in ten took 30-45 s
//! (issue 21 saw 6-45 s on two CPUs); after it the slowest took 5 ms.
//!
//! The process is pinned to one CPU so that the spinning threads outnumber
//! the CPUs on any machine. The bound is a hang guard, not a timing
//! assertion: a run that has not returned after `GUARD` fails the test.

use std::ptr::{null, null_mut};
use std::sync::mpsc;
use std::time::Duration;

use weft::ffi::engine::*;
use weft::ffi::instance::*;
use weft::ffi::module::*;

const STORM: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (local.get 1)
      (then (loop $l (drop (call $spawn (i32.const 0))) (br $l)))
      (else (loop $s (br $s)))))
  (func (export "_start")
    (drop (call $spawn (i32.const 1)))
    (drop (call $spawn (i32.const 1)))
    (call $exit (i32.const 7))))"#;

/// `STORM` with a lock around each spawn, held across `thread-spawn` as
/// wasi-libc's `pthread_create` holds its thread list lock (`atomic.wait`
/// to take it when taken, `notify` to give it back).
const LOCKED_STORM: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $lock
    (loop $try
      (if (i32.atomic.rmw.cmpxchg (i32.const 16) (i32.const 0) (i32.const 1))
        (then
          (drop (memory.atomic.wait32 (i32.const 16) (i32.const 1) (i64.const -1)))
          (br $try)))))
  (func $unlock
    (i32.atomic.store (i32.const 16) (i32.const 0))
    (drop (memory.atomic.notify (i32.const 16) (i32.const 1))))
  (func $spawn_locked (param i32)
    (call $lock)
    (drop (call $spawn (local.get 0)))
    (call $unlock))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (local.get 1)
      (then (loop $l (call $spawn_locked (i32.const 0)) (br $l)))
      (else (loop $s (br $s)))))
  (func (export "_start")
    (call $spawn_locked (i32.const 1))
    (call $spawn_locked (i32.const 1))
    (call $exit (i32.const 7))))"#;

/// Runs in a row of each program (`WEFT_STORM_RUNS` overrides).
fn runs() -> usize {
    std::env::var("WEFT_STORM_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

/// How long one run may take before it counts as hung.
const GUARD: Duration = Duration::from_secs(5);

/// Restricts the calling thread, and so every thread it starts from now
/// on (weft's included), to the first CPU it may run on.
fn pin_to_one_cpu() {
    // SAFETY: reads and sets the calling thread's affinity mask, a plain
    // bit set on the stack.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0);
        let cpu = (0..libc::CPU_SETSIZE as usize)
            .find(|&c| libc::CPU_ISSET(c, &set))
            .expect("some CPU is allowed");
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(libc::sched_setaffinity(0, size, &set), 0);
    }
}

/// A pointer handed to the thread that runs one program.
struct Ptr<T>(*mut T);
// SAFETY: the instance is used by one thread at a time: the runner until
// it reports back, then the test thread.
unsafe impl<T> Send for Ptr<T> {}

#[test]
fn a_spawn_storm_that_ends_never_hangs_the_host() {
    pin_to_one_cpu();
    for (name, wat) in [("STORM", STORM), ("LOCKED_STORM", LOCKED_STORM)] {
        storm_runs(name, wat);
    }
}

/// Runs `wat` [`runs`] times in a row, one engine and module, each run
/// with `weft_instance_new`, `weft_instance_run`, `weft_instance_delete`.
fn storm_runs(name: &str, wat: &str) {
    let (mut engine, mut module) = (null_mut(), null_mut());
    unsafe {
        assert!(weft_engine_new(null(), &mut engine).is_null());
        assert!(weft_module_new(engine, wat.as_ptr(), wat.len(), &mut module).is_null());
    }
    for i in 0..runs() {
        let mut inst = null_mut();
        unsafe {
            assert!(weft_instance_new(module, null(), null(), &mut inst).is_null());
        }
        let (done, finished) = mpsc::channel();
        let runner = Ptr(inst);
        std::thread::spawn(move || {
            let runner = runner;
            let mut code = -1;
            // SAFETY: `runner.0` is a live instance no one else uses now.
            let err = unsafe { weft_instance_run(runner.0, &mut code) };
            let ok = err.is_null();
            unsafe { weft::ffi::error::weft_error_delete(err) };
            let _ = done.send((ok, code));
        });
        match finished.recv_timeout(GUARD) {
            Ok((ok, code)) => {
                assert!(
                    ok && code == 7,
                    "{name} run {i}: expected exit 7, got ok={ok} code={code}"
                );
            }
            Err(_) => {
                let (mut spawned, mut live) = (0u64, 0u32);
                unsafe {
                    let err = weft_instance_stats(inst, &mut spawned, null_mut(), &mut live);
                    weft::ffi::error::weft_error_delete(err);
                    // Stops the storm, so that failing does not take long.
                    weft::ffi::error::weft_error_delete(weft_instance_interrupt(inst));
                }
                // The runner may still use the instance: it is left to the
                // process's exit.
                panic!(
                    "{name} run {i} has not returned after {GUARD:?}: {spawned} threads \
                     spawned, {live} alive (the main thread starved before its proc_exit)"
                );
            }
        }
        unsafe { weft_instance_delete(inst) };
    }
    unsafe {
        weft_module_delete(module);
        weft_engine_delete(engine);
    }
}
