//! Exception handling with threads (issue 20, item 4): an exception thrown
//! and caught in one thread never disturbs another; an uncaught one ends the
//! whole program as a trap of its thread; and the end of the program
//! (`proc_exit`, traps, the timeout, an interrupt, deadlocks) and thread dumps
//! behave inside `try_table` blocks as they do elsewhere: weft's stops are
//! traps, which no `catch_all` catches.

mod common;

use std::time::{Duration, Instant};

use common::*;
use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program, ThreadState};
use weft::wasi::WasiConfig;

/// A program whose main thread spawns two threads running `thread` (after
/// counting themselves in at address 4), waits until both have started, then
/// runs `main`. Every piece of guest code below sits inside a `try_table`
/// with `catch_all`.
fn program(main: &str, thread: &str) -> String {
    format!(
        r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (tag $e (param i32))
  ;; a function that only throws: no loop, no call, so no stop check
  (func $only_throws (param i32) (throw $e (local.get 0)))
  (func $spin_in_try
    (block $h (try_table (catch_all $h) (loop $l (br $l)))))
  (func $throw_in_loop
    (block $out
      (try_table (catch_all $out)
        (loop $l
          (block $h (result i32)
            (try_table (catch $e $h) (call $only_throws (i32.const 1)))
            (i32.const 0))
          (drop)
          (br $l)))))
  (func $park_in_try
    (block $h
      (try_table (catch_all $h)
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))))
  (func $exit_in_try (param i32)
    (block $h (try_table (catch_all $h) (call $proc_exit (local.get 0)))))
  (func $trap_in_try
    (block $h (try_table (catch_all $h) (unreachable))))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
    {thread})
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 0)))
    (loop $wait (br_if $wait (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 2))))
    {main}))"#
    )
}

fn engine(config: Config) -> Engine {
    Engine::new(&config).expect("engine")
}

fn start(config: Config, wat: &str) -> Instance {
    let program = Program::from_bytes(&engine(config), wat.as_bytes()).expect("load");
    let inst =
        Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).expect("instance");
    inst.start().expect("start");
    inst
}

/// Runs to the end, checks that it took less than `within` and that every
/// thread has stopped.
fn outcome(inst: &Instance, within: Duration) -> Outcome {
    let t = Instant::now();
    let outcome = inst.wait(Some(Duration::from_secs(60))).expect("ends");
    assert!(
        t.elapsed() < within,
        "{:?}: took {:?}",
        outcome,
        t.elapsed()
    );
    assert_all_threads_stopped(inst, "exceptions");
    outcome
}

#[test]
fn exceptions_in_many_threads_never_disturb_each_other() {
    // Five threads, each throwing and catching its own values 20,000 times,
    // rethrowing with throw_ref and filtering by tag, at once.
    let wat = std::fs::read(root().join("c-tests/guests/wat/features/exceptions.wat")).unwrap();
    let r = run_bytes(&wat, &captured(&[]));
    assert_eq!(r.outcome, Outcome::Exit(0), "{}", r.stderr);
    assert_eq!(r.stdout, "ok\n");
}

