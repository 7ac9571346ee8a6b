//! Threaded modules that *define* their shared memory.
//!
//! A wasi-threads program shares one memory between the instances of all
//! its threads, so the memory must be imported: each thread's instance then
//! gets the same [`SharedMemory`](wasmtime::SharedMemory). A module linked
//! without `-Wl,--import-memory` defines its memory instead, and every
//! instance would get a private copy — threads computing garbage without an
//! error. So at load time a module that imports `wasi` `thread-spawn` and
//! defines one shared memory is rewritten: the memory definition becomes an
//! import of the same type (`weft:internal` `memory`), which weft provides
//! like any imported shared memory. Memory index 0 stays memory index 0, so
//! the code, the export (`memory`) and the name section are unchanged.
//!
//! Data segments: wasm-ld makes every data segment of a shared-memory module
//! passive and initialises them once, from its start function, behind an
//! atomic flag (`__wasm_init_memory`), so wasi-sdk and Rust modules run
//! as they are. An *active* segment would be applied again by every new
//! thread's instance, overwriting what the program wrote there: such modules
//! are refused, and so are those that cannot be shared safely at all (a
//! non-shared defined memory with `thread-spawn`, more than one memory). The
//! error names the memory and the fix (`-Wl,--import-memory`). A module that
//! imports its shared memory may define more, unshared memories
//! (multi-memory): each thread's instance has its own, as every instance
//! does in `wasmtime run`.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::EntityType;
use wasmparser::{DataKind, Parser, Payload, TypeRef};

use crate::runtime::imports::{DEFINED_MEMORY_NAME, INTERNAL_MODULE, SPAWN_MODULE, SPAWN_NAME};
use crate::runtime::program::frame_map::{body_starts, FrameMap};

/// Why a module cannot run with threads on one shared memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unshareable(pub(crate) String);

impl std::fmt::Display for Unshareable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unshareable {}

const FIX: &str = "link the module with -Wl,--import-memory (wasi-sdk: \
                   -pthread -Wl,--import-memory,--export-memory,--max-memory=N) so every \
                   thread shares one imported memory";

/// Returns the module with its defined shared memory turned into an import,
/// `None` when nothing needs changing (no `thread-spawn`, or the memory is
/// already imported), or why the module cannot share its memory.
/// `bytes` must be a valid binary module.
pub(crate) fn import_defined_memory(
    bytes: &[u8],
) -> Result<Option<(Vec<u8>, FrameMap)>, Unshareable> {
    let survey = survey(bytes).map_err(|e| Unshareable(e.to_string()))?;
    if !survey.spawns || survey.defined.is_empty() {
        return Ok(None);
    }
    let name = |i: usize| match survey.export_names.get(&(i as u32)) {
        Some(n) => format!("memory {i} (exported as \"{n}\")"),
        None => format!("memory {i}"),
    };
    if survey.imported > 0 && survey.defined.iter().all(|ty| !ty.shared) {
        // The program's memory is imported; the defined ones are not shared,
        // so each thread's instance has its own (multi-memory: per-thread
        // scratch memory, as `wasmtime run` gives every instance its own).
        return Ok(None);
    }
    let total = survey.imported + survey.defined.len();
    if total > 1 {
        return Err(Unshareable(format!(
            "the module has {total} memories ({} imported, {} defined) and imports \
             \"{SPAWN_MODULE}\" \"{SPAWN_NAME}\"; wasi-threads programs share exactly one \
             memory: {FIX}",
            survey.imported,
            survey.defined.len()
        )));
    }
    let ty = survey.defined[0];
    if !ty.shared {
        return Err(Unshareable(format!(
            "{} is defined by the module and not shared, but the module imports \
             \"{SPAWN_MODULE}\" \"{SPAWN_NAME}\": each thread would get a private copy; build \
             with threads (-pthread, --shared-memory) and {FIX}",
            name(0)
        )));
    }
    if ty.memory64 {
        return Err(Unshareable(format!(
            "{} is a 64-bit memory, which wasi-threads does not define",
            name(0)
        )));
    }
    if survey.active_segments > 0 {
        return Err(Unshareable(format!(
            "{} is defined by the module and has {} active data segment(s), which every \
             thread's instance would apply again over the running program's data; {FIX} \
             (or make the segments passive and initialise them once)",
            name(0),
            survey.active_segments
        )));
    }
    let mut share = Share { memory: ty };
    let mut module = wasm_encoder::Module::new();
    share
        .parse_core_module(&mut module, Parser::new(0), bytes)
        .map_err(|e| Unshareable(format!("cannot rewrite the module: {e}")))?;
    let out = module.finish();
    // Bodies are copied byte for byte: each moved as a whole.
    let points = body_starts(&out)
        .into_iter()
        .zip(body_starts(bytes))
        .collect();
    let map = FrameMap {
        func_imports: survey.func_imports,
        added_funcs: 0,
        points,
    };
    Ok(Some((out, map)))
}

