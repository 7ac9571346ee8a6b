//! `weft::embed`: an embedder with its own `T`, its own `Linker<T>` and typed
//! host functions runs threaded guests (WAT, wasi-libc pthread C, Rust
//! `std::thread`) and sees every outcome.
//!
//! The C guest needs a wasi-sdk (`WASI_SDK_PATH`, as CMake's pthread guests);
//! the Rust guest needs the `wasm32-wasip1-threads` rustup target. A test
//! whose toolchain is absent says so on stderr and passes without running
//! (`common::guest` builds them).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{Caller, Engine, Instance, Linker, Module, Store};
use weft::embed::{
    self, ErrorKind, GuestMemory, Limits, Outcome, ThreadDump, ThreadState, WasiCtx,
    WasiThreadsCtx, WasiView,
};
use weft::wasi::{Stdio, WasiConfig};

use common::guest::{self, Memory};

/// The embedder's own store data: a counter shared by every thread, and a
/// count of how often weft cloned it (once per spawned thread).
struct Host {
    wasi: Arc<WasiCtx>,
    threads: Option<Arc<WasiThreadsCtx<Host>>>,
    counter: Arc<Mutex<i64>>,
    clones: Arc<AtomicU32>,
}

impl Clone for Host {
    fn clone(&self) -> Host {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Host {
            wasi: self.wasi.clone(),
            threads: self.threads.clone(),
            counter: self.counter.clone(),
            clones: self.clones.clone(),
        }
    }
}

impl WasiView for Host {
    fn wasi(&self) -> &WasiCtx {
        &self.wasi
    }

    fn guest_memory(&self) -> Option<&GuestMemory> {
        self.threads.as_ref()?.guest_memory()
    }

    // WASI calls show in thread snapshots and dumps.
    fn call_started(caller: &Caller<'_, Self>, name: &'static std::ffi::CStr) {
        embed::wasi_call_started(caller, name);
    }

    fn call_finished(caller: &Caller<'_, Self>) {
        embed::wasi_call_finished(caller);
    }
}

/// One program ready to run.
struct Prepared {
    threads: Arc<WasiThreadsCtx<Host>>,
    store: Store<Host>,
    instance: Instance,
    counter: Arc<Mutex<i64>>,
    clones: Arc<AtomicU32>,
    wasi: Arc<WasiCtx>,
}

impl Prepared {
    fn run(mut self) -> (Outcome, Prepared) {
        let outcome = self
            .threads
            .run_main(&mut self.store, &self.instance)
            .expect("run_main");
        (outcome, self)
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.wasi.captured_stdout()).into_owned()
    }
}

/// Tests in this file measure threads and memory of the whole process: one
/// at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(embed::configure(&mut wasmtime::Config::new())).expect("engine")
    })
}

/// The embedder's linker: weft's WASI and the typed host function
/// `host.bump(by: i32) -> i64`, which adds `by` to the counter and returns it
/// (and, for `tests/guests/thread_states.wat`, `test.children` returning 4
/// and an `env.block` that returns at once).
fn base_linker() -> Linker<Host> {
    let mut linker = Linker::new(engine());
    embed::add_wasi_to_linker(&mut linker).expect("wasi");
    linker
        .func_wrap("test", "children", || -> i32 { 4 })
        .expect("host function");
    linker
        .func_wrap("env", "block", || {})
        .expect("host function");
    linker
        .func_wrap("host", "bump", |caller: Caller<'_, Host>, by: i32| -> i64 {
            let mut counter = caller.data().counter.lock().unwrap();
            *counter += i64::from(by);
            *counter
        })
        .expect("host function");
    linker
}

fn prepare(module: &Module, args: &[&str], limits: &Limits) -> Prepared {
    try_prepare(module, args, limits).expect("prepare")
}

