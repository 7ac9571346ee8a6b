//! Every C entry point given NULL for a required pointer returns an error of
//! kind WEFT_ERROR_NULL_ARGUMENT (or does nothing, for deletes and getters).
//! One test per handle, each a table of calls with a NULL argument.

use std::ptr::{null, null_mut};

use weft::ffi::config::*;
use weft::ffi::engine::*;
use weft::ffi::error::*;
use weft::ffi::host_funcs::*;
use weft::ffi::instance::*;
use weft::ffi::module::*;
use weft::ffi::val::WEFT_I32;
use weft::ffi::wasi_config::*;

unsafe fn kind(err: *mut weft_error_t) -> u32 {
    assert!(!err.is_null(), "expected an error");
    let k = unsafe { weft_error_kind(err) };
    let msg = unsafe { std::ffi::CStr::from_ptr(weft_error_message(err)) };
    assert!(msg.to_str().unwrap().contains("NULL"), "{msg:?}");
    unsafe { weft_error_delete(err) };
    k
}

/// A table of calls: each must fail with `WEFT_ERROR_NULL_ARGUMENT` and a
/// message saying NULL (see [`kind`]). Use inside `unsafe`.
macro_rules! null_argument_table {
    ($($call:expr),+ $(,)?) => {
        $(assert_eq!(kind($call), WEFT_ERROR_NULL_ARGUMENT, "{}", stringify!($call));)+
    };
}

unsafe extern "C" fn noop(
    _: *mut std::ffi::c_void,
    _: *const weft_caller_t,
    _: *const weft::ffi::val::weft_val_t,
    _: usize,
    _: *mut weft::ffi::val::weft_val_t,
    _: usize,
) -> *mut weft_error_t {
    null_mut()
}

const WAT: &[u8] = b"(module (import \"env\" \"memory\" (memory 1 1 shared)) (func (export \"_start\")) (func (export \"f\")))";

/// An engine, a module of [`WAT`] and an instance of it, freed on drop.
struct Live {
    engine: *mut weft_engine_t,
    module: *mut weft_module_t,
    inst: *mut weft_instance_t,
}

impl Live {
    fn new() -> Live {
        let mut live = Live {
            engine: null_mut(),
            module: null_mut(),
            inst: null_mut(),
        };
        // SAFETY: valid arguments; the handles are freed by `drop`.
        unsafe {
            assert!(weft_engine_new(null(), &mut live.engine).is_null());
            assert!(
                weft_module_new(live.engine, WAT.as_ptr(), WAT.len(), &mut live.module).is_null()
            );
            assert!(weft_instance_new(live.module, null(), null(), &mut live.inst).is_null());
        }
        live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // SAFETY: each handle is NULL or live, and freed once.
        unsafe {
            weft_instance_delete(self.inst);
            weft_module_delete(self.module);
            weft_engine_delete(self.engine);
        }
    }
}

#[test]
fn config_null_arguments() {
    let (gc, mut on) = (c"gc".as_ptr(), false);
    unsafe {
        let c = weft_config_new();
        null_argument_table![
            weft_config_set_max_threads(null_mut(), 1),
            weft_config_set_wasm_stack_size(null_mut(), 1),
            weft_config_set_os_stack_size(null_mut(), 1 << 20),
            weft_config_set_max_memory(null_mut(), 1),
            weft_config_set_timeout_ms(null_mut(), 1),
            weft_config_set_interrupt_wasm(null_mut(), true),
            weft_config_set_precise_dumps(null_mut(), true),
            weft_config_set_huge_pages(null_mut(), true),
            weft_config_set_deadlock_detection(null_mut(), true),
            weft_config_set_profiler(null_mut(), WEFT_PROFILER_NONE),
            weft_config_set_cache_dir(null_mut(), c"x".as_ptr(), 1),
            weft_config_set_wasm_feature(null_mut(), gc, 2, true),
            weft_config_set_wasm_feature(c, null(), 2, true),
            weft_config_set_wasm_features(null_mut(), gc, 2),
            weft_config_set_wasm_features(c, null(), 2),
            weft_config_wasm_feature(null(), gc, 2, &mut on),
            weft_config_wasm_feature(c, null(), 2, &mut on),
            weft_config_wasm_feature(c, gc, 2, null_mut()),
        ];
        // Nothing was written through the output pointer, and the config
        // that was passed with a NULL name kept its settings.
        assert!(!on);
        assert!(weft_config_wasm_feature(c, gc, 2, &mut on).is_null() && on);
        weft_config_delete(c);
        weft_config_delete(null_mut());
    }
}

