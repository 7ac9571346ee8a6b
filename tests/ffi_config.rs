//! Every configuration rule lives in the core: C's setters (and
//! `weft_engine_new`) refuse exactly what Rust's `Config::validate` and
//! `Engine::new` refuse, and C's WASI setters exactly what
//! `WasiConfig::validate` (run when an instance is created) refuses, with
//! the same kind and message.

use std::ffi::CStr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use weft::ffi::config::*;
use weft::ffi::engine::{weft_engine_delete, weft_engine_new};
use weft::ffi::error::*;
use weft::ffi::wasi_config::*;
use weft::runtime::{Config, Engine, HostFuncs, Instance, Program, DEFAULT_MAX_THREADS};
use weft::wasi::{InvalidWasiConfig, Stdio, WasiConfig, WasiCtx};

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

/// Runs a C WASI setter on a fresh configuration.
fn in_c_wasi(set: fn(*mut weft_wasi_config_t) -> *mut weft_error_t) -> Option<(u32, String)> {
    let config = weft_wasi_config_new();
    let refused = take(set(config));
    // SAFETY: from `weft_wasi_config_new`, freed once.
    unsafe { weft_wasi_config_delete(config) };
    refused
}

/// What Rust says of a default WASI configuration changed by `set`: the
/// setter's own refusal, or else `Instance::new`'s (and `WasiCtx::new`
/// refuses it with the same words).
fn in_rust_wasi(
    program: &Program,
    set: fn(&mut WasiConfig) -> Result<(), InvalidWasiConfig>,
) -> Option<(u32, String)> {
    let mut config = WasiConfig::default();
    if let Err(e) = set(&mut config) {
        return Some((WEFT_ERROR_INVALID_ARGUMENT, e.to_string()));
    }
    assert_eq!(
        config.validate().err().map(|e| e.to_string()),
        WasiCtx::new(&config).err().map(|e| e.to_string()),
    );
    Instance::new(program, &config, &HostFuncs::new())
        .err()
        .map(|e| (e.kind() as u32, e.message().to_string()))
}

type WasiCase = (
    &'static str,
    fn(*mut weft_wasi_config_t) -> *mut weft_error_t,
    fn(&mut WasiConfig) -> Result<(), InvalidWasiConfig>,
);

