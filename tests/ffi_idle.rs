//! `weft_release_idle_threads` empties the pool of parked OS threads.

use std::ptr::{null, null_mut};

use weft::ffi::engine::*;
use weft::ffi::idle_threads::weft_release_idle_threads;
use weft::ffi::instance::*;
use weft::ffi::module::*;

#[test]
fn idle_threads_can_be_released() {
    let wat = br#"(module (func (export "_start")))"#;
    unsafe {
        let (mut engine, mut module, mut inst, mut code) = (null_mut(), null_mut(), null_mut(), -1);
        assert!(weft_engine_new(null(), &mut engine).is_null());
        assert!(weft_module_new(engine, wat.as_ptr(), wat.len(), &mut module).is_null());
        assert!(weft_instance_new(module, null(), null(), &mut inst).is_null());
        assert!(weft_instance_run(inst, &mut code).is_null());
        weft_instance_delete(inst);
        weft_module_delete(module);
        weft_engine_delete(engine);
    }
    // The main guest thread ran on a pooled OS thread, which parks afterwards
    // (it may take a moment to get back into the pool).
    let mut released = 0;
    for _ in 0..1000 {
        released += weft_release_idle_threads();
        if released > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(released >= 1);
    assert_eq!(weft_release_idle_threads(), 0);
}
