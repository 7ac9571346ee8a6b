//! Serialized modules and the on-disk module cache, through Rust and the C ABI.

use std::path::PathBuf;
use std::ptr::{null, null_mut};

use weft::ffi::config::*;
use weft::ffi::engine::*;
use weft::ffi::error::*;
use weft::ffi::instance::weft_bytes_free;
use weft::ffi::module::*;
use weft::runtime::{Config, Engine, ErrorKind, HostFuncs, Instance, Outcome, Program};
use weft::wasi::WasiConfig;

/// Spawns a thread that stores 1, waits for it, exits with 40 + the value.
const GUEST: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.atomic.store (i32.const 0) (i32.const 2)))
  (func (export "_start")
    (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 1)) (then (call $exit (i32.const 1))))
    (loop $w (br_if $w (i32.eqz (i32.atomic.load (i32.const 0)))))
    (call $exit (i32.add (i32.const 40) (i32.atomic.load (i32.const 0))))))"#;

fn run(program: &Program) -> Outcome {
    let inst = Instance::new(program, &WasiConfig::default(), &HostFuncs::new()).unwrap();
    inst.run().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cache_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "weftc"));
    files
}

#[test]
fn serialized_programs_run_and_garbage_is_refused() {
    let engine = Engine::new(&Config::default()).unwrap();
    let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
    let bytes = program.serialize().unwrap();
    let other = Engine::new(&Config::default()).unwrap();
    // SAFETY: serialized just above.
    let loaded = unsafe { Program::deserialize(&other, &bytes) }.unwrap();
    assert!(loaded.uses_threads());
    assert_eq!(run(&loaded), Outcome::Exit(42));
    for bad in [
        &b"garbage"[..],
        &bytes[..bytes.len() / 2],
        GUEST.as_bytes(),
        &[],
    ] {
        // SAFETY: rejected before any code is loaded (not a serialized module).
        let err = unsafe { Program::deserialize(&engine, bad) }
            .err()
            .expect("refused");
        assert_eq!(err.kind(), ErrorKind::Compile, "{err}");
    }
}

#[test]
fn cache_dir_stores_reuses_and_survives_corruption() {
    let dir = temp_dir("cache");
    let config = Config {
        cache_dir: Some(dir.clone()),
        ..Config::default()
    };
    let engine = Engine::new(&config).unwrap();
    assert_eq!(
        run(&Program::from_bytes(&engine, GUEST.as_bytes()).unwrap()),
        Outcome::Exit(42)
    );
    let files = cache_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let good = std::fs::read(&files[0]).unwrap();
    // A hit in a new engine (and process-independent file name).
    let engine = Engine::new(&config).unwrap();
    assert_eq!(
        run(&Program::from_bytes(&engine, GUEST.as_bytes()).unwrap()),
        Outcome::Exit(42)
    );
    assert_eq!(cache_files(&dir), files);
    // Damaged files are misses: the module compiles again and the file is rewritten.
    let mut flipped = good.clone();
    let at = good.len() - good.len() / 3;
    flipped[at] ^= 0xff;
    for damaged in [
        flipped,
        good[..good.len() / 2].to_vec(),
        b"junk".to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&files[0], &damaged).unwrap();
        let program = Program::from_bytes(&engine, GUEST.as_bytes()).unwrap();
        assert_eq!(run(&program), Outcome::Exit(42));
        assert_eq!(std::fs::read(&files[0]).unwrap(), good);
    }
    // Different bytes, different entry.
    let other = GUEST.replace("i32.const 40", "i32.const 50");
    let program = Program::from_bytes(&engine, other.as_bytes()).unwrap();
    assert_eq!(run(&program), Outcome::Exit(52));
    assert_eq!(cache_files(&dir).len(), 2);
    // An unusable cache directory only costs the cache.
    let blocked = dir.join("weft.file");
    std::fs::write(&blocked, b"not a directory").unwrap();
    let engine = Engine::new(&Config {
        cache_dir: Some(blocked.join("sub")),
        ..Config::default()
    })
    .unwrap();
    assert_eq!(
        run(&Program::from_bytes(&engine, GUEST.as_bytes()).unwrap()),
        Outcome::Exit(42)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

unsafe fn error_kind(err: *mut weft_error_t) -> u32 {
    assert!(!err.is_null(), "expected an error");
    let k = unsafe { weft_error_kind(err) };
    unsafe { weft_error_delete(err) };
    k
}

#[test]
fn c_abi_serialize_deserialize_and_cache_dir() {
    let dir = temp_dir("c-cache");
    let dir_str = dir.to_str().unwrap();
    unsafe {
        let config = weft_config_new();
        assert!(
            weft_config_set_cache_dir(config, dir_str.as_ptr().cast(), dir_str.len()).is_null()
        );
        let mut engine = null_mut();
        assert!(weft_engine_new(config, &mut engine).is_null());
        let mut module = null_mut();
        assert!(weft_module_new(engine, GUEST.as_ptr(), GUEST.len(), &mut module).is_null());
        assert_eq!(cache_files(&dir).len(), 1);

        let (mut data, mut len) = (null_mut(), 0usize);
        assert!(weft_module_serialize(module, &mut data, &mut len).is_null());
        assert!(len > 0);
        let mut copy = null_mut();
        assert!(weft_module_deserialize(engine, data, len, &mut copy).is_null());
        assert!(weft_module_uses_threads(copy));
        let mut bad = null_mut();
        let n = WEFT_ERROR_NULL_ARGUMENT;
        assert_eq!(
            error_kind(weft_module_deserialize(engine, data, len / 2, &mut bad)),
            WEFT_ERROR_COMPILE
        );
        assert!(bad.is_null());
        assert_eq!(
            error_kind(weft_module_deserialize(null(), data, len, &mut bad)),
            n
        );
        assert_eq!(
            error_kind(weft_module_deserialize(engine, null(), len, &mut bad)),
            n
        );
        assert_eq!(
            error_kind(weft_module_deserialize(engine, data, len, null_mut())),
            n
        );
        assert_eq!(
            error_kind(weft_module_serialize(null(), &mut data, &mut len)),
            n
        );
        assert_eq!(
            error_kind(weft_module_serialize(module, null_mut(), &mut len)),
            n
        );
        assert_eq!(
            error_kind(weft_module_serialize(module, &mut data, null_mut())),
            n
        );
        weft_bytes_free(data, len);

        assert_eq!(
            error_kind(weft_config_set_cache_dir(null_mut(), null(), 0)),
            n
        );
        assert_eq!(error_kind(weft_config_set_cache_dir(config, null(), 3)), n);
        assert_eq!(
            error_kind(weft_config_set_cache_dir(
                config,
                b"\xff".as_ptr().cast(),
                1
            )),
            WEFT_ERROR_INVALID_ARGUMENT
        );
        assert!(weft_config_set_cache_dir(config, null(), 0).is_null());

        weft_module_delete(copy);
        weft_module_delete(module);
        weft_engine_delete(engine);
        weft_config_delete(config);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
