//! WAT guests: host functions on every thread, interrupts, timeouts,
//! outcomes, spawn failures, memories, TIDs, a thousand runs in a row.

use super::*;

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
