//! The process-wide pool of idle OS threads that guest threads reuse.

use crate::ffi::boundary::guard_value;

/// Makes every OS thread weft started that belongs to no running program
/// exit, and waits until they have: idle pooled threads (named `weft-idle`),
/// threads on their way back to the pool after a guest thread ended, and
/// finished helper threads. Threads of programs still running are left
/// alone. Returns how many threads were joined.
///
/// Once every instance is deleted and this returned, no thread runs code of
/// the library, so a host may `dlclose` it (a thread stuck in a host function
/// that never returns is the exception: see docs/termination.md). Without
/// this call idle threads exit by themselves after about a second.
///
/// **Thread safety**: callable from any thread at any time; it blocks until
/// those threads have exited (microseconds, at most ~50 ms).
#[no_mangle]
pub extern "C" fn weft_release_idle_threads() -> usize {
    guard_value(0, crate::runtime::release_idle_threads)
}
