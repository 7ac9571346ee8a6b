//! The core's contract, with WAT guests: spawning, TIDs, limits, outcomes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::runtime::{
    Config, Engine, ErrorKind, HostFunc, HostFuncs, Instance, Outcome, Program, Val, ValType,
    MAX_TID,
};
use weft::wasi::WasiConfig;

fn guest(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/guests/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn func(
    module: &str,
    name: &str,
    params: &[ValType],
    results: &[ValType],
    f: impl Fn(u32, &[Val], &mut [Val]) -> Result<(), String> + Send + Sync + 'static,
) -> HostFunc {
    HostFunc {
        module: module.into(),
        name: name.into(),
        params: params.to_vec(),
        results: results.to_vec(),
        callback: Arc::new(move |call, args, results| f(call.tid, args, results)),
    }
}

fn constant(name: &str, value: i32) -> HostFunc {
    func("test", name, &[], &[ValType::I32], move |_, _, r| {
        r[0] = Val::I32(value);
        Ok(())
    })
}

fn run_with(engine: &Engine, wat: &str, host: &HostFuncs) -> Outcome {
    let program = Program::from_bytes(engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), host).unwrap();
    inst.run().unwrap()
}

#[derive(Default)]
struct TidLog {
    spawned: Vec<i32>,
    child: Vec<(u32, i32, i32)>,
}

fn counter_funcs(n: i32, log: &Arc<Mutex<TidLog>>) -> HostFuncs {
    let mut host = HostFuncs::new();
    host.define(constant("n", n));
    let l = log.clone();
    host.define(func(
        "test",
        "spawned",
        &[ValType::I32],
        &[],
        move |_, a, _| {
            l.lock().unwrap().spawned.push(a[0].unwrap_i32());
            Ok(())
        },
    ));
    let l = log.clone();
    host.define(func(
        "test",
        "child",
        &[ValType::I32, ValType::I32],
        &[],
        move |tid, a, _| {
            l.lock()
                .unwrap()
                .child
                .push((tid, a[0].unwrap_i32(), a[1].unwrap_i32()));
            Ok(())
        },
    ));
    host
}

#[test]
fn spawned_threads_get_unique_tids_they_also_see() {
    let engine = Engine::new(&Config::default()).unwrap();
    let log = Arc::new(Mutex::new(TidLog::default()));
    let n = 50;
    let outcome = run_with(
        &engine,
        &String::from_utf8(guest("counter.wat")).unwrap(),
        &counter_funcs(n, &log),
    );
    assert_eq!(outcome, Outcome::Exit(0));
    let log = log.lock().unwrap();
    assert_eq!(log.spawned.len(), n as usize);
    assert!(
        log.spawned.iter().all(|&t| t >= 1 && t as u32 <= MAX_TID),
        "{:?}",
        log.spawned
    );
    // Unique among threads alive at once is all we promise; with recycling a
    // finished thread's TID may come back, so compare each child with its spawn.
    let mut by_arg: Vec<_> = log.child.clone();
    by_arg.sort_by_key(|c| c.2);
    assert_eq!(by_arg.len(), n as usize);
    for (i, (host_tid, guest_tid, arg)) in by_arg.iter().enumerate() {
        assert_eq!(*arg, 1000 + i as i32, "start_arg passes through");
        assert_eq!(
            *host_tid as i32, *guest_tid,
            "host functions see the caller's TID"
        );
        assert_eq!(
            *guest_tid, log.spawned[i],
            "child gets the TID spawn returned"
        );
    }
}

