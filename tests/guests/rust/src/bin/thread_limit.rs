//! Run with `weft-run --max-threads 4`: spawning past the limit is an
//! io::Error from thread::Builder::spawn (EAGAIN), not a crash, and once
//! threads end, spawning works again.
//!
//! A joined thread counts until its `wasi_thread_start` has returned, a
//! moment after `join` returns here (README, Guarantees): the spawns after
//! the joins retry a refusal for up to 10 s, as a program that spawns at
//! its limit must.
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Spawns `f`, retrying while the thread limit refuses it.
fn spawn_retrying(f: impl FnOnce() -> i32 + Send + Clone + 'static) -> thread::JoinHandle<i32> {
    let start = Instant::now();
    loop {
        match thread::Builder::new().spawn(f.clone()) {
            Ok(h) => return h,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
                thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("spawn still refused after 10 s: {e}"),
        }
    }
}

fn main() {
    let mut blocked = Vec::new();
    let mut senders = Vec::new();
    let err = loop {
        let (tx, rx) = mpsc::channel::<()>();
        match thread::Builder::new().spawn(move || {
            let _ = rx.recv();
        }) {
            Ok(h) => {
                blocked.push(h);
                senders.push(tx);
            }
            Err(e) => break e,
        }
        if blocked.len() > 64 {
            println!("no limit reached");
            return;
        }
    };
    println!(
        "spawned {} threads, then: {:?} ({})",
        blocked.len(),
        err.kind(),
        err
    );
    drop(senders);
    for h in blocked.drain(..) {
        h.join().unwrap();
    }
    let again: Vec<_> = (0..3).map(|i| spawn_retrying(move || i * 2)).collect();
    let vals: Vec<i32> = again.into_iter().map(|h| h.join().unwrap()).collect();
    println!("after join, spawn works again: {vals:?}");
}