#[test]
fn engine_null_arguments() {
    unsafe {
        null_argument_table![weft_engine_new(null(), null_mut())];
        assert!(weft_engine_clone(null()).is_null());
        weft_engine_delete(null_mut());
    }
}

#[test]
fn module_null_arguments() {
    let live = Live::new();
    let (engine, mut module) = (live.engine, null_mut());
    unsafe {
        null_argument_table![
            weft_module_new(null(), WAT.as_ptr(), WAT.len(), &mut module),
            weft_module_new(engine, null(), 5, &mut module),
            weft_module_new(engine, WAT.as_ptr(), WAT.len(), null_mut()),
            weft_module_new_file(null(), c"x".as_ptr(), 1, &mut module),
            weft_module_new_file(engine, null(), 1, &mut module),
            weft_module_new_file(engine, c"x".as_ptr(), 1, null_mut()),
        ];
        assert!(weft_module_clone(null()).is_null());
        assert!(!weft_module_uses_threads(null()));
        weft_module_delete(null_mut());
    }
}

#[test]
fn wasi_config_null_arguments() {
    unsafe {
        let wc = weft_wasi_config_new();
        null_argument_table![
            weft_wasi_config_push_arg(null_mut(), c"a".as_ptr(), 1),
            weft_wasi_config_push_arg(wc, null(), 1),
            weft_wasi_config_push_env(null_mut(), c"a".as_ptr(), 1, c"b".as_ptr(), 1),
            weft_wasi_config_push_env(wc, null(), 1, c"b".as_ptr(), 1),
            weft_wasi_config_push_env(wc, c"a".as_ptr(), 1, null(), 1),
            weft_wasi_config_inherit_env(null_mut()),
            weft_wasi_config_set_stdio(null_mut(), 1, WEFT_STDIO_NULL, null(), 0),
            weft_wasi_config_set_stdio(wc, 1, WEFT_STDIO_FILE, null(), 3),
            weft_wasi_config_preopen_dir(null_mut(), c"/".as_ptr(), 1, c"/".as_ptr(), 1, 0),
            weft_wasi_config_preopen_dir(wc, null(), 1, c"/".as_ptr(), 1, 0),
            weft_wasi_config_preopen_dir(wc, c"/".as_ptr(), 1, null(), 1, 0),
            weft_wasi_config_preopen_tcp_listener(null_mut(), c"127.0.0.1:0".as_ptr(), 11),
            weft_wasi_config_preopen_tcp_listener(wc, null(), 11),
            weft_wasi_config_set_stdin_bytes(null_mut(), c"x".as_ptr().cast(), 1),
            weft_wasi_config_set_stdin_bytes(wc, null(), 1),
            weft_wasi_config_set_stdio_fd(null_mut(), 0, 0),
            weft_wasi_config_set_parallelism(null_mut(), WEFT_PARALLELISM_HOST, 0),
        ];
        weft_wasi_config_delete(null_mut());
        weft_wasi_config_delete(wc);
    }
}

#[test]
fn host_funcs_null_arguments() {
    let (m, n, k) = (c"m".as_ptr(), c"n".as_ptr(), [WEFT_I32]);
    unsafe {
        let hf = weft_host_funcs_new();
        // `weft_host_funcs_define` with name lengths 1, no env and no finalizer.
        let define = |funcs, module, name, params, np, results, nr, callback| {
            weft_host_funcs_define(
                funcs,
                module,
                1,
                name,
                1,
                params,
                np,
                results,
                nr,
                callback,
                null_mut(),
                None,
            )
        };
        let cb: weft_host_callback_t = Some(noop);
        null_argument_table![
            define(null_mut(), m, n, null(), 0, null(), 0, cb),
            define(hf, null(), n, null(), 0, null(), 0, cb),
            define(hf, m, null(), null(), 0, null(), 0, cb),
            define(hf, m, n, null(), 1, k.as_ptr(), 1, cb),
            define(hf, m, n, k.as_ptr(), 1, null(), 1, cb),
            define(hf, m, n, null(), 0, null(), 0, None),
        ];
        weft_host_funcs_delete(null_mut());
        weft_host_funcs_delete(hf);
    }
}

