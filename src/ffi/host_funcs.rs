//! `weft_host_funcs_t`: host functions defined from C, and `weft_caller_t`,
//! what a callback learns about the calling guest thread.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::ffi::boundary::{null, slice, utf8};
use crate::ffi::error::{guard, weft_error_delete, weft_error_t};
use crate::ffi::handle::{free_box, get, to_boxed, try_mut, Borrowed, Boxed, Handle};
use crate::ffi::val::{val_type, weft_val_t};
use crate::runtime::{HostCall, HostFunc, HostFuncs, Val, ValType};

/// A set of host functions given to `weft_instance_new`; every guest thread's
/// instance can import them.
pub struct weft_host_funcs_t {
    pub(crate) funcs: HostFuncs,
}

impl Handle for weft_host_funcs_t {
    type Ownership = Boxed;
}

/// The guest thread calling a host function. Valid only during the callback.
pub struct weft_caller_t {
    call: *const HostCall,
}

impl Handle for weft_caller_t {
    type Ownership = Borrowed;
}

/// A host function body.
///
/// `env` is the pointer given to `weft_host_funcs_define`; `caller` describes
/// the calling thread; `args` holds `nargs` values of the declared parameter
/// types; write `nresults` values of the declared result types into `results`
/// (their `kind` is preset). Return NULL on success, or an error (e.g. from
/// `weft_error_new`), which weft takes ownership of and which traps the calling
/// thread, ending the program.
///
/// **Called concurrently from every guest thread** of every running instance
/// that uses the set: it must be thread-safe, and must not unwind or `longjmp`.
pub type weft_host_callback_t = Option<
    unsafe extern "C" fn(
        env: *mut c_void,
        caller: *const weft_caller_t,
        args: *const weft_val_t,
        nargs: usize,
        results: *mut weft_val_t,
        nresults: usize,
    ) -> *mut weft_error_t,
>;

/// Frees a callback's `env` when the last instance using it is gone.
pub type weft_finalizer_t = Option<unsafe extern "C" fn(env: *mut c_void)>;

/// Creates an empty set.
///
/// **Ownership**: the caller owns the result; free with `weft_host_funcs_delete`.
#[no_mangle]
pub extern "C" fn weft_host_funcs_new() -> *mut weft_host_funcs_t {
    to_boxed(weft_host_funcs_t {
        funcs: HostFuncs::new(),
    })
}

/// Frees a set. `NULL` is a no-op. Instances created from it keep their own copy;
/// each `env` is finalized when nothing uses its function any more.
///
/// **Ownership**: takes ownership of `funcs`.
#[no_mangle]
pub unsafe extern "C" fn weft_host_funcs_delete(funcs: *mut weft_host_funcs_t) {
    // SAFETY: NULL or from `weft_host_funcs_new`.
    unsafe { free_box(funcs) }
}

/// Owns a callback's `env` and runs its finalizer once, when dropped.
struct CallbackEnv {
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const weft_caller_t,
        *const weft_val_t,
        usize,
        *mut weft_val_t,
        usize,
    ) -> *mut weft_error_t,
    env: *mut c_void,
    finalizer: weft_finalizer_t,
    results: Vec<ValType>,
}

// SAFETY: the header requires callbacks and their env to be usable from any
// thread concurrently; the finalizer runs once, from whichever thread drops last.
unsafe impl Send for CallbackEnv {}
// SAFETY: as above.
unsafe impl Sync for CallbackEnv {}

impl Drop for CallbackEnv {
    fn drop(&mut self) {
        if let Some(finalize) = self.finalizer {
            // SAFETY: the embedder's finalizer for its own `env`.
            unsafe { finalize(self.env) };
        }
    }
}

