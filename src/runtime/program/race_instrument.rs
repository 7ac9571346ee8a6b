//! The race detector's load-time instrumentation (`Config::detect_races`).
//!
//! Runs last, on the module `wait_rewrite` produced (its waits and notifies
//! are calls already, which `runtime::races` sees in `run::waits`). Every
//! instruction that reaches the shared memory gets a call before it that
//! hands the detector the instruction's own operands plus a site id, and
//! returns them unchanged:
//!
//! ```text
//! i32.const <site>
//! call $weft:internal.race.<shape>   ;; (operands…, site) -> (operands…)
//! <the original instruction>
//! ```
//!
//! so the access itself still executes in wasm, exactly as before (traps,
//! alignment, atomicity). Atomics that read also get a call after them
//! (`race.acquire.*`: value in, value out): an atomic releases its address's
//! clock before it runs and acquires it after, so a thread that reads a
//! value sees everything its writer did before writing it. The hooks'
//! imports come after the module's own (defined functions shift, as in
//! `wait_rewrite`), and a site is a plain index into [`RaceSites`], which
//! names the instruction's kind, size, memarg offset and its place in the
//! module the user gave (function index and code offset, through the frame
//! map of the rewrites before this one).
//!
//! Instrumented: plain loads and stores (SIMD ones too), atomics, `memory.fill`,
//! `memory.copy` and `memory.init` on the shared memory, and
//! `atomic.fence`. Stack-pointer and other globals are not memory and are
//! not seen.

pub(crate) mod data_symbols;
mod ops;

use std::collections::HashMap;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{EntityType, Function, Instruction, SectionId, ValType};
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload, TypeRef};

use crate::runtime::imports::{INTERNAL_MODULE, RACE_HOOKS, STOP_MEMORY_NAME};
use crate::runtime::program::frame_map::{body_starts, FrameMap};
use crate::runtime::program::race_instrument::data_symbols::DataSymbols;

/// Which hook an instruction calls, by the operands it has on the stack
/// (the order of [`RACE_HOOKS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hook {
    Addr = 0,
    I32 = 1,
    I64 = 2,
    F32 = 3,
    F64 = 4,
    I32x2 = 5,
    I64x2 = 6,
    AcquireI32 = 7,
    AcquireI64 = 8,
    Fence = 9,
    V128 = 10,
}

/// What an instrumented instruction does, as the detector sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    AtomicLoad,
    AtomicStore,
    AtomicRmw,
    /// `memory.fill`: a write of `n` bytes at `d`.
    Fill,
    /// `memory.copy`: a read at `s`, a write at `d`, of `n` bytes each, on
    /// the shared memory where these say so.
    Copy {
        src: bool,
        dst: bool,
    },
    /// `memory.init`: a write of `n` bytes at `d`.
    Init,
    Fence,
}

/// One instrumented instruction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Site {
    pub(crate) kind: Kind,
    /// Bytes accessed (0 for bulk operations: their operand says).
    pub(crate) size: u32,
    /// The memarg offset, added to the address operand.
    pub(crate) offset: u32,
    /// The function, by its index in the module the user gave.
    pub(crate) func: u32,
    /// The instruction's code offset in the module the user gave.
    pub(crate) at: u32,
}

/// The sites of an instrumented module, and function and data names for
/// reports.
#[derive(Debug, Default)]
pub(crate) struct RaceSites {
    pub(crate) sites: Vec<Site>,
    /// Function names of the name section, by original index.
    pub(crate) names: HashMap<u32, String>,
    /// Variables in linear memory, from the module's DWARF.
    pub(crate) symbols: DataSymbols,
}

/// Instruments `bytes` (made by the earlier rewrites, whose frames map back
/// through `prior`). Returns the new module, its frame map relative to
/// `bytes`, and the sites; `None` when the module imports no 32-bit shared
/// memory (nothing can race).
pub(crate) fn instrument(
    bytes: &[u8],
    prior: Option<&FrameMap>,
) -> Result<Option<(Vec<u8>, FrameMap, RaceSites)>, String> {
    let survey = survey(bytes).map_err(|e| e.to_string())?;
    let Some(memory) = survey.shared_memory.filter(|_| survey.core_module) else {
        return Ok(None);
    };
    let hooks = if survey.uses_v128 {
        RACE_HOOKS.len()
    } else {
        RACE_HOOKS.len() - 1
    } as u32;
    let mut pass = Instrumenter {
        memory,
        hooks,
        func_imports: survey.func_imports,
        first_type: survey.types,
        has_type_section: survey.has_type_section,
        imports_added: false,
        func: 0,
        marks: Vec::new(),
        sites: Vec::new(),
    };
    let mut module = wasm_encoder::Module::new();
    pass.parse_core_module(&mut module, Parser::new(0), bytes)
        .map_err(|e| e.to_string())?;
    let out = module.finish();
    let (new_starts, old_starts) = (body_starts(&out), body_starts(bytes));
    let at = |f: u32, rel: u32, starts: &[u32]| Some(starts.get(f as usize)? + rel);
    let points = pass
        .marks
        .iter()
        .filter_map(|&(f, new, old)| Some((at(f, new, &new_starts)?, at(f, old, &old_starts)?)))
        .collect();
    let map = FrameMap {
        func_imports: survey.func_imports,
        added_funcs: hooks,
        points,
    };
    // Sites in the terms of the module the user gave.
    let original_func = |f: u32| {
        let index = survey.func_imports + f;
        prior.map_or(index, |p| p.func_index(index))
    };
    let original_at = |at: u32| prior.map_or(Some(at), |p| p.offset(at)).unwrap_or(at);
    let sites = pass
        .sites
        .iter()
        .map(|&(f, rel, mut site)| {
            site.func = original_func(f);
            site.at = original_at(at(f, rel, &old_starts).unwrap_or(0));
            site
        })
        .collect();
    let names = survey
        .names
        .into_iter()
        .map(|(index, name)| (prior.map_or(index, |p| p.func_index(index)), name))
        .collect();
    let symbols = survey.symbols;
    Ok(Some((
        out,
        map,
        RaceSites {
            sites,
            names,
            symbols,
        },
    )))
}