#[test]
fn instance_null_arguments() {
    let live = Live::new();
    let (module, inst, f) = (live.module, live.inst, c"f".as_ptr());
    let (mut new, mut code, mut done, mut data, mut len) =
        (null_mut(), 0i32, false, null_mut(), 0usize);
    unsafe {
        null_argument_table![
            weft_instance_new(null(), null(), null(), &mut new),
            weft_instance_new(module, null(), null(), null_mut()),
            weft_instance_run(null_mut(), &mut code),
            weft_instance_run(inst, null_mut()),
            weft_instance_start(null_mut()),
            weft_instance_wait(null_mut(), 0, &mut done, &mut code),
            weft_instance_wait(inst, 0, null_mut(), &mut code),
            weft_instance_wait(inst, 0, &mut done, null_mut()),
            weft_instance_outcome(null(), &mut done, &mut code),
            weft_instance_outcome(inst, null_mut(), &mut code),
            weft_instance_outcome(inst, &mut done, null_mut()),
            weft_instance_interrupt(null()),
            weft_instance_stats(null(), null_mut(), null_mut(), null_mut()),
            weft_instance_initialize(null_mut()),
            weft_instance_call(null_mut(), f, 1, null(), 0, null_mut(), 0),
            weft_instance_call(inst, null(), 1, null(), 0, null_mut(), 0),
            weft_instance_call(inst, f, 1, null(), 2, null_mut(), 0),
            weft_instance_call(inst, f, 1, null(), 0, null_mut(), 1),
            weft_instance_stdout(null(), &mut data, &mut len),
            weft_instance_stdout(inst, null_mut(), &mut len),
            weft_instance_stderr(inst, &mut data, null_mut()),
        ];
        weft_instance_delete(null_mut());
        weft_bytes_free(null_mut(), 0);

        // The valid calls still work afterwards.
        assert!(weft_instance_run(inst, &mut code).is_null());
        assert_eq!(code, 0);
    }
}

#[test]
fn error_getters_accept_null() {
    unsafe {
        assert_eq!(weft_error_kind(null()), WEFT_ERROR_NULL_ARGUMENT);
        assert_eq!(*weft_error_message(null()), 0);
        assert_eq!(*weft_error_backtrace(null()), 0);
        assert!(!weft_error_trap_tid(null(), null_mut()));
        assert!(!weft_error_exit_code(null(), null_mut()));
        weft_error_delete(null_mut());
    }
}

#[test]
fn caller_getters_accept_null() {
    unsafe {
        assert_eq!(weft_caller_tid(null()), 0);
        assert!(weft_caller_memory_data(null()).is_null());
        assert_eq!(weft_caller_memory_size(null()), 0);
    }
}

#[test]
fn invalid_utf8_and_bad_constants_are_invalid_arguments() {
    unsafe {
        let wc = weft_wasi_config_new();
        let bad = [0xffu8, 0xfe];
        let e = weft_wasi_config_push_arg(wc, bad.as_ptr().cast(), 2);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_set_stdio(wc, 7, WEFT_STDIO_NULL, null(), 0);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_set_stdio(wc, 1, 99, null(), 0);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_preopen_dir(wc, c"/".as_ptr(), 1, c"/".as_ptr(), 1, 77);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_preopen_tcp_listener(wc, c"nonsense".as_ptr(), 8);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_set_stdio_fd(wc, 5, 0);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        let e = weft_wasi_config_set_stdio_fd(wc, 0, 9999);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_IO);
        weft_error_delete(e);
        weft_wasi_config_delete(wc);
        let hf = weft_host_funcs_new();
        let k = [42u32];
        let e = weft_host_funcs_define(
            hf,
            c"m".as_ptr(),
            1,
            c"n".as_ptr(),
            1,
            k.as_ptr(),
            1,
            null(),
            0,
            Some(noop),
            null_mut(),
            None,
        );
        assert_eq!(weft_error_kind(e), WEFT_ERROR_INVALID_ARGUMENT);
        weft_error_delete(e);
        weft_host_funcs_delete(hf);
        let mut engine = null_mut();
        assert!(weft_engine_new(null(), &mut engine).is_null());
        let mut module = null_mut();
        let e = weft_module_new(engine, b"garbage".as_ptr(), 7, &mut module);
        assert_eq!(weft_error_kind(e), WEFT_ERROR_COMPILE);
        assert!(
            module.is_null(),
            "out-parameters are written only on success"
        );
        weft_error_delete(e);
        weft_engine_delete(engine);
    }
}

