//! Deciding how a run ended and stopping its threads: the first outcome
//! decided wins ([`Run::decide`]), then every thread is woken (WASI calls,
//! parked waits, running wasm) and kept being woken until none is left;
//! waiting for the end and the grace period, the timeout watchdog, and the
//! completion descriptor that becomes readable at the end.

use std::os::fd::RawFd;
use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use wasmtime::{Store, UpdateDeadline};

use crate::runtime::error::Result;
use crate::runtime::observe::registry::answer_dump;
use crate::runtime::program::stop_checks;
use crate::runtime::run::outcome::{classify, Outcome, ThreadEnd};
use crate::runtime::run::state::Run;
use crate::runtime::thread_pool;
use crate::wasi::{Stopped, WasiCtx};

/// How long, after the outcome is decided, `wait` gives the other threads to
/// unwind before it returns anyway. Every thread weft controls unwinds within
/// about a millisecond (wasm via epoch interruption, WASI calls via the stop
/// signal, `memory.atomic.wait` via the load-time rewrite); only a thread
/// inside an embedder's host function that does not return, or parked in an
/// untimed wait of a module that was not rewritten (see
/// [`Program::from_module`](crate::runtime::Program::from_module)), can
/// outlast it.
pub const STOP_GRACE: Duration = Duration::from_millis(250);

impl<T> Run<T> {
    /// The end of the program wakes `wasi`'s blocking calls and fails every
    /// later call (once; the first context given stays).
    pub(crate) fn stop_wasi(&self, wasi: Arc<WasiCtx>) {
        let _ = self.wasi.set(wasi);
        if self.is_ended() {
            self.stop_wasi_now();
        }
    }

    fn stop_wasi_now(&self) {
        if let Some(wasi) = self.wasi.get() {
            wasi.stop_signal().stop();
        }
    }

    /// Records `outcome`, decided by one of this run's own threads (the
    /// caller), if none is decided yet, then stops every other thread.
    /// Returns whether this call decided it.
    pub(crate) fn decide(&self, outcome: Outcome) -> bool {
        self.decide_by(outcome, 1)
    }

    /// [`Run::decide`] for a caller that is none of this run's threads (the
    /// host interrupting, the watchdog, a failed instantiation, the
    /// deadlock detector, which may run on a thread that already left).
    pub(crate) fn decide_from_outside(&self, outcome: Outcome) -> bool {
        self.decide_by(outcome, 0)
    }

    /// `callers`: how many of the busy threads counted in `State` the caller is.
    fn decide_by(&self, outcome: Outcome, callers: u32) -> bool {
        let mut st = self.lock();
        // Set under the lock: whoever holds it sees the outcome or none.
        if self.decided.set(outcome).is_err() {
            return false;
        }
        log::debug!("program ended: {:?}", self.decided.get());
        st.ended_at = Some(Instant::now());
        self.ended.store(true, Ordering::SeqCst);
        self.completion.signal();
        // Pairs with the fence in `prepare_store`: a thread whose store gets
        // its epoch deadline after this either sees `ended` or is reached by
        // the increment below.
        fence(Ordering::SeqCst);
        // Threads other than the caller, which must be stopped. None can be
        // added now: `reserve_tid` and `enter_main` refuse once ended.
        let others = st.busy().saturating_sub(callers);
        drop(st);
        self.stop_threads();
        self.cond.notify_all();
        if others > 0 {
            (self.stopper)();
        }
        true
    }

    /// Wakes every thread: blocked WASI calls, parked waits, and running
    /// wasm, which traps at its next stop check or sees `ended` in its epoch
    /// callback.
    fn stop_threads(&self) {
        self.stop_wasi_now();
        self.parking.stop();
        if let Some(stop) = &self.stop_memory {
            stop_checks::raise(stop);
        }
        self.program.engine.wasmtime().increment_epoch();
    }

    /// Ends the program according to the error a guest call returned.
    pub(crate) fn thread_failed(&self, tid: u32, err: &wasmtime::Error) {
        match classify(tid, err, self.is_ended(), self.program.frame_map.as_ref()) {
            ThreadEnd::Stopped => {}
            ThreadEnd::Exit(code) => {
                self.decide(Outcome::Exit(code));
            }
            ThreadEnd::Trap(info) => {
                log::debug!("{info}");
                self.decide(Outcome::Trap(info));
            }
        }
    }

    /// Sets `store` up to stop when the program ends: an epoch deadline of
    /// one tick and a callback (replacing any other) that traps once the
    /// outcome is decided and otherwise keeps running.
    pub(crate) fn prepare_store(self: &Arc<Self>, store: &mut Store<T>)
    where
        T: 'static,
    {
        let run = self.clone();
        store.epoch_deadline_callback(move |ctx| {
            if run.is_ended() {
                return Err(wasmtime::Error::new(Stopped));
            }
            // A thread dump ticks the epoch: running wasm answers here.
            answer_dump(&ctx);
            Ok(UpdateDeadline::Continue(1))
        });
        store.set_epoch_deadline(1);
        // Pairs with `decide`: either this thread sees `ended`, or the epoch
        // increment that follows it comes after the deadline just set.
        fence(Ordering::SeqCst);
    }

