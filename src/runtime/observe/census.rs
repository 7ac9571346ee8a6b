//! Deadlock detection: one atomic word counts the live guest threads and
//! those parked in an untimed `memory.atomic.wait` that no notify has woken.
//!
//! A thread parking without a timeout counts itself (under the parking
//! lot's lock, once it is queued); the thread whose notify wakes it uncounts
//! it, at the notify, before the woken thread even runs. So "parked" never
//! includes a thread that is about to run, and the RMW that makes both
//! counts equal is an instant at which every live thread sleeps with nobody
//! left to wake it: a deadlock, never a guess. A thread that is starting,
//! running, ending, in a WASI call (a sleep, a blocking read), in a host
//! function or in a timed wait is not parked, so none of those can be
//! mistaken for one. Detection is armed only while a command's `_start`
//! runs (a reactor's idle worker pool between calls is normal).

use std::sync::atomic::{AtomicU64, Ordering};

const ARMED: u64 = 1 << 63;
const LIVE_ONE: u64 = 1 << 32;
const PARKED_MASK: u64 = (1 << 32) - 1;
const LIVE_MASK: u64 = ((1 << 31) - 1) << 32;

/// Live and parked-untimed thread counts of one run, plus the armed flag.
#[derive(Default)]
pub(crate) struct Census {
    word: AtomicU64,
}

fn deadlocked(word: u64) -> bool {
    let live = (word & LIVE_MASK) >> 32;
    word & ARMED != 0 && live > 0 && live == word & PARKED_MASK
}

impl Census {
    /// Starts detection (a command's `_start` begins). Returns whether the
    /// threads are already all parked (never, in practice: the main thread
    /// is running).
    pub(crate) fn arm(&self) -> bool {
        deadlocked(self.word.fetch_or(ARMED, Ordering::SeqCst) | ARMED)
    }

    /// A thread (the main thread, or a spawned one from its TID's
    /// reservation on) is live.
    pub(crate) fn thread_started(&self) {
        self.word.fetch_add(LIVE_ONE, Ordering::SeqCst);
    }

    /// A live thread has gone. Returns whether every remaining thread is
    /// parked for good.
    pub(crate) fn thread_ended(&self) -> bool {
        deadlocked(
            self.word
                .fetch_sub(LIVE_ONE, Ordering::SeqCst)
                .wrapping_sub(LIVE_ONE),
        )
    }

    /// The caller is queued in an untimed wait. Returns whether that makes
    /// every live thread parked for good.
    pub(crate) fn parked(&self) -> bool {
        deadlocked(self.word.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// A parked untimed waiter was woken (by a notify).
    pub(crate) fn unparked(&self) {
        self.word.fetch_sub(1, Ordering::SeqCst);
    }

    /// Live threads not parked in an untimed wait (running, starting, in a
    /// WASI call or host function, or in a timed wait).
    pub(crate) fn active(&self) -> u32 {
        let word = self.word.load(Ordering::Relaxed);
        let live = ((word & LIVE_MASK) >> 32) as u32;
        live.saturating_sub((word & PARKED_MASK) as u32)
    }

    /// Whether every live thread is parked for good now.
    #[cfg(test)]
    pub(crate) fn is_deadlocked(&self) -> bool {
        deadlocked(self.word.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_armed_all_parked_is_a_deadlock() {
        let c = Census::default();
        c.thread_started(); // main
        c.thread_started(); // child
        assert!(!c.parked());
        assert!(!c.parked(), "not armed: a reactor");
        c.unparked();
        assert!(!c.arm());
        assert!(c.parked());
        c.unparked();
        c.unparked();
        assert!(!c.parked());
        assert!(!c.is_deadlocked());
        // The running child ends while main is parked.
        assert!(c.thread_ended());
    }
}