#[derive(Default)]
struct Survey {
    core_module: bool,
    func_imports: u32,
    types: u32,
    has_type_section: bool,
    shared_memory: Option<u32>,
    uses_v128: bool,
    names: HashMap<u32, String>,
    symbols: DataSymbols,
}

fn survey(bytes: &[u8]) -> wasmparser::Result<Survey> {
    let mut s = Survey {
        core_module: true,
        ..Survey::default()
    };
    let mut memories = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Ok(Survey::default());
            }
            Payload::TypeSection(reader) => {
                s.has_type_section = true;
                for group in reader {
                    s.types += group?.types().len() as u32;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    // The stop checks' memory is weft's, not the program's.
                    let stop = import.module == INTERNAL_MODULE && import.name == STOP_MEMORY_NAME;
                    match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => s.func_imports += 1,
                        TypeRef::Memory(ty) => {
                            if ty.shared && !ty.memory64 && !stop && s.shared_memory.is_none() {
                                s.shared_memory = Some(memories);
                            }
                            memories += 1;
                        }
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) if !s.uses_v128 => {
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    if let Some((_, _, _, Hook::V128, _)) = ops::classify(&ops.read()?) {
                        s.uses_v128 = true;
                        break;
                    }
                }
            }
            Payload::CustomSection(section) => {
                s.symbols.add_section(section.name(), section.data());
                if let KnownCustom::Name(reader) = section.as_known() {
                    for name in reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for naming in map.into_iter().flatten() {
                                s.names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

struct Instrumenter {
    /// The shared memory's index.
    memory: u32,
    /// How many hooks are imported (the `v128` one only when used).
    hooks: u32,
    func_imports: u32,
    first_type: u32,
    has_type_section: bool,
    imports_added: bool,
    func: u32,
    /// `(function, offset in the new body, offset in the old body)`.
    marks: Vec<(u32, u32, u32)>,
    /// `(function, offset in the old body, site)`.
    sites: Vec<(u32, u32, Site)>,
}

impl Instrumenter {
    fn add_types(&self, types: &mut wasm_encoder::TypeSection) {
        use ValType::{F32, F64, I32, I64, V128};
        types.ty().function([I32, I32], [I32]);
        for v in [I32, I64, F32, F64] {
            types.ty().function([I32, v, I32], [I32, v]);
        }
        types.ty().function([I32, I32, I32, I32], [I32, I32, I32]);
        types.ty().function([I32, I64, I64, I32], [I32, I64, I64]);
        types.ty().function([I32, I32], [I32]);
        types.ty().function([I64, I32], [I64]);
        types.ty().function([I32], []);
        if self.hooks as usize == RACE_HOOKS.len() {
            types.ty().function([I32, V128, I32], [I32, V128]);
        }
    }

    fn add_imports(&self, imports: &mut wasm_encoder::ImportSection) {
        for (i, name) in RACE_HOOKS.iter().take(self.hooks as usize).enumerate() {
            imports.import(
                INTERNAL_MODULE,
                name,
                EntityType::Function(self.first_type + i as u32),
            );
        }
    }

    /// What `op` does to the shared memory, if anything.
    fn access(&self, op: &Operator<'_>) -> Option<(Site, Hook, Option<Hook>)> {
        let shared = |m: u32| m == self.memory;
        let bulk = |kind| Site {
            kind,
            size: 0,
            offset: 0,
            func: 0,
            at: 0,
        };
        match *op {
            Operator::MemoryFill { mem } if shared(mem) => {
                Some((bulk(Kind::Fill), Hook::I32x2, None))
            }
            Operator::MemoryInit { mem, .. } if shared(mem) => {
                Some((bulk(Kind::Init), Hook::I32x2, None))
            }
            Operator::MemoryCopy { dst_mem, src_mem } if shared(dst_mem) || shared(src_mem) => {
                let kind = Kind::Copy {
                    src: shared(src_mem),
                    dst: shared(dst_mem),
                };
                Some((bulk(kind), Hook::I32x2, None))
            }
            Operator::AtomicFence => Some((bulk(Kind::Fence), Hook::Fence, None)),
            _ => {
                let (memarg, kind, size, before, after) = ops::classify(op)?;
                let offset = u32::try_from(memarg.offset).ok()?;
                if !shared(memarg.memory) {
                    return None;
                }
                let site = Site {
                    kind,
                    size,
                    offset,
                    func: 0,
                    at: 0,
                };
                Some((site, before, after))
            }
        }
    }
}

impl Reencode for Instrumenter {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error> {
        Ok(if func < self.func_imports {
            func
        } else {
            func + self.hooks
        })
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_type_section(self, types, section)?;
        self.add_types(types);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error> {
        if before == Some(SectionId::Import) && !self.has_type_section {
            let mut types = wasm_encoder::TypeSection::new();
            self.add_types(&mut types);
            module.section(&types);
            self.has_type_section = true;
        }
        if !self.imports_added && !matches!(before, Some(SectionId::Type | SectionId::Import)) {
            let mut imports = wasm_encoder::ImportSection::new();
            self.add_imports(&mut imports);
            module.section(&imports);
            self.imports_added = true;
        }
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_import_section(self, imports, section)?;
        self.add_imports(imports);
        self.imports_added = true;
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error> {
        let mut f: Function = self.new_function_with_parsed_locals(&func)?;
        let start = func.range().start;
        let mut delta = None;
        let this = self.func;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let (op, at) = reader.read_with_offset()?;
            let (new, old) = (f.byte_len() as u32, (at - start) as u32);
            let mut mark = |new: u32, marks: &mut Vec<_>| {
                let d = i64::from(old) - i64::from(new);
                if delta != Some(d) {
                    delta = Some(d);
                    marks.push((this, new, old));
                }
            };
            mark(new, &mut self.marks);
            let Some((site, before, after)) = self.access(&op) else {
                f.instruction(&self.instruction(op)?);
                continue;
            };
            let id = self.sites.len() as u32;
            self.sites.push((self.func, old, site));
            f.instruction(&Instruction::I32Const(id as i32));
            // A backtrace taken in the hook names the instruction's offset.
            let call_at = f.byte_len() as u32;
            mark(call_at, &mut self.marks);
            f.instruction(&Instruction::Call(self.func_imports + before as u32));
            let op_at = f.byte_len() as u32;
            mark(op_at, &mut self.marks);
            f.instruction(&self.instruction(op)?);
            if let Some(after) = after {
                f.instruction(&Instruction::I32Const(id as i32));
                f.instruction(&Instruction::Call(self.func_imports + after as u32));
            }
        }
        code.function(&f);
        self.func += 1;
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        module: &mut wasm_encoder::Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        match section.as_known() {
            KnownCustom::Name(names) => {
                if let Ok(names) = self.custom_name_section(names) {
                    module.section(&names);
                }
            }
            _ => {
                module.section(&self.custom_section(section)?);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_become_hook_calls_and_the_module_stays_valid() {
        let wat = r#"(module
          (import "env" "memory" (memory 1 2 shared))
          (func $f (export "f") (param i32) (result i32)
            (i32.store offset=8 (local.get 0) (i32.const 1))
            (i64.store (local.get 0) (i64.load offset=16 (local.get 0)))
            (memory.fill (local.get 0) (i32.const 0) (i32.const 4))
            (memory.copy (local.get 0) (i32.const 64) (i32.const 4))
            (drop (i32.atomic.rmw.cmpxchg (local.get 0) (i32.const 0) (i32.const 1)))
            (drop (i64.atomic.rmw.add (local.get 0) (i64.const 1)))
            (atomic.fence)
            (i32.atomic.load (local.get 0))))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let (out, map, sites) = instrument(&bytes, None).unwrap().expect("instrumented");
        assert_eq!(sites.sites.len(), 9);
        assert_eq!(sites.sites[0].kind, Kind::Write);
        assert_eq!((sites.sites[0].size, sites.sites[0].offset), (4, 8));
        assert_eq!(sites.sites[1].kind, Kind::Read);
        assert_eq!(sites.sites[1].offset, 16);
        assert_eq!(map.added_funcs, 10);
        assert_eq!(sites.names.get(&0).map(String::as_str), Some("f"));
        let mut config = wasmtime::Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        wasmtime::Module::new(&engine, &out).unwrap();
        let unshared = wat::parse_str("(module (memory 1) (func (drop (i32.load (i32.const 0)))))");
        assert!(instrument(&unshared.unwrap(), None).unwrap().is_none());
        // Only weft's stop memory is shared: nothing to instrument.
        let stop_only = wat::parse_str(
            r#"(module (import "weft:internal" "stop" (memory 1 1 shared)) (memory 1)
               (func (drop (i32.atomic.load 0 (i32.const 0)))))"#,
        );
        assert!(instrument(&stop_only.unwrap(), None).unwrap().is_none());
    }
}
