//! A panic in the main thread while spawned threads spin and block.
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

fn main() {
    let ready = Arc::new(Barrier::new(3));
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        weft_rust_guests::spin_forever()
    });
    let (_tx, rx) = mpsc::channel::<()>();
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        let _ = rx.recv();
    });
    ready.wait();
    println!("threads busy");
    let values: Vec<u32> = std::hint::black_box(Vec::new());
    println!("unreachable: {}", values[3]);
}
