//! What weft reads from a module's imports and exports when it loads it,
//! and the checks that refuse what wasi-threads cannot run: the shared
//! memory it imports, whether it spawns threads, whether it has weft's stop
//! checks, and whether its thread entry point is usable. It needs nothing
//! but the module, so a program (`Program`) and an embedder's linker
//! (`weft::embed::add_to_linker`) read it the same way.

use wasmtime::{ExternType, FuncType, MemoryType, Module, ValType};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::imports::{
    ENTRY_NAME, INTERNAL_MODULE, RACE_SHADOW_NAME, SPAWN_MODULE, SPAWN_NAME, STOP_MEMORY_NAME,
};

/// What weft learned from a module's imports and exports.
pub(crate) struct Analysis {
    /// The imported shared memory, if any: (module, name, type).
    pub(crate) memory_import: Option<(String, String, MemoryType)>,
    /// Whether the module imports `wasi` `thread-spawn`.
    pub(crate) imports_spawn: bool,
    /// Whether the module has weft's stop checks (imports their memory).
    pub(crate) stop_checks: bool,
    /// `Ok` if `wasi_thread_start` exists with type `(i32, i32) -> ()`;
    /// otherwise why not. Only consulted when the guest spawns.
    pub(crate) entry: std::result::Result<(), String>,
}

impl Analysis {
    /// Reads `module`'s imports and exports.
    ///
    /// **Errors**: [`ErrorKind::Link`] for an import weft cannot provide: a
    /// memory that is not a 32-bit shared memory, two memories, an
    /// ill-typed `thread-spawn`, weft's reserved stop memory imported twice,
    /// or a defined memory in a module that spawns threads.
    pub(crate) fn of(module: &Module) -> Result<Analysis> {
        let mut memory_import = None;
        let mut imports_spawn = false;
        let mut stop_checks = false;
        for import in module.imports() {
            match import.ty() {
                ExternType::Memory(_)
                    if import.module() == INTERNAL_MODULE && import.name() == STOP_MEMORY_NAME =>
                {
                    // The rewrite adds this import; a module that has it
                    // already could clear the stop word its checks read.
                    if stop_checks {
                        return Err(Error::new(
                            ErrorKind::Link,
                            format!(
                                "the module imports \"{INTERNAL_MODULE}\" \"{}\", which is \
                                 reserved for weft's stop checks",
                                STOP_MEMORY_NAME
                            ),
                        ));
                    }
                    stop_checks = true;
                }
                // The race instrumentation's tags (`races::fast`), never
                // the program's data.
                ExternType::Memory(_)
                    if import.module() == INTERNAL_MODULE && import.name() == RACE_SHADOW_NAME => {}
                ExternType::Memory(ty) => {
                    let (m, n) = (import.module(), import.name());
                    if !ty.is_shared() {
                        return Err(Error::new(
                            ErrorKind::Link,
                            format!(
                                "memory import \"{m}\" \"{n}\" is not shared; weft can only \
                                 provide shared memories (build the guest with --shared-memory)"
                            ),
                        ));
                    }
                    if ty.is_64() {
                        return Err(Error::new(
                        ErrorKind::Link,
                        format!("memory import \"{m}\" \"{n}\" is a 64-bit memory, which wasi-threads does not define"),
                    ));
                    }
                    if let Some((pm, pn, _)) = &memory_import {
                        return Err(Error::new(
                        ErrorKind::Link,
                        format!(
                            "the module imports two memories (\"{pm}\" \"{pn}\" and \"{m}\" \"{n}\"); \
                             wasi-threads programs have exactly one shared memory"
                        ),
                    ));
                    }
                    memory_import = Some((m.to_string(), n.to_string(), ty));
                }
                ExternType::Func(ty)
                    if import.module() == SPAWN_MODULE && import.name() == SPAWN_NAME =>
                {
                    if !func_type_is(&ty, &[ValType::I32], &[ValType::I32]) {
                        return Err(Error::new(
                            ErrorKind::Link,
                            format!(
                                "import \"{SPAWN_MODULE}\" \"{SPAWN_NAME}\" has type {ty}; \
                                 wasi-threads requires (func (param i32) (result i32))"
                            ),
                        ));
                    }
                    imports_spawn = true;
                }
                _ => {}
            }
        }
        if imports_spawn && memory_import.is_none() {
            let defined = module.exports().find_map(|e| match e.ty() {
                ExternType::Memory(_) => Some(e.name().to_string()),
                _ => None,
            });
            if let Some(name) = defined {
                // `from_bytes` turns such a memory into an import; a module
                // compiled elsewhere cannot be changed any more.
                return Err(Error::new(
                    ErrorKind::Link,
                    format!(
                        "the module defines its memory (exported as \"{name}\") and imports \
                         \"{SPAWN_MODULE}\" \"{SPAWN_NAME}\": each thread would get a private \
                         copy; load it with Program::from_bytes (weft then shares the memory) or \
                         link it with -Wl,--import-memory"
                    ),
                ));
            }
        }
        let entry = match module.get_export(ENTRY_NAME) {
            None => Err(format!("the module does not export \"{ENTRY_NAME}\"")),
            Some(ExternType::Func(ty)) if func_type_is(&ty, &[ValType::I32, ValType::I32], &[]) => {
                Ok(())
            }
            Some(ExternType::Func(ty)) => Err(format!(
            "export \"{ENTRY_NAME}\" has type {ty}; wasi-threads requires (func (param i32 i32))"
        )),
            Some(_) => Err(format!("export \"{ENTRY_NAME}\" is not a function")),
        };
        Ok(Analysis {
            memory_import,
            imports_spawn,
            stop_checks,
            entry,
        })
    }
}

fn func_type_is(ty: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    let same = |a: &mut dyn ExactSizeIterator<Item = ValType>, b: &[ValType]| {
        a.len() == b.len() && a.zip(b).all(|(x, y)| ValType::eq(&x, y))
    };
    same(&mut ty.params(), params) && same(&mut ty.results(), results)
}
