//! `weft_engine_t`: compiles modules; shared by every program.

use crate::ffi::boundary::{check_out, guard_value, write_out};
use crate::ffi::config::weft_config_t;
use crate::ffi::error::{guard, weft_error_t};
use crate::ffi::handle::{clone_arc, free_arc, get, to_arc, Handle, Shared};
use crate::runtime::{Config, Engine};

/// A compilation engine with its limits. Reference-counted: see `weft_engine_clone`.
pub struct weft_engine_t {
    pub(crate) engine: Engine,
}

impl Handle for weft_engine_t {
    type Ownership = Shared;
}

/// Creates an engine.
///
/// **Ownership**: `config` is borrowed and may be NULL (defaults); it may be
/// deleted right after the call. On success `*engine_out` owns a new engine;
/// free it with `weft_engine_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT` if `engine_out` is NULL;
/// `WEFT_ERROR_INVALID_ARGUMENT` for inconsistent limits.
/// **Thread safety**: the resulting engine may be used from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_engine_new(
    config: *const weft_config_t,
    engine_out: *mut *mut weft_engine_t,
) -> *mut weft_error_t {
    guard(|| {
        check_out(engine_out, "engine_out")?;
        // SAFETY: NULL or a live config.
        let config = unsafe { get(config) }.map_or_else(Config::default, |c| c.config.clone());
        let engine = Engine::new(&config)?;
        let raw = to_arc(weft_engine_t { engine });
        // SAFETY: checked non-NULL above.
        unsafe { write_out(engine_out, raw, "engine_out") }
    })
}

/// Returns a new reference to the same engine, or NULL if `engine` is NULL.
///
/// **Ownership**: `engine` is borrowed; the result is owned by the caller and
/// freed with `weft_engine_delete`.
/// **Thread safety**: safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_engine_clone(engine: *const weft_engine_t) -> *mut weft_engine_t {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live engine.
        unsafe { clone_arc(engine) }
    })
}

/// Releases a reference to an engine. `NULL` is a no-op. Modules and
/// instances keep their engine alive.
///
/// **Ownership**: takes ownership of `engine`.
#[no_mangle]
pub unsafe extern "C" fn weft_engine_delete(engine: *mut weft_engine_t) {
    // SAFETY: NULL or from `weft_engine_new`/`weft_engine_clone`.
    unsafe { free_arc(engine) }
}
