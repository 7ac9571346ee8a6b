//! The compilation and execution engine: a Wasmtime engine set up for
//! shared-memory threads and epoch interruption, plus weft's limits.

use std::sync::Arc;

use crate::runtime::config::Config;
use crate::runtime::error::{Error, ErrorKind, Result};

/// A shared, cheaply clonable engine. Compile many programs with one engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    wasmtime: wasmtime::Engine,
    config: Config,
    /// Whether programs get weft's stop checks (`stop_checks`).
    stop_checks: bool,
    /// Whether compiled code has Wasmtime's epoch checks, where running
    /// threads answer thread dumps.
    epochs: bool,
}

impl Engine {
    /// Creates an engine with `config`'s limits.
    pub fn new(config: &Config) -> Result<Engine> {
        Engine::with_wasmtime_config(config, |_| {})
    }

    /// [`Engine::new`], with `tweak` applied to the Wasmtime configuration
    /// last (tests of configuration-dependent behaviour).
    pub(crate) fn with_wasmtime_config(
        config: &Config,
        tweak: impl FnOnce(&mut wasmtime::Config),
    ) -> Result<Engine> {
        if config.os_stack_size <= config.wasm_stack_size {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "OS thread stack size ({}) must be larger than the wasm stack size ({})",
                    config.os_stack_size, config.wasm_stack_size
                ),
            ));
        }
        if config.max_threads == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "max threads must be at least 1",
            ));
        }
        config.profiler.check()?;
        let mut wt = wasmtime::Config::new();
        wt.wasm_threads(true)
            .shared_memory(true)
            .epoch_interruption(config.interrupt_wasm && config.precise_dumps)
            .max_wasm_stack(config.wasm_stack_size)
            .profiler(config.profiler.strategy());
        tweak(&mut wt);
        let wasmtime = wasmtime::Engine::new(&wt)
            .map_err(|e| Error::wrap(ErrorKind::InvalidArgument, "cannot create engine", e))?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                wasmtime,
                stop_checks: config.interrupt_wasm && !config.precise_dumps,
                epochs: config.interrupt_wasm && config.precise_dumps,
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
                stop_checks: false,
                epochs: true,
            }),
        }
    }

    /// The underlying Wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner.wasmtime
    }

    /// Whether `Program::from_bytes` inserts weft's stop checks.
    pub(crate) fn stop_checks(&self) -> bool {
        self.inner.stop_checks
    }

    /// Whether running wasm answers thread dumps (at its epoch checks).
    pub(crate) fn epochs(&self) -> bool {
        self.inner.epochs
    }

    /// The limits this engine was made with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}
