//! A thread-safe WASI preview 1 (`wasi_snapshot_preview1`) host.
//!
//! One [`WasiCtx`] serves every thread of a running program: it is shared
//! behind an `Arc`, and each thread's `Store` data reaches it through
//! [`WasiView`]. All guest-memory access goes through [`memory`].
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

pub use config::{Preopen, Stdio, WasiConfig};
pub use ctx::WasiCtx;
pub use errno::Errno;
pub use exit::ProcExit;
pub use memory::GuestMemory;
pub use preview1::{add_to_linker, FUNCTIONS};
pub use stop::{StopSignal, Stopped};

/// How the WASI host reaches the program it serves: implemented by the data
/// type of every thread's `Store`.
pub trait WasiView: Send + 'static {
    /// The program's shared WASI context.
    fn wasi(&self) -> &WasiCtx;

    /// The guest memory of the calling thread, if it has one. Borrowed: every
    /// WASI call asks, and a clone would cost atomic reference-count updates.
    fn guest_memory(&self) -> Option<&GuestMemory>;

    /// Called by `proc_exit(code)` before it unwinds the calling thread. The
    /// returned error is what the guest call fails with; the default is
    /// [`ProcExit`].
    fn proc_exit(&mut self, code: i32) -> wasmtime::Error {
        wasmtime::Error::new(ProcExit(code))
    }

    /// Called as the thread enters WASI function `name` (after the stop
    /// check), for embedders that publish what their threads do. The default
    /// does nothing.
    fn call_started(caller: &wasmtime::Caller<'_, Self>, name: &'static std::ffi::CStr)
    where
        Self: Sized,
    {
        let _ = (caller, name);
    }

    /// Called as the WASI function entered last returns (also when it
    /// failed). The default does nothing.
    fn call_finished(caller: &wasmtime::Caller<'_, Self>)
    where
        Self: Sized,
    {
        let _ = caller;
    }
}
