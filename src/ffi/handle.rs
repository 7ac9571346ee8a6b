//! How C holds each `weft_*_t` handle, as a property of its type.
//!
//! Every handle type implements [`Handle`] with one of three ownerships
//! (rustls-ffi's `Castable` is the model):
//!
//! * [`Boxed`]: made by `weft_x_new`, freed by `weft_x_delete`; one owner
//!   ([`to_boxed`], [`free_box`], and [`try_mut`] for the setters);
//! * [`Shared`]: reference-counted; `weft_x_clone` adds an owner and
//!   `weft_x_delete` drops one ([`to_arc`], [`clone_arc`], [`free_arc`]);
//! * [`Borrowed`]: lent to C for the length of one call (a callback's
//!   argument); C never frees it.
//!
//! Every ownership can be read through [`try_ref`] / [`get`]. The helpers
//! are bounded by ownership, so using the wrong one does not compile:
//!
//! ```compile_fail,E0271
//! use weft::ffi::{handle::free_box, host_funcs::weft_caller_t};
//! // A borrowed handle cannot be freed.
//! unsafe { free_box(std::ptr::null_mut::<weft_caller_t>()) }
//! ```
//!
//! ```compile_fail,E0271
//! use weft::ffi::{engine::weft_engine_t, handle::free_box};
//! // A shared handle is released with `free_arc`, never freed as a box.
//! unsafe { free_box(std::ptr::null_mut::<weft_engine_t>()) }
//! ```
//!
//! ```
//! use weft::ffi::{config::weft_config_t, engine::weft_engine_t, handle};
//! // The matching helpers compile (and NULL is a no-op).
//! unsafe { handle::free_box(std::ptr::null_mut::<weft_config_t>()) }
//! unsafe { handle::free_arc(std::ptr::null_mut::<weft_engine_t>()) }
//! ```
//!
//! This module is public only for those examples; hosts use the C functions.

use std::sync::Arc;

use crate::ffi::boundary::{guard_value, null};
use crate::runtime::Error;

/// A type C holds through a pointer, and how that pointer owns it.
pub trait Handle: Sized {
    /// [`Boxed`], [`Shared`] or [`Borrowed`].
    type Ownership: Ownership;
}

/// One owner: made by `weft_x_new` ([`to_boxed`]), freed by `weft_x_delete` ([`free_box`]).
pub enum Boxed {}
/// Reference-counted: made by [`to_arc`], another owner by `weft_x_clone`
/// ([`clone_arc`]), each owner released by `weft_x_delete` ([`free_arc`]).
pub enum Shared {}
/// Lent to C for the length of one call; C never frees it.
pub enum Borrowed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Boxed {}
    impl Sealed for super::Shared {}
    impl Sealed for super::Borrowed {}
}

/// One of [`Boxed`], [`Shared`], [`Borrowed`] (no others).
pub trait Ownership: sealed::Sealed {}
impl Ownership for Boxed {}
impl Ownership for Shared {}
impl Ownership for Borrowed {}

/// Moves `value` to the heap and hands C the pointer; C frees it with the
/// type's `*_delete` ([`free_box`]).
pub fn to_boxed<T: Handle<Ownership = Boxed>>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a boxed handle; NULL is a no-op. A panic while dropping it is
/// caught (nothing unwinds into C).
///
/// # Safety
/// `ptr` must be NULL or come from [`to_boxed`] and not be used again.
pub unsafe fn free_box<T: Handle<Ownership = Boxed>>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: per the caller, `ptr` came from `to_boxed` (`Box::into_raw`).
        let boxed = unsafe { Box::from_raw(ptr) };
        guard_value((), move || drop(boxed));
    }
}

/// Moves `value` into a new reference count of one and hands C the
/// pointer; each owner releases it with the type's `*_delete` ([`free_arc`]).
pub fn to_arc<T: Handle<Ownership = Shared>>(value: T) -> *mut T {
    Arc::into_raw(Arc::new(value)).cast_mut()
}

/// Adds an owner to a shared handle and returns it (the same pointer);
/// NULL gives NULL.
///
/// # Safety
/// `ptr` must be NULL or come from [`to_arc`] and still have an owner.
pub unsafe fn clone_arc<T: Handle<Ownership = Shared>>(ptr: *const T) -> *mut T {
    if !ptr.is_null() {
        // SAFETY: per the caller, `ptr` came from `Arc::into_raw` and is alive.
        unsafe { Arc::increment_strong_count(ptr) };
    }
    ptr.cast_mut()
}

/// Releases one owner of a shared handle, dropping it with the last; NULL
/// is a no-op. A panic while dropping it is caught.
///
/// # Safety
/// `ptr` must be NULL or come from [`to_arc`]/[`clone_arc`], and this owner
/// must not use it again.
pub unsafe fn free_arc<T: Handle<Ownership = Shared>>(ptr: *const T) {
    if !ptr.is_null() {
        // SAFETY: per the caller, `ptr` is an owner made by `Arc::into_raw`.
        let arc = unsafe { Arc::from_raw(ptr) };
        guard_value((), move || drop(arc));
    }
}

/// Borrows a handle of any ownership, or `None` for NULL (for getters that
/// answer NULL with a neutral value).
///
/// # Safety
/// `ptr` must be NULL or point to a live `T` for `'a`.
pub unsafe fn get<'a, T: Handle>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid.
    unsafe { ptr.as_ref() }
}

/// Borrows a handle of any ownership, or fails with a NULL-argument error
/// naming `what`.
///
/// # Safety
/// As for [`get`].
pub unsafe fn try_ref<'a, T: Handle>(ptr: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: forwarded contract.
    unsafe { get(ptr) }.ok_or_else(|| null(what))
}

/// Mutably borrows a boxed handle (the only kind with one owner), or fails
/// with a NULL-argument error naming `what`.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T`, not used elsewhere for `'a`
/// (the header makes the caller serialise calls on a `weft_x_t *`).
pub unsafe fn try_mut<'a, T: Handle<Ownership = Boxed>>(
    ptr: *mut T,
    what: &str,
) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid and unaliased.
    unsafe { ptr.as_mut() }.ok_or_else(|| null(what))
}
