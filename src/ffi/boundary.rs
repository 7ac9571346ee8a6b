//! The panic boundary and the argument checks every export goes through.
//! Knows nothing of handles or error objects: `guard` in the `error` module
//! turns a body's `Result` into the `weft_error_t *` C receives.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::runtime::{Error, ErrorKind};

/// Runs `body`, turning a panic into an `Internal` error. Nothing unwinds into C.
pub(crate) fn catch<T>(body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| Err(panic_error(panic)))
}

/// For exports that cannot return an error: a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::new(
        ErrorKind::Internal,
        format!("internal error (panic): {what}"),
    )
}

/// A NULL-argument error naming `what`.
pub(crate) fn null(what: &str) -> Error {
    Error::new(
        ErrorKind::NullArgument,
        format!("argument `{what}` is NULL"),
    )
}

/// Writes `value` through an out-parameter that was checked non-NULL.
///
/// # Safety
/// `out` must be NULL or valid for writes.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and valid for writes per the caller.
    unsafe { out.write(value) };
    Ok(())
}

/// Fails with a NULL-argument error if `out` is NULL (checked before doing work).
pub(crate) fn check_out<T>(out: *mut T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(null(what))
    } else {
        Ok(())
    }
}

/// Borrows a `(ptr, len)` byte slice; `len == 0` may pass NULL.
///
/// # Safety
/// Unless NULL, `ptr` must be valid for `len` bytes of reads.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    if len > isize::MAX as usize {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("argument `{what}` has an impossible length {len}"),
        ));
    }
    // SAFETY: non-NULL and valid for `len` bytes per the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a `(ptr, len)` UTF-8 string; `len == 0` may pass NULL.
///
/// # Safety
/// As for [`bytes`].
pub(crate) unsafe fn utf8<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(ptr.cast(), len, what) }?;
    std::str::from_utf8(b).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("argument `{what}` is not valid UTF-8: {e}"),
        )
    })
}

/// Borrows a `(ptr, len)` array of `T`; `len == 0` may pass NULL.
///
/// # Safety
/// Unless NULL, `ptr` must be valid for `len` reads of `T`.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, what: &str) -> Result<&'a [T], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    if len > (isize::MAX as usize) / std::mem::size_of::<T>().max(1) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("argument `{what}` has an impossible length {len}"),
        ));
    }
    // SAFETY: non-NULL and valid for `len` elements per the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `s` as an owned NUL-terminated string for C; a NUL inside `s` is
/// written as `\0`.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// Hands `bytes` to C through the out-parameters `data` and `len` (both
/// checked non-NULL by the caller); C frees them with `weft_bytes_free`
/// ([`free_bytes`]).
///
/// # Safety
/// `data` and `len` must be valid for writes.
pub(crate) unsafe fn write_bytes(data: *mut *mut u8, len: *mut usize, bytes: Vec<u8>) {
    let bytes = bytes.into_boxed_slice();
    let n = bytes.len();
    // SAFETY: valid for writes per the caller.
    unsafe {
        len.write(n);
        data.write(Box::into_raw(bytes).cast::<u8>());
    }
}

/// Frees bytes handed out by [`write_bytes`]; NULL is a no-op.
///
/// # Safety
/// `data` must be NULL or come from [`write_bytes`] with this `len`, and
/// not be used again.
pub(crate) unsafe fn free_bytes(data: *mut u8, len: usize) {
    if !data.is_null() {
        // SAFETY: per the caller, a boxed slice of `len` bytes made by `write_bytes`.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
    }
}
