//! Ending every thread, every time: the termination matrix (who ends the
//! program × how × what the other threads are doing), and the semantics of
//! the rewritten `memory.atomic.wait`/`notify` that make untimed waits
//! stoppable.
//!
//! The tests of this file run one at a time: the matrix counts the process's
//! threads and file descriptors.

#[path = "termination/matrix.rs"]
mod matrix;
#[path = "termination/probe.rs"]
mod probe;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program};
use weft::wasi::WasiConfig;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Generous bound on "control back to the host" so a loaded CI machine does
/// not flake; the measured figures are printed (and are far lower).
const LIMIT: Duration = Duration::from_secs(1);

#[test]
fn termination_matrix() {
    let _serial = serial();
    let m = matrix::Matrix::new();
    let cells = m.run_all();
    let table = matrix::table(&cells, LIMIT);
    println!("{table}");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("termination.md");
    let _ = std::fs::write(&out, &table);
    let bad: Vec<String> = cells
        .iter()
        .filter(|c| !c.ok(LIMIT))
        .map(|c| {
            format!(
                "{} / {}: outcome {:?}, latency {:?}, threads left {:?}, fds leaked {}, next ok {}",
                c.ender, c.state, c.outcome, c.latency, c.threads_left, c.fds_leaked, c.next_ok
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "failing cells:\n{}\n\n{table}",
        bad.join("\n")
    );
}

fn run(wat: &str) -> Outcome {
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::new(), &HostFuncs::new()).unwrap();
    inst.run().unwrap()
}

/// A guest whose `_start` computes `$body`'s i32 and exits with it.
fn exit_with(body: &str) -> String {
    format!(
        r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "_start") (call $exit {body})))"#
    )
}

fn trap_message(outcome: Outcome) -> String {
    match outcome {
        Outcome::Trap(t) => t.message,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn rewritten_wait_returns_not_equal_and_timed_out() {
    let _serial = serial();
    // Not equal: 1.
    let o = run(&exit_with(
        "(memory.atomic.wait32 (i32.const 8) (i32.const 5) (i64.const -1))",
    ));
    assert_eq!(o, Outcome::Exit(1));
    // Equal, 10 ms timeout: 2, after about 10 ms.
    let t = Instant::now();
    let o = run(&exit_with(
        "(memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const 10000000))",
    ));
    assert_eq!(o, Outcome::Exit(2));
    assert!(t.elapsed() >= Duration::from_millis(10));
    // wait64, with the memarg offset added to the address: mem[16..24] = 7.
    let o = run(&exit_with(
        "(i64.atomic.store (i32.const 16) (i64.const 7))
         (memory.atomic.wait64 offset=8 (i32.const 8) (i64.const 7) (i64.const 0))",
    ));
    assert_eq!(o, Outcome::Exit(2));
    let o = run(&exit_with(
        "(i64.atomic.store (i32.const 16) (i64.const 7))
         (memory.atomic.wait64 offset=8 (i32.const 8) (i64.const 6) (i64.const 0))",
    ));
    assert_eq!(o, Outcome::Exit(1));
    // Notify with nobody waiting: 0.
    let o = run(&exit_with(
        "(memory.atomic.notify offset=4 (i32.const 4) (i32.const 10))",
    ));
    assert_eq!(o, Outcome::Exit(0));
}

#[test]
fn rewritten_wait_and_notify_trap_like_wasm() {
    let _serial = serial();
    for (body, expect) in [
        (
            "(memory.atomic.wait32 (i32.const 2) (i32.const 0) (i64.const 0))",
            "unaligned atomic",
        ),
        (
            "(memory.atomic.wait64 (i32.const 4) (i64.const 0) (i64.const 0))",
            "unaligned atomic",
        ),
        (
            "(memory.atomic.notify (i32.const 1) (i32.const 1))",
            "unaligned atomic",
        ),
        (
            "(memory.atomic.wait32 (i32.const 65536) (i32.const 0) (i64.const 0))",
            "out of bounds",
        ),
        (
            "(memory.atomic.wait32 offset=65532 (i32.const 4) (i32.const 0) (i64.const 0))",
            "out of bounds",
        ),
        (
            "(memory.atomic.wait64 offset=4294967288 (i32.const 4294967288) (i64.const 0) (i64.const 0))",
            "out of bounds",
        ),
        (
            "(memory.atomic.notify (i32.const -4) (i32.const 1))",
            "out of bounds",
        ),
    ] {
        let message = trap_message(run(&exit_with(body)));
        assert!(message.contains(expect), "{body}: {message}");
    }
    // The last in-bounds word works.
    let o = run(&exit_with(
        "(memory.atomic.wait32 offset=65528 (i32.const 4) (i32.const 1) (i64.const 0))",
    ));
    assert_eq!(o, Outcome::Exit(1));
}

#[test]
fn notify_wakes_the_requested_number_of_waiters() {
    let _serial = serial();
    // Four children wait without a timeout on address 0 after counting
    // themselves in at 4; main waits until all four are parked (by
    // notifying 0 until four would be woken is not observable, so it
    // retries notify(…, 2) until it has woken 2), then wakes the rest.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
        (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1))))
      (func (export "_start") (local $i i32) (local $woken i32)
        (loop $s
          (drop (call $spawn (i32.const 0)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 4))))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 4))))
        ;; wake exactly two, as soon as two are parked
        (loop $n
          (local.set $woken (i32.add (local.get $woken)
            (memory.atomic.notify (i32.const 0) (i32.sub (i32.const 2) (local.get $woken)))))
          (br_if $n (i32.lt_u (local.get $woken) (i32.const 2))))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 8)) (i32.const 2))))
        ;; the other two are still parked
        (local.set $woken (i32.const 0))
        (loop $n
          (local.set $woken (i32.add (local.get $woken)
            (memory.atomic.notify (i32.const 0) (i32.const -1))))
          (br_if $n (i32.lt_u (local.get $woken) (i32.const 2))))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 8)) (i32.const 4))))
        (call $exit (local.get $woken))))"#;
    assert_eq!(run(wat), Outcome::Exit(2));
}

