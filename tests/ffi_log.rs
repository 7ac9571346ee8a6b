//! `weft_set_log_callback` receives weft's `log` records; silent by default
//! and after it is turned off.

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::Mutex;

use weft::ffi::engine::*;
use weft::ffi::instance::*;
use weft::ffi::log::*;
use weft::ffi::module::*;

static RECORDS: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn record(
    _: *mut c_void,
    level: u32,
    _: *const std::ffi::c_char,
    _: usize,
    msg: *const std::ffi::c_char,
    len: usize,
) {
    let bytes = unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), len) };
    RECORDS
        .lock()
        .unwrap()
        .push((level, String::from_utf8_lossy(bytes).into_owned()));
}

/// Spawns once with no `wasi_thread_start`, which weft logs as a warning.
unsafe fn failing_spawn() {
    let wat = br#"(module
      (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
      (import "env" "memory" (memory 1 1 shared))
      (func (export "_start") (drop (call $spawn (i32.const 0)))))"#;
    unsafe {
        let (mut engine, mut module, mut inst, mut code) = (null_mut(), null_mut(), null_mut(), -1);
        assert!(weft_engine_new(null(), &mut engine).is_null());
        assert!(weft_module_new(engine, wat.as_ptr(), wat.len(), &mut module).is_null());
        assert!(weft_instance_new(module, null(), null(), &mut inst).is_null());
        assert!(weft_instance_run(inst, &mut code).is_null());
        assert_eq!(code, 0);
        weft_instance_delete(inst);
        weft_module_delete(module);
        weft_engine_delete(engine);
    }
}

#[test]
fn log_records_reach_the_callback_only_while_set() {
    unsafe {
        failing_spawn();
        assert!(RECORDS.lock().unwrap().is_empty());
        weft_set_log_callback(Some(record), null_mut(), WEFT_LOG_WARN);
        failing_spawn();
        let got = RECORDS.lock().unwrap().clone();
        assert!(
            got.iter()
                .any(|(l, m)| *l == WEFT_LOG_WARN && m.contains("wasi_thread_start")),
            "{got:?}"
        );
        weft_set_log_callback(None, null_mut(), 0);
        RECORDS.lock().unwrap().clear();
        failing_spawn();
        assert!(RECORDS.lock().unwrap().is_empty());
    }
}
