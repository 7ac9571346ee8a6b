//! What an embedder adds to their own engine, module and `Linker<T>`: the
//! engine settings, the compile step with the `atomic.wait` rewrite, the
//! `thread-spawn` import with the shared memory, and weft's WASI.

use wasmtime::{Caller, Linker, Module, Store};

use crate::embed::ctx::WasiThreadsCtx;
use crate::runtime::memory::create_memory;
use crate::runtime::program::analysis::Analysis;
use crate::runtime::program::wait_rewrite;
use crate::runtime::run::{spawn, waits, Run};
use crate::runtime::{Error, ErrorKind, Result, WasmFeatures};
use crate::wasi::WasiView;

/// Turns on what weft needs in a Wasmtime configuration: the threads
/// proposal, shared memories, and epoch interruption (how weft stops running
/// threads). Returns `config` for chaining, e.g.
/// `Engine::new(weft::embed::configure(&mut wasmtime::Config::new()))`.
///
/// With epoch interruption on, every store of the engine needs an epoch
/// deadline: weft sets one on the stores it creates and on the main store in
/// [`WasiThreadsCtx::instantiate`]; set one yourself on any other store
/// (`store.set_epoch_deadline(u64::MAX)`).
pub fn configure(config: &mut wasmtime::Config) -> &mut wasmtime::Config {
    config
        .wasm_threads(true)
        .shared_memory(true)
        .epoch_interruption(true)
}

/// [`configure`], plus the WebAssembly proposals of `features` (weft's
/// switches, with `wasmtime run -W`'s names: [`WasmFeatures`]), so an
/// embedder's engine accepts what weft's own engines accept. Threads and
/// shared memory stay on whatever `features` says (wasi-threads needs them).
/// Without this, `configure` leaves Wasmtime's defaults, which are
/// [`WasmFeatures::default`]'s.
///
/// A module that uses a switched-off proposal is refused by [`compile`]
/// with Wasmtime's words; [`WasmFeatures::check_module`] on the module first
/// gives weft's, which name the switch.
///
/// ```
/// let mut features = weft::embed::WasmFeatures::default();
/// features.parse("exceptions=n")?;
/// let mut config = wasmtime::Config::new();
/// let engine = wasmtime::Engine::new(weft::embed::configure_features(&mut config, &features))?;
/// let throws = br#"(module (tag $e) (func (throw $e)))"#;
/// assert!(features.check_module(&wat::parse_bytes(throws)?).is_err());
/// assert!(weft::embed::compile(&engine, throws).is_err());
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub fn configure_features<'a>(
    config: &'a mut wasmtime::Config,
    features: &WasmFeatures,
) -> &'a mut wasmtime::Config {
    features.apply_to(config);
    // `apply_to` keeps multi-memory on for weft's stop checks, which
    // embedders' modules do not get: here the switch is the user's.
    config.wasm_multi_memory(features.get("multi-memory").unwrap_or(true));
    configure(config)
}

/// Compiles binary WebAssembly or WAT text for `engine` (made with
/// [`configure`]), rewriting the module's `memory.atomic.wait32/64` and
/// `memory.atomic.notify` on its imported shared memory into calls to weft's
/// parking lot (defined by [`add_to_linker`]), so that the end of the
/// program wakes threads parked in an untimed wait. Wasmtime cannot wake
/// them (its issue #12809). Everything else in the module is unchanged.
///
/// A module compiled another way runs too, but a thread parked in one of its
/// untimed waits outlives the end of the program.
///
/// **Errors**: [`ErrorKind::Compile`] with the original module's validation
/// error.
pub fn compile(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Module> {
    // The frame map is not kept: an embedder's traps show the rewritten
    // module's function indices (see `Program::from_module`).
    wait_rewrite::compile(engine, bytes, false, false)
        .map(|(module, _frame_map, _sites)| module)
        .map_err(|e| Error::wrap(ErrorKind::Compile, "invalid module", e))
}

/// Adds weft's thread-safe WASI preview 1 (`wasi_snapshot_preview1`, every
/// function) to `linker`. `T` gives access to the program's shared
/// [`WasiCtx`](crate::wasi::WasiCtx) and memory through [`WasiView`]; keep
/// the context in an `Arc` inside `T` so every thread's clone shares it.
///
/// **Errors**: a definition clashes with one already on `linker` (and
/// shadowing is off).
pub fn add_wasi_to_linker<T: WasiView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::wasi::add_to_linker(linker)
}

/// Adds wasi-threads to `linker` for `module`: the `wasi` `thread-spawn`
/// import, the program's shared memory under whatever name `module` imports
/// it (created with the module's declared limits, in `store`'s engine), and
/// the `weft:internal` imports that [`compile`]'s rewritten waits call.
///
/// `get_cx` finds the program's [`WasiThreadsCtx`] in a thread's `T`;
/// `thread-spawn` calls [`WasiThreadsCtx::spawn`] with a clone of the
/// calling thread's `T` and returns its TID, or
/// [`SPAWN_FAILED`](crate::embed::SPAWN_FAILED) (negative) with the reason
/// logged. The context is created afterwards from a clone of the finished
/// linker, so `get_cx` is only called once guest code runs.
///
/// Call once per program: every run needs its own shared memory, so use a
/// fresh linker (or clone one that has everything but this) per run.
///
/// **Errors**: [`ErrorKind::Link`] if `module` imports a memory that is not
/// a 32-bit shared memory, or more than one memory, or
/// `wasi` `thread-spawn` with a type other than `(i32) -> i32`; or a
/// definition clashes with one already on `linker`.
pub fn add_to_linker<T: Clone + Send + 'static>(
    linker: &mut Linker<T>,
    store: &Store<T>,
    module: &Module,
    get_cx: impl Fn(&mut T) -> &WasiThreadsCtx<T> + Send + Sync + Copy + 'static,
) -> Result<()> {
    // The same reading of the imports as the context's (`Program`): one
    // pass over them, no compile; the API makes these two calls separately.
    let memory_import = Analysis::of(module)?.memory_import;
    let link = |e: wasmtime::Error| Error::wrap(ErrorKind::Link, "cannot add wasi-threads", e);
    spawn::add_to_linker(linker, move |caller: &mut Caller<'_, T>, start_arg| {
        let host = caller.data().clone();
        get_cx(caller.data_mut()).start_thread(host, start_arg)
    })
    .map_err(link)?;
    if let Some((import_module, name, ty)) = &memory_import {
        let memory = create_memory(module.engine(), None, import_module, name, ty)?;
        linker
            .define(store, import_module, name, memory.clone())
            .map_err(link)?;
        waits::add_to_linker(linker, memory, move |t: &mut T| -> &Run<T> {
            get_cx(t).run()
        })
        .map_err(link)?;
    }
    Ok(())
}
