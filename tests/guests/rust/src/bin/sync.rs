//! std::sync: Mutex, Condvar (signalled and timed out), RwLock, Barrier,
//! mpsc (unbounded, bounded, rendezvous), Once/OnceLock and atomics.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, Once, OnceLock, RwLock};
use std::thread;
use std::time::Duration;

fn main() {
    // Mutex: 8 threads x 10,000 increments.
    let counter = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let c = counter.clone();
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *c.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("mutex counter: {}", *counter.lock().unwrap());
    println!("try_lock while free: {}", counter.try_lock().is_ok());

    // Condvar: a bounded queue, 2 producers and 2 consumers.
    struct Queue {
        items: VecDeque<u64>,
        producers_left: usize,
    }
    let q = Arc::new((
        Mutex::new(Queue {
            items: VecDeque::new(),
            producers_left: 2,
        }),
        Condvar::new(),
        Condvar::new(),
    ));
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                let (m, not_empty, not_full) = &*q;
                for i in 0..500u64 {
                    let mut g = not_full
                        .wait_while(m.lock().unwrap(), |g| g.items.len() >= 4)
                        .unwrap();
                    g.items.push_back(p * 1000 + i);
                    not_empty.notify_one();
                }
                m.lock().unwrap().producers_left -= 1;
                not_empty.notify_all();
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                let (m, not_empty, not_full) = &*q;
                let (mut n, mut sum) = (0u64, 0u64);
                loop {
                    let mut g = not_empty
                        .wait_while(m.lock().unwrap(), |g| {
                            g.items.is_empty() && g.producers_left > 0
                        })
                        .unwrap();
                    match g.items.pop_front() {
                        Some(v) => {
                            n += 1;
                            sum += v;
                            not_full.notify_one();
                        }
                        None => return (n, sum),
                    }
                }
            })
        })
        .collect();
    producers.into_iter().for_each(|h| h.join().unwrap());
    let (n, sum) = consumers
        .into_iter()
        .map(|h| h.join().unwrap())
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("condvar queue: {n} items, sum {sum}");

    // Condvar::wait_timeout that times out, and one that is signalled.
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (m, cv) = &*pair;
    let (_g, res) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(30))
        .unwrap();
    println!("wait_timeout without signal: timed_out={}", res.timed_out());
    drop(_g);
    let p = pair.clone();
    let signaller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        *p.0.lock().unwrap() = true;
        p.1.notify_one();
    });
    let (g, res) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_secs(30), |ready| !*ready)
        .unwrap();
    println!(
        "wait_timeout with signal: timed_out={}, ready={}",
        res.timed_out(),
        *g
    );
    drop(g);
    signaller.join().unwrap();

    // RwLock: 4 readers see only whole updates from 1 writer.
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let writer = {
        let l = lock.clone();
        thread::spawn(move || {
            for i in 1..=2000u64 {
                *l.write().unwrap() = (i, i * 2);
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let l = lock.clone();
            thread::spawn(move || {
                let mut torn = 0;
                for _ in 0..2000 {
                    let g = l.read().unwrap();
                    if g.1 != g.0 * 2 {
                        torn += 1;
                    }
                }
                torn
            })
        })
        .collect();
    writer.join().unwrap();
    let torn: u32 = readers.into_iter().map(|h| h.join().unwrap()).sum();
    println!(
        "rwlock: final {:?}, torn reads {torn}",
        *lock.read().unwrap()
    );

    // Barrier: 5 threads, 3 rounds; exactly one leader per round, and nobody
    // passes a round before all arrived.
    let barrier = Arc::new(Barrier::new(5));
    let arrived = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..5)
        .map(|_| {
            let b = barrier.clone();
            let a = arrived.clone();
            thread::spawn(move || {
                let mut leaders = 0;
                let mut ok = true;
                for round in 1..=3 {
                    a.fetch_add(1, Ordering::SeqCst);
                    if b.wait().is_leader() {
                        leaders += 1;
                    }
                    ok &= a.load(Ordering::SeqCst) >= round * 5;
                    b.wait();
                }
                (leaders, ok)
            })
        })
        .collect();
    let (leaders, ok) = hs
        .into_iter()
        .map(|h| h.join().unwrap())
        .fold((0, true), |a, b| (a.0 + b.0, a.1 && b.1));
    println!("barrier: {leaders} leaders in 3 rounds, in step: {ok}");

    // mpsc: 4 producers into one receiver.
    let (tx, rx) = mpsc::channel::<u64>();
    for p in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..250 {
                tx.send(p * 10_000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let got: Vec<u64> = rx.iter().collect();
    println!(
        "mpsc channel: {} messages, sum {}",
        got.len(),
        got.iter().sum::<u64>()
    );

    // sync_channel(2) and sync_channel(0) (rendezvous).
    for cap in [2, 0] {
        let (tx, rx) = mpsc::sync_channel::<u32>(cap);
        let h = thread::spawn(move || (0..100).map(|i| tx.send(i).unwrap()).count());
        let sum: u32 = rx.iter().sum();
        println!("sync_channel({cap}): sent {}, sum {sum}", h.join().unwrap());
    }
    let (_tx, rx) = mpsc::channel::<u8>();
    println!(
        "recv_timeout on empty: {:?}",
        rx.recv_timeout(Duration::from_millis(20))
    );

    // Once and OnceLock run their initialiser once across 8 threads.
    static ONCE: Once = Once::new();
    static CELL: OnceLock<u64> = OnceLock::new();
    static INITS: AtomicU64 = AtomicU64::new(0);
    let hs: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                ONCE.call_once(|| {
                    INITS.fetch_add(1, Ordering::SeqCst);
                });
                *CELL.get_or_init(|| {
                    INITS.fetch_add(100, Ordering::SeqCst);
                    42u64
                })
            })
        })
        .collect();
    let vals: Vec<u64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    println!(
        "once: inits={}, values {:?}",
        INITS.load(Ordering::SeqCst),
        vals
    );

    // Atomics: fetch_add and compare_exchange loops.
    let a = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let a = a.clone();
            thread::spawn(move || {
                for _ in 0..10_000 {
                    a.fetch_add(1, Ordering::Relaxed);
                    let mut cur = a.load(Ordering::Relaxed);
                    while let Err(now) =
                        a.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
                    {
                        cur = now;
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("atomics: {}", a.load(Ordering::SeqCst));

    println!("done");
}
