//! Loads arbitrary bytes as a module; when they form one, instantiates and
//! runs it with a short timeout. Any panic, abort or hang is a bug.
//!
//! ```text
//! cargo +nightly fuzz run load_and_run -- -max_total_time=60
//! ```
//!
//! Without cargo-fuzz, `cargo test --test bad_input` runs the same loop over
//! random, mutated and wasm-smith modules on stable Rust.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use weft::runtime::{Config, Engine, HostFuncs, Instance, Program};
use weft::wasi::{Stdio, WasiConfig};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(&Config {
            timeout: Some(Duration::from_millis(50)),
            max_threads: 8,
            max_memory: Some(16 << 20),
            ..Config::default()
        })
        .expect("engine")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_bytes(engine(), data) else {
        return;
    };
    let mut wasi = WasiConfig::new();
    wasi.stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    let Ok(instance) = Instance::new(&program, &wasi, &HostFuncs::new()) else {
        return;
    };
    if program.is_command() {
        let _ = instance.run();
    }
});