fn try_prepare(module: &Module, args: &[&str], limits: &Limits) -> embed::Result<Prepared> {
    let mut config = WasiConfig::new();
    config
        .args(args.iter().copied())
        .stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    let wasi = Arc::new(WasiCtx::new(&config).expect("wasi ctx"));
    let counter = Arc::new(Mutex::new(0));
    let clones = Arc::new(AtomicU32::new(0));
    let host = Host {
        wasi: wasi.clone(),
        threads: None,
        counter: counter.clone(),
        clones: clones.clone(),
    };
    let mut store = Store::new(engine(), host);
    let mut linker = base_linker();
    embed::add_to_linker(&mut linker, &store, module, |h: &mut Host| {
        h.threads.as_ref().unwrap()
    })?;
    let threads = Arc::new(
        WasiThreadsCtx::with_limits(module.clone(), Arc::new(linker), limits)?.with_wasi(&wasi),
    );
    store.data_mut().threads = Some(threads.clone());
    let instance = threads.instantiate(&mut store)?;
    Ok(Prepared {
        threads,
        store,
        instance,
        counter,
        clones,
        wasi,
    })
}

fn compile_wat(wat: &str) -> Module {
    embed::compile(engine(), wat.as_bytes()).expect("compile")
}

/// N threads each bump the counter ARG times; main waits (untimed
/// `memory.atomic.wait32`) until all N have finished.
const COUNTER_WAT: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "host" "bump" (func $bump (param i32) (result i64)))
  (import "env" "memory" (memory 1 1 shared))
  (global $n i32 (i32.const 8))
  (func (export "wasi_thread_start") (param $tid i32) (param $times i32)
    (local $i i32)
    (loop $l
      (drop (call $bump (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $times))))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1))))
  (func (export "_start")
    (local $i i32) (local $v i32)
    (loop $s
      (if (i32.le_s (call $spawn (i32.const 500)) (i32.const 0)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $i) (global.get $n))))
    (block $done
      (loop $w
        (local.set $v (i32.atomic.load (i32.const 0)))
        (br_if $done (i32.eq (local.get $v) (global.get $n)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $v) (i64.const -1)))
        (br $w)))))"#;

#[test]
fn embedder_t_is_cloned_per_thread_and_typed_host_functions_run_on_every_thread() {
    let _serial = serial();
    let module = compile_wat(COUNTER_WAT);
    let p = prepare(&module, &["counter"], &Limits::default());
    let clones_before = p.clones.load(Ordering::SeqCst);
    let (outcome, p) = p.run();
    assert_eq!(outcome, Outcome::Exit(0));
    assert_eq!(*p.counter.lock().unwrap(), 8 * 500);
    assert_eq!(p.clones.load(Ordering::SeqCst) - clones_before, 8);
    let stats = p.threads.stats();
    assert_eq!((stats.spawned, stats.live), (8, 0));
    assert!(stats.peak_live >= 1 && stats.peak_live <= 8);
}

/// Threads that spin forever (or park in an untimed wait) while main parks
/// in an untimed wait: only the host can end this program.
const STUCK_WAT: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (local.get 1)
      (then (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1))))
      (else (loop $l (br $l)))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 1)))
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))"#;

#[test]
fn interrupt_from_another_host_thread_stops_spinning_and_waiting_threads() {
    let _serial = serial();
    let module = compile_wat(STUCK_WAT);
    let p = prepare(&module, &["stuck"], &Limits::default());
    let threads = p.threads.clone();
    let interrupter = std::thread::spawn(move || {
        while threads.stats().spawned < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        let at = Instant::now();
        threads.interrupt();
        at
    });
    let (outcome, p) = p.run();
    let stopped = interrupter.join().unwrap().elapsed();
    assert_eq!(outcome, Outcome::Interrupted);
    // Main returned (it was woken from its untimed wait) and no spawned
    // thread runs on; the time is printed, not asserted.
    assert_eq!(p.threads.stats().live, 0, "every thread stopped");
    println!("stopped {stopped:?} after the interrupt");
    assert_eq!(p.threads.outcome(), Some(Outcome::Interrupted));
}

