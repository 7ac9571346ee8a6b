//! The parallelism hint (issue 24): `WasiConfig::parallelism` gives the guest
//! `RAYON_NUM_THREADS` and `OMP_NUM_THREADS` where its configured
//! environment lacks them, capped at the engine's thread limit; nothing by
//! default. The guest (`c-tests/guests/wat/print_env.wat`) prints its
//! environment. The C setter refuses what the Rust rule refuses, with the
//! same message. (weft-run's flag and the rayon guests: ctests
//! `rust_guest_rayon_*` and `test_parallelism`; Python: `test_wasi.py`.)

mod common;

use std::ffi::CStr;

use weft::ffi::error::{weft_error_delete, weft_error_kind, weft_error_message};
use weft::ffi::wasi_config::*;
use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program};
use weft::wasi::{host_parallelism, Parallelism, WasiConfig, PARALLELISM_VARIABLES};

/// The environment `print_env.wat` sees under `config` and `wasi` (stdout
/// captured here), one `NAME=VALUE` per entry.
fn guest_env(config: &Config, wasi: &WasiConfig) -> Vec<String> {
    let bytes = std::fs::read(common::root().join("c-tests/guests/wat/print_env.wat")).unwrap();
    let engine = Engine::new(config).expect("engine");
    let program = Program::from_bytes(&engine, &bytes).expect("compile");
    let mut wasi = wasi.clone();
    wasi.stdout(weft::wasi::Stdio::Capture);
    let inst = Instance::new(&program, &wasi, &HostFuncs::new()).expect("instantiate");
    assert_eq!(inst.run().expect("run"), Outcome::Exit(0));
    let out = String::from_utf8(inst.wasi().captured_stdout()).unwrap();
    out.lines().map(String::from).collect()
}

fn with(p: Parallelism) -> WasiConfig {
    let mut w = WasiConfig::new();
    w.env("A", "1").parallelism(p);
    w
}

fn max_threads(n: u32) -> Config {
    Config {
        max_threads: n,
        ..Config::default()
    }
}

#[test]
fn the_default_adds_nothing() {
    assert_eq!(WasiConfig::new().parallelism, Parallelism::None);
    let mut w = WasiConfig::new();
    w.env("A", "1");
    assert_eq!(guest_env(&Config::default(), &w), ["A=1"]);
    assert_eq!(
        guest_env(&Config::default(), &with(Parallelism::None)),
        ["A=1"]
    );
}

#[test]
fn fixed_sets_both_variables_after_the_configured_ones() {
    assert_eq!(
        PARALLELISM_VARIABLES,
        ["RAYON_NUM_THREADS", "OMP_NUM_THREADS"]
    );
    let three = Parallelism::fixed(3).unwrap();
    assert_eq!(
        guest_env(&Config::default(), &with(three)),
        ["A=1", "RAYON_NUM_THREADS=3", "OMP_NUM_THREADS=3"]
    );
}

#[test]
fn host_is_the_host_parallelism_capped_by_the_thread_limit() {
    let n = host_parallelism();
    assert!(n >= 1);
    assert_eq!(
        guest_env(&Config::default(), &with(Parallelism::Host)),
        [
            "A=1".to_string(),
            format!("RAYON_NUM_THREADS={n}"),
            format!("OMP_NUM_THREADS={n}")
        ]
    );
    assert_eq!(
        guest_env(&max_threads(1), &with(Parallelism::Host)),
        ["A=1", "RAYON_NUM_THREADS=1", "OMP_NUM_THREADS=1"]
    );
}

#[test]
fn the_thread_limit_caps_a_fixed_number() {
    let three = Parallelism::fixed(3).unwrap();
    assert_eq!(
        guest_env(&max_threads(2), &with(three)),
        ["A=1", "RAYON_NUM_THREADS=2", "OMP_NUM_THREADS=2"]
    );
}

#[test]
fn a_variable_the_embedder_set_wins() {
    let mut w = with(Parallelism::fixed(3).unwrap());
    w.env("RAYON_NUM_THREADS", "1");
    assert_eq!(
        guest_env(&Config::default(), &w),
        ["A=1", "RAYON_NUM_THREADS=1", "OMP_NUM_THREADS=3"]
    );
}

#[test]
fn zero_threads_is_refused_by_rust_and_c_with_one_message() {
    let rule = Parallelism::fixed(0).unwrap_err().to_string();
    assert_eq!(rule, "parallelism must be at least 1 thread");
    // SAFETY: a config from weft_wasi_config_new, errors freed once.
    unsafe {
        let c = weft_wasi_config_new();
        let refused = |err: *mut weft::ffi::error::weft_error_t| {
            assert!(!err.is_null());
            let kind = weft_error_kind(err);
            let msg = CStr::from_ptr(weft_error_message(err))
                .to_string_lossy()
                .into_owned();
            weft_error_delete(err);
            (kind, msg)
        };
        let invalid = weft::ffi::error::WEFT_ERROR_INVALID_ARGUMENT;
        assert_eq!(
            refused(weft_wasi_config_set_parallelism(
                c,
                WEFT_PARALLELISM_FIXED,
                0
            )),
            (invalid, rule)
        );
        let (kind, msg) = refused(weft_wasi_config_set_parallelism(c, 7, 0));
        assert_eq!(
            (kind, msg.as_str()),
            (invalid, "unknown parallelism mode 7")
        );
        let (kind, msg) = refused(weft_wasi_config_set_parallelism(
            c,
            WEFT_PARALLELISM_HOST,
            4,
        ));
        assert_eq!(kind, invalid);
        assert!(msg.contains("only for WEFT_PARALLELISM_FIXED"), "{msg}");
        for (mode, threads) in [
            (WEFT_PARALLELISM_FIXED, 5),
            (WEFT_PARALLELISM_HOST, 0),
            (WEFT_PARALLELISM_NONE, 0),
        ] {
            assert!(weft_wasi_config_set_parallelism(c, mode, threads).is_null());
        }
        weft_wasi_config_delete(c);
        assert_eq!(weft_host_parallelism(), host_parallelism());
    }
}
