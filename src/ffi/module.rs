//! `weft_module_t`: a compiled program.

use std::ffi::c_char;

use crate::ffi::boundary::{bytes, check_out, guard_value, null, utf8, write_bytes, write_out};
use crate::ffi::engine::weft_engine_t;
use crate::ffi::error::{guard, weft_error_t};
use crate::ffi::handle::{clone_arc, free_arc, get, to_arc, try_ref, Handle, Shared};
use crate::ffi::val::kind_of;
use crate::runtime::{Error, ErrorKind, Program};

/// A compiled module, ready to instantiate any number of times.
/// Reference-counted: see `weft_module_clone`.
pub struct weft_module_t {
    pub(crate) program: Program,
}

impl Handle for weft_module_t {
    type Ownership = Shared;
}

fn publish(program: Program, out: *mut *mut weft_module_t) -> Result<(), Error> {
    let raw = to_arc(weft_module_t { program });
    // SAFETY: `out` was checked non-NULL by the caller.
    unsafe { write_out(out, raw, "module_out") }
}

/// Compiles a module from binary WebAssembly or WAT text.
///
/// **Ownership**: `engine` and `wasm` are borrowed (`wasm` need only be valid
/// for the call). On success `*module_out` owns the module; free it with
/// `weft_module_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_COMPILE` for invalid
/// bytes; `WEFT_ERROR_LINK` for imports weft can never satisfy (a non-shared
/// memory import, two memories, an ill-typed `thread-spawn` import).
/// **Thread safety**: safe concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn weft_module_new(
    engine: *const weft_engine_t,
    wasm: *const u8,
    wasm_len: usize,
    module_out: *mut *mut weft_module_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: pointers per the documented contract.
        let engine = unsafe { try_ref(engine, "engine") }?;
        // SAFETY: (ptr, len) per the contract.
        let wasm = unsafe { bytes(wasm, wasm_len, "wasm") }?;
        check_out(module_out, "module_out")?;
        publish(Program::from_bytes(&engine.engine, wasm)?, module_out)
    })
}

/// Reads and compiles a `.wasm` or `.wat` file.
///
/// **Ownership**: as `weft_module_new`; `path` is UTF-8, not NUL-terminated.
/// **Errors**: as `weft_module_new`, plus `WEFT_ERROR_IO` if the file cannot be read.
#[no_mangle]
pub unsafe extern "C" fn weft_module_new_file(
    engine: *const weft_engine_t,
    path: *const c_char,
    path_len: usize,
    module_out: *mut *mut weft_module_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: pointers per the documented contract.
        let engine = unsafe { try_ref(engine, "engine") }?;
        // SAFETY: (ptr, len) per the contract.
        let path = unsafe { utf8(path, path_len, "path") }?;
        check_out(module_out, "module_out")?;
        publish(Program::from_file(&engine.engine, path)?, module_out)
    })
}

/// Returns a new reference to the same module, or NULL if `module` is NULL.
///
/// **Ownership**: the result is owned by the caller; free with `weft_module_delete`.
#[no_mangle]
pub unsafe extern "C" fn weft_module_clone(module: *const weft_module_t) -> *mut weft_module_t {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live module.
        unsafe { clone_arc(module) }
    })
}

/// Releases a reference to a module. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `module`.
#[no_mangle]
pub unsafe extern "C" fn weft_module_delete(module: *mut weft_module_t) {
    // SAFETY: NULL or from weft.
    unsafe { free_arc(module) }
}