#[test]
fn timeout_ends_the_program() {
    let _serial = serial();
    let module = compile_wat(STUCK_WAT);
    let limits = Limits {
        timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    };
    let start = Instant::now();
    let (outcome, p) = prepare(&module, &["stuck"], &limits).run();
    assert_eq!(outcome, Outcome::TimedOut);
    assert_eq!(p.threads.stats().live, 0);
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// `_start` or a thread traps or exits, chosen by the spawn argument.
const ENDINGS_WAT: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $argc (param i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (if (i32.eq (local.get 1) (i32.const 1)) (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get 1) (i32.const 2)) (then unreachable))
    (loop $l (br $l)))
  (func (export "_start") (local $mode i32)
    (drop (call $argc (i32.const 16) (i32.const 20)))
    ;; argc - 1 picks the ending: 1 thread exits, 2 thread traps,
    ;; 3 main exits, 4 main traps, 5 main returns.
    (local.set $mode (i32.sub (i32.load (i32.const 16)) (i32.const 1)))
    (if (i32.le_u (local.get $mode) (i32.const 2))
      (then
        (drop (call $spawn (local.get $mode)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
    (drop (call $spawn (i32.const 0)))
    (if (i32.eq (local.get $mode) (i32.const 3)) (then (call $exit (i32.const 3))))
    (if (i32.eq (local.get $mode) (i32.const 4)) (then unreachable))))"#;

#[test]
fn every_outcome_is_reported_and_the_process_lives_on() {
    let _serial = serial();
    let module = compile_wat(ENDINGS_WAT);
    let run = |argc: usize| {
        let args: Vec<&str> = std::iter::repeat_n("x", argc).collect();
        let (outcome, p) = prepare(&module, &args, &Limits::default()).run();
        assert_eq!(p.threads.stats().live, 0, "argc {argc}: threads left");
        outcome
    };
    assert_eq!(run(2), Outcome::Exit(7), "exit from a thread");
    match run(3) {
        Outcome::Trap(t) => {
            assert_ne!(t.tid, 0, "the thread trapped, not main");
            assert!(t.message.contains("unreachable"), "{}", t.message);
        }
        other => panic!("trap in a thread: {other:?}"),
    }
    assert_eq!(run(4), Outcome::Exit(3), "exit from main");
    match run(5) {
        Outcome::Trap(t) => assert_eq!(t.tid, 0, "main trapped"),
        other => panic!("trap in main: {other:?}"),
    }
    assert_eq!(run(6), Outcome::Exit(0), "_start returned");
}

#[test]
fn finish_main_reports_exports_the_embedder_calls_itself() {
    let _serial = serial();
    let module = compile_wat(COUNTER_WAT);
    let mut p = prepare(&module, &["counter"], &Limits::default());
    let start = p
        .instance
        .get_typed_func::<(), ()>(&mut p.store, "_start")
        .unwrap();
    let result = start.call(&mut p.store, ());
    assert_eq!(p.threads.finish_main(result), Outcome::Exit(0));
    assert_eq!(*p.counter.lock().unwrap(), 4000);
}

#[test]
fn spawn_failures_are_negative_results_not_errors() {
    let _serial = serial();
    // No wasi_thread_start: the module runs, its spawns fail.
    let no_entry = compile_wat(
        r#"(module
          (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
          (import "env" "memory" (memory 1 1 shared))
          (func (export "_start")
            (if (i32.ge_s (call $spawn (i32.const 0)) (i32.const 0)) (then unreachable))))"#,
    );
    let (outcome, p) = prepare(&no_entry, &["x"], &Limits::default()).run();
    assert_eq!(outcome, Outcome::Exit(0));
    assert_eq!(p.threads.stats().spawned, 0);

    // The thread limit: the third of three spawns fails while two live.
    let limited = compile_wat(
        STUCK_WAT
            .replace(
                "(drop (call $spawn (i32.const 1)))",
                "(drop (call $spawn (i32.const 1)))
         (if (i32.ge_s (call $spawn (i32.const 1)) (i32.const 0)) (then unreachable))
         (i32.store (i32.const 4) (i32.const 1))",
            )
            .as_str(),
    );
    let limits = Limits {
        max_threads: 2,
        timeout: Some(Duration::from_millis(200)),
        ..Limits::default()
    };
    let (outcome, p) = prepare(&limited, &["x"], &limits).run();
    assert_eq!(
        outcome,
        Outcome::TimedOut,
        "no trap: the spawn returned < 0"
    );
    let stats = p.threads.stats();
    assert_eq!((stats.spawned, stats.peak_live, stats.live), (2, 2, 0));

    // Spawning directly after the program ended fails with a reason.
    let err = p.threads.spawn(p.store.data().clone(), 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Instantiate);
    assert!(err.message().contains("ended"), "{}", err.message());
}

#[test]
fn shared_memory_is_linked_for_any_import_name_and_plain_memory_is_refused() {
    let _serial = serial();
    let module = compile_wat(&COUNTER_WAT.replace("\"env\" \"memory\"", "\"mem\" \"heap\""));
    let (outcome, p) = prepare(&module, &["x"], &Limits::default()).run();
    assert_eq!(outcome, Outcome::Exit(0));
    assert_eq!(*p.counter.lock().unwrap(), 4000);
    assert_eq!(p.threads.memory().unwrap().size(), 1);

    let plain =
        compile_wat(r#"(module (import "env" "memory" (memory 1)) (func (export "_start")))"#);
    let err = try_prepare(&plain, &["x"], &Limits::default())
        .err()
        .expect("a plain memory import is refused");
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(err.message().contains("not shared"), "{}", err.message());
}

#[test]
fn tids_are_recycled_lowest_first_when_the_host_spawns_directly() {
    let _serial = serial();
    let module = compile_wat(COUNTER_WAT);
    let p = prepare(&module, &["x"], &Limits::default());
    let host = p.store.data().clone();
    let mut tids = Vec::new();
    for _ in 0..3 {
        // `wasi_thread_start(tid, 1)` bumps the counter once and returns.
        tids.push(p.threads.spawn(host.clone(), 1).expect("spawn"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while p.threads.stats().live > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(tids, [1, 1, 1], "the ended thread's TID is reused");
    assert_eq!(*p.counter.lock().unwrap(), 3);
    assert_eq!(p.threads.stats().spawned, 3);
    p.threads.interrupt();
    assert_eq!(p.threads.wait(None), Some(Outcome::Interrupted));
}

/// Tasks of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn a_thousand_programs_in_a_row_leave_threads_and_memory_flat() {
    let _serial = serial();
    let module = compile_wat(&COUNTER_WAT.replace("(i32.const 500)", "(i32.const 10)"));
    let run_one = || {
        let (outcome, p) = prepare(&module, &["x"], &Limits::default()).run();
        assert_eq!(outcome, Outcome::Exit(0));
        assert_eq!(*p.counter.lock().unwrap(), 80);
        assert_eq!(p.threads.stats().live, 0);
    };
    for _ in 0..100 {
        run_one();
    }
    let (tasks_before, rss_before) = (threads_named(""), rss_bytes());
    for _ in 0..900 {
        run_one();
    }
    // Guest threads go back to weft's pool (`weft-idle`) as they end.
    let deadline = Instant::now() + Duration::from_secs(1);
    while threads_named("weft-thread") > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        threads_named("weft-thread"),
        0,
        "a guest thread outlived its program"
    );
    let (tasks_after, rss_after) = (threads_named(""), rss_bytes());
    assert!(
        tasks_after <= tasks_before + 8,
        "threads grew from {tasks_before} to {tasks_after}"
    );
    assert!(
        rss_after < rss_before + 32 * 1024 * 1024,
        "memory grew from {rss_before} to {rss_after} bytes"
    );
}

// ---- real guests ---------------------------------------------------------

/// `tests/guests/embed/host_counter.c`, a wasi-sdk pthread guest, or `None`
/// (no wasi-sdk: `test` is skipped; see `common::guest`).
fn c_guest(test: &str) -> Option<Module> {
    let wasm = guest::pthread(test, "tests/guests/embed/host_counter.c", Memory::Imported)?;
    let bytes = std::fs::read(wasm).expect("read guest");
    Some(embed::compile(engine(), &bytes).expect("compile C guest"))
}

/// `tests/guests/embed/rust_counter.rs`, built for `wasm32-wasip1-threads`,
/// or `None` (the rustup target is not installed: `test` is skipped).
fn rust_guest(test: &str) -> Option<Module> {
    let wasm = guest::rust(test, "tests/guests/embed/rust_counter.rs")?;
    let bytes = std::fs::read(wasm).expect("read guest");
    Some(embed::compile(engine(), &bytes).expect("compile Rust guest"))
}

#[test]
fn c_pthread_guest_calls_typed_host_functions_from_many_threads() {
    let _serial = serial();
    let Some(module) = c_guest("c_pthread_guest_calls_typed_host_functions_from_many_threads")
    else {
        return;
    };
    let (outcome, p) = prepare(
        &module,
        &["host_counter", "count", "16"],
        &Limits::default(),
    )
    .run();
    assert_eq!(
        outcome,
        Outcome::Exit(0),
        "stderr: {:?}",
        p.wasi.captured_stderr()
    );
    assert_eq!(*p.counter.lock().unwrap(), 16_000);
    assert_eq!(p.stdout(), "total 16000\n");
    assert_eq!(p.threads.stats().spawned, 16);
}

#[test]
fn c_pthread_guest_every_outcome() {
    let _serial = serial();
    let Some(module) = c_guest("c_pthread_guest_every_outcome") else {
        return;
    };
    let run = |mode: &str, limits: &Limits| {
        let (outcome, p) = prepare(&module, &["host_counter", mode], limits).run();
        assert_eq!(p.threads.stats().live, 0, "{mode}: a thread is left");
        outcome
    };
    let defaults = Limits::default();
    assert_eq!(run("exit-main", &defaults), Outcome::Exit(3));
    assert_eq!(run("exit-thread", &defaults), Outcome::Exit(7));
    match run("trap-thread", &defaults) {
        Outcome::Trap(t) => assert_ne!(t.tid, 0, "{t}"),
        other => panic!("trap-thread: {other:?}"),
    }
    let short = Limits {
        timeout: Some(Duration::from_millis(150)),
        ..Limits::default()
    };
    assert_eq!(run("spin", &short), Outcome::TimedOut);
    // Threads parked in pthread_cond_wait (an untimed memory.atomic.wait)
    // while main joins them: a deadlock, found by the census (no timeout is
    // set, nothing else could end it)...
    match run("wait", &defaults) {
        Outcome::Deadlock(dump) => assert_eq!(dump.threads.len(), 5, "{dump}"),
        other => panic!("wait: {other:?}"),
    }
    // ... and, with detection off, stopped by the timeout.
    let undetected = Limits {
        deadlock_detection: false,
        ..short.clone()
    };
    assert_eq!(run("wait", &undetected), Outcome::TimedOut);
    // Interrupt from another host thread.
    let p = prepare(&module, &["host_counter", "spin"], &defaults);
    let threads = p.threads.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        threads.interrupt();
    });
    let (outcome, p) = p.run();
    t.join().unwrap();
    assert_eq!(outcome, Outcome::Interrupted);
    assert_eq!(p.threads.stats().live, 0);
}

#[test]
fn rust_std_thread_guest_calls_typed_host_functions_and_ends() {
    let _serial = serial();
    let Some(module) = rust_guest("rust_std_thread_guest_calls_typed_host_functions_and_ends")
    else {
        return;
    };
    let (outcome, p) = prepare(&module, &["rust_counter", "count", "6"], &Limits::default()).run();
    assert_eq!(
        outcome,
        Outcome::Exit(0),
        "stderr: {:?}",
        p.wasi.captured_stderr()
    );
    assert_eq!(*p.counter.lock().unwrap(), 6000);
    assert_eq!(p.stdout(), "total 6000\n");
    let (outcome, _) = prepare(
        &module,
        &["rust_counter", "exit-thread"],
        &Limits::default(),
    )
    .run();
    assert_eq!(outcome, Outcome::Exit(7));
    let (outcome, _) = prepare(
        &module,
        &["rust_counter", "panic-thread"],
        &Limits::default(),
    )
    .run();
    match outcome {
        Outcome::Trap(t) => assert_ne!(t.tid, 0, "{t}"),
        other => panic!("abort in a thread: {other:?}"),
    }
}

#[test]
fn a_deadlock_ends_run_main_at_once_with_a_dump() {
    let _serial = serial();
    let module = compile_wat(include_str!("guests/deadlock.wat"));
    let start = Instant::now();
    let (outcome, p) = prepare(&module, &["deadlock"], &Limits::default()).run();
    let took = start.elapsed();
    let Outcome::Deadlock(dump) = outcome else {
        panic!("not a deadlock: {outcome:?}");
    };
    // No timeout is set: only the census ends this program. Its speed is
    // measured by `cargo bench --bench observe`, not bounded here.
    println!("deadlock found and run_main returned in {took:?}");
    assert_eq!(p.threads.stats().live, 0);
    assert_eq!(dump.threads.len(), 2, "{dump}");
    for (t, frame) in dump.threads.iter().zip(["wait_for_child", "wait_for_main"]) {
        assert!(
            matches!(t.state, ThreadState::Parked { timed: false, .. }),
            "{dump}"
        );
        let bt = t.backtrace.as_deref().unwrap_or_default();
        assert!(bt.contains(frame), "tid {}: {bt}\n{dump}", t.tid);
    }
    // The main thread is the one that called run_main.
    assert!(dump.threads[0].os_tid.is_some(), "{dump}");
    // Off: only the timeout ends it.
    let off = Limits {
        deadlock_detection: false,
        timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    };
    let (outcome, _) = prepare(&module, &["deadlock"], &off).run();
    assert_eq!(outcome, Outcome::TimedOut);
}

#[test]
fn snapshots_and_dumps_show_every_embedded_thread() {
    let _serial = serial();
    // tests/guests/thread_states.wat with 4 children: 1 spins, 2 parks
    // untimed, 3 parks timed, 4 sleeps in poll_oneoff; main parks untimed.
    let module = compile_wat(include_str!("guests/thread_states.wat"));
    let p = prepare(&module, &["states"], &Limits::default());
    let threads = p.threads.clone();
    let watcher = std::thread::spawn(move || {
        let settled = |d: &ThreadDump| {
            let state = |tid| d.threads.iter().find(|t| t.tid == tid).map(|t| &t.state);
            d.threads.len() == 5
                && state(0)
                    == Some(&ThreadState::Parked {
                        address: 256,
                        timed: false,
                    })
                && state(1) == Some(&ThreadState::Running)
                && state(2)
                    == Some(&ThreadState::Parked {
                        address: 64,
                        timed: false,
                    })
                && state(3)
                    == Some(&ThreadState::Parked {
                        address: 128,
                        timed: true,
                    })
                && state(4) == Some(&ThreadState::WasiCall("poll_oneoff"))
        };
        let start = Instant::now();
        let snap = loop {
            let snap = threads.threads();
            if settled(&snap) || start.elapsed() > Duration::from_secs(10) {
                break snap;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let dump = threads.dump();
        let still = threads.outcome();
        threads.interrupt();
        (snap, dump, still, settled)
    });
    let (outcome, p) = p.run();
    let (snap, dump, still, settled) = watcher.join().unwrap();
    assert!(settled(&snap), "{snap}");
    assert!(!snap.with_backtraces);
    assert_eq!(still, None, "the dump left the program running");
    assert_eq!(outcome, Outcome::Interrupted);
    assert_eq!(p.threads.stats().live, 0);
    let main = &snap.threads[0];
    assert!(main.os_tid.is_some() && !main.os_name.is_empty(), "{snap}");
    for (tid, frame) in [
        (0, "main_park"),
        (1, "spin"),
        (2, "park"),
        (3, "park_timed"),
        (4, "sleep"),
    ] {
        let t = dump.threads.iter().find(|t| t.tid == tid).expect("thread");
        let bt = t.backtrace.as_deref().unwrap_or_default();
        assert!(bt.contains(frame), "tid {tid}: {bt:?}\n{dump}");
    }
}
