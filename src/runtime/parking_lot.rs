//! The parking lot behind the rewritten `memory.atomic.wait`/`notify`
//! (see `wait_rewrite`): threads parked by address, woken in order by a
//! notify, and all at once, for good, when the program ends.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::wasi::Stopped;

/// Threads parked in a rewritten `memory.atomic.wait`, by address.
#[derive(Default)]
pub(crate) struct ParkingLot {
    state: Mutex<Lot>,
}

#[derive(Default)]
struct Lot {
    stopped: bool,
    queues: HashMap<u64, VecDeque<Arc<Waiter>>>,
}

#[derive(Default)]
struct Waiter {
    /// Set (under the lot's lock) by `notify`.
    woken: AtomicBool,
    cond: Condvar,
}

/// What `memory.atomic.wait` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitResult {
    Woken = 0,
    NotEqual = 1,
    TimedOut = 2,
}

impl ParkingLot {
    fn lock(&self) -> MutexGuard<'_, Lot> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parks the caller on `addr` if `equal()` (evaluated under the lot's
    /// lock, so no notify can slip in between) until notified, `timeout`
    /// passes (`None`: never) or the lot is stopped.
    pub(crate) fn wait(
        &self,
        addr: u64,
        equal: impl FnOnce() -> bool,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, Stopped> {
        let mut lot = self.lock();
        if lot.stopped {
            return Err(Stopped);
        }
        if !equal() {
            return Ok(WaitResult::NotEqual);
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let me = Arc::new(Waiter::default());
        lot.queues.entry(addr).or_default().push_back(me.clone());
        loop {
            if me.woken.load(Ordering::Relaxed) {
                return Ok(WaitResult::Woken);
            }
            if lot.stopped {
                return Err(Stopped);
            }
            lot = match deadline {
                None => me.cond.wait(lot).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        remove(&mut lot, addr, &me);
                        return Ok(WaitResult::TimedOut);
                    }
                    me.cond
                        .wait_timeout(lot, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Wakes up to `count` threads parked on `addr`, oldest first.
    pub(crate) fn notify(&self, addr: u64, count: u32) -> u32 {
        let mut lot = self.lock();
        let Some(queue) = lot.queues.get_mut(&addr) else {
            return 0;
        };
        let mut woken = 0;
        while woken < count {
            let Some(waiter) = queue.pop_front() else {
                break;
            };
            waiter.woken.store(true, Ordering::Relaxed);
            waiter.cond.notify_one();
            woken += 1;
        }
        if queue.is_empty() {
            lot.queues.remove(&addr);
        }
        woken
    }

    /// Wakes every waiter for good: they and all later waits fail with
    /// [`Stopped`].
    pub(crate) fn stop(&self) {
        let mut lot = self.lock();
        lot.stopped = true;
        for waiter in lot.queues.values().flatten() {
            waiter.cond.notify_one();
        }
        lot.queues.clear();
    }

    /// Threads parked now (for tests and stats).
    #[allow(dead_code)]
    pub(crate) fn parked(&self) -> usize {
        self.lock().queues.values().map(VecDeque::len).sum()
    }
}

fn remove(lot: &mut Lot, addr: u64, me: &Arc<Waiter>) {
    if let Some(queue) = lot.queues.get_mut(&addr) {
        queue.retain(|w| !Arc::ptr_eq(w, me));
        if queue.is_empty() {
            lot.queues.remove(&addr);
        }
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
            threads.push(std::thread::spawn(move || l.wait(8, || true, None)));
        }
        while lot.parked() < 3 {
            std::thread::yield_now();
        }
        assert_eq!(lot.notify(16, 5), 0);
        assert_eq!(lot.notify(8, 2), 2);
        assert_eq!(lot.notify(8, 5), 1);
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(WaitResult::Woken));
        }
    }

    #[test]
    fn not_equal_timeout_and_stop() {
        let lot = Arc::new(ParkingLot::default());
        assert_eq!(lot.wait(0, || false, None), Ok(WaitResult::NotEqual));
        assert_eq!(
            lot.wait(0, || true, Some(Duration::from_millis(5))),
            Ok(WaitResult::TimedOut)
        );
        assert_eq!(lot.parked(), 0);
        let l = lot.clone();
        let t = std::thread::spawn(move || l.wait(4, || true, None));
        while lot.parked() < 1 {
            std::thread::yield_now();
        }
        let at = Instant::now();
        lot.stop();
        assert_eq!(t.join().unwrap(), Err(Stopped));
        assert!(at.elapsed() < Duration::from_millis(100));
        assert_eq!(lot.wait(4, || true, None), Err(Stopped));
    }
}
