//! One parked thread of the parking lot (`parking_lot`): its futex word,
//! reused by every wait of its OS thread, and how it spins before it sleeps.
//!
//! A queued waiter first watches its word for up to [`SPIN`] before it
//! sleeps in the kernel, and a notify makes the futex wake system call only
//! for a waiter that sleeps. A lock or condition variable handed back and
//! forth between threads on their own cores is then passed in user space: on
//! a VM, waking a sleeping thread on an idle core costs tens of
//! microseconds, most of it the host waking the vCPU. The spin adapts per
//! thread: a thread that had to sleep after all spins for half as long next
//! time (down to an eighth), and one woken while it spun spins for the whole
//! of [`SPIN`] again. A machine with one CPU never spins, nor does a waiter
//! while the run's other active threads (all but those parked in untimed
//! waits) occupy every CPU: the spin would take a CPU from a thread that has
//! work.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::thread::futex;

/// Waiter states (the futex word): waiting, or one final state ...
pub(super) const WAITING: u32 = 0;
pub(super) const WOKEN: u32 = 1;
pub(super) const STOPPED: u32 = 2;
/// ... and, besides either, a nudge not yet answered. It is a bit of the
/// futex word itself so that a nudge changes the word: one that lands
/// after the waiter's last look but before it sleeps makes the kernel's
/// own comparison fail, and the sleep returns at once.
pub(super) const NUDGED: u32 = 4;

/// The longest a waiter watches its word before it sleeps in the kernel:
/// about what waking a sleeping thread costs on a VM (see the module docs).
const SPIN: Duration = Duration::from_micros(25);

/// A parked thread: its futex word. One per OS thread, reused by every wait.
pub(super) struct Waiter {
    pub(super) state: AtomicU32,
    /// Whether the thread may be asleep in `futex::wait` (set before it
    /// sleeps, cleared after): wakers skip the system call otherwise.
    asleep: AtomicBool,
    /// How long (ns) the next wait spins; only the owning thread uses it.
    spin_ns: AtomicU32,
}

impl Waiter {
    fn new() -> Waiter {
        Waiter {
            state: AtomicU32::new(WAITING),
            asleep: AtomicBool::new(false),
            spin_ns: AtomicU32::new(spin_limit().as_nanos() as u32),
        }
    }

    /// Sets the final state and wakes the thread. Called exactly once per
    /// dequeue, by whoever took the waiter off its queue.
    pub(super) fn wake(&self, state: u32) {
        // SeqCst change of the word, then SeqCst load of `asleep`; the
        // waiter does the mirror image (store `asleep`, load `state`), so at
        // least one of the two sees the other's store. A pending nudge is
        // kept.
        self.state.fetch_or(state, Ordering::SeqCst);
        self.kick();
    }

    /// Wakes the thread without dequeuing it (`nudge`): it runs its wait's
    /// hook and parks again.
    pub(super) fn nudge(&self) {
        self.state.fetch_or(NUDGED, Ordering::SeqCst);
        self.kick();
    }

    /// The futex wake, if the thread may be asleep.
    fn kick(&self) {
        if self.asleep.load(Ordering::SeqCst) {
            let _ = futex::wake(&self.state, futex::Flags::PRIVATE, 1);
        }
    }

    /// Whether the wait has something to look at: a final state or a nudge.
    fn signalled(&self) -> bool {
        self.state.load(Ordering::Acquire) != WAITING
    }

    /// Watches the word until it is signalled (returns true) or `until`.
    pub(super) fn spin(&self, until: Instant) -> bool {
        loop {
            for _ in 0..32 {
                if self.signalled() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if Instant::now() >= until {
                return false;
            }
        }
    }

    /// Sleeps until woken, `left` passes or a spurious wake-up.
    pub(super) fn sleep(&self, left: Option<Duration>) {
        let ts = left.map(|l| futex::Timespec {
            tv_sec: l.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: l.subsec_nanos().into(),
        });
        self.asleep.store(true, Ordering::SeqCst);
        // Re-checked after announcing the sleep (see `wake`). The kernel
        // compares the word again, so a wake or nudge between here and the
        // sleep returns at once.
        if self.state.load(Ordering::SeqCst) == WAITING {
            let _ = futex::wait(&self.state, futex::Flags::PRIVATE, WAITING, ts.as_ref());
        }
        self.asleep.store(false, Ordering::Relaxed);
    }

    /// How long the next wait spins.
    fn spin_budget(&self) -> Duration {
        Duration::from_nanos(self.spin_ns.load(Ordering::Relaxed).into())
    }

    /// Adapts the spin to how the wait ended: woken while spinning restores
    /// the whole spin; having had to sleep halves it, down to an eighth
    /// (which still catches a quick hand-off, and so restores it).
    pub(super) fn learn(&self, woken_spinning: bool) {
        let full = spin_limit().as_nanos() as u32;
        let next = if woken_spinning {
            full
        } else {
            (self.spin_ns.load(Ordering::Relaxed) / 2).max(full / 8)
        };
        self.spin_ns.store(next, Ordering::Relaxed);
    }
}

/// How long `me` spins in a wait: its budget, but only while the run's other
/// active threads leave one of `cpus` free (`active` counts a timed waiter
/// itself).
pub(super) fn spin_for(me: &Waiter, active: u32, timed: bool, cpus: u32) -> Duration {
    let others = active.saturating_sub(u32::from(timed));
    if others < cpus {
        me.spin_budget()
    } else {
        Duration::ZERO
    }
}

/// CPUs this process may run on.
pub(super) fn cpus() -> u32 {
    static CPUS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    })
}

/// [`SPIN`], or zero on a machine with one CPU (the notifier needs it).
fn spin_limit() -> Duration {
    if cpus() > 1 {
        SPIN
    } else {
        Duration::ZERO
    }
}

thread_local! {
    static ME: RefCell<Option<Arc<Waiter>>> = const { RefCell::new(None) };
}

/// This thread's waiter.
pub(super) fn me() -> Arc<Waiter> {
    ME.with(|me| {
        me.borrow_mut()
            .get_or_insert_with(|| Arc::new(Waiter::new()))
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spin_halves_after_each_sleep_and_returns_when_it_catches_a_wake() {
        let w = Waiter::new();
        let full = spin_limit();
        assert_eq!(w.spin_budget(), full);
        w.learn(false);
        assert_eq!(w.spin_budget(), full / 2);
        for _ in 0..20 {
            w.learn(false);
        }
        assert_eq!(w.spin_budget(), full / 8);
        w.learn(true);
        assert_eq!(w.spin_budget(), full);
    }

    #[test]
    fn no_spin_while_other_active_threads_fill_every_cpu() {
        let w = Waiter::new();
        let budget = w.spin_budget();
        // Untimed waiters are not active themselves; timed ones are.
        assert_eq!(spin_for(&w, 1, false, 2), budget);
        assert_eq!(spin_for(&w, 2, false, 2), Duration::ZERO);
        assert_eq!(spin_for(&w, 2, true, 2), budget);
        assert_eq!(spin_for(&w, 3, true, 2), Duration::ZERO);
        assert_eq!(spin_for(&w, 0, true, 2), budget);
        assert_eq!(spin_for(&w, 0, false, 1), budget);
        assert_eq!(spin_for(&w, 1, false, 1), Duration::ZERO);
    }
}
