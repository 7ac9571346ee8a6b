//! Thread states, thread dumps, the completion fd and host access to the
//! shared memory, on WAT guests (tests/guests/thread_states.wat).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use weft::runtime::{
    Config, Engine, HostFunc, HostFuncs, Instance, Outcome, Program, ThreadDump, ThreadState, Val,
    ValType,
};

const STATES: &str = include_str!("guests/thread_states.wat");

/// Host functions for the guest: `test.children` returns `children`;
/// `env.block` sleeps until `release` is set (at most 10 s).
fn host(children: i32, release: Arc<AtomicBool>) -> HostFuncs {
    let mut funcs = HostFuncs::new();
    funcs.define(HostFunc {
        module: "test".into(),
        name: "children".into(),
        params: vec![],
        results: vec![ValType::I32],
        callback: Arc::new(move |_, _, out| {
            out[0] = Val::I32(children);
            Ok(())
        }),
    });
    funcs.define(HostFunc {
        module: "env".into(),
        name: "block".into(),
        params: vec![],
        results: vec![],
        callback: Arc::new(move |_, _, _| {
            let start = Instant::now();
            while !release.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        }),
    });
    funcs
}

fn started(children: i32, release: Arc<AtomicBool>) -> Instance {
    started_on(&Config::default(), children, release)
}

/// `config` with dumps that also backtrace running wasm (epochs).
fn precise() -> Config {
    Config {
        precise_dumps: true,
        ..Config::default()
    }
}

fn started_on(config: &Config, children: i32, release: Arc<AtomicBool>) -> Instance {
    let engine = Engine::new(config).expect("engine");
    let program = Program::from_bytes(&engine, STATES.as_bytes()).expect("compile");
    let inst = Instance::new(&program, &captured(&["states"]), &host(children, release))
        .expect("instantiate");
    inst.start().expect("start");
    inst
}

