//! The parking lot behind the rewritten `memory.atomic.wait`/`notify`
//! (see `program::wait_rewrite`): threads parked by address, woken in order
//! by a notify, and all at once, for good, when the program ends.
//!
//! Built for contended `pthread_mutex`/`pthread_cond` traffic:
//!
//! * **Sharded**: [`BUCKETS`] buckets by address, each with its own lock and
//!   FIFO of waiters, so waits and notifies on different addresses do not
//!   contend (no lock for the whole lot on the hot path).
//! * **No allocation per wait**: a thread parks on its own futex word, a
//!   `Waiter` allocated once per OS thread (thread-local) and reused; the
//!   bucket's queue keeps its capacity.
//! * **Notify without waiters is one load**: each bucket counts the threads
//!   inside `wait` on it; a notify that finds zero (after a fence that orders
//!   the guest's store of the futex value before it) returns without
//!   locking. A waiter increments the count under the bucket lock *before*
//!   comparing the value, so either it sees the notifier's store, or the
//!   notifier sees the count and takes the lock.
//! * **Wake-ups outside the lock**: a notify takes its waiters off the queue
//!   under the lock, then issues the futex wakes after releasing it.
//! * **Spin, then sleep**: a queued waiter first watches its word for a
//!   while before it sleeps in the kernel, and a notify makes the futex
//!   wake system call only for a waiter that sleeps (see `waiter`).
//!
//! `stop` marks the lot stopped and then sweeps every bucket, waking every
//! queued waiter as stopped; a wait that starts later sees the mark under its
//! bucket's lock.
//!
//! Two things serve observation: untimed waiters are counted in the run's
//! deadlock [`Census`] (by themselves once queued, uncounted by the notify
//! that wakes them, under the bucket's lock), and [`ParkingLot::nudge`] wakes
//! every waiter briefly so it can answer a thread dump and park again.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::observe::census::Census;
use crate::runtime::run::waits::waiter::{
    cpus, me, spin_for, Waiter, NUDGED, STOPPED, WAITING, WOKEN,
};
use crate::wasi::Stopped;

/// Number of buckets (a power of two).
const BUCKETS: usize = 64;

#[derive(Default)]
#[repr(align(128))]
struct Bucket {
    /// Threads between taking this bucket's lock in `wait` and leaving it
    /// (queued or about to be).
    waiting: AtomicU32,
    queue: Mutex<Vec<Entry>>,
}

/// A queued waiter: its address, itself, and whether it waits without a
/// timeout (counted in the census).
type Entry = (u64, Arc<Waiter>, bool);

impl Bucket {
    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Threads parked in a rewritten `memory.atomic.wait`, by address.
pub(crate) struct ParkingLot {
    stopped: AtomicBool,
    buckets: Box<[Bucket]>,
}

impl Default for ParkingLot {
    fn default() -> ParkingLot {
        ParkingLot {
            stopped: AtomicBool::new(false),
            buckets: (0..BUCKETS).map(|_| Bucket::default()).collect(),
        }
    }
}

/// What `memory.atomic.wait` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitResult {
    Woken = 0,
    NotEqual = 1,
    TimedOut = 2,
}

impl ParkingLot {
    fn bucket(&self, addr: u64) -> &Bucket {
        let h = (addr >> 2).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        &self.buckets[(h >> (64 - BUCKETS.trailing_zeros())) as usize]
    }

