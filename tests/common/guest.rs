//! Building test guests: the one way the Rust tests turn a C or Rust source
//! into a `.wasm` file (WAT needs no build: weft compiles text).
//!
//! Each function takes the source's path relative to the repository root and
//! returns the module's path under cargo's target tmpdir. A guest is built
//! once per test process, whichever test asks first. The flags are those
//! CMake uses for the same kind of guest (`cmake/WeftGuests.cmake`,
//! `cmake/WeftAddWasmGuest.cmake`), so a guest built here is the one ctest
//! runs.
//!
//! * [`libc`]: non-threaded C against Debian's wasi-libc. Every machine of
//!   this project has it: a missing toolchain fails the test.
//! * [`pthread`]: pthread C with the wasi-sdk in `WASI_SDK_PATH`
//!   ([`pthread_debug`]: with `-g`).
//! * [`rust`]: Rust `std::thread` with rustc's `wasm32-wasip1-threads` target.
//!
//! When `WASI_SDK_PATH` is not set, or the rustup target is not installed,
//! [`pthread`] and [`rust`] say on stderr which test is skipped and why, and
//! return `None`: the test returns early and passes. A `WASI_SDK_PATH` that is
//! set must work (as for CMake, where it is a configure error).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::root;

/// The shared memory's maximum in pthread guests (64 MiB, CMake's default).
const MAX_MEMORY: &str = "67108864";

/// Where a pthread guest's linear memory comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Imported and exported (`-Wl,--import-memory,--export-memory`): what
    /// wasi-threads hosts expect, and what CMake's guests do.
    Imported,
    /// Defined by the module itself (only `--max-memory`).
    Defined,
}

/// Compiles `src` (e.g. `"c-tests/guests/wasi/files.c"`) with
/// `clang-19 --target=wasm32-wasi --sysroot=/usr -O1 -Wall -Werror`
/// (CMake's `weft_libc_guest`). Panics (fails the test) with a clear message
/// if clang-19 or the wasi-libc sysroot is missing: these tests never skip.
pub fn libc(src: &str) -> PathBuf {
    build(src, "libc", |out| {
        let mut cmd = Command::new("clang-19");
        cmd.args([
            "--target=wasm32-wasi",
            "--sysroot=/usr",
            "-O1",
            "-Wall",
            "-Werror",
            "-o",
        ])
        .arg(out)
        .arg(root().join(src));
        (
            cmd,
            "install Debian packages clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc \
             to build the C test guests"
                .to_string(),
        )
    })
}

/// Compiles and links the pthread C guest `src` with
/// `$WASI_SDK_PATH/bin/clang --target=wasm32-wasip1-threads -pthread -O2
/// -Wall -Wextra -Werror` and its memory `memory` (with `--max-memory` 64
/// MiB; CMake's `weft_add_wasm_guest(THREADS)`), or says why `test` is
/// skipped and returns `None` when `WASI_SDK_PATH` is not set.
pub fn pthread(test: &str, src: &str, memory: Memory) -> Option<PathBuf> {
    pthread_built(test, src, memory, false)
}

/// [`pthread`] with `-g`: the module keeps its DWARF (custom sections
/// `.debug_*`), from which the race detector names data addresses.
pub fn pthread_debug(test: &str, src: &str) -> Option<PathBuf> {
    pthread_built(test, src, Memory::Imported, true)
}

fn pthread_built(test: &str, src: &str, memory: Memory, debug: bool) -> Option<PathBuf> {
    let Some(sdk) = std::env::var_os("WASI_SDK_PATH").filter(|p| !p.is_empty()) else {
        eprintln!("skipping {test}: WASI_SDK_PATH is not set (point it at a wasi-sdk)");
        return None;
    };
    let sdk = PathBuf::from(sdk);
    let kind = match (memory, debug) {
        (_, true) => "pthread-debug",
        (Memory::Imported, false) => "pthread",
        (Memory::Defined, false) => "pthread-defined-memory",
    };
    Some(build(src, kind, |out| {
        let clang = sdk.join("bin/clang");
        let mut cmd = Command::new(&clang);
        cmd.args(["--target=wasm32-wasip1-threads", "-pthread"])
            .arg(format!(
                "--sysroot={}",
                sdk.join("share/wasi-sysroot").display()
            ))
            .args(["-O2", "-Wall", "-Wextra", "-Werror"])
            .args(debug.then_some("-g"))
            .arg(match memory {
                Memory::Imported => {
                    format!("-Wl,--import-memory,--export-memory,--max-memory={MAX_MEMORY}")
                }
                Memory::Defined => format!("-Wl,--max-memory={MAX_MEMORY}"),
            })
            .arg("-o")
            .arg(out)
            .arg(root().join(src));
        let why = format!(
            "WASI_SDK_PATH={} is set but {} cannot run",
            sdk.display(),
            clang.display()
        );
        (cmd, why)
    }))
}

/// Compiles the single-file Rust guest `src` with `rustc --target
/// wasm32-wasip1-threads --edition 2021 -O -C strip=debuginfo` (`$RUSTC`
/// if set), or says why `test` is skipped and returns `None` when that
/// target is not installed.
pub fn rust(test: &str, src: &str) -> Option<PathBuf> {
    let rustc: OsString = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(&rustc)
        .args([
            "--print",
            "target-libdir",
            "--target",
            "wasm32-wasip1-threads",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if !libdir.is_some_and(|d| d.exists()) {
        eprintln!(
            "skipping {test}: the wasm32-wasip1-threads target is not installed \
             (rustup target add wasm32-wasip1-threads)"
        );
        return None;
    }
    Some(build(src, "rust", |out| {
        let mut cmd = Command::new(&rustc);
        cmd.args([
            "--target",
            "wasm32-wasip1-threads",
            "--edition",
            "2021",
            "-O",
            "-C",
            "strip=debuginfo",
            "-o",
        ])
        .arg(out)
        .arg(root().join(src));
        (cmd, "cannot run rustc".to_string())
    }))
}

/// Builds `src` once per process into
/// `$CARGO_TARGET_TMPDIR/guests/<kind>/<src without extension>.wasm` with the
/// command `command(output)` returns (with what to say if it cannot run).
/// The module is written under a temporary name and renamed, so a test
/// process never reads one that another is still writing.
fn build(src: &str, kind: &str, command: impl FnOnce(&Path) -> (Command, String)) -> PathBuf {
    static BUILT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("guests")
        .join(kind)
        .join(Path::new(src).with_extension("wasm"));
    // Held while building: two tests asking for one guest build it once.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.contains(&out) {
        return out;
    }
    std::fs::create_dir_all(out.parent().expect("a file name")).expect("create guest output dir");
    let tmp = out.with_extension(format!("{}.tmp.wasm", std::process::id()));
    let (mut cmd, why) = command(&tmp);
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {:?} ({e}): {why}", cmd.get_program()));
    assert!(status.success(), "{cmd:?} failed to build {src}");
    std::fs::rename(&tmp, &out).expect("move the built guest in place");
    built.push(out.clone());
    out
}
