//! thread_local!: each thread has its own values, const initialisers, lazy
//! initialisers run once per thread, and destructors run when a thread ends.
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

static INITS: AtomicUsize = AtomicUsize::new(0);
static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Tracked(u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.fetch_add(self.0 as usize, Ordering::SeqCst);
    }
}

thread_local! {
    static COUNTER: Cell<u64> = const { Cell::new(0) };
    static LOG: RefCell<Vec<String>> = RefCell::new({
        INITS.fetch_add(1, Ordering::SeqCst);
        Vec::new()
    });
    static TRACKED: RefCell<Option<Tracked>> = const { RefCell::new(None) };
}

fn main() {
    COUNTER.with(|c| c.set(1000));
    let hs: Vec<_> = (1..=6u64)
        .map(|i| {
            thread::spawn(move || {
                for _ in 0..i * 100 {
                    COUNTER.with(|c| c.set(c.get() + 1));
                }
                LOG.with_borrow_mut(|l| l.push(format!("thread {i}")));
                LOG.with_borrow_mut(|l| l.push("again".to_owned()));
                TRACKED.with_borrow_mut(|t| *t = Some(Tracked(1)));
                (COUNTER.get(), LOG.with_borrow(|l| l.join(",")))
            })
        })
        .collect();
    for h in hs {
        let (count, log) = h.join().unwrap();
        println!("thread: counter {count}, log [{log}]");
    }
    println!("main counter still {}", COUNTER.get());
    println!("lazy initialisers run: {}", INITS.load(Ordering::SeqCst));
    println!(
        "destructors run at thread exit: {}",
        DROPS.load(Ordering::SeqCst)
    );

    // Scoped threads too, joined explicitly: the end of thread::scope only
    // says that the closures returned, not that the threads (and their
    // destructors) are done. The main thread's own value is untouched.
    thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| TRACKED.with_borrow_mut(|t| *t = Some(Tracked(10)))))
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
    });
    println!("after scoped threads: {}", DROPS.load(Ordering::SeqCst));
    println!("main log empty: {}", LOG.with_borrow(|l| l.is_empty()));
    println!("done");
}