#[test]
fn untimed_waiters_are_released_when_the_program_ends() {
    let _serial = serial();
    // 16 threads park forever; main exits. All must be gone promptly.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))
      (func (export "_start") (local $i i32)
        (loop $s
          (drop (call $spawn (i32.const 0)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 16))))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 16))))
        (call $exit (i32.const 3))))"#;
    let t = Instant::now();
    assert_eq!(run(wat), Outcome::Exit(3));
    let elapsed = t.elapsed();
    // Released, they end; a waiter left parked would never end. The time
    // is printed, not asserted (sanitizers slow every step).
    let gone = probe::until(Duration::from_secs(30), || {
        probe::program_threads().is_empty()
    });
    println!("16 untimed waiters: run took {elapsed:?}, threads gone after {gone:?}");
    assert!(gone.is_some(), "{:?}", probe::program_threads());
}

#[test]
fn modules_without_shared_memory_are_not_rewritten() {
    let _serial = serial();
    let engine = Engine::new(&Config::default()).unwrap();
    // A module-defined (non-imported) memory: waits keep their own semantics.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory 1 1 shared)
      (func (export "_start")
        (call $exit (memory.atomic.wait32 (i32.const 0) (i32.const 1) (i64.const 0)))))"#;
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let rewritten_wait = |p: &Program| {
        p.module()
            .imports()
            .any(|i| i.module() == weft::runtime::INTERNAL_MODULE && i.name().contains("atomic"))
    };
    assert!(!rewritten_wait(&program));
    let inst = Instance::new(&program, &WasiConfig::new(), &HostFuncs::new()).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(1));
    // With an imported shared memory it is.
    let program = Program::from_bytes(
        &engine,
        exit_with("(memory.atomic.notify (i32.const 0) (i32.const 1))").as_bytes(),
    )
    .unwrap();
    assert!(rewritten_wait(&program));
}

#[test]
fn rewriting_keeps_names_and_function_indices() {
    let _serial = serial();
    // call_indirect through a table, ref.func, the start section and an
    // exported function all still reach the right functions; the trap's
    // backtrace still names the function.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (type $t (func (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $five $six)
      (global $g (mut i32) (i32.const 0))
      (func $five (result i32) (i32.const 5))
      (func $six (result i32) (i32.const 6))
      (func $init (global.set $g (i32.const 30)))
      (start $init)
      (func $named_trapper (drop (memory.atomic.notify (i32.const 0) (i32.const 1))) unreachable)
      (func (export "_start")
        (if (i32.eqz (i32.atomic.load (i32.const 100))) (then
          (call $exit (i32.add (global.get $g)
            (i32.add (call_indirect (type $t) (i32.const 0))
                     (call_indirect (type $t) (i32.const 1)))))))
        (call $named_trapper)))"#;
    assert_eq!(run(wat), Outcome::Exit(41));
    let cond = "(i32.eqz (i32.atomic.load (i32.const 100)))";
    assert!(wat.contains(cond));
    match run(&wat.replace(cond, "(i32.const 0)")) {
        Outcome::Trap(t) => assert!(t.backtrace.contains("named_trapper"), "{t:?}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn rewrite_cost_is_small_next_to_compilation() {
    let _serial = serial();
    // 2,000 functions, each with a wait, a wait64 and a notify among other code.
    let mut wat = String::from(
        r#"(module (import "env" "memory" (memory 1 1 shared))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))"#,
    );
    for i in 0..2000 {
        wat.push_str(&format!(
            r#"(func $f{i} (param $x i32) (result i32)
              (drop (memory.atomic.wait32 offset=8 (local.get $x) (i32.const {i}) (i64.const 0)))
              (drop (memory.atomic.wait64 (local.get $x) (i64.const 1) (i64.const 0)))
              (i32.add (memory.atomic.notify (local.get $x) (i32.const 1))
                       (i32.mul (local.get $x) (i32.const {i}))))"#
        ));
    }
    wat.push_str(r#"(func (export "_start") (call $exit (call $f1999 (i32.const 0)))))"#);
    let bytes = wat::parse_str(&wat).unwrap();
    let engine = Engine::new(&Config::default()).unwrap();
    let t = Instant::now();
    let plain = wasmtime::Module::new(engine.wasmtime(), &bytes).unwrap();
    let compile = t.elapsed();
    let t = Instant::now();
    let rewritten = Program::from_bytes(&engine, &bytes).unwrap();
    let with_rewrite = t.elapsed();
    println!(
        "{} KiB module: compile {compile:?}, rewrite + compile {with_rewrite:?}",
        bytes.len() / 1024
    );
    drop(plain);
    let inst = Instance::new(&rewritten, &WasiConfig::new(), &HostFuncs::new()).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
    // Loose: the rewrite is one parse + encode pass.
    assert!(with_rewrite < compile * 3 + Duration::from_millis(200));
}
