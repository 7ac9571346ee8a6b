//! A compiled program: the module plus what weft learned from its imports
//! and exports when it was loaded.

pub(crate) mod analysis;
pub(crate) mod cache;
pub(crate) mod compile_pool;
pub(crate) mod defined_memory;
pub(crate) mod frame_map;
pub(crate) mod module_shape;
pub(crate) mod race_instrument;
pub(crate) mod stop_checks;
pub(crate) mod wait_rewrite;

use std::path::Path;
use std::sync::Arc;

use wasmtime::{ExternType, MemoryType, Module, ValType};

use crate::runtime::engine::{Engine, Interruption};
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::features::WasmFeatures;
use crate::runtime::imports::is_internal_memory;
use crate::runtime::program::analysis::Analysis;
use crate::runtime::program::defined_memory::Unshareable;
use crate::runtime::program::frame_map::FrameMap;
use crate::runtime::program::race_instrument::RaceSites;

/// A compiled module, shared and cheaply clonable.
#[derive(Clone)]
pub struct Program {
    inner: Arc<ProgramInner>,
}

pub(crate) struct ProgramInner {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
    /// The imported shared memory, if any: (module, name, type).
    pub(crate) memory_import: Option<(String, String, MemoryType)>,
    /// Whether the module imports `wasi` `thread-spawn`.
    pub(crate) imports_spawn: bool,
    /// Whether the module has weft's stop checks (imports their memory).
    pub(crate) stop_checks: bool,
    /// `Ok` if `wasi_thread_start` exists with type `(i32, i32) -> ()`;
    /// otherwise why not. Only consulted when the guest spawns.
    pub(crate) entry: std::result::Result<(), String>,
    /// How frames of the module weft rewrote map back to the given one.
    pub(crate) frame_map: Option<FrameMap>,
    /// The race detector's sites, when the module was instrumented
    /// (`Config::detect_races`).
    pub(crate) race_sites: Option<Arc<RaceSites>>,
}

impl Program {
    /// Compiles a module from binary WebAssembly or WAT text (or loads it
    /// from the engine's cache directory, see [`Config::cache_dir`]).
    ///
    /// **Errors**: [`ErrorKind::Compile`] for an invalid module, or one that
    /// uses a WebAssembly feature the engine's
    /// [`Config::wasm_features`](crate::runtime::Config::wasm_features)
    /// switched off (the message names the switch); [`ErrorKind::Link`] for
    /// a module whose memory threads cannot share.
    ///
    /// [`Config::cache_dir`]: crate::runtime::Config::cache_dir
    pub fn from_bytes(engine: &Engine, bytes: &[u8]) -> Result<Program> {
        let races = engine.config().detect_races;
        let checks = engine.interruption() == Interruption::StopChecks;
        let cache_dir = engine.config().cache_dir.as_deref();
        if let Some((module, map)) = cache_dir.and_then(|dir| cache::load(engine, dir, bytes)) {
            // The cache holds no race sites: the passes find them again.
            let sites = races
                .then(|| wait_rewrite::race_sites(bytes, checks))
                .flatten();
            return Ok(Program::with_frame_map(engine, module, map)?.with_race_sites(sites));
        }
        // The user's WebAssembly switches, on the module as given: the
        // engine keeps on what weft's rewrite needs (multi-memory, threads).
        // With the default switches the engine's own validation is the same
        // check, so the module is validated once; only a failure is looked at
        // again, to name a switched-off proposal it uses.
        let features = &engine.config().wasm_features;
        let custom = *features != WasmFeatures::default();
        let check = || match wat::parse_bytes(bytes) {
            Ok(original) => features.check_module(&original),
            Err(_) => Ok(()),
        };
        if custom {
            check()?;
        }
        let (module, map, race_sites) = compile_pool::install(|| {
            wait_rewrite::compile(engine.wasmtime(), bytes, checks, races)
        })
        .map_err(|e| match e.downcast_ref::<Unshareable>() {
            Some(refusal) => Error::new(ErrorKind::Link, refusal.to_string()),
            None => match custom {
                false => check().err(),
                true => None,
            }
            .unwrap_or_else(|| Error::wrap(ErrorKind::Compile, "invalid module", e)),
        })?;
        if let Some(dir) = cache_dir {
            cache::store(engine, dir, bytes, &module, map.as_ref());
        }
        Ok(Program::with_frame_map(engine, module, map)?.with_race_sites(race_sites))
    }

    /// A new program with the race detector's `sites` (when instrumented).
    fn with_race_sites(mut self, sites: Option<RaceSites>) -> Program {
        if let Some(sites) = sites {
            Arc::get_mut(&mut self.inner)
                .expect("a new program is not shared yet")
                .race_sites = Some(Arc::new(sites));
        }
        self
    }

