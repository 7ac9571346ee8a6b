//! Shared helpers for the integration tests: build guests ([`guest`]), run
//! programs, make scratch directories.
#![allow(dead_code)] // each test crate uses a different subset

pub mod guest;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use weft::runtime::{Config, Engine, HostFuncs, Instance, Outcome, Program};
use weft::wasi::{Stdio, WasiConfig};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory under cargo's target tmpdir.
pub fn scratch_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "scratch-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// What a finished run produced.
pub struct RunResult {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the program in `wasm` (file path) with `cfg`, capturing stdout and
/// stderr.
pub fn run_file(wasm: &Path, cfg: &WasiConfig) -> RunResult {
    let bytes = std::fs::read(wasm).expect("read guest");
    run_bytes(&bytes, cfg)
}

/// Runs a binary or WAT program with `cfg`, capturing stdout and stderr.
pub fn run_bytes(bytes: &[u8], cfg: &WasiConfig) -> RunResult {
    let inst = instance(bytes, cfg, None);
    let outcome = inst.run().expect("run");
    assert_all_threads_stopped(&inst, "run_bytes");
    RunResult {
        outcome,
        stdout: String::from_utf8_lossy(&inst.wasi().captured_stdout()).into_owned(),
        stderr: String::from_utf8_lossy(&inst.wasi().captured_stderr()).into_owned(),
    }
}

/// Asserts that no thread of `inst` runs on after its program ended: each
/// is waited for as long as a sanitized build could need (30 s), since a
/// thread that was not stopped never ends. `run` itself returns after the
/// grace period even then, so a bound on its time cannot tell the two apart.
pub fn assert_all_threads_stopped(inst: &Instance, what: &str) {
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !inst.threads().threads.is_empty() {
        assert!(
            std::time::Instant::now() < limit,
            "{what}: threads run on after the end: {}",
            inst.threads()
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Instantiates a program with stdout/stderr captured (unless `cfg` says
/// otherwise) and an optional wall-clock timeout.
pub fn instance(bytes: &[u8], cfg: &WasiConfig, timeout: Option<std::time::Duration>) -> Instance {
    let config = Config {
        timeout,
        ..Config::default()
    };
    let engine = Engine::new(&config).expect("engine");
    let program = Program::from_bytes(&engine, bytes).expect("compile");
    Instance::new(&program, cfg, &HostFuncs::new()).expect("instantiate")
}

/// A configuration with captured stdout/stderr and `args`.
pub fn captured(args: &[&str]) -> WasiConfig {
    let mut cfg = WasiConfig::new();
    cfg.args(args.iter().copied())
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture)
        .stdin(Stdio::Null);
    cfg
}

/// Asserts the program exited with 0, showing its output otherwise.
pub fn assert_ok(r: &RunResult) {
    assert_eq!(
        r.outcome,
        Outcome::Exit(0),
        "guest failed\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout,
        r.stderr
    );
}
