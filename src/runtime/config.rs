//! Limits and settings shared by every program of an engine.

use std::path::PathBuf;
use std::time::Duration;

use crate::runtime::error::{Error, ErrorKind};
use crate::runtime::features::WasmFeatures;

/// Engine-wide settings. Every field has a sensible default.
///
/// [`Config::validate`] holds every rule a configuration must follow;
/// [`Engine::new`](crate::runtime::Engine::new) refuses a configuration it
/// fails. The `set_*` methods check their own field's rule at once (the C
/// API's setters use them), with the same errors.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most guest threads (besides the main thread) alive at once per
    /// program; at least 1.
    pub max_threads: u32,
    /// Most bytes of wasm stack a guest thread may use before it traps;
    /// positive.
    pub wasm_stack_size: usize,
    /// Size of each OS thread's stack; at least [`Config::MIN_OS_STACK`], and larger
    /// than `wasm_stack_size`.
    pub os_stack_size: usize,
    /// Cap on each program's memory in bytes (`None`: the module's own maximum).
    pub max_memory: Option<u64>,
    /// Wall-clock limit for one run (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Directory caching compiled modules across processes (`None`: no
    /// cache). `Program::from_bytes`/`from_file` look a module up by its bytes
    /// and this engine's configuration, and compile (and store) it on a miss.
    /// A damaged cache file is a miss. Only point this at a directory that
    /// nobody untrusted can write: cached machine code is run as is.
    pub cache_dir: Option<PathBuf>,
    /// Whether the end of a program (an exit or trap in any thread, a
    /// timeout, an interrupt) stops threads that are running wasm code
    /// (default `true`). weft compiles a stop check into every loop and the
    /// entry of every function that calls (see `precise_dumps` for the
    /// other mechanism): a load, a test and a branch, measured in
    /// docs/performance.md. With `false` the
    /// checks are left out, and a thread inside a wasm loop that makes no
    /// WASI call and no `memory.atomic.wait` keeps running after the end of
    /// its program (and `timeout` cannot stop it): `run`/`wait` still return
    /// after [`STOP_GRACE`](crate::runtime::STOP_GRACE), but that thread
    /// holds its CPU and the program's memory until its loop ends. Only for
    /// trusted guests whose threads finish on their own.
    pub interrupt_wasm: bool,
    /// Whether thread dumps also show the backtraces of threads that are
    /// running wasm code (default `false`). By default weft stops running
    /// wasm with its own stop checks, which call nothing and cost a load, a
    /// test and a branch per loop iteration; a thread between two WASI calls
    /// or waits then appears in a dump with its state and CPU time but no
    /// frames. With `true` weft uses Wasmtime's epoch interruption instead:
    /// running threads answer dumps with their frames, and tight loops run
    /// 20-30 % slower (docs/performance.md). No effect without
    /// `interrupt_wasm`.
    pub precise_dumps: bool,
    /// Whether a program's shared memory is backed with transparent huge
    /// pages where the system allows (default `true`; Linux
    /// `madvise(MADV_HUGEPAGE)` over the memory's own reservation). Every
    /// 2 MiB-aligned stretch of the memory the guest has grown over then
    /// takes one page fault instead of 512 and far fewer TLB misses (two
    /// threads summing a 32 MiB array: 13 % less time; docs/performance.md). The price: such a stretch is backed whole once
    /// any byte of it is touched, and a fault may wait for the kernel to
    /// compact memory. No effect when the system's THP mode is `never`.
    pub huge_pages: bool,
    /// End a command at once as [`Outcome::Deadlock`](crate::runtime::Outcome::Deadlock)
    /// when every live thread is parked in an untimed `memory.atomic.wait`
    /// (default: on).
    pub deadlock_detection: bool,
    /// Which profiler sees compiled guest functions (default: none).
    pub profiler: Profiler,
    /// The WebAssembly proposals modules may use (default: those of
    /// `wasmtime run` 48, plus threads and shared memory; see
    /// [`WasmFeatures`]). A module that uses a switched-off one is refused
    /// with an error naming the switch. Compiled modules (and cache
    /// entries) of different sets differ.
    pub wasm_features: WasmFeatures,
    /// Whether programs run under weft's data race detector (default
    /// `false`; README "Finding data races"). On, the load-time rewrite
    /// reports every plain load, store and bulk memory operation on the
    /// shared memory and every atomic to a happens-before detector
    /// (`runtime::races`); races are listed by [`Instance::races`] and
    /// logged. Programs run 10-45 times slower (README). Off, the module
    /// and the run are exactly those of an engine without the setting.
    /// Only programs loaded from bytes (not [`Program::from_module`] or
    /// `weft::embed`) are instrumented; the module cache keeps instrumented
    /// modules apart from the others.
    ///
    /// [`Instance::races`]: crate::runtime::Instance::races
    /// [`Program::from_module`]: crate::runtime::Program::from_module
    pub detect_races: bool,
}

