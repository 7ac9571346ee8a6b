//! The limits an embedder sets on one program run through [`WasiThreadsCtx`].
//!
//! [`WasiThreadsCtx`]: crate::embed::WasiThreadsCtx

use std::time::Duration;

use crate::runtime::{Config, DEFAULT_MAX_THREADS, DEFAULT_OS_STACK};

/// Per-program limits of a [`WasiThreadsCtx`](crate::embed::WasiThreadsCtx).
/// Every field has a default ([`Limits::default`]).
///
/// The wasm stack limit is the embedder's own `wasmtime::Config::max_wasm_stack`,
/// and the memory's maximum is the one the module declares
/// (`-Wl,--max-memory=N`): `memory.grow` past it returns -1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most spawned threads alive at once (not counting the main thread);
    /// a `thread-spawn` beyond it returns a negative value. Default
    /// [`DEFAULT_MAX_THREADS`]; must be at least 1.
    pub max_threads: u32,
    /// Stack size of each spawned thread's OS thread, in bytes; must exceed
    /// the engine's `max_wasm_stack`. Default [`DEFAULT_OS_STACK`].
    pub os_stack_size: usize,
    /// Wall-clock limit for the program, counted from
    /// [`WasiThreadsCtx::instantiate`](crate::embed::WasiThreadsCtx::instantiate);
    /// when it passes the program ends as [`Outcome::TimedOut`](crate::embed::Outcome::TimedOut).
    /// Default: none.
    pub timeout: Option<Duration>,
    /// End the program at once as [`Outcome::Deadlock`](crate::embed::Outcome::Deadlock),
    /// with a thread dump, when every live thread is parked in an untimed
    /// `memory.atomic.wait` while [`WasiThreadsCtx::run_main`](crate::embed::WasiThreadsCtx::run_main)
    /// runs `_start` (nobody could ever wake them). Default: on, as in
    /// weft's own runner. Needs a module made by [`compile`](crate::embed::compile)
    /// (the waits of other modules are Wasmtime's, which weft cannot see).
    pub deadlock_detection: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_threads: DEFAULT_MAX_THREADS,
            os_stack_size: DEFAULT_OS_STACK,
            timeout: None,
            deadlock_detection: true,
        }
    }
}

impl Limits {
    /// The runtime configuration these limits stand for.
    pub(crate) fn to_config(&self) -> Config {
        Config {
            max_threads: self.max_threads,
            os_stack_size: self.os_stack_size,
            timeout: self.timeout,
            deadlock_detection: self.deadlock_detection,
            ..Config::default()
        }
    }
}