/// Describes exported function `name`: writes its parameter and result
/// counts to `*nparams` and `*nresults`, and their kinds (`WEFT_I32`, …) to
/// `param_kinds` / `result_kinds`, at most `param_cap` / `result_cap` of them
/// (arrays with a zero capacity may be NULL). Call it with zero capacities to
/// learn the counts, e.g. before `weft_instance_call`.
///
/// **Ownership**: everything is borrowed for the call.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_NOT_FOUND` (no exported
/// function of that name); `WEFT_ERROR_INVALID_ARGUMENT` (bad UTF-8, or a
/// type other than i32/i64/f32/f64).
/// **Thread safety**: read-only; safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_module_export_func(
    module: *const weft_module_t,
    name: *const c_char,
    name_len: usize,
    param_kinds: *mut u32,
    param_cap: usize,
    nparams: *mut usize,
    result_kinds: *mut u32,
    result_cap: usize,
    nresults: *mut usize,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY (all): pointers per the documented contract.
        let module = unsafe { try_ref(module, "module") }?;
        let name = unsafe { utf8(name, name_len, "name") }?;
        check_out(nparams, "nparams")?;
        check_out(nresults, "nresults")?;
        if param_cap > 0 && param_kinds.is_null() {
            return Err(null("param_kinds"));
        }
        if result_cap > 0 && result_kinds.is_null() {
            return Err(null("result_kinds"));
        }
        let (params, results) = module.program.export_func_type(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no exported function \"{name}\""),
            )
        })?;
        let params = params.iter().map(kind_of).collect::<Result<Vec<_>, _>>()?;
        let results = results.iter().map(kind_of).collect::<Result<Vec<_>, _>>()?;
        for (out, kinds, cap) in [
            (param_kinds, &params, param_cap),
            (result_kinds, &results, result_cap),
        ] {
            for (i, k) in kinds.iter().take(cap).enumerate() {
                // SAFETY: `out` holds `cap` writable values (checked non-NULL above).
                unsafe { out.add(i).write(*k) };
            }
        }
        // SAFETY: both checked non-NULL above.
        unsafe {
            nparams.write(params.len());
            nresults.write(results.len());
        }
        Ok(())
    })
}

/// Whether the module imports `wasi` `thread-spawn` (false for NULL).
///
/// **Thread safety**: read-only; safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_module_uses_threads(module: *const weft_module_t) -> bool {
    // SAFETY: NULL or a live module.
    unsafe { get(module) }.is_some_and(|m| m.program.uses_threads())
}

/// Serializes the module's compiled machine code, so that
/// `weft_module_deserialize` can load it later (in this or another process)
/// without compiling.
///
/// **Ownership**: `module` is borrowed. On success `*data_out` (`*len_out`
/// bytes) is owned by the caller; free it with `weft_bytes_free(*data_out, *len_out)`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INTERNAL` if Wasmtime
/// cannot serialize it.
/// **Thread safety**: read-only; safe concurrently.
#[no_mangle]
pub unsafe extern "C" fn weft_module_serialize(
    module: *const weft_module_t,
    data_out: *mut *mut u8,
    len_out: *mut usize,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: pointers per the documented contract.
        let module = unsafe { try_ref(module, "module") }?;
        check_out(data_out, "data_out")?;
        check_out(len_out, "len_out")?;
        let bytes = module.program.serialize()?;
        // SAFETY: both checked non-NULL above.
        unsafe { write_bytes(data_out, len_out, bytes) };
        Ok(())
    })
}

/// Loads a module from `weft_module_serialize`'s output, without compiling.
///
/// **Safety**: the bytes are mapped and run as native code. Wasmtime checks
/// that they are a serialized module made by the same Wasmtime version with a
/// compatible engine configuration, but it cannot check the code itself: pass
/// only bytes that `weft_module_serialize` produced and that nobody untrusted
/// could modify. **Never deserialize untrusted bytes**; compile those with
/// `weft_module_new`. (`weft_config_set_cache_dir` is the managed alternative.)
/// **Ownership**: `engine` and `data` are borrowed (`data` need only be valid
/// for the call). On success `*module_out` owns the module; free it with
/// `weft_module_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_COMPILE` if the bytes
/// are not a serialized module or were made by an incompatible engine (another
/// Wasmtime version or engine configuration); `WEFT_ERROR_LINK` as `weft_module_new`.
/// **Thread safety**: safe concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn weft_module_deserialize(
    engine: *const weft_engine_t,
    data: *const u8,
    data_len: usize,
    module_out: *mut *mut weft_module_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: pointers per the documented contract.
        let engine = unsafe { try_ref(engine, "engine") }?;
        // SAFETY: (ptr, len) per the contract.
        let data = unsafe { bytes(data, data_len, "data") }?;
        check_out(module_out, "module_out")?;
        // SAFETY: the caller vouches for the bytes, as documented above.
        let program = unsafe { Program::deserialize(&engine.engine, data) }?;
        publish(program, module_out)
    })
}
