//! `weft_error_t`: what every fallible function returns on failure, and
//! `guard`, which runs an export's body and makes that return value.

use std::ffi::{c_char, CString};

use crate::ffi::boundary::{bytes, c_string, catch, guard_value};
use crate::ffi::handle::{free_box, get, to_boxed, Boxed, Handle};
use crate::runtime::{Error, ErrorKind};

/// weft itself failed (a bug, including a caught panic).
pub const WEFT_ERROR_INTERNAL: u32 = 1;
/// A required pointer argument was NULL.
pub const WEFT_ERROR_NULL_ARGUMENT: u32 = 2;
/// An argument is malformed: invalid UTF-8, unknown constant, absurd size.
pub const WEFT_ERROR_INVALID_ARGUMENT: u32 = 3;
/// A host I/O operation failed (reading a file, opening a preopened directory).
pub const WEFT_ERROR_IO: u32 = 4;
/// The bytes are not a valid WebAssembly module or WAT text.
pub const WEFT_ERROR_COMPILE: u32 = 5;
/// The module's imports cannot be satisfied (e.g. a non-shared memory import).
pub const WEFT_ERROR_LINK: u32 = 6;
/// Instantiation failed (including a trap in the module's start function).
pub const WEFT_ERROR_INSTANTIATE: u32 = 7;
/// A guest thread trapped; see `weft_error_trap_tid` and `weft_error_backtrace`.
pub const WEFT_ERROR_TRAP: u32 = 8;
/// The program has already ended.
pub const WEFT_ERROR_ENDED: u32 = 9;
/// The host interrupted the program (`weft_instance_interrupt`).
pub const WEFT_ERROR_INTERRUPTED: u32 = 10;
/// The program ran past its timeout (`weft_config_set_timeout_ms`).
pub const WEFT_ERROR_TIMED_OUT: u32 = 11;
/// The call is not valid in the instance's current state.
pub const WEFT_ERROR_STATE: u32 = 12;
/// A named export does not exist or has the wrong type.
pub const WEFT_ERROR_NOT_FOUND: u32 = 13;
/// The guest called `proc_exit` during `weft_instance_call`; see `weft_error_exit_code`.
pub const WEFT_ERROR_EXITED: u32 = 14;
/// An error returned by a host callback (`weft_error_new`).
pub const WEFT_ERROR_HOST: u32 = 15;
/// Every live thread of a running command was parked in an `atomic.wait`
/// without a timeout, so none could ever wake another: the program was ended.
/// The message holds the thread dump (see `weft_config_set_deadlock_detection`).
pub const WEFT_ERROR_DEADLOCK: u32 = 16;

/// An error: a stable kind (`WEFT_ERROR_*`) and a message. Owned by the caller,
/// freed with `weft_error_delete`.
pub struct weft_error_t {
    pub(crate) error: Error,
    message: CString,
    backtrace: CString,
}

impl Handle for weft_error_t {
    type Ownership = Boxed;
}

/// Lists each [`ErrorKind`] with its `WEFT_ERROR_*` constant, once. Makes
/// [`kind_code`], whose `match` has an arm per kind (a new kind does not
/// compile until it is listed here), and checks at compile time that the
/// constant and the kind have the same number.
macro_rules! c_error_kinds {
    ($($kind:ident => $code:ident,)*) => {
        /// The `WEFT_ERROR_*` value of `kind`.
        pub(crate) const fn kind_code(kind: ErrorKind) -> u32 {
            match kind {
                $(ErrorKind::$kind => $code,)*
            }
        }

        const _: () = {
            $(assert!(ErrorKind::$kind as u32 == $code, stringify!($code));)*
        };
    };
}

c_error_kinds! {
    Internal => WEFT_ERROR_INTERNAL,
    NullArgument => WEFT_ERROR_NULL_ARGUMENT,
    InvalidArgument => WEFT_ERROR_INVALID_ARGUMENT,
    Io => WEFT_ERROR_IO,
    Compile => WEFT_ERROR_COMPILE,
    Link => WEFT_ERROR_LINK,
    Instantiate => WEFT_ERROR_INSTANTIATE,
    Trap => WEFT_ERROR_TRAP,
    Ended => WEFT_ERROR_ENDED,
    Interrupted => WEFT_ERROR_INTERRUPTED,
    TimedOut => WEFT_ERROR_TIMED_OUT,
    State => WEFT_ERROR_STATE,
    NotFound => WEFT_ERROR_NOT_FOUND,
    Exited => WEFT_ERROR_EXITED,
    Host => WEFT_ERROR_HOST,
    Deadlock => WEFT_ERROR_DEADLOCK,
}

impl weft_error_t {
    /// The error object for `error`, owned by C (freed by `weft_error_delete`).
    pub(crate) fn into_raw(error: Error) -> *mut weft_error_t {
        let backtrace = error
            .trap_info()
            .map(|t| t.backtrace.as_str())
            .unwrap_or("");
        to_boxed(weft_error_t {
            message: c_string(error.message()),
            backtrace: c_string(backtrace),
            error,
        })
    }
}

/// Runs an export's body: `Ok` becomes NULL, `Err` an owned error object, a
/// panic an `Internal` error. Nothing unwinds into C.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> *mut weft_error_t {
    match catch(body) {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => weft_error_t::into_raw(e),
    }
}

