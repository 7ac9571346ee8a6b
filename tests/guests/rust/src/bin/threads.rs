//! std::thread: spawn and join with values, names, ids, stack sizes, scoped
//! threads, park/unpark, sleep, 200 threads in waves, threads spawning threads.
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Threads that spawn threads: a binary tree of the given depth.
fn tree(depth: u32) -> u64 {
    if depth == 0 {
        return 1;
    }
    let a = thread::spawn(move || tree(depth - 1));
    let b = thread::spawn(move || tree(depth - 1));
    a.join().unwrap() + b.join().unwrap()
}

fn main() {
    // Join returns each thread's value.
    let handles: Vec<_> = (1..=8u64)
        .map(|i| thread::spawn(move || (1..=1000u64).map(|k| k * i).sum::<u64>()))
        .collect();
    let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("join values: {sums:?}");

    // Names.
    let named = thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap();
    println!("named thread: {:?}", named.join().unwrap());
    let unnamed = thread::spawn(|| thread::current().name().map(str::to_owned));
    println!("unnamed thread: {:?}", unnamed.join().unwrap());
    println!("main thread: {:?}", thread::current().name());
    let h = thread::Builder::new()
        .name("joiner".into())
        .spawn(|| ())
        .unwrap();
    println!("handle name: {:?}", h.thread().name());
    h.join().unwrap();

    // Ids are distinct among threads alive together.
    let ids: HashSet<thread::ThreadId> = (0..16)
        .map(|_| thread::spawn(|| thread::current().id()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .chain(std::iter::once(thread::current().id()))
        .collect();
    println!("distinct ids: {}", ids.len());

    // A thread with a 4 MiB stack uses 2 MiB of it.
    let deep = thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| {
            let mut buf = [0u8; 2 << 20];
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (i % 251) as u8;
            }
            std::hint::black_box(&buf)
                .iter()
                .map(|&b| b as u64)
                .sum::<u64>()
        })
        .unwrap();
    println!("big stack sum: {}", deep.join().unwrap());

    // Scoped threads borrow and mutate the caller's data.
    let mut data = vec![0u64; 16];
    let base = 10u64;
    thread::scope(|s| {
        for (i, chunk) in data.chunks_mut(4).enumerate() {
            s.spawn(move || {
                for (j, x) in chunk.iter_mut().enumerate() {
                    *x = base * i as u64 + j as u64;
                }
            });
        }
    });
    println!("scoped writes: {data:?}");
    let total = thread::scope(|s| {
        let a = s.spawn(|| data[..8].iter().sum::<u64>());
        let b = s.spawn(|| data[8..].iter().sum::<u64>());
        a.join().unwrap() + b.join().unwrap()
    });
    println!("scoped reads: {total}");

    // park/unpark: the parked thread wakes only when the flag is set.
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let parked = thread::spawn(move || {
        let mut parks = 0;
        while !f.load(Ordering::Acquire) {
            thread::park();
            parks += 1;
        }
        parks > 0
    });
    thread::sleep(Duration::from_millis(20));
    flag.store(true, Ordering::Release);
    parked.thread().unpark();
    println!("park/unpark: parked={}", parked.join().unwrap());

    // park_timeout and sleep take at least as long as asked.
    let t = Instant::now();
    thread::park_timeout(Duration::from_millis(30));
    let h = thread::spawn(|| {
        let t = Instant::now();
        thread::sleep(Duration::from_millis(30));
        t.elapsed() >= Duration::from_millis(30)
    });
    println!(
        "sleep in thread >= 30ms: {}, park_timeout >= 30ms: {}",
        h.join().unwrap(),
        t.elapsed() >= Duration::from_millis(30)
    );

    // is_finished.
    let h = thread::spawn(|| 5);
    while !h.is_finished() {
        thread::yield_now();
    }
    println!("is_finished then join: {}", h.join().unwrap());

    // 200 threads in waves of 25.
    let done = Arc::new(AtomicUsize::new(0));
    for _wave in 0..8 {
        let hs: Vec<_> = (0..25)
            .map(|_| {
                let d = done.clone();
                thread::spawn(move || {
                    d.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    println!("threads in waves: {}", done.load(Ordering::Relaxed));
    println!("leaves of a tree of nested spawns: {}", tree(6));
    println!("done");
}
