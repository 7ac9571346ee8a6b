//! The runner's per-thread store data ([`ThreadData`]: the run, WASI
//! context, TID, memory and store limits of one guest thread) and how the
//! runner makes its stores (its run is made in `run.rs`). `crate::embed` uses the same
//! [`Run`] with the embedder's own store data instead.

use std::sync::Arc;

use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};

use crate::runtime::observe::dump::backtrace_text;
use crate::runtime::observe::registry;
use crate::runtime::races;
use crate::runtime::run::outcome::Outcome;
use crate::runtime::run::state::Run;
use crate::wasi::{GuestMemory, ProcExit, WasiCtx, WasiView};

/// The data of every thread's `Store` in the runner.
pub struct ThreadData {
    pub(crate) run: Arc<Run<ThreadData>>,
    pub(crate) wasi: Arc<WasiCtx>,
    pub(crate) tid: u32,
    pub(crate) memory: Option<GuestMemory>,
    limits: StoreLimits,
}

impl WasiView for ThreadData {
    fn wasi(&self) -> &WasiCtx {
        &self.wasi
    }

    fn guest_memory(&self) -> Option<&GuestMemory> {
        self.memory.as_ref()
    }

    fn proc_exit(&mut self, code: i32) -> wasmtime::Error {
        self.run.decide(Outcome::Exit(code));
        wasmtime::Error::new(ProcExit(code))
    }

    fn call_started(caller: &wasmtime::Caller<'_, Self>, name: &'static std::ffi::CStr) {
        registry::wasi_call_started(caller, name);
        if caller.data().run.races.is_some() {
            races::wasi_call_started(name);
        }
    }

    fn call_finished(caller: &wasmtime::Caller<'_, Self>) {
        if caller.data().run.races.is_some() {
            races::wasi_call_finished(|| {
                let bt = wasmtime::WasmBacktrace::capture(caller);
                backtrace_text(&bt, caller.data().run.program.frame_map.as_ref())
            });
        }
        registry::wasi_call_finished(caller);
    }

    /// The thread unwinds: its state stays in the call, as the end found
    /// it, for final dumps.
    fn call_stopped(_caller: &wasmtime::Caller<'_, Self>) {}
}

impl Run<ThreadData> {
    /// The runner's WASI context.
    pub(crate) fn wasi_ctx(&self) -> Arc<WasiCtx> {
        self.wasi
            .get()
            .cloned()
            .expect("Run::new always sets the WASI context")
    }

    /// A store for thread `tid` with the run's limits and interruption set up.
    pub(crate) fn new_store(
        self: &Arc<Self>,
        tid: u32,
        memory: Option<GuestMemory>,
    ) -> Store<ThreadData> {
        let mut limits = StoreLimitsBuilder::new();
        if let Some(max) = self.config.max_memory {
            limits = limits.memory_size(usize::try_from(max).unwrap_or(usize::MAX));
        }
        let data = ThreadData {
            run: self.clone(),
            wasi: self.wasi_ctx(),
            tid,
            memory,
            limits: limits.build(),
        };
        let mut store = Store::new(self.program.engine.wasmtime(), data);
        store.limiter(|d| &mut d.limits);
        self.prepare_store(&mut store);
        store
    }
}