    /// Parks the caller on `addr` if `equal()` (evaluated under the
    /// bucket's lock, so no notify can slip in between) until notified,
    /// `timeout` passes (`None`: never) or the lot is stopped. An untimed
    /// waiter is counted in `census`; `hook(deadlocked)` runs (outside the
    /// lock) when this park made every thread parked (`true`) or when the
    /// lot is nudged (`false`, also when the nudge and the wait's end
    /// arrive together), and the thread parks again afterwards.
    pub(crate) fn wait(
        &self,
        addr: u64,
        equal: impl FnOnce() -> bool,
        timeout: Option<Duration>,
        census: &Census,
        mut hook: impl FnMut(bool),
    ) -> Result<WaitResult, Stopped> {
        let bucket = self.bucket(addr);
        let me = me();
        let mut deadlocked;
        {
            let mut queue = bucket.lock();
            if self.stopped.load(Ordering::SeqCst) {
                return Err(Stopped);
            }
            // Before the comparison: pairs with the fence in `notify`.
            bucket.waiting.fetch_add(1, Ordering::SeqCst);
            if !equal() {
                bucket.waiting.fetch_sub(1, Ordering::Relaxed);
                return Ok(WaitResult::NotEqual);
            }
            me.state.store(WAITING, Ordering::Relaxed);
            let untimed = timeout.is_none();
            queue.push((addr, me.clone(), untimed));
            deadlocked = untimed && census.parked();
        }
        let start = Instant::now();
        let deadline = timeout.and_then(|t| start.checked_add(t));
        // Spin once, before the first sleep, for at most this long.
        let spin = spin_for(&me, census.active(), timeout.is_some(), cpus());
        let mut spin_until = Some(start + spin);
        let mut slept = false;
        loop {
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => {
                        if self.cancel(bucket, &me) {
                            me.learn(false);
                            // A nudge that came with the timeout is
                            // answered too (none can come after `cancel`).
                            if me.state.load(Ordering::Acquire) & NUDGED != 0 {
                                hook(false);
                            }
                            return Ok(WaitResult::TimedOut);
                        }
                        // Dequeued by a notify or stop: its wake is coming.
                        None
                    }
                },
            };
            let state = me.state.load(Ordering::Acquire);
            if state & NUDGED != 0 {
                // Answered even when the wait has just ended: the dump
                // that asked counts on it.
                me.state.fetch_and(!NUDGED, Ordering::Relaxed);
                hook(false);
                continue;
            }
            match state {
                WOKEN => {
                    me.learn(!slept);
                    return Ok(WaitResult::Woken);
                }
                STOPPED => return Err(Stopped),
                _ => {}
            }
            if std::mem::take(&mut deadlocked) {
                hook(true);
                continue;
            }
            if let Some(until) = spin_until.take() {
                let until = deadline.map_or(until, |d| d.min(until));
                if me.spin(until) {
                    continue;
                }
            }
            // Returns on a wake, a timeout, a signal or a changed word; the
            // loop re-checks which.
            slept = true;
            me.sleep(left);
        }
    }

    /// Takes `me` off `bucket`'s queue after a timeout. Returns false if a
    /// notify or stop took it off first (its wake-up is on its way).
    fn cancel(&self, bucket: &Bucket, me: &Arc<Waiter>) -> bool {
        let mut queue = bucket.lock();
        match queue.iter().position(|(_, w, _)| Arc::ptr_eq(w, me)) {
            Some(i) => {
                queue.remove(i);
                bucket.waiting.fetch_sub(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Wakes up to `count` threads parked on `addr`, oldest first, taking
    /// the untimed ones out of `census`.
    pub(crate) fn notify(&self, addr: u64, count: u32, census: &Census) -> u32 {
        let bucket = self.bucket(addr);
        // Orders the guest's store of the new value (made before it called
        // notify) before reading the count: see the module comment.
        fence(Ordering::SeqCst);
        if count == 0 || bucket.waiting.load(Ordering::SeqCst) == 0 {
            return 0;
        }
        // Wake outside the lock, in batches of up to BATCH.
        const BATCH: usize = 16;
        let mut woken = 0;
        loop {
            let mut batch: [Option<Arc<Waiter>>; BATCH] = Default::default();
            let mut n = 0;
            let mut more = false;
            {
                let mut queue = bucket.lock();
                let mut i = 0;
                while i < queue.len() {
                    if queue[i].0 != addr {
                        i += 1;
                        continue;
                    }
                    if woken == count {
                        break;
                    }
                    if n == BATCH {
                        more = true;
                        break;
                    }
                    let (_, waiter, untimed) = queue.remove(i);
                    if untimed {
                        census.unparked();
                    }
                    batch[n] = Some(waiter);
                    n += 1;
                    woken += 1;
                }
                bucket.waiting.fetch_sub(n as u32, Ordering::Relaxed);
            }
            for waiter in batch.iter().take(n).flatten() {
                waiter.wake(WOKEN);
            }
            if !more {
                return woken;
            }
        }
    }

    /// Wakes every waiter for good: they and all later waits fail with
    /// [`Stopped`].
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for bucket in self.buckets.iter() {
            let taken = std::mem::take(&mut *bucket.lock());
            bucket
                .waiting
                .fetch_sub(taken.len() as u32, Ordering::Relaxed);
            for (_, waiter, _) in taken {
                waiter.wake(STOPPED);
            }
        }
    }

    /// Wakes every waiter briefly: each runs its wait's hook and parks again.
    pub(crate) fn nudge(&self) {
        for bucket in self.buckets.iter() {
            for (_, waiter, _) in bucket.lock().iter() {
                waiter.nudge();
            }
        }
    }

    /// Threads parked now.
    #[cfg(test)]
    pub(crate) fn parked(&self) -> usize {
        self.buckets.iter().map(|b| b.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_wakes_in_order_and_counts() {
        let lot = Arc::new(ParkingLot::default());
        let mut threads = Vec::new();
        for _ in 0..3 {
            let l = lot.clone();
            threads.push(std::thread::spawn(move || {
                l.wait(8, || true, None, &Census::default(), |_| {})
            }));
        }
        while lot.parked() < 3 {
            std::thread::yield_now();
        }
        assert_eq!(lot.notify(16, 5, &Census::default()), 0);
        assert_eq!(lot.notify(8, 2, &Census::default()), 2);
        assert_eq!(lot.notify(8, 5, &Census::default()), 1);
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(WaitResult::Woken));
        }
    }

    #[test]
    fn not_equal_timeout_and_stop() {
        let lot = Arc::new(ParkingLot::default());
        assert_eq!(
            lot.wait(0, || false, None, &Census::default(), |_| {}),
            Ok(WaitResult::NotEqual)
        );
        assert_eq!(
            lot.wait(
                0,
                || true,
                Some(Duration::from_millis(5)),
                &Census::default(),
                |_| {}
            ),
            Ok(WaitResult::TimedOut)
        );
        assert_eq!(lot.parked(), 0);
        let l = lot.clone();
        let t = std::thread::spawn(move || l.wait(4, || true, None, &Census::default(), |_| {}));
        while lot.parked() < 1 {
            std::thread::yield_now();
        }
        let at = Instant::now();
        lot.stop();
        assert_eq!(t.join().unwrap(), Err(Stopped));
        // The untimed wait ends only because of the stop; the bound only
        // turns a hang into a failure.
        assert!(at.elapsed() < Duration::from_secs(10));
        assert_eq!(
            lot.wait(4, || true, None, &Census::default(), |_| {}),
            Err(Stopped)
        );
    }

    #[test]
    fn stops_and_timeouts_land_during_the_spin_too() {
        // The stop comes right after the waiter queues (within its spin, or
        // once it sleeps: either way it must see it); timeouts shorter and
        // longer than the spin.
        for i in 0..300u64 {
            let lot = Arc::new(ParkingLot::default());
            let l = lot.clone();
            let t =
                std::thread::spawn(move || l.wait(4, || true, None, &Census::default(), |_| {}));
            while lot.parked() < 1 {
                std::hint::spin_loop();
            }
            lot.stop();
            assert_eq!(t.join().unwrap(), Err(Stopped));
            let timeout = Duration::from_micros(i % 60);
            assert_eq!(
                ParkingLot::default().wait(8, || true, Some(timeout), &Census::default(), |_| {}),
                Ok(WaitResult::TimedOut)
            );
        }
    }

    /// A thread that waits on `addr` with `hook`, returned once it is queued.
    fn park_in_thread(
        lot: &Arc<ParkingLot>,
        addr: u64,
        timeout: Option<Duration>,
        mut hook: impl FnMut() + Send + 'static,
    ) -> std::thread::JoinHandle<Result<WaitResult, Stopped>> {
        let l = lot.clone();
        let t = std::thread::spawn(move || {
            l.wait(addr, || true, timeout, &Census::default(), |_| hook())
        });
        while lot.parked() < 1 {
            std::thread::yield_now();
        }
        t
    }

    #[test]
    fn no_nudge_is_lost_on_the_way_to_sleep() {
        // Each nudge comes the moment the previous hook returns, while the
        // waiter heads back to sleep: the window between its last look at
        // the word and the futex system call. A nudge that lands there must
        // still run the hook (a lost one left a thread dump waiting for its
        // whole timeout).
        let lot = Arc::new(ParkingLot::default());
        let hooks = Arc::new(AtomicU32::new(0));
        let h = hooks.clone();
        let t = park_in_thread(&lot, 4, None, move || {
            h.fetch_add(1, Ordering::SeqCst);
        });
        // The queued waiter itself, so that a nudge is only its store and
        // wake (`ParkingLot::nudge` first walks every bucket's lock).
        let waiter = lot.bucket(4).lock()[0].1.clone();
        for n in 1..=100_000u32 {
            // Land at a different point of the waiter's path each time.
            for _ in 0..n % 64 {
                std::hint::spin_loop();
            }
            waiter.nudge();
            let asked = Instant::now();
            while hooks.load(Ordering::SeqCst) < n {
                assert!(
                    asked.elapsed() < Duration::from_secs(5),
                    "nudge {n} was lost"
                );
                std::hint::spin_loop();
            }
        }
        lot.stop();
        assert_eq!(t.join().unwrap(), Err(Stopped));
    }

    #[test]
    fn a_nudge_that_comes_with_the_end_of_the_wait_is_answered() {
        // The first nudge's hook holds the waiter until a second nudge and
        // the wait's end (a notify, or the timeout) have both arrived: the
        // wait must answer the second nudge before it returns.
        for timeout in [None, Some(Duration::from_millis(20))] {
            let lot = Arc::new(ParkingLot::default());
            let hooks = Arc::new(AtomicU32::new(0));
            let (go, gate) = std::sync::mpsc::channel::<()>();
            let h = hooks.clone();
            let t = park_in_thread(&lot, 8, timeout, move || {
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    gate.recv().unwrap();
                }
            });
            lot.nudge();
            while hooks.load(Ordering::SeqCst) < 1 {
                std::thread::yield_now();
            }
            lot.nudge();
            let want = match timeout {
                None => {
                    assert_eq!(lot.notify(8, 1, &Census::default()), 1);
                    WaitResult::Woken
                }
                Some(t) => {
                    std::thread::sleep(t * 2);
                    WaitResult::TimedOut
                }
            };
            go.send(()).unwrap();
            assert_eq!(t.join().unwrap(), Ok(want));
            assert_eq!(hooks.load(Ordering::SeqCst), 2, "{timeout:?}");
        }
    }

    #[test]
    fn addresses_sharing_a_bucket_are_woken_separately() {
        let lot = Arc::new(ParkingLot::default());
        let a = 0u64;
        let b = (4..1 << 20)
            .step_by(4)
            .find(|&b| std::ptr::eq(lot.bucket(a), lot.bucket(b)))
            .expect("a colliding address");
        let (la, lb) = (lot.clone(), lot.clone());
        let ta = std::thread::spawn(move || la.wait(a, || true, None, &Census::default(), |_| {}));
        let tb = std::thread::spawn(move || lb.wait(b, || true, None, &Census::default(), |_| {}));
        while lot.parked() < 2 {
            std::thread::yield_now();
        }
        assert_eq!(lot.notify(b, 10, &Census::default()), 1);
        assert_eq!(tb.join().unwrap(), Ok(WaitResult::Woken));
        assert_eq!(lot.parked(), 1);
        assert_eq!(lot.notify(a, 1, &Census::default()), 1);
        assert_eq!(ta.join().unwrap(), Ok(WaitResult::Woken));
        assert_eq!(lot.bucket(a).waiting.load(Ordering::SeqCst), 0);
    }

    /// Two threads hand a token back and forth through wait/notify on one
    /// word: a lost wake-up would hang (the test harness times out).
    #[test]
    fn ping_pong_loses_no_wakeups() {
        let lot = Arc::new(ParkingLot::default());
        let word = Arc::new(AtomicU32::new(0));
        const ROUNDS: u32 = 20_000;
        let players: Vec<_> = (0..2u32)
            .map(|me| {
                let (lot, word) = (lot.clone(), word.clone());
                std::thread::spawn(move || loop {
                    let v = word.load(Ordering::SeqCst);
                    if v >= ROUNDS {
                        lot.notify(0, u32::MAX, &Census::default());
                        return;
                    }
                    if v % 2 == me {
                        word.store(v + 1, Ordering::SeqCst);
                        lot.notify(0, 1, &Census::default());
                    } else {
                        let _ = lot.wait(
                            0,
                            || word.load(Ordering::SeqCst) == v,
                            None,
                            &Census::default(),
                            |_| {},
                        );
                    }
                })
            })
            .collect();
        for p in players {
            p.join().unwrap();
        }
        assert_eq!(word.load(Ordering::SeqCst), ROUNDS);
        assert_eq!(lot.parked(), 0);
    }

    /// Timeouts racing with notifies and a final stop leave nothing queued
    /// and every count at zero.
    #[test]
    fn timeouts_racing_notifies_leave_the_lot_empty() {
        let lot = Arc::new(ParkingLot::default());
        let done = Arc::new(AtomicBool::new(false));
        let waiters: Vec<_> = (0..4u64)
            .map(|t| {
                let lot = lot.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000u64 {
                        let timeout = Duration::from_micros(i % 50);
                        if lot
                            .wait(
                                t % 2 * 4,
                                || true,
                                Some(timeout),
                                &Census::default(),
                                |_| {},
                            )
                            .is_err()
                        {
                            return;
                        }
                    }
                })
            })
            .collect();
        let notifier = {
            let (lot, done) = (lot.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    lot.notify(0, 1, &Census::default());
                    lot.notify(4, 2, &Census::default());
                }
            })
        };
        for w in waiters {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        notifier.join().unwrap();
        assert_eq!(lot.parked(), 0);
        for b in lot.buckets.iter() {
            assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
        }
    }
}