#[test]
fn an_uncaught_exception_ends_the_program_as_a_trap_of_its_thread() {
    let wat = std::fs::read(root().join("c-tests/guests/wat/uncaught_in_thread.wat")).unwrap();
    let r = run_bytes(&wat, &captured(&[]));
    let Outcome::Trap(info) = r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(info.tid >= 1, "{info}");
    // The exception's values (its tag's parameters) are in the message.
    assert_eq!(
        info.message,
        "uncaught exception: thrown Wasm exception (i32 42)"
    );
    assert!(info.backtrace.contains("thread_start"), "{info}");
    assert!(
        info.to_string()
            .starts_with(&format!("thread {} trapped: uncaught exception", info.tid)),
        "{info}"
    );
    // The main thread too, with its own id.
    let r = run_bytes(
        br#"(module (tag $e) (func $f (throw $e)) (func (export "_start") (call $f)))"#,
        &captured(&[]),
    );
    match r.outcome {
        Outcome::Trap(info) => {
            assert_eq!(info.tid, 0);
            assert_eq!(info.message, "uncaught exception: thrown Wasm exception");
            assert!(info.backtrace.contains("!f"), "{info}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn proc_exit_and_traps_inside_try_table_end_the_program() {
    for thread in [
        "(call $spin_in_try)",
        "(call $throw_in_loop)",
        "(call $park_in_try)",
    ] {
        let inst = start(
            Config::default(),
            &program("(call $exit_in_try (i32.const 3))", thread),
        );
        assert_eq!(
            outcome(&inst, Duration::from_secs(10)),
            Outcome::Exit(3),
            "{thread}"
        );
        let inst = start(Config::default(), &program("(call $trap_in_try)", thread));
        match outcome(&inst, Duration::from_secs(10)) {
            Outcome::Trap(info) => {
                assert_eq!(info.tid, 0, "{info}");
                assert!(info.message.contains("unreachable"), "{info}");
            }
            other => panic!("{thread}: {other:?}"),
        }
    }
    // From a thread, while the main thread spins inside its try_table.
    let inst = start(
        Config::default(),
        &program("(call $spin_in_try)", "(call $trap_in_try)"),
    );
    match outcome(&inst, Duration::from_secs(10)) {
        Outcome::Trap(info) => assert!(info.tid >= 1, "{info}"),
        other => panic!("{other:?}"),
    }
    let inst = start(
        Config::default(),
        &program("(call $throw_in_loop)", "(call $exit_in_try (i32.const 9))"),
    );
    assert_eq!(outcome(&inst, Duration::from_secs(10)), Outcome::Exit(9));
}

#[test]
fn the_timeout_and_interrupts_stop_threads_inside_try_table() {
    // Spinning in a loop inside try_table, or throwing and catching without
    // end through a function that only throws: no catch_all catches the stop.
    for (main, thread) in [
        ("(call $spin_in_try)", "(call $spin_in_try)"),
        ("(call $throw_in_loop)", "(call $throw_in_loop)"),
        ("(call $park_in_try)", "(call $throw_in_loop)"),
    ] {
        let config = Config {
            timeout: Some(Duration::from_millis(300)),
            ..Config::default()
        };
        let inst = start(config, &program(main, thread));
        assert_eq!(
            outcome(&inst, Duration::from_secs(10)),
            Outcome::TimedOut,
            "{main} {thread}"
        );
        let inst = start(Config::default(), &program(main, thread));
        std::thread::sleep(Duration::from_millis(100));
        inst.interrupt();
        assert_eq!(
            outcome(&inst, Duration::from_secs(10)),
            Outcome::Interrupted,
            "{main} {thread}"
        );
    }
}

#[test]
fn deadlocks_and_dumps_inside_try_table() {
    let wat = program("(call $park_in_try)", "(call $park_in_try)");
    let inst = start(Config::default(), &wat);
    match outcome(&inst, Duration::from_secs(10)) {
        Outcome::Deadlock(dump) => {
            assert_eq!(dump.threads.len(), 3, "{dump}");
            assert!(
                dump.to_string().matches("!park_in_try").count() >= 3,
                "{dump}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Without deadlock detection: a dump while they wait, then an interrupt.
    let config = Config {
        deadlock_detection: false,
        ..Config::default()
    };
    let inst = start(config, &wat);
    let t = Instant::now();
    while inst
        .threads()
        .threads
        .iter()
        .filter(|th| matches!(th.state, ThreadState::Parked { .. }))
        .count()
        < 3
    {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", inst.threads());
        std::thread::sleep(Duration::from_millis(1));
    }
    let dump = inst.dump();
    for th in &dump.threads {
        let bt = th.backtrace.as_deref().unwrap_or_default();
        assert!(bt.contains("park_in_try"), "{dump}");
    }
    inst.interrupt();
    assert_eq!(
        outcome(&inst, Duration::from_secs(10)),
        Outcome::Interrupted
    );
}

#[test]
fn backtraces_through_try_table_name_the_original_frames() {
    // The rewrite inserts stop checks (and here makes the waits stoppable);
    // the frame map gives an uncaught exception's backtrace the offsets of
    // the module as given, the same as Wasmtime reports for it unrewritten.
    let wat = r#"(module
      (import "env" "memory" (memory 1 1 shared))
      (tag $e (param i32))
      (func $deep (param i32)
        (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 7))))
        (loop $l (br_if $l (i32.eqz (i32.const 1))))
        (call $deep (i32.sub (local.get 0) (i32.const 1))))
      (func $catch_other
        (block $h (try_table (catch_all $h)
          (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))))
        (block $h (result i32) (try_table (catch $e $h) (call $deep (i32.const 0))) (i32.const 0))
        (drop)
        (call $deep (i32.const 3)))
      (func (export "_start") (call $catch_other)))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let rewritten = run_bytes(&bytes, &captured(&[]));
    let plain_engine = engine(Config {
        precise_dumps: true,
        ..Config::default()
    });
    let module = wasmtime::Module::new(plain_engine.wasmtime(), &bytes).unwrap();
    let program = Program::from_module(&plain_engine, module).unwrap();
    let inst = Instance::new(&program, &captured(&[]), &HostFuncs::new()).unwrap();
    let plain = inst.run().unwrap();
    match (&rewritten.outcome, &plain) {
        (Outcome::Trap(a), Outcome::Trap(b)) => {
            assert_eq!(
                a.message,
                "uncaught exception: thrown Wasm exception (i32 7)"
            );
            assert_eq!(a, b, "rewritten vs. as given");
            assert_eq!(a.backtrace.matches("!deep").count(), 4, "{a}");
            assert!(a.backtrace.contains("!catch_other"), "{a}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn endless_tail_calls_through_function_references_are_stopped() {
    // `return_call_ref` to itself through a typed function reference (kept
    // in a global): no loop and no frame that grows, so only the stop check
    // at the entry of a function that calls ends it. The main thread and
    // two spawned ones spin so, inside try_table, under both mechanisms.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (type $t (func (param i32)))
      (elem declare func $spin)
      (global $next (ref $t) (ref.func $spin))
      (func $spin (type $t)
        (return_call_ref $t (i32.add (local.get 0) (i32.const 1)) (global.get $next)))
      (func $spin_in_try
        (block $h (try_table (catch_all $h) (call $spin (i32.const 0)))))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
        (call $spin_in_try))
      (func (export "_start")
        (drop (call $spawn (i32.const 0)))
        (drop (call $spawn (i32.const 0)))
        (loop $wait (br_if $wait (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 2))))
        (call $spin_in_try)))"#;
    for precise_dumps in [false, true] {
        let config = Config {
            precise_dumps,
            timeout: Some(Duration::from_millis(300)),
            ..Config::default()
        };
        let inst = start(config, wat);
        assert_eq!(
            outcome(&inst, Duration::from_secs(10)),
            Outcome::TimedOut,
            "precise_dumps {precise_dumps}"
        );
        let config = Config {
            precise_dumps,
            ..Config::default()
        };
        let inst = start(config, wat);
        std::thread::sleep(Duration::from_millis(100));
        inst.interrupt();
        assert_eq!(
            outcome(&inst, Duration::from_secs(10)),
            Outcome::Interrupted,
            "precise_dumps {precise_dumps}"
        );
    }
}
