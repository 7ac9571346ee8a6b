//! `weft::embed`: an embedder with its own `T`, its own `Linker<T>` and typed
//! host functions runs threaded guests (WAT, wasi-libc pthread C, Rust
//! `std::thread`) and sees every outcome.
//!
//! The C guest needs a wasi-sdk (`WASI_SDK_PATH`, as CMake's pthread guests);
//! the Rust guest needs the `wasm32-wasip1-threads` rustup target. A test
//! whose toolchain is absent says so on stderr and passes without running
//! (`common::guest` builds them).
//!
//! `wat_programs`: protocol tests on WAT guests; `real_guests`: wasi-libc
//! pthread C and Rust `std::thread` guests, dumps and deadlocks.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{Caller, Engine, Instance, Linker, Module, Store};
use weft::embed::{
    self, ErrorKind, GuestMemory, Limits, Outcome, ThreadDump, ThreadState, WasiCtx,
    WasiThreadsCtx, WasiView,
};
use weft::wasi::{Stdio, WasiConfig};

use common::guest::{self, Memory};

/// The embedder's own store data: a counter shared by every thread, and a
/// count of how often weft cloned it (once per spawned thread).
struct Host {
    wasi: Arc<WasiCtx>,
    threads: Option<Arc<WasiThreadsCtx<Host>>>,
    counter: Arc<Mutex<i64>>,
    clones: Arc<AtomicU32>,
}

impl Clone for Host {
    fn clone(&self) -> Host {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Host {
            wasi: self.wasi.clone(),
            threads: self.threads.clone(),
            counter: self.counter.clone(),
            clones: self.clones.clone(),
        }
    }
}

impl WasiView for Host {
    fn wasi(&self) -> &WasiCtx {
        &self.wasi
    }

    fn guest_memory(&self) -> Option<&GuestMemory> {
        self.threads.as_ref()?.guest_memory()
    }

    // WASI calls show in thread snapshots and dumps.
    fn call_started(caller: &Caller<'_, Self>, name: &'static std::ffi::CStr) {
        embed::wasi_call_started(caller, name);
    }

    fn call_finished(caller: &Caller<'_, Self>) {
        embed::wasi_call_finished(caller);
    }

    fn call_stopped(caller: &Caller<'_, Self>) {
        embed::wasi_call_stopped(caller);
    }
}

/// One program ready to run.
struct Prepared {
    threads: Arc<WasiThreadsCtx<Host>>,
    store: Store<Host>,
    instance: Instance,
    counter: Arc<Mutex<i64>>,
    clones: Arc<AtomicU32>,
    wasi: Arc<WasiCtx>,
}

impl Prepared {
    fn run(mut self) -> (Outcome, Prepared) {
        let outcome = self
            .threads
            .run_main(&mut self.store, &self.instance)
            .expect("run_main");
        (outcome, self)
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.wasi.captured_stdout()).into_owned()
    }
}

/// Tests in this file measure threads and memory of the whole process: one
/// at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(embed::configure(&mut wasmtime::Config::new())).expect("engine")
    })
}

/// The embedder's linker: weft's WASI and the typed host function
/// `host.bump(by: i32) -> i64`, which adds `by` to the counter and returns it
/// (and, for `tests/guests/thread_states.wat`, `test.children` returning 4
/// and an `env.block` that returns at once).
fn base_linker() -> Linker<Host> {
    let mut linker = Linker::new(engine());
    embed::add_wasi_to_linker(&mut linker).expect("wasi");
    linker
        .func_wrap("test", "children", || -> i32 { 4 })
        .expect("host function");
    linker
        .func_wrap("env", "block", || {})
        .expect("host function");
    linker
        .func_wrap("host", "bump", |caller: Caller<'_, Host>, by: i32| -> i64 {
            let mut counter = caller.data().counter.lock().unwrap();
            *counter += i64::from(by);
            *counter
        })
        .expect("host function");
    linker
}

fn prepare(module: &Module, args: &[&str], limits: &Limits) -> Prepared {
    try_prepare(module, args, limits).expect("prepare")
}

fn try_prepare(module: &Module, args: &[&str], limits: &Limits) -> embed::Result<Prepared> {
    let mut config = WasiConfig::new();
    config
        .args(args.iter().copied())
        .stdin(Stdio::Null)
        .stdout(Stdio::Capture)
        .stderr(Stdio::Capture);
    let wasi = Arc::new(WasiCtx::new(&config).expect("wasi ctx"));
    let counter = Arc::new(Mutex::new(0));
    let clones = Arc::new(AtomicU32::new(0));
    let host = Host {
        wasi: wasi.clone(),
        threads: None,
        counter: counter.clone(),
        clones: clones.clone(),
    };
    let mut store = Store::new(engine(), host);
    let mut linker = base_linker();
    embed::add_to_linker(&mut linker, &store, module, |h: &mut Host| {
        h.threads.as_ref().unwrap()
    })?;
    let threads = Arc::new(
        WasiThreadsCtx::with_limits(module.clone(), Arc::new(linker), limits)?.with_wasi(&wasi),
    );
    store.data_mut().threads = Some(threads.clone());
    let instance = threads.instantiate(&mut store)?;
    Ok(Prepared {
        threads,
        store,
        instance,
        counter,
        clones,
        wasi,
    })
}

fn compile_wat(wat: &str) -> Module {
    embed::compile(engine(), wat.as_bytes()).expect("compile")
}

#[path = "embed/real_guests.rs"]
mod real_guests;
#[path = "embed/wat_programs.rs"]
mod wat_programs;