    /// Ends the program (as `outcome`, unless it already ended) from outside
    /// it and waits, until `deadline` at most, until no thread runs guest
    /// code any more.
    pub(super) fn stop_threads_and_wait(&self, outcome: Outcome, deadline: Instant) {
        if !self.is_busy() {
            return;
        }
        self.decide_from_outside(outcome);
        self.wait_for_threads(deadline);
    }

    /// Waits, until `deadline` at most, until no thread runs guest code.
    pub(crate) fn wait_for_threads(&self, deadline: Instant) {
        let mut st = self.lock();
        while st.busy() > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .cond
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Ends the program (as `outcome`, unless it already ended) from outside
    /// it and waits, at most [`STOP_GRACE`], until every thread has stopped
    /// and let go of the run (`extra_refs`: references the caller holds).
    pub(crate) fn stop_and_join(&self, outcome: Outcome, extra_refs: usize) {
        let deadline = Instant::now() + STOP_GRACE;
        self.stop_threads_and_wait(outcome, deadline);
        // A finished thread signals before it drops its last reference.
        while self.me.strong_count() > 1 + extra_refs && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Waits for the outcome (up to `timeout`), then up to [`STOP_GRACE`] for
    /// the threads to unwind.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut st = self.lock();
        loop {
            let mut until = deadline;
            if let (Some(outcome), Some(at)) = (self.decided.get(), st.ended_at) {
                let grace_end = at + STOP_GRACE;
                let now = Instant::now();
                if st.busy() == 0 || now >= grace_end {
                    return Some(outcome.clone());
                }
                if deadline.is_some_and(|d| now >= d) {
                    return None;
                }
                until = Some(until.map_or(grace_end, |d| d.min(grace_end)));
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            st = match until {
                Some(u) => {
                    let left = u.saturating_duration_since(Instant::now());
                    self.cond
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.cond.wait(st).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// Ends the program as timed out after `timeout`, unless it ends first
    /// or, with `instantiation_only`, its instantiation finishes first.
    pub(crate) fn spawn_watchdog(self: &Arc<Self>, timeout: Duration, instantiation_only: bool)
    where
        T: Send + 'static,
    {
        let run = self.clone();
        let deadline = Instant::now() + timeout;
        let job = Box::new(move || {
            let mut st = run.lock();
            while run.decided.get().is_none() && (st.instantiating || !instantiation_only) {
                let now = Instant::now();
                if now >= deadline {
                    drop(st);
                    run.decide_from_outside(Outcome::TimedOut);
                    thread_pool::leave_program();
                    return;
                }
                st = run
                    .cond
                    .wait_timeout(st, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            drop(st);
            thread_pool::leave_program();
        });
        if let Err(e) = thread_pool::spawn_helper("weft-watchdog", job) {
            log::warn!("cannot start the timeout watchdog: {e}");
        }
    }

    /// The descriptor that becomes readable once the outcome is decided.
    pub(crate) fn completion_fd(&self) -> Result<RawFd> {
        if let Some(fd) = self.completion.get() {
            return Ok(fd);
        }
        // Under the state lock, so `decide` either sees it or has decided.
        let _st = self.lock();
        self.completion.get_or_make(self.decided.get().is_some())
    }
}

/// Keeps stopping, on a helper thread, until no thread of the run is left.
///
/// One epoch increment is not always enough: a thread whose epoch
/// callback read `ended` just before the end moves its deadline one tick
/// past that increment (Wasmtime reads the epoch after the callback
/// returns). Repeating the increment until the threads are gone closes
/// that window whatever the timing. The interval grows from 200 µs to
/// 50 ms, so a thread that never returns from a host function costs next
/// to nothing.
pub(super) fn keep_stopping<T: Send + 'static>(run: Weak<Run<T>>) {
    // Weak: the stopper must not keep the run alive, nor make
    // `stop_and_join` wait for it.
    let job = Box::new(move || {
        let mut interval = Duration::from_micros(200);
        loop {
            std::thread::sleep(interval);
            if thread_pool::draining() {
                break;
            }
            let Some(run) = run.upgrade() else { break };
            if run.lock().busy() == 0 {
                break;
            }
            run.stop_threads();
            interval = (interval * 2).min(Duration::from_millis(50));
        }
    });
    // Holding no program, this thread is the host's to release from the
    // moment it exists (`release_idle_threads` joins it even before it runs).
    if let Err(e) = thread_pool::spawn_idle("weft-stopper", job) {
        log::warn!("cannot start the thread that stops the program's threads: {e}");
    }
}
