//! Deadlock detection: true deadlocks end at once as `Outcome::Deadlock`
//! with a thread dump; timed waits, sleeps, host functions, reactors and
//! busy lock traffic never do (WAT guests, and wasi-sdk pthread guests when
//! `WASI_SDK_PATH` is set).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use weft::runtime::{
    Config, Engine, ErrorKind, HostFunc, HostFuncs, Instance, Outcome, Program, ThreadState, Val,
    ValType,
};

fn engine(detect: bool, timeout: Option<Duration>) -> Engine {
    Engine::new(&Config {
        deadlock_detection: detect,
        timeout,
        ..Config::default()
    })
    .expect("engine")
}

fn run_with(engine: &Engine, bytes: &[u8], host: &HostFuncs) -> Outcome {
    let program = Program::from_bytes(engine, bytes).expect("compile");
    let inst = Instance::new(&program, &captured(&["guest"]), host).expect("instantiate");
    inst.run().expect("run")
}

fn const_i32(module: &str, name: &str, value: i32) -> HostFunc {
    HostFunc {
        module: module.into(),
        name: name.into(),
        params: vec![],
        results: vec![ValType::I32],
        callback: Arc::new(move |_, _, out| {
            out[0] = Val::I32(value);
            Ok(())
        }),
    }
}

#[test]
fn every_thread_parked_untimed_is_a_deadlock_with_a_dump() {
    let wat = include_str!("guests/deadlock.wat");
    let start = Instant::now();
    let outcome = run_with(
        &engine(true, Some(Duration::from_secs(30))),
        wat.as_bytes(),
        &HostFuncs::new(),
    );
    let took = start.elapsed();
    let Outcome::Deadlock(dump) = &outcome else {
        panic!("expected a deadlock, got {outcome:?}");
    };
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(dump.threads.len(), 2, "{dump}");
    for t in &dump.threads {
        assert!(
            matches!(t.state, ThreadState::Parked { timed: false, .. }),
            "{dump}"
        );
    }
    let text = dump.to_string();
    assert!(text.contains("wait_for_child"), "{text}");
    assert!(text.contains("wait_for_main"), "{text}");
    let err = outcome.into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Deadlock);
    assert!(err.message().starts_with("deadlock: "), "{}", err.message());
    assert!(err.message().contains("wait_for_main"), "{}", err.message());
}

#[test]
fn detection_can_be_turned_off() {
    let wat = include_str!("guests/deadlock.wat");
    let outcome = run_with(
        &engine(false, Some(Duration::from_millis(300))),
        wat.as_bytes(),
        &HostFuncs::new(),
    );
    assert_eq!(outcome, Outcome::TimedOut);
}

/// Main parks untimed while the child does something else for a while,
/// then wakes main. `child` is the child's body.
fn main_waits_for(child: &str) -> String {
    format!(
        r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (import "env" "slow" (func $slow))
      (import "env" "memory" (memory 1 1 shared))
      (func $sleep_ms (param $ms i64)
        (i32.store8 (i32.const 520) (i32.const 0))
        (i32.store (i32.const 528) (i32.const 1))
        (i64.store (i32.const 536) (i64.mul (local.get $ms) (i64.const 1000000)))
        (drop (call $poll (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 700))))
      (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
        {child}
        (i32.atomic.store (i32.const 128) (i32.const 1))
        (drop (memory.atomic.notify (i32.const 128) (i32.const 1))))
      (func (export "_start")
        (drop (call $spawn (i32.const 0)))
        (loop $l
          (if (i32.eqz (i32.atomic.load (i32.const 128)))
            (then
              (drop (memory.atomic.wait32 (i32.const 128) (i32.const 0) (i64.const -1)))
              (br $l))))))"#
    )
}

fn slow_host() -> HostFuncs {
    let mut h = HostFuncs::new();
    h.define(HostFunc {
        module: "env".into(),
        name: "slow".into(),
        params: vec![],
        results: vec![],
        callback: Arc::new(|_, _, _| {
            std::thread::sleep(Duration::from_millis(150));
            Ok(())
        }),
    });
    h
}

