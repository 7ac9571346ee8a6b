//! The state every thread of one run shares: [`Run`] (the program, its
//! shared memory, WASI context and parking lot, the live threads' registry,
//! the decided outcome and the thread counts) and its plain accessors.
//!
//! Each job done on this state has its own module next to this one
//! (`stopping`, `main_thread`, `spawn`, `waits`, `dumps`); they all build on
//! this module, and it builds on none of them, only on the data types of
//! its fields (`outcome`, `tids`, `completion`, `waits::parking_lot`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Instant;

use wasmtime::{InstancePre, SharedMemory};

use crate::runtime::config::Config;
use crate::runtime::observe::registry::ThreadRegistry;
use crate::runtime::program::ProgramInner;
use crate::runtime::races::Detector;
use crate::runtime::run::completion::Completion;
use crate::runtime::run::outcome::Outcome;
use crate::runtime::run::tids::{Stats, ThreadCounts};
use crate::runtime::run::waits::parking_lot::ParkingLot;
use crate::wasi::{Stopped, WasiCtx};

/// State shared by every thread of one run; `T` is the data of the
/// threads' stores.
pub(crate) struct Run<T> {
    pub(crate) program: Arc<ProgramInner>,
    pub(crate) config: Config,
    /// The WASI context whose blocking calls the end of the program wakes.
    pub(crate) wasi: OnceLock<Arc<WasiCtx>>,
    /// The shared memory, when the run created it (the runner does; an
    /// embedder's memory is defined on their linker).
    pub(crate) memory: Option<SharedMemory>,
    /// The memory of the program's stop checks (`stop_checks`), if it has them.
    pub(crate) stop_memory: Option<SharedMemory>,
    /// Threads parked in a (rewritten) `memory.atomic.wait`.
    pub(crate) parking: ParkingLot,
    /// The live threads' states, the deadlock census and thread dumps.
    pub(crate) threads: Arc<ThreadRegistry>,
    /// The race detector, when the program was instrumented for it.
    pub(crate) races: Option<Arc<Detector>>,
    /// Readable once the outcome is decided (made on first request).
    pub(super) completion: Completion,
    pub(super) pre: OnceLock<InstancePre<T>>,
    /// This run itself, for the helper threads it starts (`keep_stopping`)
    /// and for counting who still holds it (`stop_and_join`).
    pub(super) me: Weak<Run<T>>,
    /// Starts `keep_stopping` for this run (made where `T` is known to be
    /// `'static`, so that stopping works for every `Run<T>`).
    pub(super) stopper: Box<dyn Fn() + Send + Sync>,
    pub(super) ended: AtomicBool,
    /// The outcome, once decided. Set under the lock (`decide`), so whoever
    /// holds the lock sees it or none; read without it (the threads stopping
    /// at the end all take the lock on their way out, and a host asking for
    /// the outcome waited behind them).
    pub(super) decided: OnceLock<Outcome>,
    pub(super) state: Mutex<State>,
    pub(super) cond: Condvar,
}

/// What changes under the run's lock ([`Run::lock`]); [`Run::cond`] is
/// notified whenever it changes in a way someone may wait for.
pub(super) struct State {
    pub(super) ended_at: Option<Instant>,
    /// The spawned threads: their TIDs and counts.
    pub(super) spawned: ThreadCounts,
    pub(super) main_running: bool,
    /// The main instance is being instantiated (its start function may run).
    pub(super) instantiating: bool,
}

impl State {
    /// Threads that may still run guest code: spawned ones, the main thread
    /// (running `_start` or a reactor call), the instantiating one.
    pub(super) fn busy(&self) -> u32 {
        self.spawned.live() + u32::from(self.main_running) + u32::from(self.instantiating)
    }
}

impl<T> Run<T> {
    /// The Wasmtime engine every thread's store belongs to.
    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        self.program.engine.wasmtime()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets what every thread instantiates from (once, before any thread runs).
    pub(crate) fn set_instance_pre(&self, pre: InstancePre<T>) {
        let _ = self.pre.set(pre);
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<T> {
        self.pre
            .get()
            .expect("instance_pre is set before any thread runs")
    }

    /// Whether the outcome is decided.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Fails once the program has ended, so every host call made afterwards traps.
    pub(crate) fn check_running(&self) -> wasmtime::Result<()> {
        if self.is_ended() {
            Err(wasmtime::Error::new(Stopped))
        } else {
            Ok(())
        }
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.decided.get().cloned()
    }

    /// Whether the main thread or any spawned thread is still running.
    pub(crate) fn is_busy(&self) -> bool {
        self.lock().busy() > 0
    }

    /// Thread statistics of this run.
    pub(crate) fn stats(&self) -> Stats {
        self.lock().spawned.stats()
    }
}