#[test]
fn export_func_reports_kinds_and_counts() {
    use weft::ffi::val::{WEFT_F64, WEFT_I32};
    unsafe {
        let mut engine = null_mut();
        assert!(weft_engine_new(null(), &mut engine).is_null());
        let wat = br#"(module (func (export "f") (param i32 i64) (result f64) f64.const 1)
                              (global (export "g") i32 (i32.const 0)))"#;
        let mut module = null_mut();
        assert!(weft_module_new(engine, wat.as_ptr(), wat.len(), &mut module).is_null());
        let (mut np, mut nr) = (0usize, 0usize);
        let (mut p, mut r) = ([99u32; 1], [99u32; 4]);
        // Capacity 1 for parameters: only the first kind is written, the count is whole.
        let e = weft_module_export_func(
            module,
            c"f".as_ptr(),
            1,
            p.as_mut_ptr(),
            1,
            &mut np,
            r.as_mut_ptr(),
            4,
            &mut nr,
        );
        assert!(e.is_null());
        assert_eq!((np, nr), (2, 1));
        assert_eq!(p, [WEFT_I32]);
        assert_eq!(r, [WEFT_F64, 99, 99, 99]);
        let e = weft_module_export_func(
            module,
            c"f".as_ptr(),
            1,
            null_mut(),
            0,
            &mut np,
            null_mut(),
            0,
            &mut nr,
        );
        assert!(e.is_null());
        for name in [c"g", c"nope"] {
            let e = weft_module_export_func(
                module,
                name.as_ptr(),
                name.count_bytes(),
                null_mut(),
                0,
                &mut np,
                null_mut(),
                0,
                &mut nr,
            );
            assert_eq!(weft_error_kind(e), WEFT_ERROR_NOT_FOUND);
            weft_error_delete(e);
        }
        assert_eq!(
            kind(weft_module_export_func(
                null(),
                c"f".as_ptr(),
                1,
                null_mut(),
                0,
                &mut np,
                null_mut(),
                0,
                &mut nr
            )),
            WEFT_ERROR_NULL_ARGUMENT
        );
        assert_eq!(
            kind(weft_module_export_func(
                module,
                null(),
                1,
                null_mut(),
                0,
                &mut np,
                null_mut(),
                0,
                &mut nr
            )),
            WEFT_ERROR_NULL_ARGUMENT
        );
        assert_eq!(
            kind(weft_module_export_func(
                module,
                c"f".as_ptr(),
                1,
                null_mut(),
                0,
                null_mut(),
                null_mut(),
                0,
                &mut nr
            )),
            WEFT_ERROR_NULL_ARGUMENT
        );
        assert_eq!(
            kind(weft_module_export_func(
                module,
                c"f".as_ptr(),
                1,
                null_mut(),
                0,
                &mut np,
                null_mut(),
                0,
                null_mut()
            )),
            WEFT_ERROR_NULL_ARGUMENT
        );
        assert_eq!(
            kind(weft_module_export_func(
                module,
                c"f".as_ptr(),
                1,
                null_mut(),
                2,
                &mut np,
                null_mut(),
                0,
                &mut nr
            )),
            WEFT_ERROR_NULL_ARGUMENT
        );
        weft_module_delete(module);
        weft_engine_delete(engine);
    }
}