/// A directory that exists, for preopens (also as a C string).
const DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn c_and_rust_refuse_the_same_wasi_configurations_with_the_same_message() {
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, b"(module)").unwrap();
    // SAFETY (every C call): a live config from `weft_wasi_config_new`,
    // (ptr, len) strings valid for the call.
    let refused: [WasiCase; 8] = [
        (
            "an empty environment variable name",
            |c| unsafe { weft_wasi_config_push_env(c, c"".as_ptr(), 0, c"v".as_ptr(), 1) },
            |c| {
                c.env("", "v");
                Ok(())
            },
        ),
        (
            "= in an environment variable name",
            |c| unsafe { weft_wasi_config_push_env(c, c"A=B".as_ptr(), 3, c"v".as_ptr(), 1) },
            |c| {
                c.env("A=B", "v");
                Ok(())
            },
        ),
        (
            "a captured stdin",
            |c| unsafe {
                weft_wasi_config_set_stdio(c, 0, WEFT_STDIO_CAPTURE, std::ptr::null(), 0)
            },
            |c| {
                c.stdin(Stdio::Capture);
                Ok(())
            },
        ),
        (
            "stdio on fd 3",
            |c| unsafe { weft_wasi_config_set_stdio(c, 3, WEFT_STDIO_NULL, std::ptr::null(), 0) },
            |c| c.set_stdio(3, Stdio::Null).map(drop),
        ),
        (
            "a host descriptor on fd 7",
            |c| unsafe { weft_wasi_config_set_stdio_fd(c, 7, 2) },
            |c| {
                let fd = OwnedFd::from(std::fs::File::open(DIR).unwrap());
                c.set_stdio(7, Stdio::Fd(Arc::new(fd))).map(drop)
            },
        ),
        (
            "an empty host path",
            |c| unsafe { weft_wasi_config_preopen_dir(c, c"".as_ptr(), 0, c"/x".as_ptr(), 2, 0) },
            |c| {
                c.preopen_dir("", "/x");
                Ok(())
            },
        ),
        (
            "an empty guest path",
            |c| unsafe {
                weft_wasi_config_preopen_dir(c, DIR.as_ptr().cast(), DIR.len(), c"".as_ptr(), 0, 0)
            },
            |c| {
                c.preopen_dir_read_only(DIR, "");
                Ok(())
            },
        ),
        (
            "an empty path with unknown flags",
            |c| unsafe { weft_wasi_config_preopen_dir(c, c"".as_ptr(), 0, c"/x".as_ptr(), 2, 77) },
            |c| {
                c.preopen_dir("", "/x");
                Ok(())
            },
        ),
    ];
    for (what, c_set, rust_set) in refused {
        let c = in_c_wasi(c_set).unwrap_or_else(|| panic!("C accepts {what}"));
        let rust =
            in_rust_wasi(&program, rust_set).unwrap_or_else(|| panic!("Rust accepts {what}"));
        assert_eq!(c, rust, "{what}");
        assert_eq!(c.0, WEFT_ERROR_INVALID_ARGUMENT, "{what}");
    }
    // The fallible setters refuse at once, leaving the configuration as it was.
    let mut config = WasiConfig::default();
    for (e, words) in [
        (
            config.try_env("", "v").err(),
            "invalid environment variable name",
        ),
        (
            config.try_env("A=B", "v").err(),
            "invalid environment variable name",
        ),
        (
            config.set_stdio(0, Stdio::Capture).err(),
            "stdin cannot be captured",
        ),
        (
            config.set_stdio(3, Stdio::Null).err(),
            "fd 3 is not a standard stream",
        ),
        (
            config.try_preopen_dir("", "/x", false).err(),
            "preopen paths",
        ),
        (config.try_preopen_dir(DIR, "", true).err(), "preopen paths"),
    ] {
        let e = e.unwrap_or_else(|| panic!("accepted: {words}"));
        assert!(e.to_string().starts_with(words), "{e}");
    }
    assert!(config.env.is_empty() && config.preopens.is_empty());
    assert!(matches!(config.stdin, Stdio::Inherit));
    // The smallest values each rule allows pass both.
    let accepted: [WasiCase; 4] = [
        (
            "a one-letter environment variable, empty value",
            |c| unsafe { weft_wasi_config_push_env(c, c"A".as_ptr(), 1, c"".as_ptr(), 0) },
            |c| c.try_env("A", "").map(drop),
        ),
        (
            "captured stderr",
            |c| unsafe {
                weft_wasi_config_set_stdio(c, 2, WEFT_STDIO_CAPTURE, std::ptr::null(), 0)
            },
            |c| c.set_stdio(2, Stdio::Capture).map(drop),
        ),
        (
            "stdin from bytes",
            |c| unsafe { weft_wasi_config_set_stdin_bytes(c, c"x".as_ptr().cast(), 1) },
            |c| c.set_stdio(0, Stdio::Bytes(b"x".to_vec())).map(drop),
        ),
        (
            "a read-only preopen",
            |c| unsafe {
                let dir = (DIR.as_ptr().cast(), DIR.len());
                weft_wasi_config_preopen_dir(c, dir.0, dir.1, c".".as_ptr(), 1, WEFT_DIR_READ_ONLY)
            },
            |c| c.try_preopen_dir(DIR, ".", true).map(drop),
        ),
    ];
    for (what, c_set, rust_set) in accepted {
        assert_eq!(in_c_wasi(c_set), None, "C refuses {what}");
        assert_eq!(
            in_rust_wasi(&program, rust_set),
            None,
            "Rust refuses {what}"
        );
    }
}
