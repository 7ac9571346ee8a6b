//! wasi-threads for Rust embedders that own their `wasmtime::Linker<T>`: the
//! successor of Wasmtime 46's `wasmtime-wasi-threads` crate, with the same
//! shape ([`WasiThreadsCtx::new`]`(module, linker)`,
//! [`WasiThreadsCtx::spawn`]`(host, start_arg)`,
//! [`add_to_linker`]`(linker, store, module, get_cx)`, the embedder's
//! `T: Clone + Send` cloned into each new thread's `Store`) on Wasmtime 48.
//!
//! The spawn context, the thread-ID pool, the coordination that decides how a
//! program ended, and the stopping of every thread are weft's runtime core,
//! the same code [`crate::runtime::Instance`] and the C API run on. What an
//! embedder gains over `wasmtime-wasi-threads`:
//!
//! * **No process exit.** `proc_exit` or a trap in any thread ends the
//!   program, not the host: the embedder gets an [`Outcome`] from
//!   [`WasiThreadsCtx::run_main`], [`WasiThreadsCtx::finish_main`] or
//!   [`WasiThreadsCtx::wait`], and can run the next program.
//! * **Every thread stops.** When the program ends (exit, trap,
//!   [`WasiThreadsCtx::interrupt`] from any host thread, or [`Limits::timeout`]),
//!   running wasm is interrupted through epochs, blocking calls of weft's WASI
//!   are woken ([`WasiThreadsCtx::with_wasi`]), and threads parked in
//!   `memory.atomic.wait` are woken by weft's parking lot, which replaces the
//!   module's wait instructions when it is compiled with [`compile`].
//! * **TIDs are recycled** (lowest free first, `1..=0x1FFFFFFF`), so a
//!   long-running program never runs out; a spawn that cannot succeed
//!   (missing or ill-typed `wasi_thread_start`, [`Limits::max_threads`]
//!   reached, the OS refusing a thread, the program already ended) returns a
//!   negative value to the guest, as the wasi-threads proposal says.
//! * **Limits and statistics**: [`Limits`] and [`WasiThreadsCtx::stats`].
//! * **Deadlocks end, hung programs explain themselves.** While
//!   [`WasiThreadsCtx::run_main`] runs `_start`, a program whose every live
//!   thread is parked in an untimed `memory.atomic.wait` ends at once as
//!   [`Outcome::Deadlock`] with a thread dump ([`Limits::deadlock_detection`]
//!   turns it off); [`WasiThreadsCtx::threads`] and [`WasiThreadsCtx::dump`]
//!   show every thread's state and backtrace from any host thread (WASI
//!   calls too, when `T` forwards them: [`wasi_call_started`]).
//!
//! # Steps
//!
//! 1. Make the engine with [`configure`] (threads, shared memory, epoch
//!    interruption) and compile the module with [`compile`].
//! 2. Define WASI and your host functions on your `Linker<T>` as usual
//!    (`func_wrap` closures receive `Caller<'_, T>`). For WASI, implement
//!    [`WasiView`] for `T` and call [`add_wasi_to_linker`].
//! 3. Call [`add_to_linker`], then create the [`WasiThreadsCtx`] from a clone
//!    of the finished linker and put it (in an `Arc`) into the main store's `T`.
//! 4. [`WasiThreadsCtx::instantiate`] the main instance in your store and
//!    [`WasiThreadsCtx::run_main`] it (or call exports yourself and report the
//!    result with [`WasiThreadsCtx::finish_main`]).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use wasmtime::{Caller, Engine, Linker, Store};
//! use weft::embed::{self, Outcome, WasiThreadsCtx};
//!
//! #[derive(Clone)]
//! struct Host {
//!     hits: Arc<Mutex<u32>>,
//!     threads: Option<Arc<WasiThreadsCtx<Host>>>,
//! }
//!
//! let guest = r#"(module
//!   (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
//!   (import "host" "hit" (func $hit))
//!   (import "env" "memory" (memory 1 1 shared))
//!   (func (export "wasi_thread_start") (param i32 i32)
//!     (call $hit)
//!     (i32.atomic.store (i32.const 0) (i32.const 1))
//!     (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
//!   (func (export "_start")
//!     (drop (call $spawn (i32.const 0)))
//!     (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
//!     (call $hit)))"#;
//!
//! let engine = Engine::new(embed::configure(&mut wasmtime::Config::new()))?;
//! let module = embed::compile(&engine, guest.as_bytes())?;
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "hit", |caller: Caller<'_, Host>| {
//!     *caller.data().hits.lock().unwrap() += 1;
//! })?;
//! let hits = Arc::new(Mutex::new(0));
//! let mut store = Store::new(&engine, Host { hits: hits.clone(), threads: None });
//! embed::add_to_linker(&mut linker, &store, &module, |h: &mut Host| {
//!     h.threads.as_ref().unwrap()
//! })?;
//! let threads = Arc::new(WasiThreadsCtx::new(module, Arc::new(linker))?);
//! store.data_mut().threads = Some(threads.clone());
//! let instance = threads.instantiate(&mut store)?;
//! assert_eq!(threads.run_main(&mut store, &instance)?, Outcome::Exit(0));
//! assert_eq!(*hits.lock().unwrap(), 2);
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! # Why not `wasmtime-wasi`'s preview 1 context
//!
//! `wasmtime_wasi::preview1::WasiP1Ctx` (and the `p2::WasiCtx` underneath it)
//! keeps its descriptor table in a `ResourceTable` that is owned by one
//! `Store` and reached through `&mut` access: it is neither `Clone` nor
//! `Sync`, so it cannot be cloned into the stores of other threads, and
//! putting it behind a lock would serialise every WASI call of every thread
//! (a thread blocked in `fd_read` or `poll_oneoff` would stall the others).
//! Wasmtime's own CLI therefore fell back to the deprecated `wasi-common`
//! crate for wasi-threads, and that crate is gone after Wasmtime 46.
//!
//! Use [`crate::wasi`] instead: one [`WasiCtx`] per program, shared by every
//! thread behind an `Arc` (put the `Arc<WasiCtx>` in your `T`), with
//! internally synchronised descriptors, so threads block independently. Give
//! the same `Arc` to [`WasiThreadsCtx::with_wasi`] so that the end of the
//! program wakes threads blocked in WASI calls.
//!
//! # Thread safety
//!
//! [`WasiThreadsCtx`] is `Send + Sync`: share it in an `Arc` and call
//! [`WasiThreadsCtx::interrupt`], [`WasiThreadsCtx::wait`],
//! [`WasiThreadsCtx::outcome`] and [`WasiThreadsCtx::stats`] from any host
//! thread at any time. Host functions on the linker are called concurrently
//! from every guest thread, each with its own clone of `T`.

mod ctx;
mod limits;
mod linker;
mod observe;

pub use ctx::WasiThreadsCtx;
pub use limits::Limits;
pub use linker::{add_to_linker, add_wasi_to_linker, compile, configure, configure_features};
pub use observe::{wasi_call_finished, wasi_call_started, wasi_call_stopped};

pub use crate::runtime::{
    Error, ErrorKind, Outcome, RaceAccess, RaceReport, Result, Stats, ThreadDump, ThreadInfo,
    ThreadState, TrapInfo, WasmFeatures, DUMP_TIMEOUT, ENTRY_NAME, MAIN_TID, MAX_TID, SPAWN_FAILED,
    SPAWN_MODULE, SPAWN_NAME, STOP_GRACE,
};
pub use crate::wasi::{GuestMemory, WasiCtx, WasiView};

/// The migration guide's code blocks, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-wasmtime-wasi-threads.md")]
pub struct MigrationGuide;
