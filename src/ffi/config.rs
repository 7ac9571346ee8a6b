//! `weft_config_t`: engine-wide limits, set before `weft_engine_new`.

use std::ffi::c_char;
use std::time::Duration;

use crate::ffi::boundary::{utf8, write_out};
use crate::ffi::error::{guard, weft_error_t};
use crate::ffi::handle::{free_box, to_boxed, try_mut, try_ref, Boxed, Handle};
use crate::runtime::{Config, Error, ErrorKind, Profiler, WasmFeatures, ALL_PROPOSALS};

/// Engine settings. Created with defaults by `weft_config_new`.
pub struct weft_config_t {
    pub(crate) config: Config,
}

impl Handle for weft_config_t {
    type Ownership = Boxed;
}

/// Creates a configuration with default limits (1024 threads per program,
/// 512 KiB wasm stack, 2 MiB OS stack, no memory cap, no timeout).
///
/// **Ownership**: the caller owns the result; free with `weft_config_delete`.
/// **Errors**: returns NULL only if allocation fails.
#[no_mangle]
pub extern "C" fn weft_config_new() -> *mut weft_config_t {
    to_boxed(weft_config_t {
        config: Config::default(),
    })
}

/// Frees a configuration. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `config`.
#[no_mangle]
pub unsafe extern "C" fn weft_config_delete(config: *mut weft_config_t) {
    // SAFETY: NULL or from `weft_config_new`.
    unsafe { free_box(config) }
}

fn set(
    config: *mut weft_config_t,
    f: impl FnOnce(&mut Config) -> Result<(), Error>,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live config, not used concurrently (caller serialises).
        let c = unsafe { try_mut(config, "config") }?;
        f(&mut c.config)
    })
}

/// Sets the most guest threads (besides the main thread) alive at once in one
/// program. Spawning past it makes `thread-spawn` return a negative value.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for 0.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_max_threads(
    config: *mut weft_config_t,
    max_threads: u32,
) -> *mut weft_error_t {
    set(config, |c| c.set_max_threads(max_threads))
}

/// Sets the wasm stack limit per guest thread, in bytes; deeper recursion traps.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for 0.
/// The OS stack size must stay larger (checked by `weft_engine_new`).
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_wasm_stack_size(
    config: *mut weft_config_t,
    bytes: usize,
) -> *mut weft_error_t {
    set(config, |c| c.set_wasm_stack_size(bytes))
}

/// Sets the OS stack size of each guest thread, in bytes.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` below 64 KiB.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_os_stack_size(
    config: *mut weft_config_t,
    bytes: usize,
) -> *mut weft_error_t {
    set(config, |c| c.set_os_stack_size(bytes))
}

/// Caps each program's linear memory at `bytes` (rounded down to whole wasm
/// pages); `memory.grow` past it returns -1. `0` removes the cap.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_max_memory(
    config: *mut weft_config_t,
    bytes: u64,
) -> *mut weft_error_t {
    set(config, |c| {
        c.max_memory = (bytes != 0).then_some(bytes);
        Ok(())
    })
}

/// Sets a wall-clock limit for each run, in milliseconds, counted from
/// `weft_instance_start`/`weft_instance_run`; `0` means none. A run that
/// exceeds it ends with `WEFT_ERROR_TIMED_OUT`.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_timeout_ms(
    config: *mut weft_config_t,
    timeout_ms: u64,
) -> *mut weft_error_t {
    set(config, |c| {
        c.timeout = (timeout_ms != 0).then(|| Duration::from_millis(timeout_ms));
        Ok(())
    })
}

/// Sets a directory in which compiled modules are cached across processes;
/// an empty path (`path_len == 0`, `path` may be NULL) turns the cache off
/// (the default). `weft_module_new`/`weft_module_new_file` then look a module
/// up by its bytes and the engine's configuration, and on a miss compile it
/// and store it (creating the directory). A damaged or foreign cache file is
/// ignored and replaced, never loaded; write failures are only logged.
///
/// **Safety**: cached files are loaded as native code. Use a directory that
/// only the user running the host can write.
/// **Ownership**: `path` (UTF-8, not NUL-terminated) need only be valid for the call.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for
/// invalid UTF-8.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_cache_dir(
    config: *mut weft_config_t,
    path: *const c_char,
    path_len: usize,
) -> *mut weft_error_t {
    set(config, |c| {
        // SAFETY: (ptr, len) per the documented contract.
        let path = unsafe { utf8(path, path_len, "path") }?;
        c.cache_dir = (!path.is_empty()).then(|| path.into());
        Ok(())
    })
}

