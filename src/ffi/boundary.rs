//! The panic boundary and argument checks every export goes through.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ffi::error::weft_error_t;
use crate::runtime::{Error, ErrorKind};

/// Runs an export's body: `Ok` becomes NULL, `Err` an owned error object, a
/// panic an `Internal` error. Nothing unwinds into C.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> *mut weft_error_t {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => weft_error_t::into_raw(e),
        Err(panic) => weft_error_t::into_raw(panic_error(panic)),
    }
}

/// Like [`guard`] for exports that cannot return an error: a panic yields `fallback`.
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

/// Borrows `*ptr`, or fails with a NULL-argument error naming `what`.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T` for `'a`.
pub(crate) unsafe fn deref<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// Mutably borrows `*ptr`, or fails with a NULL-argument error.
///
/// # Safety
/// `ptr` must be NULL or point to a live, unaliased `T` for `'a`.
pub(crate) unsafe fn deref_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid and unaliased.
    unsafe { ptr.as_mut() }.ok_or_else(|| null(what))
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

/// Frees a boxed handle; NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or come from `Box::into_raw` and not be used again.
pub(crate) unsafe fn delete<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: per the caller, `ptr` came from `Box::into_raw`.
        let boxed = unsafe { Box::from_raw(ptr) };
        let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
    }
}
