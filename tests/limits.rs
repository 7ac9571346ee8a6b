//! Limits that hold: the thread cap, wasm stack overflow in a child, OS
//! thread creation failure, the memory cap under concurrent growth, a tight
//! spawn loop, and thousands of programs in a row, with the host's threads,
//! memory and file descriptors staying flat.
//!
//! Tunables (environment): `WEFT_SPAWN_LOOP_SECS` (default 2) for the spawn
//! loop, `WEFT_PROGRAMS` (default 10000) for the programs in a row.
//! The tests of this file run one at a time: they count the process's
//! threads and file descriptors.

#[path = "termination/probe.rs"]
mod probe;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use weft::runtime::{
    Config, Engine, ErrorKind, HostFunc, HostFuncs, Instance, Outcome, Program, Val, ValType,
    MAX_IDLE_THREADS,
};
use weft::wasi::{Stdio, WasiConfig};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn quiet() -> WasiConfig {
    let mut w = WasiConfig::new();
    w.stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    w
}

fn run(config: Config, wat: &str, host: &HostFuncs) -> (Outcome, Instance) {
    let engine = Engine::new(&config).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &quiet(), host).unwrap();
    (inst.run().unwrap(), inst)
}

fn host_fn(
    name: &str,
    params: &[ValType],
    results: &[ValType],
    f: impl Fn(&[Val], &mut [Val]) + Send + Sync + 'static,
) -> HostFunc {
    HostFunc {
        module: "test".into(),
        name: name.into(),
        params: params.to_vec(),
        results: results.to_vec(),
        callback: Arc::new(move |_, a, r| {
            f(a, r);
            Ok(())
        }),
    }
}

/// Threads of the process that are not parked in weft's idle pool.
fn busy_threads() -> usize {
    let idle = std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == "weft-idle")
                })
                .count()
        })
        .unwrap_or(0);
    probe::all_threads() - idle
}

#[test]
fn thread_cap_holds_and_capped_children_in_untimed_waits_end() {
    let _s = serial();
    // Spawn 20 children that park forever; with a cap of 5, exactly 5
    // succeed, the rest get a negative TID. Then main exits.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))
      (func (export "_start") (local $i i32) (local $ok i32) (local $t i32)
        (loop $s
          (local.set $t (call $spawn (i32.const 0)))
          (if (i32.gt_s (local.get $t) (i32.const 0))
            (then (local.set $ok (i32.add (local.get $ok) (i32.const 1))))
            (else (if (i32.ge_s (local.get $t) (i32.const 0)) (then unreachable))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 20))))
        (call $exit (local.get $ok))))"#;
    let config = Config {
        max_threads: 5,
        ..Config::default()
    };
    let t = Instant::now();
    let (outcome, inst) = run(config, wat, &HostFuncs::new());
    assert_eq!(outcome, Outcome::Exit(5));
    assert_eq!(inst.stats().peak_live, 5);
    // Every child was released from its untimed wait (a child left
    // parked would still count as live after the grace period).
    assert_eq!(inst.stats().live, 0);
    println!("run took {:?}", t.elapsed());
}

const RECURSE: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $deep (param i64) (result i64)
    (i64.add (call $deep (i64.add (local.get 0) (i64.const 1))) (local.get 0)))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (call $deep (i64.const 0))))
  (func (export "_start")
    (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 1))))
    (loop $l (br $l))))"#;