#[test]
fn timed_waits_sleeps_and_host_functions_are_not_deadlocks() {
    let e = engine(true, Some(Duration::from_secs(30)));
    for (what, child) in [
        ("timed waits", "(drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const 50000000)))
                         (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const 50000000)))
                         (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const 50000000)))"),
        ("a WASI sleep", "(call $sleep_ms (i64.const 150))"),
        ("a host function", "(call $slow)"),
    ] {
        let outcome = run_with(&e, main_waits_for(child).as_bytes(), &slow_host());
        assert_eq!(outcome, Outcome::Exit(0), "{what}");
    }
}

#[test]
fn a_reactor_with_idle_workers_between_calls_is_not_a_deadlock() {
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32)
        (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1))))
      (func (export "_initialize") (drop (call $spawn (i32.const 0))) (drop (call $spawn (i32.const 0))))
      (func (export "ping") (result i32) (i32.const 7)))"#;
    let program = Program::from_bytes(&engine(true, None), wat.as_bytes()).unwrap();
    let inst = Instance::new(&program, &captured(&[]), &HostFuncs::new()).unwrap();
    inst.initialize().unwrap();
    let start = Instant::now();
    while inst
        .threads()
        .threads
        .iter()
        .filter(|t| {
            t.state
                == (ThreadState::Parked {
                    address: 64,
                    timed: false,
                })
        })
        .count()
        < 2
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            inst.threads()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(inst.outcome(), None);
    assert_eq!(inst.call("ping", &[]).unwrap()[0].i32(), Some(7));
    assert_eq!(inst.outcome(), None);
}

#[test]
fn ping_pong_through_untimed_waits_never_looks_like_a_deadlock() {
    let wat = include_str!("guests/ping_pong.wat");
    let e = engine(true, Some(Duration::from_secs(60)));
    let program = Program::from_bytes(&e, wat.as_bytes()).unwrap();
    let mut host = HostFuncs::new();
    host.define(const_i32("test", "rounds", 200));
    for run in 0..1000 {
        let inst = Instance::new(&program, &captured(&[]), &host).unwrap();
        let outcome = inst.run().unwrap();
        assert_eq!(outcome, Outcome::Exit(0), "run {run}");
    }
}

/// `c-tests/guests/pthreads/<stem>.c`, built with the wasi-sdk, or `None`
/// (with a note) when `WASI_SDK_PATH` is not set.
fn pthread_guest(stem: &str) -> Option<PathBuf> {
    let src = format!("c-tests/guests/pthreads/{stem}.c");
    guest::pthread(
        &format!("pthread guest {stem}"),
        &src,
        guest::Memory::Imported,
    )
}

#[test]
fn pthread_deadlocks_are_detected() {
    let e = engine(true, Some(Duration::from_secs(30)));
    for (stem, frame) in [
        ("deadlock_lock_order", "b_then_a"),
        ("deadlock_join", "worker"),
        ("deadlock_condvar", "main"),
    ] {
        let Some(wasm) = pthread_guest(stem) else {
            return;
        };
        let start = Instant::now();
        let outcome = run_with(&e, &std::fs::read(&wasm).unwrap(), &HostFuncs::new());
        let took = start.elapsed();
        let Outcome::Deadlock(dump) = &outcome else {
            panic!("{stem}: expected a deadlock, got {outcome:?}");
        };
        assert!(took < Duration::from_secs(5), "{stem}: {took:?}");
        let text = dump.to_string();
        assert!(text.contains(frame), "{stem}: {text}");
        assert!(
            dump.threads.iter().all(|t| t.backtrace.is_some()),
            "{stem}: {text}"
        );
    }
}

#[test]
fn busy_pthread_programs_are_never_taken_for_deadlocks() {
    let e = engine(true, Some(Duration::from_secs(60)));
    for (stem, runs, args) in [
        ("producer_consumer", 100, &["p"][..]),
        ("busy_not_deadlocked", 20, &["b"][..]),
        ("busy_not_deadlocked", 20, &["b", "timed"][..]),
    ] {
        let Some(wasm) = pthread_guest(stem) else {
            return;
        };
        let program = Program::from_bytes(&e, &std::fs::read(&wasm).unwrap()).unwrap();
        for run in 0..runs {
            let inst = Instance::new(&program, &captured(args), &HostFuncs::new()).unwrap();
            let outcome = inst.run().unwrap();
            assert_eq!(outcome, Outcome::Exit(0), "{stem} run {run}");
        }
    }
}