#[test]
fn live_tids_are_unique() {
    // Children block until all have started, so all N are alive together.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "test" "seen" (func $seen (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
        (call $seen (local.get $tid))
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
        (block $go (loop $l
          (br_if $go (i32.ge_u (i32.atomic.load (i32.const 0)) (i32.const 20)))
          (drop (memory.atomic.wait32 (i32.const 0) (i32.atomic.load (i32.const 0)) (i64.const 1000000)))
          (br $l)))
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1))))
      (func (export "_start") (local $i i32)
        (loop $s
          (drop (call $spawn (i32.const 0)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 20))))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 4)) (i32.const 20))))))"#;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut host = HostFuncs::new();
    host.define(func(
        "test",
        "seen",
        &[ValType::I32],
        &[],
        move |_, a, _| {
            s.lock().unwrap().push(a[0].unwrap_i32());
            Ok(())
        },
    ));
    let engine = Engine::new(&Config::default()).unwrap();
    assert_eq!(run_with(&engine, wat, &host), Outcome::Exit(0));
    let seen = seen.lock().unwrap();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 20, "{seen:?}");
}

#[test]
fn memory_imported_under_any_name_runs() {
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "foo" "bar" (memory 1 2 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (i32.atomic.store (i32.const 0) (i32.const 1)))
      (func (export "_start")
        (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then unreachable))
        (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 0)))))))"#;
    let engine = Engine::new(&Config::default()).unwrap();
    assert_eq!(run_with(&engine, wat, &HostFuncs::new()), Outcome::Exit(0));
}

fn spawn_result_guest(entry: &str) -> String {
    format!(
        r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "test" "spawn" (func $do_spawn (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      {entry}
      (func (export "_start")
        (if (call $do_spawn) (then
          (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 0))
            (then (call $exit (i32.const 42))))))
        (call $exit (i32.const 0))))"#
    )
}

#[test]
fn missing_or_ill_typed_entry_point_fails_only_at_spawn() {
    let engine = Engine::new(&Config::default()).unwrap();
    for entry in [
        "",
        r#"(func (export "wasi_thread_start") (param i32))"#,
        r#"(func (export "wasi_thread_start") (param i32 i32) (result i32) i32.const 0)"#,
        r#"(global (export "wasi_thread_start") i32 (i32.const 0))"#,
    ] {
        for (spawn, expected) in [(0, 0), (1, 42)] {
            let mut host = HostFuncs::new();
            host.define(constant("spawn", spawn));
            let outcome = run_with(&engine, &spawn_result_guest(entry), &host);
            assert_eq!(
                outcome,
                Outcome::Exit(expected),
                "entry {entry:?} spawn {spawn}"
            );
        }
    }
}

#[test]
fn thread_limit_returns_negative_and_frees_after_join() {
    // Spawns children that park until released; counts successes up to the
    // cap, releases them, waits for all to finish, then spawns once more.
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 0)))))
        (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1))))
      (func (export "_start") (local $ok i32) (local $i i32)
        (loop $s
          (if (i32.gt_s (call $spawn (i32.const 0)) (i32.const 0))
            (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (i32.const 10))))
        (i32.atomic.store (i32.const 0) (i32.const 1))
        (loop $w (br_if $w (i32.lt_u (i32.atomic.load (i32.const 4)) (local.get $ok))))
        ;; "finished" is counted just before the child's wasm returns: allow
        ;; its TID a moment to come back.
        (local.set $i (i32.const 0))
        (loop $again
          (if (i32.gt_s (call $spawn (i32.const 0)) (i32.const 0))
            (then (call $exit (local.get $ok))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 100000000))))
        (call $exit (i32.const 100))))"#;
    let engine = Engine::new(&Config {
        max_threads: 3,
        ..Config::default()
    })
    .unwrap();
    assert_eq!(run_with(&engine, wat, &HostFuncs::new()), Outcome::Exit(3));
}