/// Polls the snapshot until `want` holds (at most 10 s).
fn snapshot_until(inst: &Instance, want: impl Fn(&ThreadDump) -> bool) -> ThreadDump {
    let start = Instant::now();
    loop {
        let snap = inst.threads();
        if want(&snap) || start.elapsed() > Duration::from_secs(10) {
            return snap;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn state_of(d: &ThreadDump, tid: u32) -> Option<&ThreadState> {
    d.threads.iter().find(|t| t.tid == tid).map(|t| &t.state)
}

fn all_settled(d: &ThreadDump) -> bool {
    d.threads.len() == 6
        && matches!(state_of(d, 1), Some(ThreadState::Running))
        && matches!(
            state_of(d, 0),
            Some(ThreadState::Parked {
                address: 256,
                timed: false
            })
        )
        && matches!(
            state_of(d, 2),
            Some(ThreadState::Parked {
                address: 64,
                timed: false
            })
        )
        && matches!(
            state_of(d, 3),
            Some(ThreadState::Parked {
                address: 128,
                timed: true
            })
        )
        && matches!(state_of(d, 4), Some(ThreadState::WasiCall("poll_oneoff")))
        && matches!(state_of(d, 5), Some(ThreadState::HostCall(n)) if n == "env.block")
}

#[test]
fn a_snapshot_shows_what_every_thread_is_doing() {
    let release = Arc::new(AtomicBool::new(false));
    let inst = started(5, release.clone());
    let snap = snapshot_until(&inst, all_settled);
    assert!(all_settled(&snap), "{snap}");
    assert_eq!(state_of(&snap, 1), Some(&ThreadState::Running), "{snap}");
    for t in &snap.threads {
        assert!(t.os_tid.is_some(), "{snap}");
        assert!(t.backtrace.is_none(), "a snapshot has no backtraces");
        let want = if t.tid == 0 {
            "weft-main".to_string()
        } else {
            format!("weft-thread-{}", t.tid)
        };
        assert_eq!(t.os_name, want);
    }
    // The spinner burns CPU; the parked ones do not.
    std::thread::sleep(Duration::from_millis(100));
    let cpu = |d: &ThreadDump, tid| d.threads.iter().find(|t| t.tid == tid).map(|t| t.cpu_time);
    // (polled: on a loaded machine the spinner may wait for a core)
    let later = snapshot_until(&inst, |d| cpu(d, 1) >= Some(Duration::from_millis(20)));
    let spinner = later.threads.iter().find(|t| t.tid == 1).unwrap();
    assert!(spinner.cpu_time >= Duration::from_millis(20), "{later:?}");
    let parked = later.threads.iter().find(|t| t.tid == 2).unwrap();
    assert!(parked.cpu_time < spinner.cpu_time, "{later:?}");
    assert!(parked.in_state >= Duration::from_millis(50), "{later:?}");
    let text = later.to_string();
    assert!(
        text.contains("parked in atomic.wait on 0x40 (no timeout)"),
        "{text}"
    );
    assert!(text.contains("in host function env.block"), "{text}");
    release.store(true, Ordering::SeqCst);
    inst.interrupt();
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
}

#[test]
fn a_dump_gives_backtraces_and_leaves_the_program_running() {
    let release = Arc::new(AtomicBool::new(false));
    let inst = started_on(&precise(), 5, release.clone());
    assert!(all_settled(&snapshot_until(&inst, all_settled)));
    let started_at = Instant::now();
    let dump = inst.dump();
    let took = started_at.elapsed();
    let bt = |tid: u32| {
        dump.threads
            .iter()
            .find(|t| t.tid == tid)
            .and_then(|t| t.backtrace.clone())
    };
    // Parked threads (nudged), the spinner (epoch) answer with their frames.
    assert!(bt(0).is_some_and(|b| b.contains("main_park")), "{dump}");
    assert!(bt(1).is_some_and(|b| b.contains("spin")), "{dump}");
    assert!(bt(2).is_some_and(|b| b.contains("park")), "{dump}");
    assert!(bt(3).is_some_and(|b| b.contains("park_timed")), "{dump}");
    // The sleeper left its frames on entering poll_oneoff.
    assert!(bt(4).is_some_and(|b| b.contains("sleep")), "{dump}");
    // The thread in the host function cannot answer in time.
    assert_eq!(bt(5), None, "{dump}");
    assert!(
        took >= Duration::from_millis(90) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let text = dump.to_string();
    assert!(text.contains("did not answer"), "{text}");
    // Nothing was disturbed: same states, still running.
    assert!(all_settled(&inst.threads()));
    assert_eq!(inst.outcome(), None);
    // A thread leaving its host function answers with its call site.
    release.store(true, Ordering::SeqCst);
    inst.interrupt();
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
}

#[test]
fn without_precise_dumps_a_spinning_thread_is_listed_without_frames_at_once() {
    let release = Arc::new(AtomicBool::new(false));
    let inst = started(5, release.clone());
    assert!(all_settled(&snapshot_until(&inst, all_settled)));
    // The spinner is not waited for: the dump ends as soon as the thread in
    // the host function answers (released after 50 ms), long before its
    // timeout.
    let r = release.clone();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        r.store(true, Ordering::SeqCst);
    });
    let started_at = Instant::now();
    let dump = inst.dump_with_timeout(Duration::from_secs(60));
    let took = started_at.elapsed();
    releaser.join().unwrap();
    let t = |tid: u32| dump.threads.iter().find(|t| t.tid == tid).unwrap();
    assert!(t(5).backtrace.is_some(), "{dump}");
    assert_eq!(t(1).state, ThreadState::Running, "{dump}");
    assert_eq!(t(1).backtrace, None, "{dump}");
    assert!(t(1).cpu_time > Duration::ZERO, "{dump}");
    assert!(
        t(0).backtrace
            .as_deref()
            .is_some_and(|b| b.contains("main_park")),
        "{dump}"
    );
    assert!(
        t(4).backtrace
            .as_deref()
            .is_some_and(|b| b.contains("sleep")),
        "{dump}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(
        dump.to_string()
            .contains("running wasm code, which answers only with precise dumps"),
        "{dump}"
    );
    inst.interrupt();
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
}

#[test]
fn dumps_in_a_row_all_get_the_frames_of_a_spinning_thread() {
    // A dump right after another used to come while the spinner was still
    // in its epoch callback answering the previous one: its deadline then
    // moved past the new tick, and every second dump timed out without its
    // frames.
    let inst = started_on(&precise(), 1, Arc::new(AtomicBool::new(false)));
    let spinning = |d: &ThreadDump| {
        matches!(state_of(d, 1), Some(ThreadState::Running))
            && matches!(state_of(d, 0), Some(ThreadState::Parked { .. }))
    };
    assert!(spinning(&snapshot_until(&inst, spinning)));
    let started_at = Instant::now();
    for i in 0..30 {
        let dump = inst.dump_with_timeout(Duration::from_secs(5));
        let t1 = dump.threads.iter().find(|t| t.tid == 1).unwrap();
        assert!(
            t1.backtrace.as_deref().is_some_and(|b| b.contains("spin")),
            "dump {i}: {dump}"
        );
    }
    // Each answer takes a tick or two, not a timeout.
    let took = started_at.elapsed();
    assert!(took < Duration::from_secs(3), "30 dumps took {took:?}");
    inst.interrupt();
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
}

/// The frames of thread `tid` in `dump`, if it is listed with some.
fn frames_of(dump: &ThreadDump, tid: u32) -> Option<&str> {
    dump.threads
        .iter()
        .find(|t| t.tid == tid)
        .and_then(|t| t.backtrace.as_deref())
}

#[test]
fn a_dump_after_an_interrupt_shows_the_frames_of_the_spinning_thread() {
    // Issue 21: the end stops a spinning thread at its stop check, and that
    // trap has a backtrace: a dump after the end lists it, with the default
    // stop checks as with precise dumps (epochs), and every other thread
    // with its state at the end and its frames.
    for config in [Config::default(), precise()] {
        let release = Arc::new(AtomicBool::new(false));
        let inst = started_on(&config, 5, release.clone());
        assert!(all_settled(&snapshot_until(&inst, all_settled)));
        inst.interrupt();
        // The thread in the host function cannot stop before it returns.
        let dump = inst.dump_with_timeout(Duration::from_millis(300));
        let t = |tid: u32| dump.threads.iter().find(|t| t.tid == tid).unwrap();
        assert_eq!(dump.threads.len(), 6, "{dump}");
        assert_eq!(t(1).state, ThreadState::Running, "{dump}");
        assert!(
            frames_of(&dump, 1).is_some_and(|b| b.contains("!spin")),
            "{dump}"
        );
        assert!(
            frames_of(&dump, 0).is_some_and(|b| b.contains("!main_park")),
            "{dump}"
        );
        assert!(
            matches!(t(2).state, ThreadState::Parked { address: 64, .. }),
            "{dump}"
        );
        assert!(
            frames_of(&dump, 2).is_some_and(|b| b.contains("!park")),
            "{dump}"
        );
        assert!(
            frames_of(&dump, 3).is_some_and(|b| b.contains("!park_timed")),
            "{dump}"
        );
        assert_eq!(t(4).state, ThreadState::WasiCall("poll_oneoff"), "{dump}");
        assert!(
            frames_of(&dump, 4).is_some_and(|b| b.contains("!sleep")),
            "{dump}"
        );
        assert_eq!(frames_of(&dump, 5), None, "{dump}");
        let text = dump.to_string();
        assert!(!text.contains("running wasm code, which answers"), "{text}");
        assert!(text.contains("did not stop in time"), "{text}");
        release.store(true, Ordering::SeqCst);
        assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
        // Once every thread is gone, a dump still shows them as the end
        // found them.
        let after = inst.dump();
        assert!(
            frames_of(&after, 1).is_some_and(|b| b.contains("!spin")),
            "{after}"
        );
    }
}

#[test]
fn a_program_that_timed_out_dumps_the_frames_of_its_spinning_thread() {
    let config = Config {
        timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    };
    let inst = started_on(&config, 1, Arc::new(AtomicBool::new(false)));
    assert_eq!(inst.wait(None), Some(Outcome::TimedOut));
    let dump = inst.dump();
    assert!(
        frames_of(&dump, 1).is_some_and(|b| b.contains("!spin")),
        "{dump}"
    );
    assert!(
        frames_of(&dump, 0).is_some_and(|b| b.contains("!main_park")),
        "{dump}"
    );
    assert!(dump.to_string().contains("!spin"), "{dump}");
}

#[test]
fn a_thread_answers_a_dump_when_its_host_call_returns() {
    let release = Arc::new(AtomicBool::new(false));
    let inst = started(5, release.clone());
    assert!(all_settled(&snapshot_until(&inst, all_settled)));
    let r = release.clone();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        r.store(true, Ordering::SeqCst);
    });
    let dump = inst.dump_with_timeout(Duration::from_secs(5));
    releaser.join().unwrap();
    let t5 = dump.threads.iter().find(|t| t.tid == 5).unwrap();
    assert!(
        t5.backtrace
            .as_deref()
            .is_some_and(|b| b.contains("in_host")),
        "{dump}"
    );
    inst.interrupt();
    inst.wait(None);
}

