//! [`WasiView`], the one trait a `Store`'s data implements for the WASI host.

use crate::wasi::ctx::WasiCtx;
use crate::wasi::exit::ProcExit;
use crate::wasi::memory::GuestMemory;

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

    /// Called instead of [`call_finished`](Self::call_finished) when the
    /// end of the program interrupted the WASI function entered last (the
    /// call fails and the thread unwinds). The default calls
    /// `call_finished`.
    fn call_stopped(caller: &wasmtime::Caller<'_, Self>)
    where
        Self: Sized,
    {
        Self::call_finished(caller);
    }
}
