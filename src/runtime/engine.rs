//! The compilation and execution engine: a Wasmtime engine set up for
//! shared-memory threads and epoch interruption, plus weft's limits.

use std::sync::Arc;

use crate::runtime::config::Config;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::memory;

/// A shared, cheaply clonable engine. Compile many programs with one engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    wasmtime: wasmtime::Engine,
    config: Config,
    interruption: Interruption,
    /// Whether program memories get the huge page advice: only when weft
    /// configured the Wasmtime engine (its memory reservation).
    huge_pages: bool,
}

/// How an engine's code stops threads that are running wasm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Interruption {
    /// weft's stop checks, inserted by the load-time rewrite (`program::stop_checks`).
    StopChecks,
    /// Wasmtime's epoch checks, where running threads also answer dumps.
    Epochs,
    /// Neither (`Config::interrupt_wasm` off).
    Off,
}

impl Interruption {
    fn of(config: &Config) -> Interruption {
        match (config.interrupt_wasm, config.precise_dumps) {
            (false, _) => Interruption::Off,
            (true, false) => Interruption::StopChecks,
            (true, true) => Interruption::Epochs,
        }
    }
}

impl Engine {
    /// Creates an engine with `config`'s limits.
    pub fn new(config: &Config) -> Result<Engine> {
        Engine::with_wasmtime_config(config, |_| {})
    }

    /// [`Engine::new`], with `tweak` applied to the Wasmtime configuration
    /// last (tests of configuration-dependent behaviour). `tweak` must not
    /// lower the memory reservation (the huge page advice relies on it).
    pub(crate) fn with_wasmtime_config(
        config: &Config,
        tweak: impl FnOnce(&mut wasmtime::Config),
    ) -> Result<Engine> {
        config.validate()?;
        let interruption = Interruption::of(config);
        let mut wt = wasmtime::Config::new();
        // The user's proposals; threads, shared memory and multi-memory stay
        // on (weft's rewrite needs them), and `Program::from_bytes` applies
        // the user's switches to the original module.
        config.wasm_features.apply_to(&mut wt);
        wt.wasm_threads(true)
            .shared_memory(true)
            .memory_reservation(memory::RESERVATION)
            .epoch_interruption(interruption == Interruption::Epochs)
            .max_wasm_stack(config.wasm_stack_size)
            .profiler(config.profiler.strategy());
        tweak(&mut wt);
        let wasmtime = wasmtime::Engine::new(&wt)
            .map_err(|e| Error::wrap(ErrorKind::InvalidArgument, "cannot create engine", e))?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                wasmtime,
                interruption,
                huge_pages: config.huge_pages,
                config: config.clone(),
            }),
        })
    }

    /// Wraps an embedder's own Wasmtime engine (which must have threads,
    /// shared memory and epoch interruption on) with `config`'s limits.
    pub(crate) fn from_wasmtime(wasmtime: wasmtime::Engine, config: Config) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                wasmtime,
                config,
                interruption: Interruption::Epochs,
                huge_pages: false,
            }),
        }
    }

    /// The underlying Wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner.wasmtime
    }

    /// How this engine's code stops running wasm.
    pub(crate) fn interruption(&self) -> Interruption {
        self.inner.interruption
    }

    /// Whether program memories are advised to use huge pages.
    pub(crate) fn huge_pages(&self) -> bool {
        self.inner.huge_pages
    }

    /// The limits this engine was made with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}