    /// The compiled machine code, for [`Program::deserialize`] by an engine
    /// with the same configuration and Wasmtime version.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        self.inner
            .module
            .serialize()
            .map_err(|e| Error::wrap(ErrorKind::Internal, "cannot serialize module", e))
    }

    /// Loads a program from [`Program::serialize`]'s output without compiling.
    /// Fails if the bytes are not a serialized module or were made by an
    /// engine with another configuration or Wasmtime version.
    ///
    /// # Safety
    /// The bytes are loaded as native code: they must come from
    /// [`Program::serialize`] (possibly in another process) and must not have
    /// been altered. Never pass untrusted bytes.
    pub unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Program> {
        if wasmtime::Engine::detect_precompiled(bytes) != Some(wasmtime::Precompiled::Module) {
            return Err(Error::new(
                ErrorKind::Compile,
                "the bytes are not a serialized module",
            ));
        }
        // SAFETY: per this function's contract.
        let module = unsafe { Module::deserialize(engine.wasmtime(), bytes) }.map_err(|e| {
            Error::wrap(
                ErrorKind::Compile,
                "cannot load serialized module (made by an incompatible engine?)",
                e,
            )
        })?;
        Program::from_module(engine, module)
    }

    /// Reads and compiles a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Program> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Program::from_bytes(engine, &bytes)
            .map_err(|e| Error::new(e.kind(), format!("{}: {}", path.display(), e.message())))
    }

    /// Wraps an already compiled module (which must come from `engine`).
    ///
    /// Unlike [`Program::from_bytes`], this cannot rewrite the module: a
    /// thread parked in an untimed `memory.atomic.wait` then outlives the end
    /// of the program (see [`STOP_GRACE`]), and unless `engine` has
    /// [`precise_dumps`](crate::runtime::Config::precise_dumps) (Wasmtime's
    /// epoch checks, compiled into every module) neither does a thread in a
    /// wasm loop: weft's own stop checks are inserted by the rewrite.
    /// Modules that [`Program::serialize`] wrote keep their checks.
    ///
    /// [`STOP_GRACE`]: crate::runtime::STOP_GRACE
    pub fn from_module(engine: &Engine, module: Module) -> Result<Program> {
        let memories = module
            .imports()
            .filter(|i| matches!(i.ty(), ExternType::Memory(_)))
            .filter(|i| !is_internal_memory(i.module(), i.name()))
            .count()
            + module.resources_required().num_memories as usize;
        engine.config().wasm_features.check_memory_count(memories)?;
        Program::with_frame_map(engine, module, None)
    }

    fn with_frame_map(
        engine: &Engine,
        module: Module,
        frame_map: Option<FrameMap>,
    ) -> Result<Program> {
        check_engine(engine, &module)?;
        let analysis = Analysis::of(&module)?;
        Ok(Program::assemble(engine, module, analysis, frame_map))
    }

    fn assemble(
        engine: &Engine,
        module: Module,
        analysis: Analysis,
        frame_map: Option<FrameMap>,
    ) -> Program {
        let Analysis {
            memory_import,
            imports_spawn,
            stop_checks,
            entry,
        } = analysis;
        Program {
            inner: Arc::new(ProgramInner {
                engine: engine.clone(),
                module,
                memory_import,
                imports_spawn,
                stop_checks,
                entry,
                frame_map,
                race_sites: None,
            }),
        }
    }

    /// The engine this program was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The compiled Wasmtime module.
    pub fn module(&self) -> &Module {
        &self.inner.module
    }

    /// Whether the module imports `wasi` `thread-spawn`.
    pub fn uses_threads(&self) -> bool {
        self.inner.imports_spawn
    }

    /// Parameter and result types of exported function `name`, if there is one.
    pub fn export_func_type(&self, name: &str) -> Option<(Vec<ValType>, Vec<ValType>)> {
        match self.inner.module.get_export(name)? {
            ExternType::Func(ty) => Some((ty.params().collect(), ty.results().collect())),
            _ => None,
        }
    }

    /// Whether the module is a command (exports `_start`).
    pub fn is_command(&self) -> bool {
        self.inner.module.get_export("_start").is_some()
    }

    pub(crate) fn inner(&self) -> &Arc<ProgramInner> {
        &self.inner
    }
}

/// Refuses a module compiled by another engine than `engine`.
fn check_engine(engine: &Engine, module: &Module) -> Result<()> {
    if !wasmtime::Engine::same(module.engine(), engine.wasmtime()) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the module was compiled by a different engine",
        ));
    }
    Ok(())
}