#[test]
fn stack_overflow_in_a_child_is_a_trap() {
    let _s = serial();
    for wasm_stack in [64 * 1024, weft::runtime::DEFAULT_WASM_STACK] {
        let config = Config {
            wasm_stack_size: wasm_stack,
            ..Config::default()
        };
        match run(config, RECURSE, &HostFuncs::new()).0 {
            Outcome::Trap(t) => {
                assert!(t.tid >= 1, "{t:?}");
                assert!(t.message.contains("call stack exhausted"), "{t:?}");
            }
            o => panic!("{o:?}"),
        }
    }
    // In the main thread too.
    let main_overflow = RECURSE.replace(
        "(if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 1))))",
        "(drop (call $deep (i64.const 0)))",
    );
    match run(Config::default(), &main_overflow, &HostFuncs::new()).0 {
        Outcome::Trap(t) => {
            assert_eq!(t.tid, 0);
            assert!(t.message.contains("call stack exhausted"), "{t:?}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn os_thread_creation_failure_is_a_negative_tid() {
    let _s = serial();
    // An OS stack no system can map: creating the thread fails, the guest
    // gets a negative result and carries on. Called as a reactor export on
    // this thread, since the command's main thread would need such a stack too.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32))
      (func (export "try_spawn") (result i32) (call $spawn (i32.const 0))))"#;
    let engine = Engine::new(&Config {
        os_stack_size: 1 << 46,
        ..Config::default()
    })
    .unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &quiet(), &HostFuncs::new()).unwrap();
    for _ in 0..3 {
        let r = inst.call("try_spawn", &[]).unwrap()[0].unwrap_i32();
        assert!(r < 0, "{r}");
    }
    assert_eq!(inst.stats().live, 0);
    // The command form reports the failure as an error, not a crash.
    let e = inst.start();
    assert!(e.is_err() || inst.wait(Some(Duration::from_secs(1))).is_some());
}

#[test]
fn memory_cap_holds_when_threads_grow_at_once() {
    let _s = serial();
    // 8 threads each grow by one page until memory.grow fails; the cap is
    // 12 pages and the memory starts at 2, so exactly 10 grows succeed.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 2 1000 shared))
      (func $grow
        (loop $l
          (if (i32.ge_s (memory.grow (i32.const 1)) (i32.const 0)) (then
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (br $l)))))
      (func (export "wasi_thread_start") (param i32 i32)
        ;; start together
        (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 8)))))
        (call $grow)
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1))))
      (func (export "_start") (local $i i32)
        (loop $s
          (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 99))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 8))))
        (i32.atomic.store (i32.const 8) (i32.const 1))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 8))))
        (if (i32.ne (memory.size) (i32.const 12)) (then (call $exit (i32.const 98))))
        (call $exit (i32.atomic.load (i32.const 0)))))"#;
    for _ in 0..5 {
        let config = Config {
            max_memory: Some(12 * 65536),
            ..Config::default()
        };
        assert_eq!(run(config, wat, &HostFuncs::new()).0, Outcome::Exit(10));
    }
}

#[test]
fn tight_spawn_loop_keeps_host_threads_and_memory_flat() {
    let _s = serial();
    let secs: f64 = env_or("WEFT_SPAWN_LOOP_SECS", 2.0);
    // Main spawns children that exit at once, as fast as it can, until the
    // host says stop; it samples the host's threads and RSS on the way.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "test" "more" (func $more (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1))))
      (func (export "_start") (local $i i32)
        (loop $s
          (drop (call $spawn (i32.const 0)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.and (local.get $i) (i32.const 63)))
          (br_if $s (call $more)))
        (call $exit (i32.const 0))))"#;
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let samples: Arc<Mutex<Vec<(usize, u64)>>> = Arc::default();
    let last_sample = Arc::new(Mutex::new(Instant::now()));
    let mut host = HostFuncs::new();
    let (s, l) = (samples.clone(), last_sample.clone());
    host.define(host_fn("more", &[], &[ValType::I32], move |_, r| {
        let mut last = l.lock().unwrap();
        if last.elapsed() >= Duration::from_millis(100) {
            s.lock().unwrap().push((busy_threads(), probe::rss_kib()));
            *last = Instant::now();
        }
        r[0] = Val::I32((Instant::now() < deadline) as i32);
    }));
    let max_threads = 32;
    let config = Config {
        max_threads,
        ..Config::default()
    };
    let before = busy_threads();
    let (outcome, inst) = run(config, wat, &host);
    assert_eq!(outcome, Outcome::Exit(0));
    let stats = inst.stats();
    let samples = samples.lock().unwrap();
    let threads_max = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let rss: Vec<u64> = samples.iter().map(|s| s.1).collect();
    println!(
        "{secs} s: {} spawns, peak {} live; host threads before {before}, max {threads_max}; \
         RSS KiB first sample {:?}, last {:?}, max {:?}",
        stats.spawned,
        stats.peak_live,
        rss.first(),
        rss.last(),
        rss.iter().max()
    );
    assert!(stats.spawned > 100, "{stats:?}");
    assert!(stats.peak_live <= max_threads);
    // Threads: bounded by the cap (plus main, watchdog and this runner's
    // own threads), never growing with the number of spawns.
    assert!(
        threads_max <= before + max_threads as usize + 4,
        "threads grew: {before} -> {threads_max}"
    );
    // Memory: the second half of the run does not grow beyond noise.
    if rss.len() >= 4 {
        let mid = rss[rss.len() / 2];
        let end = *rss.last().unwrap();
        assert!(
            end <= mid + 16 * 1024,
            "RSS grew from {mid} KiB to {end} KiB"
        );
    }
    drop(inst);
    assert!(
        probe::until(Duration::from_secs(1), || probe::program_threads()
            .is_empty())
        .is_some()
    );
}

