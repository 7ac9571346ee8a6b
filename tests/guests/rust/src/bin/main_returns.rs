//! main returns an ExitCode while spawned threads still spin, sleep and
//! block: the program ends with that code and no thread keeps it alive.
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

fn main() -> ExitCode {
    let ready = Arc::new(Barrier::new(4));
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        weft_rust_guests::spin_forever()
    });
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        thread::sleep(Duration::from_secs(600));
    });
    let (_tx, rx) = mpsc::channel::<()>();
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        let _ = rx.recv();
    });
    ready.wait();
    println!("returning 7 from main with 3 threads busy");
    ExitCode::from(7)
}