/// Whether the end of a program stops threads that are running wasm code:
/// `true` (the default) compiles a stop check into every loop and the entry
/// of every function that calls (a load, a test and a branch; see
/// docs/performance.md). With `false` those checks are left out: a thread
/// inside a wasm loop that makes no WASI call and no `memory.atomic.wait`
/// then keeps running after its program ended (an exit or trap elsewhere, a
/// timeout, an interrupt), and `weft_config_set_timeout_ms` cannot stop it;
/// the run still returns after a grace period. Only for trusted guests whose
/// threads finish on their own. Compiled modules (and cache entries) of the
/// settings differ.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_interrupt_wasm(
    config: *mut weft_config_t,
    interrupt: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        c.interrupt_wasm = interrupt;
        Ok(())
    })
}

/// Whether thread dumps (`weft_instance_dump`) also show the backtraces of
/// threads that are running wasm code; `false` by default. weft's own stop
/// checks cannot answer a dump, so by default such a thread is listed with
/// its state and CPU time but no frames (threads in WASI calls, host
/// functions and waits always have theirs). `true` compiles Wasmtime's epoch
/// checks instead, which answer dumps and make tight loops 20-30 % slower
/// (docs/performance.md). No effect with `weft_config_set_interrupt_wasm(false)`.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_precise_dumps(
    config: *mut weft_config_t,
    precise: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        c.precise_dumps = precise;
        Ok(())
    })
}

/// Whether a program's shared memory is backed with transparent huge pages
/// where the system allows; `true` by default. weft advises the kernel
/// (Linux `madvise(MADV_HUGEPAGE)`, over that memory's own reservation
/// only) so that every 2 MiB-aligned stretch the guest has grown over takes
/// one page fault instead of 512 and far fewer TLB misses (two threads summing
/// a 32 MiB array: 13 % less time; docs/performance.md). The
/// price: such a stretch is backed whole once any byte of it is touched,
/// and a page fault may wait while the kernel compacts memory. `false`
/// keeps the kernel's 4 KiB pages. No effect when the system's THP mode is
/// `never`; compiled modules and cache entries do not depend on it.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_huge_pages(
    config: *mut weft_config_t,
    huge_pages: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        c.huge_pages = huge_pages;
        Ok(())
    })
}

/// Turns the data race detector on or off (default off; README "Finding
/// data races"). On, modules compiled with engines of this configuration
/// are instrumented: every plain load, store and bulk memory operation on
/// the shared memory, every atomic and the guest memory WASI calls touch
/// are checked for data races (happens-before, vector clocks), and each
/// race found is logged (`weft_set_log_callback`, level warn) and listed by
/// `weft_instance_race_count`/`weft_instance_race_report`. Programs run
/// 10-45 times slower (README); the module cache keeps instrumented modules
/// apart from the others. Off, modules and runs are exactly as without
/// this setting.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_detect_races(
    config: *mut weft_config_t,
    enabled: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        c.detect_races = enabled;
        Ok(())
    })
}

/// Turns deadlock detection on (the default) or off. With it on, a command
/// (`weft_instance_run`/`start`) whose every live thread is parked in a
/// `memory.atomic.wait` without a timeout ends at once with
/// `WEFT_ERROR_DEADLOCK`, its message holding the thread dump. Timed waits,
/// sleeps, blocking reads, host functions and reactors (between or during
/// `weft_instance_call`) are never taken for a deadlock.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_deadlock_detection(
    config: *mut weft_config_t,
    enabled: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        c.deadlock_detection = enabled;
        Ok(())
    })
}

/// No profiler (the default).
pub const WEFT_PROFILER_NONE: u32 = 0;
/// Write `/tmp/perf-<pid>.map` so `perf report` names guest functions.
pub const WEFT_PROFILER_PERFMAP: u32 = 1;
/// Write a jitdump file (`jit-<pid>.dump`, in the current directory) for
/// `perf record -k 1` and `perf inject --jit` (Linux); needs the cargo
/// feature `jitdump`, which default builds have.
pub const WEFT_PROFILER_JITDUMP: u32 = 2;

/// Chooses a profiler through which `perf` sees compiled guest functions
/// (Wasmtime's profiling agents), one of `WEFT_PROFILER_*`.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for
/// an unknown value, or `WEFT_PROFILER_JITDUMP` in a library built without
/// the default cargo feature `jitdump` (the message names the feature).
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_profiler(
    config: *mut weft_config_t,
    profiler: u32,
) -> *mut weft_error_t {
    set(config, |c| {
        c.profiler = match profiler {
            WEFT_PROFILER_NONE => Profiler::None,
            WEFT_PROFILER_PERFMAP => Profiler::PerfMap,
            WEFT_PROFILER_JITDUMP => Profiler::JitDump,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown profiler {other}"),
                ))
            }
        };
        Profiler::check(c.profiler)
    })
}

