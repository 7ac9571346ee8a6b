//! A thread-safe WASI preview 1 (`wasi_snapshot_preview1`) host.
//!
//! One [`WasiCtx`] serves every thread of a running program: it is shared
//! behind an `Arc`, and each thread's `Store` data reaches it through
//! [`WasiView`] (`view`). All guest-memory access goes through [`memory`].
//!
//! Layout: [`preview1`](add_to_linker) registers the 46 functions; `fd`,
//! `path`, `poll`, `sock`, `clock`, `random` and `args` implement them;
//! `config` is what the host asks for and `ctx` the context built from it;
//! `fd_table` is the shared descriptor table, whose entries are `file`
//! (host descriptors), `dir` (cap-std directories) or in-memory `stream`s
//! (`stdio` builds descriptors 0, 1 and 2); `stop` wakes blocked calls when
//! the program ends; `errno` and `abi` are the preview 1 encodings.

mod abi;
mod args;
mod clock;
mod config;
mod ctx;
mod dir;
mod errno;
mod exit;
mod fd;
mod fd_table;
mod file;
mod filestat;
mod iovec;
pub mod memory;
mod path;
mod poll;
mod preview1;
mod random;
mod sock;
mod stdio;
mod stop;
mod stream;
mod view;

pub use config::{Preopen, Stdio, WasiConfig};
pub use ctx::WasiCtx;
pub use errno::Errno;
pub use exit::ProcExit;
pub use memory::GuestMemory;
pub use preview1::{add_to_linker, FUNCTIONS};
pub use stop::{StopSignal, Stopped};
pub use view::WasiView;
