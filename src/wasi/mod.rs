//! A thread-safe WASI preview 1 (`wasi_snapshot_preview1`) host.
//!
//! One [`WasiCtx`] serves every thread of a running program: it is shared
//! behind an `Arc`, and each thread's `Store` data reaches it through
//! [`WasiView`] (`view`). All guest-memory access goes through [`memory`].
//!
//! Layout: [`preview1`](add_to_linker) registers the 46 functions, and its
//! folder implements them by group (`preview1/{fd, path, poll, sock, clock,
//! random, args}`); `config` is what the host asks for, with its rules, and
//! `ctx` the context built from it; `fd_table` is the shared descriptor
//! table, and its folder holds what an entry can be: `file` (host
//! descriptors), `dir` (cap-std directories) or an in-memory `stream`
//! (`stdio` builds descriptors 0, 1 and 2); `stop` wakes blocked calls when the program ends; `errno`, `abi`,
//! `filestat` and `iovec` are the preview 1 encodings. `parallelism` is the
//! hint that tells a guest's thread pools how many threads to start (through
//! environment variables), and `host_cpus` how many CPUs the host may use.

mod abi;
mod config;
mod ctx;
mod errno;
mod exit;
mod fd_table;
mod filestat;
mod host_cpus;
mod iovec;
pub mod memory;
mod parallelism;
mod preview1;
mod stop;
mod view;

pub(crate) use config::check_preopen;
pub use config::{InvalidWasiConfig, Preopen, Stdio, WasiConfig};
pub use ctx::WasiCtx;
pub use errno::Errno;
pub use exit::ProcExit;
pub use host_cpus::host_parallelism;
pub(crate) use memory::set_access_hook;
pub use memory::GuestMemory;
pub use parallelism::{InvalidParallelism, Parallelism, PARALLELISM_VARIABLES};
pub use preview1::{add_to_linker, FUNCTIONS};
pub use stop::{StopSignal, Stopped};
pub use view::WasiView;
