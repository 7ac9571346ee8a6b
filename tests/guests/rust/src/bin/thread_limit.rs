//! Run with `weft-run --max-threads 4`: spawning past the limit is an
//! io::Error from thread::Builder::spawn (EAGAIN), not a crash, and once
//! threads end, spawning works again.
use std::sync::mpsc;
use std::thread;

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
    let again: Vec<_> = (0..3).map(|i| thread::spawn(move || i * 2)).collect();
    let vals: Vec<i32> = again.into_iter().map(|h| h.join().unwrap()).collect();
    println!("after join, spawn works again: {vals:?}");
}