#[test]
fn a_million_spawn_cycles_do_not_exhaust_tids() {
    // Each child ends at once; main waits for it before the next spawn, so
    // TIDs must be recycled (checked cheaply: the TID stays small).
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "test" "n" (func $n (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (i32.atomic.store (i32.const 0) (i32.const 1)))
      (func (export "_start") (local $i i32) (local $t i32) (local $n i32)
        (local.set $n (call $n))
        (loop $s
          (i32.atomic.store (i32.const 0) (i32.const 0))
          (local.set $t (call $spawn (i32.const 0)))
          (if (i32.lt_s (local.get $t) (i32.const 1)) (then (call $exit (i32.const 1))))
          (if (i32.gt_s (local.get $t) (i32.const 8)) (then (call $exit (i32.const 2))))
          (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 0)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $s (i32.lt_u (local.get $i) (local.get $n))))
        (call $exit (i32.const 0))))"#;
    // A million OS threads take minutes on CI; the TID pool itself is
    // unit-tested for 1,000,000 cycles (src/runtime/run/tids.rs). Here: 20,000 real ones.
    let mut host = HostFuncs::new();
    host.define(constant("n", 20_000));
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), &host).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::Exit(0));
    assert_eq!(inst.stats().spawned, 20_000);
    assert!(inst.stats().peak_live <= 8);
}

fn outcome_of(engine: &Engine, mode: i32) -> (Outcome, Instance) {
    let mut host = HostFuncs::new();
    host.define(constant("mode", mode));
    let program = Program::from_bytes(engine, &guest("outcomes.wat")).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), &host).unwrap();
    let outcome = inst.run().unwrap();
    (outcome, inst)
}

#[test]
fn outcomes() {
    let engine = Engine::new(&Config::default()).unwrap();
    let start = Instant::now();
    assert_eq!(outcome_of(&engine, 1).0, Outcome::Exit(7));
    assert_eq!(outcome_of(&engine, 2).0, Outcome::Exit(9));
    assert_eq!(outcome_of(&engine, 3).0, Outcome::Exit(0));
    match outcome_of(&engine, 4).0 {
        Outcome::Trap(info) => {
            assert!(info.tid >= 1, "{info:?}");
            assert!(info.message.contains("unreachable"), "{info:?}");
            assert!(
                info.backtrace.contains("boom") || info.backtrace.contains("wasm"),
                "{info:?}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn ended_programs_leave_no_thread_behind() {
    let engine = Engine::new(&Config::default()).unwrap();
    let (_, inst) = outcome_of(&engine, 2);
    assert_eq!(inst.stats().live, 0);
    assert!(inst.stats().spawned >= 2);
}

#[test]
fn interrupt_and_timeout() {
    let engine = Engine::new(&Config::default()).unwrap();
    let mut host = HostFuncs::new();
    host.define(constant("mode", 5));
    let program = Program::from_bytes(&engine, &guest("outcomes.wat")).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), &host).unwrap();
    inst.start().unwrap();
    assert_eq!(inst.wait(Some(Duration::from_millis(50))), None);
    let t = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| inst.interrupt());
    });
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(inst.stats().live, 0);

    let engine = Engine::new(&Config {
        timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    })
    .unwrap();
    let program = Program::from_bytes(&engine, &guest("outcomes.wat")).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), &host).unwrap();
    assert_eq!(inst.run().unwrap(), Outcome::TimedOut);
    assert_eq!(inst.stats().live, 0);
}

#[test]
fn a_hundred_programs_in_a_row() {
    let engine = Engine::new(&Config::default()).unwrap();
    for i in 0..100 {
        let mode = [1, 2, 3, 4][i % 4];
        let (outcome, _) = outcome_of(&engine, mode);
        match (mode, outcome) {
            (1, Outcome::Exit(7))
            | (2, Outcome::Exit(9))
            | (3, Outcome::Exit(0))
            | (4, Outcome::Trap(_)) => {}
            (m, o) => panic!("run {i} mode {m}: {o:?}"),
        }
    }
}

