//! One run of a program: the threads of one program, from the main
//! instance's instantiation to the end of the last thread.
//!
//! What every thread of the run shares is [`Run`] (`state`). Each job done
//! on it is a module of its own, and none of them depends on this file:
//!
//! * `outcome`: how a program ended ([`Outcome`]), and what a thread's error
//!   means for it;
//! * `stopping`: deciding the outcome (the first decided wins) and stopping
//!   every thread; waiting for the end; the timeout watchdog;
//! * `completion`: the descriptor that becomes readable at the end;
//! * `tids`: thread IDs and thread counts;
//! * `main_thread`: instantiation and the main thread's `_start` or reactor
//!   calls;
//! * `spawn`: the spawn context behind `thread-spawn`;
//! * `waits`: the `weft:internal` imports of the rewritten
//!   `memory.atomic.wait`/`notify`, and the parking lot behind them;
//! * `dumps`: the run's side of looking at its threads (snapshots, dumps,
//!   deadlocks);
//! * `controls`: what the host's handles (`Instance`, `WasiThreadsCtx`)
//!   forward to the run: wait, interrupt, outcome, statistics, dumps;
//! * `thread_data` and `linker`: the runner's store data and linker.
//!
//! This file makes a run. [`Run`] is generic over the data `T` of the
//! threads' stores: the runner (`Instance`, and the C API on top of it) runs
//! `Run<ThreadData>`, and [`crate::embed`] runs `Run<T>` with the embedder's
//! own `T`. Outcome, TIDs, limits, stopping and the main thread's
//! bookkeeping are the same code for both; only making a store differs.
//!
//! [`Outcome`]: crate::runtime::Outcome

mod completion;
pub(crate) mod controls;
mod dumps;
pub(crate) mod linker;
pub(crate) mod main_thread;
pub(crate) mod outcome;
pub(crate) mod spawn;
pub(crate) mod state;
pub(crate) mod stopping;
pub(crate) mod thread_data;
pub(crate) mod tids;
pub(crate) mod waits;

pub(crate) use self::state::Run;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use wasmtime::SharedMemory;

use crate::runtime::config::Config;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::memory::{self, create_memory};
use crate::runtime::observe::registry::ThreadRegistry;
use crate::runtime::program::stop_checks;
use crate::runtime::program::ProgramInner;
use crate::runtime::races::Detector;
use crate::runtime::run::completion::Completion;
use crate::runtime::run::state::State;
use crate::runtime::run::stopping::keep_stopping;
use crate::runtime::run::thread_data::ThreadData;
use crate::runtime::run::tids::ThreadCounts;
use crate::runtime::run::waits::parking_lot::ParkingLot;
use crate::wasi::{InvalidWasiConfig, WasiConfig, WasiCtx};

impl<T> Run<T> {
    /// The shared state of a run of `program` in an embedder's stores: no
    /// WASI context (see [`Run::stop_wasi`]) and no memory of its own.
    pub(crate) fn new_embedded(program: Arc<ProgramInner>) -> Arc<Self>
    where
        T: Send + 'static,
    {
        let config = program.engine.config().clone();
        // `embed` links no race hooks: its runs have no detector.
        Run::with_parts(program, config, None, None, None)
    }

    /// The shared state of a run of `program` with `config`'s limits, the
    /// shared memory, stop memory and race detector given (if any), and no
    /// WASI context yet.
    fn with_parts(
        program: Arc<ProgramInner>,
        config: Config,
        memory: Option<SharedMemory>,
        stop_memory: Option<SharedMemory>,
        races: Option<Arc<Detector>>,
    ) -> Arc<Self>
    where
        T: Send + 'static,
    {
        let threads = Arc::new(ThreadRegistry::new(Some(program.clone())));
        Arc::new_cyclic(|me: &Weak<Run<T>>| Run {
            me: me.clone(),
            stopper: {
                let me = me.clone();
                Box::new(move || keep_stopping(me.clone()))
            },
            program,
            config,
            wasi: OnceLock::new(),
            memory,
            stop_memory,
            parking: ParkingLot::default(),
            races,
            threads,
            completion: Completion::default(),
            pre: OnceLock::new(),
            ended: AtomicBool::new(false),
            decided: OnceLock::new(),
            state: Mutex::new(State {
                ended_at: None,
                spawned: ThreadCounts::new(),
                main_running: false,
                instantiating: false,
            }),
            cond: Condvar::new(),
        })
    }
}

impl Run<ThreadData> {
    /// The shared state of a new run of `program` by the runner: its WASI
    /// context and, if the module imports one, its shared memory.
    pub(crate) fn new(program: Arc<ProgramInner>, wasi: &WasiConfig) -> Result<Arc<Self>> {
        let config = program.engine.config().clone();
        // A broken rule of the configuration is the caller's invalid
        // argument, in the rule's words (as the C setters say it).
        let refused = |e: anyhow::Error| match e.downcast::<InvalidWasiConfig>() {
            Ok(invalid) => Error::from(invalid),
            Err(e) => Error::wrap(ErrorKind::Io, "cannot set up WASI", e),
        };
        let wasi = WasiCtx::with_max_threads(wasi, config.max_threads).map_err(refused)?;
        let memory = match &program.memory_import {
            Some((module, name, ty)) => Some(create_memory(
                program.engine.wasmtime(),
                config.max_memory,
                module,
                name,
                ty,
            )?),
            None => None,
        };
        if let Some(m) = memory.as_ref().filter(|_| program.engine.huge_pages()) {
            memory::advise(m);
        }
        let stop_memory = program
            .stop_checks
            .then(|| stop_checks::new_memory(program.engine.wasmtime()))
            .transpose()
            .map_err(|e| Error::wrap(ErrorKind::Instantiate, "cannot create the stop memory", e))?;
        let races = Detector::new(&program)?;
        let run = Run::with_parts(program, config, memory, stop_memory, races);
        run.stop_wasi(Arc::new(wasi));
        Ok(run)
    }
}