#[derive(Default)]
struct Survey {
    spawns: bool,
    func_imports: u32,
    imported: usize,
    defined: Vec<wasmparser::MemoryType>,
    active_segments: usize,
    export_names: std::collections::HashMap<u32, String>,
}

fn survey(bytes: &[u8]) -> wasmparser::Result<Survey> {
    let mut s = Survey::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Ok(Survey::default());
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Memory(_) => s.imported += 1,
                        TypeRef::Func(_) | TypeRef::FuncExact(_)
                            if import.module == SPAWN_MODULE && import.name == SPAWN_NAME =>
                        {
                            s.spawns = true
                        }
                        _ => {}
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for ty in reader {
                    s.defined.push(ty?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.kind == wasmparser::ExternalKind::Memory {
                        s.export_names
                            .entry(export.index)
                            .or_insert_with(|| export.name.to_string());
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    if matches!(data?.kind, DataKind::Active { .. }) {
                        s.active_segments += 1;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Moves the one defined memory to the end of the imports (there are no
/// imported memories, so it keeps index 0).
struct Share {
    memory: wasmparser::MemoryType,
}

impl Reencode for Share {
    type Error = std::convert::Infallible;

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_import_section(self, imports, section)?;
        let ty = self.memory_type(self.memory)?;
        imports.import(INTERNAL_MODULE, DEFINED_MEMORY_NAME, EntityType::Memory(ty));
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error> {
        // Nothing inside a function changes: copy it as it is, so code
        // offsets move only by where the code section starts.
        code.raw(func.as_bytes());
        Ok(())
    }

    fn parse_memory_section(
        &mut self,
        _memories: &mut wasm_encoder::MemorySection,
        _section: wasmparser::MemorySectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        // Its one memory is an import now.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(wat: &str) -> Result<Option<Vec<u8>>, Unshareable> {
        import_defined_memory(&wat::parse_str(wat).unwrap()).map(|r| r.map(|(b, _)| b))
    }

    const SPAWN: &str = r#"(import "wasi" "thread-spawn" (func (param i32) (result i32)))"#;

    #[test]
    fn a_defined_shared_memory_becomes_an_import_keeping_its_export() {
        let out = run(&format!(
            r#"(module {SPAWN} (memory (export "memory") 1 4 shared)
                 (data (i32.const 0) "") (func (export "f") (result i32) (i32.load (i32.const 0))))"#
        ));
        // An empty active segment still counts as active.
        assert!(out.is_err());
        let out = run(&format!(
            r#"(module {SPAWN} (memory (export "memory") 1 4 shared)
                 (data "passive") (func (export "f") (result i32) (i32.load (i32.const 0))))"#
        ))
        .unwrap()
        .expect("rewritten");
        let mut config = wasmtime::Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let module = wasmtime::Module::new(&engine, &out).unwrap();
        let mem = module
            .imports()
            .find(|i| i.module() == INTERNAL_MODULE && i.name() == DEFINED_MEMORY_NAME)
            .expect("memory import");
        match mem.ty() {
            wasmtime::ExternType::Memory(m) => {
                assert!(m.is_shared());
                assert_eq!((m.minimum(), m.maximum()), (1, Some(4)));
            }
            other => panic!("{other:?}"),
        }
        assert!(module.get_export("memory").is_some());
    }

    #[test]
    fn unshareable_modules_are_refused_naming_the_memory_and_the_fix() {
        let e = run(&format!(r#"(module {SPAWN} (memory (export "mem") 1))"#)).unwrap_err();
        assert!(e.0.contains("memory 0 (exported as \"mem\")"), "{e}");
        assert!(
            e.0.contains("not shared") && e.0.contains("-Wl,--import-memory"),
            "{e}"
        );
        let e = run(&format!(
            r#"(module {SPAWN} (import "env" "m" (memory 1 1 shared)) (memory 1 1 shared))"#
        ))
        .unwrap_err();
        assert!(e.0.contains("2 memories"), "{e}");
        let e = run(&format!(
            r#"(module {SPAWN} (memory 1 1 shared) (data (i32.const 8) "x"))"#
        ))
        .unwrap_err();
        assert!(e.0.contains("1 active data segment"), "{e}");
        assert!(e.0.contains("-Wl,--import-memory"), "{e}");
    }

    #[test]
    fn modules_without_threads_or_with_an_imported_memory_are_left_alone() {
        assert_eq!(
            run(r#"(module (memory 1 1 shared) (data (i32.const 0) "x"))"#),
            Ok(None)
        );
        assert_eq!(run(r#"(module (memory 1))"#), Ok(None));
        assert_eq!(
            run(&format!(
                r#"(module {SPAWN} (import "env" "memory" (memory 1 1 shared)))"#
            )),
            Ok(None)
        );
        // Multi-memory: a private (unshared) memory per thread besides the
        // imported shared one.
        assert_eq!(
            run(&format!(
                r#"(module {SPAWN} (import "env" "memory" (memory 1 1 shared)) (memory 1) (data (i32.const 0) "x"))"#
            )),
            Ok(None)
        );
    }
}