impl CallbackEnv {
    fn call(&self, call: &HostCall, args: &[Val], results: &mut [Val]) -> Result<(), String> {
        let args: Vec<weft_val_t> = args
            .iter()
            .map(weft_val_t::from_val)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut out: Vec<weft_val_t> = self
            .results
            .iter()
            .map(|ty| weft_val_t::from_val(&Val::default_for_ty(ty).unwrap_or(Val::I32(0))))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let caller = weft_caller_t { call };
        // SAFETY: the embedder's callback, given pointers valid for the call.
        let err = unsafe {
            (self.callback)(
                self.env,
                &caller,
                args.as_ptr(),
                args.len(),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        // SAFETY: NULL, or an error object the callback hands over.
        if let Some(error) = unsafe { get(err) } {
            let message = error.error.message().to_string();
            // SAFETY: we own it now, and `error` is not used again.
            unsafe { weft_error_delete(err) };
            return Err(message);
        }
        for (i, ((slot, v), ty)) in results.iter_mut().zip(&out).zip(&self.results).enumerate() {
            let val = v.to_val().map_err(|e| format!("result {i}: {e}"))?;
            if !val_type(v.kind).is_ok_and(|k| ValType::eq(&k, ty)) {
                return Err(format!(
                    "result {i} has kind {}, but {ty} was declared",
                    v.kind
                ));
            }
            *slot = val;
        }
        Ok(())
    }
}

/// Defines host function `module`.`name` with the given parameter and result
/// kinds (`WEFT_I32`, `WEFT_I64`, `WEFT_F32`, `WEFT_F64`). Defining the same
/// name again replaces the earlier definition.
///
/// **Ownership**: strings and kind arrays are copied (valid only for the call;
/// `len == 0` arrays may be NULL). `env` is owned by weft from now on: when the
/// last instance using this definition is gone, and the set is deleted,
/// `finalizer(env)` is called (if not NULL), exactly once, from any thread.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT` (`funcs`, `callback`, names);
/// `WEFT_ERROR_INVALID_ARGUMENT` for bad UTF-8 or an unknown kind. On error
/// the finalizer is not called: `env` stays the caller's.
/// **Thread safety**: mutates `funcs`; the caller serialises. The callback is
/// called concurrently from every guest thread.
#[no_mangle]
pub unsafe extern "C" fn weft_host_funcs_define(
    funcs: *mut weft_host_funcs_t,
    module: *const c_char,
    module_len: usize,
    name: *const c_char,
    name_len: usize,
    params: *const u32,
    nparams: usize,
    results: *const u32,
    nresults: usize,
    callback: weft_host_callback_t,
    env: *mut c_void,
    finalizer: weft_finalizer_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY (all): pointers per the documented contract.
        let funcs = unsafe { try_mut(funcs, "funcs") }?;
        let module = unsafe { utf8(module, module_len, "module") }?.to_string();
        let name = unsafe { utf8(name, name_len, "name") }?.to_string();
        let params = unsafe { slice(params, nparams, "params") }?
            .iter()
            .map(|&k| val_type(k))
            .collect::<Result<Vec<_>, _>>()?;
        let results = unsafe { slice(results, nresults, "results") }?
            .iter()
            .map(|&k| val_type(k))
            .collect::<Result<Vec<_>, _>>()?;
        let callback = callback.ok_or_else(|| null("callback"))?;
        let env = Arc::new(CallbackEnv {
            callback,
            env,
            finalizer,
            results: results.clone(),
        });
        funcs.funcs.define(HostFunc {
            module,
            name,
            params,
            results,
            callback: Arc::new(move |call, args, results| env.call(call, args, results)),
        });
        Ok(())
    })
}

fn with_call<T>(caller: *const weft_caller_t, fallback: T, f: impl FnOnce(&HostCall) -> T) -> T {
    // SAFETY: `caller` is NULL or the pointer weft passed to a running callback,
    // whose `call` points at a `HostCall` on weft's stack for that duration.
    match unsafe { get(caller) }.and_then(|c| unsafe { c.call.as_ref() }) {
        Some(call) => f(call),
        None => fallback,
    }
}

/// The calling guest thread's TID (0 for the main thread; 0 for NULL).
///
/// **Thread safety**: only within the callback that received `caller`.
#[no_mangle]
pub unsafe extern "C" fn weft_caller_tid(caller: *const weft_caller_t) -> u32 {
    with_call(caller, 0, |c| c.tid)
}

/// Base address of the calling thread's linear memory (the program's shared
/// memory for threaded guests), or NULL if it has none. Valid during the
/// callback; other guest threads may read and write it concurrently, so
/// access it as shared memory (atomics or copies), and never past
/// `weft_caller_memory_size`.
#[no_mangle]
pub unsafe extern "C" fn weft_caller_memory_data(caller: *const weft_caller_t) -> *mut u8 {
    with_call(caller, std::ptr::null_mut(), |c| c.memory_base)
}

/// Current size in bytes of the memory returned by `weft_caller_memory_data`.
#[no_mangle]
pub unsafe extern "C" fn weft_caller_memory_size(caller: *const weft_caller_t) -> usize {
    with_call(caller, 0, |c| c.memory_size)
}