/// Switches one WebAssembly proposal on or off, by its `wasmtime run -W`
/// name: `simd`, `relaxed-simd`, `bulk-memory`, `multi-value`,
/// `reference-types`, `tail-call`, `multi-memory`, `memory64`,
/// `extended-const`, `function-references`, `gc`, `exceptions`, `threads`,
/// `shared-memory`, `wide-arithmetic`, `custom-page-sizes`, or
/// `all-proposals` (every one; off: all but `threads` and `shared-memory`).
/// `weft_wasm_feature_names` lists them. One setter taking a name, rather
/// than one function per proposal as `wasmtime.h`'s
/// `wasmtime_config_wasm_*_set`: the names are Wasmtime's, and a proposal
/// added later needs no new function.
///
/// The defaults are `wasmtime run` 48's (all on but `wide-arithmetic` and
/// `custom-page-sizes`) plus shared memory. `threads` and `shared-memory`
/// cannot be switched off (weft always runs wasi-threads). A module that
/// uses a switched-off proposal is refused by `weft_module_new` with
/// `WEFT_ERROR_COMPILE`, the message naming the switch. Compiled modules
/// (and cache entries) of different sets differ. `relaxed-simd` needs
/// `simd` (checked by `weft_engine_new`).
///
/// **Ownership**: `name` (UTF-8, not NUL-terminated) need only be valid for the call.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for an
/// unknown name (the message lists the known ones), invalid UTF-8, or
/// switching off `threads` or `shared-memory`.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_wasm_feature(
    config: *mut weft_config_t,
    name: *const c_char,
    name_len: usize,
    enable: bool,
) -> *mut weft_error_t {
    set(config, |c| {
        // SAFETY: (ptr, len) per the documented contract.
        let name = unsafe { utf8(name, name_len, "name") }?;
        c.set_wasm_feature(name, enable)
    })
}

/// Applies WebAssembly switches written as `wasmtime run -W` takes them:
/// `NAME[=y|n][,NAME[=y|n]...]` (`y`, `yes`, `true` or nothing: on; `n`,
/// `no`, `false`: off), left to right, e.g. `"exceptions=n,gc=n"`. All or
/// nothing: on an error no switch is applied. The names are those of
/// `weft_config_set_wasm_feature`.
///
/// **Ownership**: `spec` (UTF-8, not NUL-terminated) need only be valid for the call.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for an
/// empty item, an unknown name or value, invalid UTF-8, or switching off
/// `threads` or `shared-memory`.
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_config_set_wasm_features(
    config: *mut weft_config_t,
    spec: *const c_char,
    spec_len: usize,
) -> *mut weft_error_t {
    set(config, |c| {
        // SAFETY: (ptr, len) per the documented contract.
        let spec = unsafe { utf8(spec, spec_len, "spec") }?;
        c.wasm_features.parse(spec)
    })
}

/// Reads whether the WebAssembly proposal `name` is on in `config` into
/// `*enabled` (`all-proposals`: whether every one is).
///
/// **Ownership**: `name` need only be valid for the call; `config` is borrowed.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT` for an
/// unknown name or invalid UTF-8 (`*enabled` is then unchanged).
/// **Thread safety**: reads `config`; safe concurrently with other readers.
#[no_mangle]
pub unsafe extern "C" fn weft_config_wasm_feature(
    config: *const weft_config_t,
    name: *const c_char,
    name_len: usize,
    enabled: *mut bool,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live config.
        let c = unsafe { try_ref(config, "config") }?;
        // SAFETY: (ptr, len) per the documented contract.
        let name = unsafe { utf8(name, name_len, "name") }?;
        let on = c.config.wasm_features.get(name)?;
        // SAFETY: NULL or valid for writes, per the contract.
        unsafe { write_out(enabled, on, "enabled") }
    })
}

/// The names `weft_config_set_wasm_feature` accepts, comma-separated, in
/// the order of README's table: `"simd,relaxed-simd,…,all-proposals"`.
///
/// **Ownership**: a static string; never free it.
/// **Thread safety**: safe from any thread.
#[no_mangle]
pub extern "C" fn weft_wasm_feature_names() -> *const c_char {
    static NAMES: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut names: Vec<&str> = WasmFeatures::names().collect();
            names.push(ALL_PROPOSALS);
            std::ffi::CString::new(names.join(",")).expect("names have no NUL")
        })
        .as_ptr()
}