#[test]
fn host_function_error_traps_the_thread() {
    let wat = r#"(module
      (import "test" "fail" (func $fail))
      (func (export "_start") (call $fail)))"#;
    let mut host = HostFuncs::new();
    host.define(func("test", "fail", &[], &[], |_, _, _| {
        Err("no way".into())
    }));
    let engine = Engine::new(&Config::default()).unwrap();
    match run_with(&engine, wat, &host) {
        Outcome::Trap(info) => {
            assert_eq!(info.tid, 0);
            assert!(info.message.contains("no way"), "{info:?}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn load_errors_have_kinds() {
    let engine = Engine::new(&Config::default()).unwrap();
    let err = |bytes: &[u8]| Program::from_bytes(&engine, bytes).err().map(|e| e.kind());
    assert_eq!(err(b"\0asm garbage"), Some(ErrorKind::Compile));
    assert_eq!(
        err(br#"(module (import "env" "memory" (memory 1 1)))"#),
        Some(ErrorKind::Link)
    );
    assert_eq!(
        err(br#"(module (import "a" "m" (memory 1 1 shared)) (import "b" "m" (memory 1 1 shared)))"#),
        Some(ErrorKind::Link)
    );
    assert_eq!(
        err(br#"(module (import "wasi" "thread-spawn" (func (param i32))))"#),
        Some(ErrorKind::Link)
    );
    let msg = Program::from_bytes(&engine, br#"(module (import "foo" "bar" (memory 1 1)))"#)
        .err()
        .unwrap();
    assert!(msg.message().contains("\"foo\" \"bar\""), "{msg}");
    let p = Program::from_bytes(&engine, br#"(module (import "env" "f" (func)))"#).unwrap();
    let e = Instance::new(&p, &WasiConfig::default(), &HostFuncs::new())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Link);
}

#[test]
fn plain_wasi_modules_run() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 3))))"#;
    let engine = Engine::new(&Config::default()).unwrap();
    assert_eq!(run_with(&engine, wat, &HostFuncs::new()), Outcome::Exit(3));
}

#[test]
fn memory_cap_holds() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 100 shared))
      (func (export "_start")
        (call $exit (i32.add (i32.const 10) (memory.grow (i32.const 2))))))"#;
    let engine = Engine::new(&Config {
        max_memory: Some(2 * 65536),
        ..Config::default()
    })
    .unwrap();
    // 1 + 2 pages exceed the 2-page cap: memory.grow returns -1.
    assert_eq!(run_with(&engine, wat, &HostFuncs::new()), Outcome::Exit(9));
}

#[test]
fn reactor_calls_and_threads_between_calls() {
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1 1 shared))
      (global $g (mut i32) (i32.const 0))
      (func (export "_initialize") (global.set $g (i32.const 5)))
      (func (export "wasi_thread_start") (param i32 i32)
        (loop $l (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
          (br_if $l (i32.eqz (i32.atomic.load (i32.const 8))))))
      (func (export "start_worker") (result i32) (call $spawn (i32.const 0)))
      (func (export "count") (result i32) (i32.atomic.load (i32.const 0)))
      (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
      (func (export "g") (result i32) (global.get $g))
      (func (export "quit") (call $exit (i32.const 4))))"#;
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
    inst.initialize().unwrap();
    assert_eq!(inst.call("g", &[]).unwrap()[0].unwrap_i32(), 5);
    assert_eq!(
        inst.call("add", &[Val::I64(2), Val::I64(40)]).unwrap()[0].unwrap_i64(),
        42
    );
    assert!(inst.call("start_worker", &[]).unwrap()[0].unwrap_i32() > 0);
    let first = inst.call("count", &[]).unwrap()[0].unwrap_i32();
    std::thread::sleep(Duration::from_millis(20));
    let second = inst.call("count", &[]).unwrap()[0].unwrap_i32();
    assert!(second > first, "the worker keeps running between calls");
    assert_eq!(
        inst.call("nope", &[]).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let e = inst.call("quit", &[]).unwrap_err();
    assert_eq!((e.kind(), e.exit_code()), (ErrorKind::Exited, Some(4)));
    assert_eq!(inst.call("g", &[]).unwrap_err().kind(), ErrorKind::Exited);
    assert_eq!(
        inst.wait(Some(Duration::from_secs(1))),
        Some(Outcome::Exit(4))
    );
    assert_eq!(inst.stats().live, 0);
}
