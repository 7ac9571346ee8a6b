//! Publishing WASI calls in the thread states of an embedder's threads:
//! what `T`'s [`WasiView`] forwards so that snapshots and dumps of a
//! [`WasiThreadsCtx`] show "in WASI call `name`" (weft's runner does the
//! same for its own store data).
//!
//! ```
//! use std::sync::Arc;
//! use wasmtime::Caller;
//! use weft::embed::{self, GuestMemory, WasiCtx, WasiThreadsCtx, WasiView};
//!
//! #[derive(Clone)]
//! struct Host {
//!     wasi: Arc<WasiCtx>,
//!     threads: Option<Arc<WasiThreadsCtx<Host>>>,
//! }
//!
//! impl WasiView for Host {
//!     fn wasi(&self) -> &WasiCtx {
//!         &self.wasi
//!     }
//!     fn guest_memory(&self) -> Option<&GuestMemory> {
//!         self.threads.as_ref()?.guest_memory()
//!     }
//!     fn call_started(caller: &Caller<'_, Self>, name: &'static std::ffi::CStr) {
//!         embed::wasi_call_started(caller, name);
//!     }
//!     fn call_finished(caller: &Caller<'_, Self>) {
//!         embed::wasi_call_finished(caller);
//!     }
//!     fn call_stopped(caller: &Caller<'_, Self>) {
//!         embed::wasi_call_stopped(caller);
//!     }
//! }
//! ```
//!
//! [`WasiView`]: crate::wasi::WasiView
//! [`WasiThreadsCtx`]: crate::embed::WasiThreadsCtx

use std::ffi::CStr;

use wasmtime::Caller;

use crate::runtime::observe::registry;

/// Call from [`WasiView::call_started`](crate::wasi::WasiView::call_started):
/// the calling guest thread's state becomes "in WASI call `name`" (and a
/// call that may block for long, `poll_oneoff`, `sock_accept` or
/// `sock_recv`, records its frames for dumps meanwhile). Does nothing on a
/// thread that is not running a program of a
/// [`WasiThreadsCtx`](crate::embed::WasiThreadsCtx). Costs a few
/// nanoseconds per call (figures in the README, "When a program hangs").
pub fn wasi_call_started<T>(caller: &Caller<'_, T>, name: &'static CStr) {
    registry::wasi_call_started(caller, name);
}

/// Call from [`WasiView::call_finished`](crate::wasi::WasiView::call_finished):
/// the calling guest thread is back to running wasm, and answers a pending
/// thread dump with the frames of its call site.
pub fn wasi_call_finished<T>(caller: &Caller<'_, T>) {
    registry::wasi_call_finished(caller);
}

/// Call from [`WasiView::call_stopped`](crate::wasi::WasiView::call_stopped):
/// the end of the program interrupted the call, and the thread unwinds.
/// Its state stays "in WASI call `name`", so that a dump taken after the
/// end shows what it was doing (without it, the default `call_stopped`
/// calls `call_finished` and the thread shows as running wasm). Does
/// nothing.
pub fn wasi_call_stopped<T>(caller: &Caller<'_, T>) {
    let _ = caller;
}
