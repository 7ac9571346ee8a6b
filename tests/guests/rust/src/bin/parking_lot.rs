//! parking_lot: Mutex, FairMutex, ReentrantMutex, RwLock with upgradable
//! reads, Condvar (notify_all, wait_for timing out), Once, try_lock_for.
use parking_lot::{
    Condvar, FairMutex, Mutex, Once, ReentrantMutex, RwLock, RwLockUpgradableReadGuard,
};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    // Mutex and FairMutex under contention.
    let m = Arc::new(Mutex::new(0u64));
    let f = Arc::new(FairMutex::new(0u64));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (m, f) = (m.clone(), f.clone());
            thread::spawn(move || {
                for _ in 0..5000 {
                    *m.lock() += 1;
                    *f.lock() += 2;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("mutex {}, fair mutex {}", *m.lock(), *f.lock());

    // try_lock_for gives up while another thread holds the lock.
    let held = Arc::new(Mutex::new(()));
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let h = {
        let held = held.clone();
        thread::spawn(move || {
            let _g = held.lock();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
    };
    locked_rx.recv().unwrap();
    let t = Instant::now();
    let got = held.try_lock_for(Duration::from_millis(20)).is_some();
    println!(
        "try_lock_for while held: {got}, waited >= 20ms: {}",
        t.elapsed() >= Duration::from_millis(20)
    );
    release_tx.send(()).unwrap();
    h.join().unwrap();
    println!("try_lock after release: {}", held.try_lock().is_some());

    // ReentrantMutex: the owner locks again; others wait.
    let r = Arc::new(ReentrantMutex::new(std::cell::Cell::new(0)));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            thread::spawn(move || {
                for _ in 0..1000 {
                    let a = r.lock();
                    let b = r.lock();
                    b.set(a.get() + 1);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("reentrant mutex {}", r.lock().get());

    // RwLock: readers, writers and upgradable readers.
    let rw = Arc::new(RwLock::new(Vec::<u32>::new()));
    let hs: Vec<_> = (0..4u32)
        .map(|t| {
            let rw = rw.clone();
            thread::spawn(move || {
                let mut seen_sorted = true;
                for i in 0..200 {
                    if i % 2 == 0 {
                        let g = rw.upgradable_read();
                        if !g.contains(&(t * 1000 + i)) {
                            let mut w = RwLockUpgradableReadGuard::upgrade(g);
                            w.push(t * 1000 + i);
                            w.sort();
                        }
                    } else {
                        let g = rw.read();
                        seen_sorted &= g.windows(2).all(|w| w[0] < w[1]);
                    }
                }
                seen_sorted
            })
        })
        .collect();
    let sorted = hs.into_iter().all(|h| h.join().unwrap());
    println!(
        "rwlock: {} entries, readers saw sorted data: {sorted}",
        rw.read().len()
    );

    // Condvar: notify_all wakes 4 waiters; wait_for times out.
    let state = Arc::new((Mutex::new(0u32), Condvar::new()));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let s = state.clone();
            thread::spawn(move || {
                let (m, cv) = &*s;
                let mut g = m.lock();
                *g += 1;
                cv.notify_all();
                while *g < 100 {
                    cv.wait(&mut g);
                }
                *g += 1;
            })
        })
        .collect();
    {
        let (m, cv) = &*state;
        let mut g = m.lock();
        while *g < 4 {
            cv.wait(&mut g);
        }
        *g = 100;
        cv.notify_all();
    }
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "condvar notify_all: all 4 waiters woke: {}",
        *state.0.lock() == 104
    );
    let (m, cv) = &*state;
    let mut g = m.lock();
    let t = Instant::now();
    let res = cv.wait_for(&mut g, Duration::from_millis(30));
    println!(
        "wait_for timed out: {}, waited >= 30ms: {}",
        res.timed_out(),
        t.elapsed() >= Duration::from_millis(30)
    );
    drop(g);

    // Once.
    static ONCE: Once = Once::new();
    static RUNS: Mutex<u32> = Mutex::new(0);
    let hs: Vec<_> = (0..8)
        .map(|_| thread::spawn(|| ONCE.call_once(|| *RUNS.lock() += 1)))
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "once ran {} time(s), state done: {}",
        *RUNS.lock(),
        ONCE.state().done()
    );
    println!("done");
}
