//! A panic in a spawned thread while others spin and block. Rust's panic is
//! abort on wasm32-wasip1-threads: the hook prints the message, then
//! abort() traps (unreachable), which ends the whole program.
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;

fn main() {
    let ready = Arc::new(Barrier::new(3));
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        weft_rust_guests::spin_forever()
    });
    let r = ready.clone();
    thread::spawn(move || {
        let pair = (Mutex::new(false), Condvar::new());
        r.wait();
        let _g = pair
            .1
            .wait_while(pair.0.lock().unwrap(), |done| !*done)
            .unwrap();
    });
    ready.wait();
    println!("threads busy");
    let h = thread::Builder::new()
        .name("worker-3".into())
        .spawn(|| {
            let v: Vec<u32> = Vec::new();
            if v.is_empty() {
                panic!("boom from worker 3");
            }
        })
        .unwrap();
    let _ = h.join();
    println!("unreachable: join returned");
}
