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
pub(crate) mod fast_path;
mod ops;
mod survey;

use std::collections::HashMap;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{ConstExpr, EntityType, Function, GlobalType, Instruction, SectionId, ValType};
use wasmparser::{KnownCustom, Operator, Parser};

use crate::runtime::imports::{INTERNAL_MODULE, RACE_HOOKS, RACE_SHADOW_NAME};
use crate::runtime::program::frame_map::{body_starts, FrameMap};
use crate::runtime::program::race_instrument::data_symbols::DataSymbols;
use crate::runtime::program::race_instrument::fast_path::{Layout, Target, LOCALS};

/// Which hook an instruction calls (the order of [`RACE_HOOKS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hook {
    Addr = 0,
    I32 = 1,
    I64 = 2,
    I32x2 = 3,
    I64x2 = 4,
    AcquireI32 = 5,
    AcquireI64 = 6,
    Fence = 7,
    Access = 8,
    V128 = 9,
}

/// The operands an instruction with a `memarg` takes: its address, and
/// then these values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Addr,
    I32,
    I64,
    F32,
    F64,
    I32x2,
    I64x2,
    V128,
}

/// How an instruction is instrumented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// A call of `before` in front of it and of `after` after it.
    Hooks(Hook, Option<Hook>),
    /// The inline fast path (`fast_path`), storing a value of this type.
    Inline(Option<ValType>),
    /// `memory.copy` between the shared memory and a 64-bit one (which
    /// side is 64-bit): its operands differ in type, the shared side's go
    /// to the `I32x2` hook.
    MixedCopy { dst64: bool, src64: bool },
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
    let survey = survey::survey(bytes).map_err(|e| e.to_string())?;
    let shape = &survey.shape;
    let Some((memory, max_pages)) = shape.shared_memory.filter(|_| shape.core_module) else {
        return Ok(None);
    };
    let hooks = if survey.uses_v128 {
        RACE_HOOKS.len()
    } else {
        RACE_HOOKS.len() - 1
    } as u32;
    let mut pass = Instrumenter {
        memory,
        layout: Layout::new(max_pages),
        memory_imports: shape.memory_imports,
        memory64: survey.memory64,
        slot_global: survey.globals,
        params: survey.params,
        hooks,
        func_imports: shape.func_imports,
        first_type: shape.types,
        has_type_section: shape.has_type_section,
        global_added: false,
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
        func_imports: shape.func_imports,
        added_funcs: hooks,
        points,
    };
    // Sites in the terms of the module the user gave.
    let original_func = |f: u32| {
        let index = shape.func_imports + f;
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

struct Instrumenter {
    /// The shared memory's index.
    memory: u32,
    /// The layout of the imported shadow memory (`fast_path`), imported
    /// after the module's other memories.
    layout: Layout,
    memory_imports: u32,
    /// Which memories are 64-bit (by their index in the module given).
    memory64: Vec<bool>,
    /// The added global that holds the thread's slot (after every other).
    slot_global: u32,
    /// Parameters of each defined function.
    params: Vec<u32>,
    /// How many hooks are imported (the `v128` one only when used).
    hooks: u32,
    func_imports: u32,
    first_type: u32,
    has_type_section: bool,
    global_added: bool,
    imports_added: bool,
    func: u32,
    /// `(function, offset in the new body, offset in the old body)`.
    marks: Vec<(u32, u32, u32)>,
    /// `(function, offset in the old body, site)`.
    sites: Vec<(u32, u32, Site)>,
}

impl Instrumenter {
    fn add_types(&self, types: &mut wasm_encoder::TypeSection) {
        use ValType::{I32, I64, V128};
        types.ty().function([I32, I32], [I32]);
        for v in [I32, I64] {
            types.ty().function([I32, v, I32], [I32, v]);
        }
        types.ty().function([I32, I32, I32, I32], [I32, I32, I32]);
        types.ty().function([I32, I64, I64, I32], [I32, I64, I64]);
        types.ty().function([I32, I32], [I32]);
        types.ty().function([I64, I32], [I64]);
        types.ty().function([I32], []);
        types.ty().function([I32, I32], [I32]);
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
        imports.import(
            INTERNAL_MODULE,
            RACE_SHADOW_NAME,
            EntityType::Memory(wasm_encoder::MemoryType {
                minimum: self.layout.pages(),
                maximum: Some(self.layout.pages()),
                memory64: false,
                shared: true,
                page_size_log2: None,
            }),
        );
    }

    /// Appends the global that holds the thread's slot (slot 0 at first).
    fn add_global(&mut self, globals: &mut wasm_encoder::GlobalSection) {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(ty, &ConstExpr::i32_const(0));
        self.global_added = true;
    }

    /// What `op` does to the shared memory, if anything, and how it is
    /// instrumented.
    fn access(&self, op: &Operator<'_>) -> Option<(Site, Plan)> {
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
                Some((bulk(Kind::Fill), Plan::Hooks(Hook::I32x2, None)))
            }
            Operator::MemoryInit { mem, .. } if shared(mem) => {
                Some((bulk(Kind::Init), Plan::Hooks(Hook::I32x2, None)))
            }
            Operator::MemoryCopy { dst_mem, src_mem } if shared(dst_mem) || shared(src_mem) => {
                let kind = Kind::Copy {
                    src: shared(src_mem),
                    dst: shared(dst_mem),
                };
                let is64 = |m: u32| self.memory64.get(m as usize).copied().unwrap_or(false);
                let plan = match (is64(dst_mem), is64(src_mem)) {
                    (false, false) => Plan::Hooks(Hook::I32x2, None),
                    (dst64, src64) => Plan::MixedCopy { dst64, src64 },
                };
                Some((bulk(kind), plan))
            }
            Operator::AtomicFence => Some((bulk(Kind::Fence), Plan::Hooks(Hook::Fence, None))),
            _ => {
                let (memarg, kind, size, shape, after) = ops::classify(op)?;
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
                let plain = matches!(kind, Kind::Read | Kind::Write);
                let plan = match shape {
                    Shape::Addr if plain && size <= 8 => Plan::Inline(None),
                    Shape::I32 if plain => Plan::Inline(Some(ValType::I32)),
                    Shape::I64 if plain => Plan::Inline(Some(ValType::I64)),
                    Shape::F32 => Plan::Inline(Some(ValType::F32)),
                    Shape::F64 => Plan::Inline(Some(ValType::F64)),
                    Shape::Addr => Plan::Hooks(Hook::Addr, after),
                    Shape::I32 => Plan::Hooks(Hook::I32, after),
                    Shape::I64 => Plan::Hooks(Hook::I64, after),
                    Shape::I32x2 => Plan::Hooks(Hook::I32x2, after),
                    Shape::I64x2 => Plan::Hooks(Hook::I64x2, after),
                    Shape::V128 => Plan::Hooks(Hook::V128, after),
                };
                Some((site, plan))
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

    fn memory_index(&mut self, memory: u32) -> Result<u32, reencode::Error> {
        Ok(if memory < self.memory_imports {
            memory
        } else {
            memory + 1
        })
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_global_section(self, globals, section)?;
        self.add_global(globals);
        Ok(())
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
        // A module without globals: the slot's global gets a section of its
        // own, before the first section that follows globals.
        let after_globals = matches!(
            before,
            None | Some(
                SectionId::Export
                    | SectionId::Start
                    | SectionId::Element
                    | SectionId::DataCount
                    | SectionId::Code
                    | SectionId::Data
            )
        );
        if !self.global_added && after_globals {
            let mut globals = wasm_encoder::GlobalSection::new();
            self.add_global(&mut globals);
            module.section(&globals);
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
        // The function's own locals, then the fast path's.
        let mut locals = Vec::new();
        let mut count = self.params.get(self.func as usize).copied().unwrap_or(0);
        for pair in func.get_locals_reader()? {
            let (n, ty) = pair?;
            count += n;
            locals.push((n, self.val_type(ty)?));
        }
        locals.extend(LOCALS.iter().map(|&ty| (1, ty)));
        let mut f = Function::new(locals);
        let target = Target {
            layout: self.layout,
            locals: count,
            shadow: self.memory_imports,
            slot: self.slot_global,
            hook: self.func_imports + Hook::Access as u32,
        };
        let start = func.range().start;
        let mut delta = None;
        let this = self.func;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let (op, at) = reader.read_with_offset()?;
            let (new, old) = (f.byte_len() as u32, (at - start) as u32);
            // Code at `new` maps back to the instruction at `old`.
            let mut mark = |new: u32, marks: &mut Vec<_>| {
                let d = i64::from(old) - i64::from(new);
                if delta != Some(d) {
                    delta = Some(d);
                    marks.push((this, new, old));
                }
            };
            mark(new, &mut self.marks);
            let Some((site, plan)) = self.access(&op) else {
                f.instruction(&self.instruction(op)?);
                continue;
            };
            let id = self.sites.len() as u32;
            self.sites.push((self.func, old, site));
            match plan {
                Plan::Inline(value) => {
                    let access = fast_path::Access {
                        site: id,
                        size: site.size,
                        offset: site.offset,
                        write: site.kind == Kind::Write,
                        value,
                    };
                    fast_path::emit(&mut f, &target, &access, |at| mark(at, &mut self.marks));
                }
                Plan::Hooks(before, _) => {
                    f.instruction(&Instruction::I32Const(id as i32));
                    // A backtrace taken in the hook names the instruction's
                    // offset.
                    mark(f.byte_len() as u32, &mut self.marks);
                    f.instruction(&Instruction::Call(self.func_imports + before as u32));
                }
                Plan::MixedCopy { dst64, src64 } => {
                    // Operands to the fast path's locals (n and the 32-bit
                    // side are `i32`, the other side `i64`), the shared
                    // side's to the hook (0 for the other), then back.
                    use Instruction::{Drop, I32Const, LocalGet, LocalSet};
                    let (n, wide) = (target.value(ValType::I32), target.value(ValType::I64));
                    let dst = if dst64 { wide } else { target.addr() };
                    let src = if src64 { wide } else { target.ea() };
                    for local in [n, src, dst] {
                        f.instruction(&LocalSet(local));
                    }
                    for (local, is64) in [(dst, dst64), (src, src64)] {
                        f.instruction(&if is64 { I32Const(0) } else { LocalGet(local) });
                    }
                    f.instruction(&LocalGet(n));
                    f.instruction(&I32Const(id as i32));
                    mark(f.byte_len() as u32, &mut self.marks);
                    f.instruction(&Instruction::Call(self.func_imports + Hook::I32x2 as u32));
                    for _ in 0..3 {
                        f.instruction(&Drop);
                    }
                    for local in [dst, src, n] {
                        f.instruction(&LocalGet(local));
                    }
                }
            }
            mark(f.byte_len() as u32, &mut self.marks);
            f.instruction(&self.instruction(op)?);
            if let Plan::Hooks(_, Some(after)) = plan {
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
mod tests;