/// A profiler through which `perf` and similar tools see compiled guest
/// functions (Wasmtime's profiling agents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profiler {
    /// None.
    #[default]
    None,
    /// `/tmp/perf-<pid>.map`, read by `perf report`.
    PerfMap,
    /// `./jit-<pid>.dump` in the current directory, for `perf record -k 1`
    /// and `perf inject --jit` (Linux; the default cargo feature `jitdump`).
    JitDump,
}

impl Profiler {
    /// Fails for a profiler this build cannot provide.
    pub fn check(self) -> Result<(), Error> {
        if self == Profiler::JitDump && !cfg!(feature = "jitdump") {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "jitdump profiling needs weft built with the cargo feature `jitdump` \
                 (a default feature, left out of this build)",
            ));
        }
        Ok(())
    }

    pub(crate) fn strategy(self) -> wasmtime::ProfilingStrategy {
        match self {
            Profiler::None => wasmtime::ProfilingStrategy::None,
            Profiler::PerfMap => wasmtime::ProfilingStrategy::PerfMap,
            Profiler::JitDump => wasmtime::ProfilingStrategy::JitDump,
        }
    }
}

/// Default cap on live guest threads per program.
pub const DEFAULT_MAX_THREADS: u32 = 1024;
/// Default wasm stack limit per guest thread.
pub const DEFAULT_WASM_STACK: usize = 512 * 1024;
/// Default OS stack per guest thread.
pub const DEFAULT_OS_STACK: usize = 2 * 1024 * 1024;
fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// The rule for [`Config::max_threads`].
fn check_max_threads(max_threads: u32) -> Result<(), Error> {
    if max_threads == 0 {
        return Err(invalid("max threads must be at least 1"));
    }
    Ok(())
}

/// The rule for [`Config::wasm_stack_size`] alone.
fn check_wasm_stack_size(bytes: usize) -> Result<(), Error> {
    if bytes == 0 {
        return Err(invalid("wasm stack size must be positive"));
    }
    Ok(())
}

/// The rule for [`Config::os_stack_size`] alone.
fn check_os_stack_size(bytes: usize) -> Result<(), Error> {
    if bytes < Config::MIN_OS_STACK {
        return Err(invalid("OS stack size must be at least 64 KiB"));
    }
    Ok(())
}

impl Config {
    /// Smallest OS stack a guest thread may be given (64 KiB).
    pub const MIN_OS_STACK: usize = 64 * 1024;

    /// Checks every rule: each field's own (as its `set_*` method does),
    /// then that the OS stack is larger than the wasm stack, that the
    /// WebAssembly features fit together, and that this build can provide
    /// the profiler.
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`], naming the rule broken.
    pub fn validate(&self) -> Result<(), Error> {
        check_max_threads(self.max_threads)?;
        check_wasm_stack_size(self.wasm_stack_size)?;
        check_os_stack_size(self.os_stack_size)?;
        if self.os_stack_size <= self.wasm_stack_size {
            return Err(invalid(format!(
                "OS thread stack size ({}) must be larger than the wasm stack size ({})",
                self.os_stack_size, self.wasm_stack_size
            )));
        }
        self.wasm_features.validate()?;
        self.profiler.check()
    }

    /// Switches WebAssembly feature `name` (a `wasmtime run -W` name, such
    /// as `exceptions`) on or off: [`WasmFeatures::set`].
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`] for an unknown name (the
    /// message lists the known ones) or for switching off `threads` or
    /// `shared-memory`, which weft always runs with.
    pub fn set_wasm_feature(&mut self, name: &str, enable: bool) -> Result<(), Error> {
        self.wasm_features.set(name, enable)
    }

    /// Sets [`max_threads`](Config::max_threads), refusing 0.
    pub fn set_max_threads(&mut self, max_threads: u32) -> Result<(), Error> {
        check_max_threads(max_threads)?;
        self.max_threads = max_threads;
        Ok(())
    }

    /// Sets [`wasm_stack_size`](Config::wasm_stack_size), refusing 0. That
    /// the OS stack stays larger is checked by [`Config::validate`].
    pub fn set_wasm_stack_size(&mut self, bytes: usize) -> Result<(), Error> {
        check_wasm_stack_size(bytes)?;
        self.wasm_stack_size = bytes;
        Ok(())
    }

    /// Sets [`os_stack_size`](Config::os_stack_size), refusing less than
    /// [`Config::MIN_OS_STACK`].
    pub fn set_os_stack_size(&mut self, bytes: usize) -> Result<(), Error> {
        check_os_stack_size(bytes)?;
        self.os_stack_size = bytes;
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_threads: DEFAULT_MAX_THREADS,
            wasm_stack_size: DEFAULT_WASM_STACK,
            os_stack_size: DEFAULT_OS_STACK,
            max_memory: None,
            timeout: None,
            cache_dir: None,
            interrupt_wasm: true,
            precise_dumps: false,
            huge_pages: true,
            deadlock_detection: true,
            profiler: Profiler::None,
            wasm_features: WasmFeatures::default(),
            detect_races: false,
        }
    }
}