#[test]
fn the_completion_fd_becomes_readable_when_the_outcome_is_decided() {
    let release = Arc::new(AtomicBool::new(true));
    let inst = started(1, release);
    let fd = inst.completion_fd().expect("fd");
    assert_eq!(inst.completion_fd().unwrap(), fd, "the same fd every time");
    let readable = |ms: i32| {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, ms) == 1 }
    };
    assert!(!readable(50));
    inst.interrupt();
    assert!(readable(1000));
    assert!(readable(0), "stays readable");
    assert_eq!(inst.wait(None), Some(Outcome::Interrupted));
    // After the end, a first request is readable at once.
    let inst = started(1, Arc::new(AtomicBool::new(true)));
    inst.interrupt();
    inst.wait(None);
    let fd = inst.completion_fd().unwrap();
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    assert_eq!(unsafe { libc::poll(&mut p, 1, 0) }, 1);
}

#[test]
fn a_reactor_export_reads_memory_the_host_filled_in() {
    let wat = r#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "wasi_thread_start") (param i32 i32))
      (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
        (block $out (loop $l
          (br_if $out (i32.eqz (local.get $n)))
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
        (local.get $s)))"#;
    let inst = instance(wat.as_bytes(), &captured(&[]), None);
    let (base, size) = inst.memory();
    assert!(!base.is_null());
    assert_eq!(size, 65536);
    // SAFETY: the memory is 64 KiB and no guest thread runs.
    unsafe { std::ptr::copy_nonoverlapping([1u8, 2, 3, 250].as_ptr(), base.add(1000), 4) };
    let out = inst
        .call("sum", &[Val::I32(1000), Val::I32(4)])
        .expect("call");
    assert_eq!(out[0].i32(), Some(256));
    let snap = inst.threads();
    assert_eq!(snap.threads.len(), 1);
    assert_eq!(snap.threads[0].state, ThreadState::Idle, "{snap}");
}
