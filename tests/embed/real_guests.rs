//! Real guests (wasi-libc pthread C, Rust `std::thread`), dumps and deadlocks.

use super::*;

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
    let module = compile_wat(include_str!("../guests/deadlock.wat"));
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
    let module = compile_wat(include_str!("../guests/thread_states.wat"));
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
    // After the end, a dump lists the threads as the end stopped them,
    // each with the frames of its stop.
    let last = p.threads.dump();
    assert!(last.at_end, "{last}");
    assert_eq!(last.threads.len(), 5, "{last}");
    for (tid, frame) in [
        (0, "!main_park"),
        (1, "!spin"),
        (2, "!park"),
        (3, "!park_timed"),
        (4, "!sleep"),
    ] {
        let t = last.threads.iter().find(|t| t.tid == tid).expect("thread");
        let bt = t.backtrace.as_deref().unwrap_or_default();
        assert!(bt.contains(frame), "tid {tid}: {bt:?}\n{last}");
    }
    // The sleeper forwards `call_stopped`: still in its WASI call.
    let t4 = last.threads.iter().find(|t| t.tid == 4).expect("thread");
    assert_eq!(t4.state, ThreadState::WasiCall("poll_oneoff"), "{last}");
}
