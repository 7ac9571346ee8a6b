//! Every configuration rule lives in `runtime::Config`: C's setters (and
//! `weft_engine_new`) refuse exactly what Rust's `Config::validate` and
//! `Engine::new` refuse, with the same kind and message.

use std::ffi::CStr;

use weft::ffi::config::*;
use weft::ffi::engine::{weft_engine_delete, weft_engine_new};
use weft::ffi::error::*;
use weft::runtime::{Config, Engine, DEFAULT_MAX_THREADS};

/// The kind and message of `err`, which is freed; `None` for NULL.
fn take(err: *mut weft_error_t) -> Option<(u32, String)> {
    if err.is_null() {
        return None;
    }
    // SAFETY: a live error from weft, freed once here.
    unsafe {
        let message = CStr::from_ptr(weft_error_message(err));
        let found = (weft_error_kind(err), message.to_str().unwrap().to_string());
        weft_error_delete(err);
        Some(found)
    }
}

/// Runs a C setter on a fresh configuration, then `weft_engine_new` on it.
fn in_c(set: fn(*mut weft_config_t) -> *mut weft_error_t) -> Option<(u32, String)> {
    let config = weft_config_new();
    let refused = take(set(config)).or_else(|| {
        let mut engine = std::ptr::null_mut();
        // SAFETY: a live config and a writable out-pointer; each freed once.
        let found = take(unsafe { weft_engine_new(config, &mut engine) });
        unsafe { weft_engine_delete(engine) };
        found
    });
    // SAFETY: from `weft_config_new`, freed once.
    unsafe { weft_config_delete(config) };
    refused
}

/// What `Engine::new` says of a default configuration changed by `set`.
fn in_rust(set: fn(&mut Config)) -> Option<(u32, String)> {
    let mut config = Config::default();
    set(&mut config);
    assert_eq!(
        config.validate().err().map(|e| e.to_string()),
        Engine::new(&config).err().map(|e| e.to_string()),
    );
    Engine::new(&config)
        .err()
        .map(|e| (e.kind() as u32, e.message().to_string()))
}

type Case = (
    &'static str,
    fn(*mut weft_config_t) -> *mut weft_error_t,
    fn(&mut Config),
);

#[test]
fn c_and_rust_refuse_the_same_configurations_with_the_same_message() {
    // SAFETY (every C call): a live config from `weft_config_new`.
    let refused: [Case; 4] = [
        (
            "no threads",
            |c| unsafe { weft_config_set_max_threads(c, 0) },
            |c| c.max_threads = 0,
        ),
        (
            "no wasm stack",
            |c| unsafe { weft_config_set_wasm_stack_size(c, 0) },
            |c| c.wasm_stack_size = 0,
        ),
        (
            "OS stack under 64 KiB",
            |c| unsafe { weft_config_set_os_stack_size(c, 64 * 1024 - 1) },
            |c| c.os_stack_size = 64 * 1024 - 1,
        ),
        (
            "OS stack not above the wasm stack",
            |c| unsafe { weft_config_set_wasm_stack_size(c, 4 << 20) },
            |c| c.wasm_stack_size = 4 << 20,
        ),
    ];
    for (what, c_set, rust_set) in refused {
        let c = in_c(c_set).unwrap_or_else(|| panic!("C accepts {what}"));
        let rust = in_rust(rust_set).unwrap_or_else(|| panic!("Rust accepts {what}"));
        assert_eq!(c, rust, "{what}");
        assert_eq!(c.0, WEFT_ERROR_INVALID_ARGUMENT, "{what}");
    }
    // The setters' own rules refuse at set time, in C and in Rust alike.
    let mut config = Config::default();
    for (e, field) in [
        (config.set_max_threads(0), "max threads"),
        (config.set_wasm_stack_size(0), "wasm stack"),
        (config.set_os_stack_size(1024), "OS stack"),
    ] {
        assert!(e.unwrap_err().message().starts_with(field));
    }
    assert_eq!(config.max_threads, DEFAULT_MAX_THREADS);
    // The smallest values each rule allows pass both.
    let accepted: [Case; 3] = [
        (
            "one thread",
            |c| unsafe { weft_config_set_max_threads(c, 1) },
            |c| c.max_threads = 1,
        ),
        (
            "a one-byte wasm stack",
            |c| unsafe { weft_config_set_wasm_stack_size(c, 1) },
            |c| c.wasm_stack_size = 1,
        ),
        (
            "a 64 KiB OS stack",
            |c| unsafe { weft_config_set_os_stack_size(c, 64 * 1024) },
            |c| {
                c.os_stack_size = 64 * 1024;
                c.wasm_stack_size = 32 * 1024;
            },
        ),
    ];
    for (what, c_set, rust_set) in accepted {
        let mut config = Config::default();
        rust_set(&mut config);
        assert!(config.validate().is_ok(), "Rust refuses {what}");
        let c = weft_config_new();
        // SAFETY: a live config, freed once.
        unsafe {
            assert!(take(c_set(c)).is_none(), "C refuses {what}");
            weft_config_delete(c);
        }
    }
}
