//! std::process::exit(42) from a spawned thread while the others are busy:
//! one spins, one blocks on a Mutex, one waits on a Condvar, one sleeps, one
//! waits in a channel receive, and main waits in join.
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

fn main() {
    let ready = Arc::new(Barrier::new(6));
    let lock = Arc::new(Mutex::new(()));
    let held = lock.lock().unwrap();

    let r = ready.clone();
    let spinner = thread::spawn(move || {
        r.wait();
        weft_rust_guests::spin_forever()
    });
    let (r, l) = (ready.clone(), lock.clone());
    thread::spawn(move || {
        r.wait();
        let _g = l.lock().unwrap();
        println!("unreachable: mutex acquired");
    });
    let r = ready.clone();
    thread::spawn(move || {
        let pair = (Mutex::new(false), Condvar::new());
        r.wait();
        let _g = pair
            .1
            .wait_while(pair.0.lock().unwrap(), |done| !*done)
            .unwrap();
        println!("unreachable: condvar signalled");
    });
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        thread::sleep(Duration::from_secs(600));
        println!("unreachable: sleep ended");
    });
    let (_tx, rx) = mpsc::channel::<()>();
    let r = ready.clone();
    thread::spawn(move || {
        r.wait();
        let _ = rx.recv();
        println!("unreachable: message received");
    });
    ready.wait();
    println!("all threads busy");

    thread::spawn(|| {
        thread::sleep(Duration::from_millis(50));
        println!("exiting with 42 from a thread");
        std::process::exit(42);
    });
    spinner.join().unwrap();
    drop(held);
    println!("unreachable: join returned");
}