/// Creates an error with kind `WEFT_ERROR_HOST` and the given message, for a
/// host callback to return (which traps the calling guest thread).
///
/// **Ownership**: the caller owns the result (or hands it to weft by returning
/// it from a callback). `message` is copied; it need only be valid for the call.
/// **Errors**: never returns NULL; invalid UTF-8 is replaced.
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_error_new(
    message: *const c_char,
    message_len: usize,
) -> *mut weft_error_t {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: (ptr, len) per the documented contract.
        let text = match unsafe { bytes(message.cast(), message_len, "message") } {
            Ok(b) => String::from_utf8_lossy(b).into_owned(),
            Err(_) => "(no message)".to_string(),
        };
        weft_error_t::into_raw(Error::host(text))
    })
}

/// Frees an error. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `error`.
/// **Thread safety**: the error must not be used concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_error_delete(error: *mut weft_error_t) {
    // SAFETY: `error` is NULL or was returned by weft.
    unsafe { free_box(error) }
}

/// The error's kind, one of `WEFT_ERROR_*`. Returns `WEFT_ERROR_NULL_ARGUMENT` for NULL.
///
/// **Ownership**: `error` is borrowed.
/// **Thread safety**: read-only; safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_error_kind(error: *const weft_error_t) -> u32 {
    // SAFETY: `error` is NULL or valid per the contract.
    unsafe { get(error) }.map_or(WEFT_ERROR_NULL_ARGUMENT, |e| kind_code(e.error.kind()))
}

/// The error's message, a NUL-terminated UTF-8 string. For traps it names the
/// thread and includes the wasm backtrace. Returns `""` for NULL.
///
/// **Ownership**: borrowed from `error`; valid until `weft_error_delete(error)`.
/// **Thread safety**: read-only; safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_error_message(error: *const weft_error_t) -> *const c_char {
    // SAFETY: `error` is NULL or valid per the contract.
    unsafe { get(error) }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
}

/// For `WEFT_ERROR_TRAP`: writes the trapping thread's TID (0 = main thread)
/// and returns true. Otherwise returns false and writes nothing.
///
/// **Ownership**: `error` is borrowed. **Thread safety**: read-only.
#[no_mangle]
pub unsafe extern "C" fn weft_error_trap_tid(
    error: *const weft_error_t,
    tid_out: *mut u32,
) -> bool {
    // SAFETY: `error` is NULL or valid per the contract.
    let Some(info) = unsafe { get(error) }.and_then(|e| e.error.trap_info()) else {
        return false;
    };
    if tid_out.is_null() {
        return false;
    }
    // SAFETY: checked non-NULL; the caller passes a writable `uint32_t`.
    unsafe { tid_out.write(info.tid) };
    true
}

/// For `WEFT_ERROR_TRAP`: the wasm backtrace, one frame per line; `""` otherwise.
///
/// **Ownership**: borrowed from `error`; valid until `weft_error_delete(error)`.
/// **Thread safety**: read-only.
#[no_mangle]
pub unsafe extern "C" fn weft_error_backtrace(error: *const weft_error_t) -> *const c_char {
    // SAFETY: `error` is NULL or valid per the contract.
    unsafe { get(error) }.map_or(c"".as_ptr(), |e| e.backtrace.as_ptr())
}

/// For `WEFT_ERROR_EXITED`: writes the guest's exit code and returns true.
/// Otherwise returns false and writes nothing.
///
/// **Ownership**: `error` is borrowed. **Thread safety**: read-only.
#[no_mangle]
pub unsafe extern "C" fn weft_error_exit_code(
    error: *const weft_error_t,
    code_out: *mut i32,
) -> bool {
    // SAFETY: `error` is NULL or valid per the contract.
    let Some(code) = unsafe { get(error) }.and_then(|e| e.error.exit_code()) else {
        return false;
    };
    if code_out.is_null() {
        return false;
    }
    // SAFETY: checked non-NULL.
    unsafe { code_out.write(code) };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_the_runtime() {
        for (c, k) in [
            (WEFT_ERROR_INTERNAL, ErrorKind::Internal),
            (WEFT_ERROR_NULL_ARGUMENT, ErrorKind::NullArgument),
            (WEFT_ERROR_INVALID_ARGUMENT, ErrorKind::InvalidArgument),
            (WEFT_ERROR_IO, ErrorKind::Io),
            (WEFT_ERROR_COMPILE, ErrorKind::Compile),
            (WEFT_ERROR_LINK, ErrorKind::Link),
            (WEFT_ERROR_INSTANTIATE, ErrorKind::Instantiate),
            (WEFT_ERROR_TRAP, ErrorKind::Trap),
            (WEFT_ERROR_ENDED, ErrorKind::Ended),
            (WEFT_ERROR_INTERRUPTED, ErrorKind::Interrupted),
            (WEFT_ERROR_TIMED_OUT, ErrorKind::TimedOut),
            (WEFT_ERROR_STATE, ErrorKind::State),
            (WEFT_ERROR_NOT_FOUND, ErrorKind::NotFound),
            (WEFT_ERROR_EXITED, ErrorKind::Exited),
            (WEFT_ERROR_HOST, ErrorKind::Host),
            (WEFT_ERROR_DEADLOCK, ErrorKind::Deadlock),
        ] {
            assert_eq!(c, k as u32, "{k:?}");
            assert_eq!(kind_code(k), c, "{k:?}");
        }
        assert!(WEFT_ERROR_HOST > ErrorKind::Exited as u32);
    }

    #[test]
    fn host_errors_are_of_kind_host() {
        // SAFETY: a valid (ptr, len) string; the error is freed once.
        unsafe {
            let e = weft_error_new(c"boom".as_ptr(), 4);
            assert_eq!(weft_error_kind(e), WEFT_ERROR_HOST);
            assert_eq!((*e).error.kind(), ErrorKind::Host);
            assert_eq!((*e).error.message(), "boom");
            weft_error_delete(e);
        }
    }
}