/// The mix of programs for [`thousands_of_programs_in_a_row`].
const MIX: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "test" "mode" (func $mode (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $boom unreachable)
  (func (export "wasi_thread_start") (param $tid i32) (param $mode i32)
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (call $exit (i32.const 11))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (call $boom)))
    ;; otherwise: park forever
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))
  (func (export "_start") (local $m i32)
    (local.set $m (call $mode))
    (drop (call $spawn (i32.const 0)))
    (if (i32.eqz (local.get $m)) (then (call $exit (i32.const 10))))
    (if (i32.le_u (local.get $m) (i32.const 2)) (then (drop (call $spawn (local.get $m)))))
    (loop $spin (br $spin))))"#;

#[test]
fn thousands_of_programs_in_a_row() {
    let _s = serial();
    let n: usize = env_or("WEFT_PROGRAMS", 10_000);
    let plain = Engine::new(&Config::default()).unwrap();
    let timed = Engine::new(&Config {
        timeout: Some(Duration::from_millis(1)),
        ..Config::default()
    })
    .unwrap();
    let plain_prog = Program::from_bytes(&plain, MIX.as_bytes()).unwrap();
    let timed_prog = Program::from_bytes(&timed, MIX.as_bytes()).unwrap();
    let mode = Arc::new(AtomicU64::new(0));
    let mut host = HostFuncs::new();
    let m = mode.clone();
    host.define(host_fn("mode", &[], &[ValType::I32], move |_, r| {
        r[0] = Val::I32(m.load(Ordering::SeqCst) as i32)
    }));
    let settle = || {
        let _ = probe::until(Duration::from_secs(1), || {
            probe::program_threads().is_empty()
        });
    };
    let measure = || (probe::rss_kib(), busy_threads(), probe::open_fds());
    let start = Instant::now();
    let mut at_100 = None;
    for i in 0..n {
        let m = (i % 4) as u64;
        mode.store(m, Ordering::SeqCst);
        let program = if m == 3 { &timed_prog } else { &plain_prog };
        // The 1 ms timeout also covers instantiation, which a loaded machine
        // can stretch past it: that is the same timeout, reported by `new`.
        match Instance::new(program, &quiet(), &host) {
            Err(e) if m == 3 && e.kind() == ErrorKind::TimedOut => {}
            Err(e) => panic!("program {i} (mode {m}): {e}"),
            Ok(inst) => {
                let outcome = inst.run().unwrap();
                let ok = match (m, &outcome) {
                    (0, Outcome::Exit(10)) | (1, Outcome::Exit(11)) | (3, Outcome::TimedOut) => {
                        true
                    }
                    (2, Outcome::Trap(t)) => t.tid >= 1,
                    _ => false,
                };
                if !ok {
                    panic!("program {i} (mode {m}): {outcome:?}");
                }
                assert_eq!(inst.stats().live, 0, "program {i}");
            }
        }
        if i + 1 == 100.min(n) {
            settle();
            at_100 = Some(measure());
        }
    }
    settle();
    let after = measure();
    let at_100 = at_100.unwrap();
    let idle = probe::all_threads() - busy_threads();
    println!(
        "{n} programs in {:?}: after 100 (RSS KiB, threads, fds) = {at_100:?}, after all = {after:?}, idle pooled threads {idle}",
        start.elapsed()
    );
    assert!(
        after.0 <= at_100.0 + 16 * 1024,
        "RSS {at_100:?} -> {after:?}"
    );
    assert!(after.1 <= at_100.1 + 2, "threads {at_100:?} -> {after:?}");
    assert!(after.2 <= at_100.2 + 2, "fds {at_100:?} -> {after:?}");
    assert!(idle <= MAX_IDLE_THREADS);
}
