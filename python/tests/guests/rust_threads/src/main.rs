//! A Rust `wasm32-wasip1-threads` guest: scoped threads, a channel, a mutex,
//! a condition variable; `panic` as the first argument panics in a thread.
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("panic") {
        let t = thread::spawn(|| panic!("boom in a thread"));
        let _ = t.join();
        println!("unreachable: the panic ends the program");
        return;
    }
    let data: Vec<u64> = (1..=100_000).collect();
    let sum: u64 = thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(12_500)
            .map(|c| s.spawn(move || c.iter().sum::<u64>()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!("scoped sum = {sum}");

    let (tx, rx) = mpsc::channel();
    for i in 0..4u32 {
        let tx = tx.clone();
        thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || {
                tx.send((thread::current().name().unwrap().to_string(), i * i))
                    .unwrap()
            })
            .unwrap();
    }
    drop(tx);
    let mut got: Vec<_> = rx.iter().collect();
    got.sort();
    println!("channel = {got:?}");

    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let p = Arc::clone(&pair);
    let t = thread::spawn(move || {
        let (m, c) = &*p;
        *m.lock().unwrap() = 42;
        c.notify_all();
    });
    let (m, c) = &*pair;
    let v = c.wait_while(m.lock().unwrap(), |v| *v == 0).unwrap();
    println!("condvar = {}", *v);
    drop(v);
    t.join().unwrap();
}
