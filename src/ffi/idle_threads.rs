//! The process-wide pool of idle OS threads that guest threads reuse.

use crate::ffi::boundary::guard_value;

/// Tells every parked idle OS thread (named `weft-idle`) to exit now rather
/// than after about a second idle, e.g. before counting the process's
/// threads or unloading the library. They belong to no program. Returns how
/// many were told; they exit within microseconds.
///
/// **Thread safety**: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn weft_release_idle_threads() -> usize {
    guard_value(0, crate::runtime::release_idle_threads)
}
