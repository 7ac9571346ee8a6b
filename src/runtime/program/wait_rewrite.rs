//! weft's load-time rewrite: makes `memory.atomic.wait` stoppable and, by
//! default, inserts the stop checks that stop running wasm (`stop_checks`).
//!
//! Wasmtime's epoch interruption does not reach a thread parked in
//! `memory.atomic.wait32/64` (Wasmtime issue #12809), and its public API has
//! no way to wake one. So when a module imports a shared memory, weft rewrites
//! it at load time: every `memory.atomic.wait32`, `memory.atomic.wait64` and
//! `memory.atomic.notify` on that memory becomes
//!
//! ```text
//! i32.const <memarg offset>
//! call $weft:internal.<wait32|wait64|notify>
//! ```
//!
//! The three imports take the instruction's own operands plus the offset and
//! are implemented (in `run::waits`) by a parking lot keyed by address,
//! one per run (`run::waits::parking_lot`). The end of the program wakes
//! every waiter, which then traps as stopped. Alignment, bounds and the atomic (SeqCst)
//! comparison behave as in Wasmtime: a misaligned address traps with
//! "unaligned atomic", an out-of-bounds one with "out of bounds memory access".
//!
//! This module is the binary rewrite alone; it depends on no other part of
//! the runtime.
//!
//! With stop checks the rewrite also imports the stop memory (after the
//! module's imported memories; defined memories shift by one) and inserts a
//! check after every `loop` and at the entry of every function that calls;
//! a module it cannot rewrite is then refused rather than run unchecked.
//!
//! Rewriting keeps everything else as it was: function indices shift by the
//! three new imports (calls, `ref.func`, exports, start, elements and the
//! name section are renumbered), types are appended. Instructions the
//! validator would reject (bad alignment, offsets above 4 GiB) are left
//! alone so the module stays invalid. The rewrite records how its function
//! indices and code offsets map back (`frame_map::FrameMap`), so traps show
//! the original module's frames. Modules compiled elsewhere and handed
//! to [`Program::from_module`](crate::runtime::Program::from_module) are not
//! rewritten.

use std::borrow::Cow;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{EntityType, Function, Instruction, SectionId, ValType};
use wasmparser::{Operator, Parser, Payload};
use wasmtime::Module;

use crate::runtime::imports::{INTERNAL_MODULE, NOTIFY, STOP_MEMORY_NAME, WAIT32, WAIT64};
use crate::runtime::program::defined_memory;
use crate::runtime::program::frame_map::{body_starts, FrameMap};
use crate::runtime::program::module_shape::{self, ModuleShape};
use crate::runtime::program::race_instrument::{self, RaceSites};
use crate::runtime::program::stop_checks;

/// How many functions the rewrite imports.
const ADDED: u32 = 3;

/// Compiles `bytes` (binary or text): a defined shared memory becomes an
/// import (`defined_memory`), atomic waits are rewritten when the module
/// imports a shared memory, with `checks` stop checks are inserted
/// (`stop_checks`), and with `races` memory accesses are instrumented for
/// the race detector (`race_instrument`, last). Errors are those of the
/// original module. Also returns how the rewritten module's frames map back
/// (`None`: not rewritten) and the instrumented sites.
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    checks: bool,
    races: bool,
) -> wasmtime::Result<Compiled> {
    let original: Cow<'_, [u8]> = match wat::parse_bytes(bytes) {
        Ok(b) => b,
        // Let Wasmtime word the error.
        Err(_) => return Ok((Module::new(engine, bytes)?, None, None)),
    };
    let (binary, shared_map) = match defined_memory::import_defined_memory(&original) {
        Ok(None) => (original.clone(), None),
        Ok(Some((shared, map))) => (Cow::Owned(shared), Some(map)),
        Err(refusal) => {
            // An invalid module gets Wasmtime's own error first.
            Module::validate(engine, &original)?;
            return Err(wasmtime::Error::new(refusal));
        }
    };
    let rewritten = rewrite(&binary, checks).and_then(|r| match r {
        None => Ok(None),
        Some((rewritten, map)) => {
            let map = compose(shared_map.as_ref(), map);
            // With races, the rewrite is validated before it is instrumented.
            let module = match races {
                false => Module::new(engine, &rewritten).map(Some),
                true => Module::validate(engine, &rewritten).map(|()| None),
            };
            module
                .map(|module| Some((module, rewritten, map)))
                .map_err(|e| format!("{e:#}"))
        }
    });
    match rewritten {
        Ok(Some((Some(module), _, map))) => Ok((module, Some(map), None)),
        Ok(Some((None, rewritten, map))) => finish(engine, &rewritten, Some(map), races),
        Ok(None) => finish(engine, &binary, shared_map, races),
        // Report the original module's error, not the rewritten one's.
        Err(e) => {
            let module = Module::new(engine, &binary)?;
            if checks {
                // Running it unchecked would silently lose the stop guarantee.
                return Err(wasmtime::Error::msg(format!(
                    "cannot insert weft's stop checks ({e}); \
                     a module that cannot be stopped needs interrupt_wasm off"
                )));
            }
            log::warn!("atomic waits not made stoppable (cannot rewrite: {e})");
            if races {
                log::warn!("races are not detected in this module (cannot rewrite: {e})");
            }
            Ok((module, shared_map, None))
        }
    }
}

/// A compiled module, how its frames map back (`None`: not rewritten) and,
/// with race detection, its instrumented sites.
pub(crate) type Compiled = (Module, Option<FrameMap>, Option<RaceSites>);

/// Compiles `bytes` (whose frames map back through `map`), instrumented for
/// the race detector with `races` (`race_instrument`).
fn finish(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    map: Option<FrameMap>,
    races: bool,
) -> wasmtime::Result<Compiled> {
    if races {
        match race_instrument::instrument(bytes, map.as_ref()) {
            Ok(Some((out, later, sites))) => {
                // The hooks return several values: an engine with
                // multi-value switched off cannot compile them.
                let module = Module::new(engine, &out).map_err(|e| {
                    wasmtime::Error::msg(format!(
                        "cannot instrument the module for race detection ({e:#}); \
                         the race detector needs the multi-value proposal"
                    ))
                })?;
                return Ok((module, Some(compose(map.as_ref(), later)), Some(sites)));
            }
            Ok(None) => {}
            Err(e) => log::warn!("races are not detected in this module (cannot instrument: {e})"),
        }
    }
    Ok((Module::new(engine, bytes)?, map, None))
}

/// The race sites [`compile`] with `races` finds in `bytes`, by the same
/// passes, nothing compiled (for a module the cache held; `None` when
/// `compile` would not instrument it either).
pub(crate) fn race_sites(bytes: &[u8], checks: bool) -> Option<RaceSites> {
    let original = wat::parse_bytes(bytes).ok()?;
    let (binary, map) = match defined_memory::import_defined_memory(&original).ok()? {
        None => (original, None),
        Some((shared, map)) => (Cow::Owned(shared), Some(map)),
    };
    let (binary, map) = match rewrite(&binary, checks).ok()? {
        None => (binary, map),
        Some((rewritten, later)) => (Cow::Owned(rewritten), Some(compose(map.as_ref(), later))),
    };
    let (_, _, sites) = race_instrument::instrument(&binary, map.as_ref()).ok()??;
    Some(sites)
}

fn compose(first: Option<&FrameMap>, then: FrameMap) -> FrameMap {
    match first {
        Some(f) => f.then(&then),
        None => then,
    }
}

/// What a first pass learned about a module.
struct Survey {
    shape: ModuleShape,
    /// The imported shared memory, when any function waits or notifies on
    /// it.
    waits: Option<u32>,
}

/// Returns the rewritten module, or `None` when nothing needs rewriting.
/// `bytes` must be a binary module. With `checks`, every loop and every
/// function that calls gets a stop check (`stop_checks`).
pub(crate) fn rewrite(bytes: &[u8], checks: bool) -> Result<Option<(Vec<u8>, FrameMap)>, String> {
    // Fast path: every wait/notify is encoded 0xFE 0x00..=0x02.
    if !checks && !bytes.windows(2).any(|w| w[0] == 0xFE && w[1] <= 0x02) {
        return Ok(None);
    }
    let survey = survey(bytes).map_err(|e| e.to_string())?;
    let shape = &survey.shape;
    if !shape.core_module {
        return Ok(None);
    }
    let waits = survey.waits;
    if waits.is_none() && !checks {
        return Ok(None);
    }
    let mut rewriter = Rewriter {
        waits,
        stop_memory: checks.then_some(shape.memory_imports),
        memory_imports: shape.memory_imports,
        func_imports: shape.func_imports,
        first_type: shape.types,
        has_type_section: shape.has_type_section,
        body_starts: body_starts(bytes),
        imports_added: false,
        func: 0,
        marks: Vec::new(),
    };
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), bytes)
        .map_err(|e| e.to_string())?;
    let out = module.finish();
    let new_starts = body_starts(&out);
    let old_starts = &rewriter.body_starts;
    let points = rewriter
        .marks
        .iter()
        .filter_map(|&(f, new, old)| {
            let f = f as usize;
            Some((new_starts.get(f)? + new, old_starts.get(f)? + old))
        })
        .collect();
    let map = FrameMap {
        func_imports: shape.func_imports,
        added_funcs: rewriter.added_funcs(),
        points,
    };
    Ok(Some((out, map)))
}

fn survey(bytes: &[u8]) -> wasmparser::Result<Survey> {
    let shape = module_shape::read(bytes)?;
    let mut waits = None;
    if let Some((memory, _)) = shape.shared_memory.filter(|_| shape.core_module) {
        for payload in Parser::new(0).parse_all(bytes) {
            if let Payload::CodeSectionEntry(body) = payload? {
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() && waits.is_none() {
                    if replacement(&ops.read()?, memory).is_some() {
                        waits = Some(memory);
                    }
                }
            }
            if waits.is_some() {
                break;
            }
        }
    }
    Ok(Survey { shape, waits })
}

/// Which import replaces `op` (0 wait32, 1 wait64, 2 notify) and its offset,
/// if `op` is a valid wait/notify on `memory`.
fn replacement(op: &Operator<'_>, memory: u32) -> Option<(u32, u32)> {
    let (which, memarg, natural) = match op {
        Operator::MemoryAtomicWait32 { memarg } => (0, memarg, 2),
        Operator::MemoryAtomicWait64 { memarg } => (1, memarg, 3),
        Operator::MemoryAtomicNotify { memarg } => (2, memarg, 2),
        _ => return None,
    };
    let offset = u32::try_from(memarg.offset).ok()?;
    (memarg.memory == memory && memarg.align == natural).then_some((which, offset))
}

struct Rewriter {
    /// The imported shared memory whose waits and notifies are rewritten.
    waits: Option<u32>,
    /// The index of the stop-check memory, when checks are inserted: after
    /// the module's imported memories, before its defined ones.
    stop_memory: Option<u32>,
    memory_imports: u32,
    func_imports: u32,
    first_type: u32,
    has_type_section: bool,
    /// Where each function body starts in the input.
    body_starts: Vec<u32>,
    /// Whether the added imports have been written.
    imports_added: bool,
    /// The function body being rewritten.
    func: u32,
    /// `(function, offset in the new body, offset in the old body)` wherever
    /// the difference between the two changes.
    marks: Vec<(u32, u32, u32)>,
}

impl Rewriter {
    /// How many functions the rewrite imports.
    fn added_funcs(&self) -> u32 {
        if self.waits.is_some() {
            ADDED
        } else {
            0
        }
    }

    fn add_types(&self, types: &mut wasm_encoder::TypeSection) {
        use ValType::{I32, I64};
        if self.waits.is_none() {
            return;
        }
        types.ty().function([I32, I32, I64, I32], [I32]);
        types.ty().function([I32, I64, I64, I32], [I32]);
        types.ty().function([I32, I32, I32], [I32]);
    }

    /// The imports the rewrite adds, after the module's own.
    fn add_imports(&self, imports: &mut wasm_encoder::ImportSection) {
        if self.waits.is_some() {
            for (i, name) in [WAIT32, WAIT64, NOTIFY].into_iter().enumerate() {
                imports.import(
                    INTERNAL_MODULE,
                    name,
                    EntityType::Function(self.first_type + i as u32),
                );
            }
        }
        if self.stop_memory.is_some() {
            imports.import(
                INTERNAL_MODULE,
                STOP_MEMORY_NAME,
                EntityType::Memory(stop_checks::memory_type()),
            );
        }
    }
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error> {
        Ok(if func < self.func_imports {
            func
        } else {
            func + self.added_funcs()
        })
    }

    fn memory_index(&mut self, memory: u32) -> Result<u32, reencode::Error> {
        Ok(match self.stop_memory {
            Some(_) if memory >= self.memory_imports => memory + 1,
            _ => memory,
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
        // A module without imports gets an import section of its own where
        // it belongs: after the types, before everything else.
        if !self.imports_added && !matches!(before, Some(SectionId::Type | SectionId::Import)) {
            let mut imports = wasm_encoder::ImportSection::new();
            self.add_imports(&mut imports);
            if !imports.is_empty() {
                module.section(&imports);
            }
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
        if let Some(stop) = self.stop_memory {
            if stop_checks::calls_anything(&func)? {
                stop_checks::emit(&mut f, stop);
            }
        }
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let (op, at) = reader.read_with_offset()?;
            let (new, old) = (f.byte_len() as u32, (at - start) as u32);
            if delta != Some(i64::from(old) - i64::from(new)) {
                delta = Some(i64::from(old) - i64::from(new));
                self.marks.push((self.func, new, old));
            }
            let wait = self.waits.and_then(|memory| replacement(&op, memory));
            match wait {
                Some((which, offset)) => {
                    f.instruction(&Instruction::I32Const(offset as i32));
                    // A trap in the import is reported at this call: the
                    // original instruction's offset.
                    let call_at = f.byte_len() as u32;
                    self.marks.push((self.func, call_at, old));
                    delta = Some(i64::from(old) - i64::from(call_at));
                    f.instruction(&Instruction::Call(self.func_imports + which));
                }
                None => {
                    let is_loop = matches!(op, Operator::Loop { .. });
                    f.instruction(&self.instruction(op)?);
                    if let (true, Some(stop)) = (is_loop, self.stop_memory) {
                        stop_checks::emit(&mut f, stop);
                    }
                }
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
            // Renumber names; drop a malformed name section (Wasmtime ignores
            // those too) rather than fail.
            wasmparser::KnownCustom::Name(names) => {
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
mod smith;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_renumbers_functions_and_only_when_shared() {
        let wat = r#"(module
          (import "env" "f" (func $f))
          (import "env" "memory" (memory 1 1 shared))
          (func $g (export "g") (result i32)
            (call $f)
            (memory.atomic.notify offset=4 (i32.const 0) (i32.const 1)))
          (func (export "h") (result i32)
            (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0)))
            (drop (memory.atomic.wait64 (i32.const 8) (i64.const 0) (i64.const -1)))
            (call $g))
          (elem declare func $g)
          (func (export "r") (result funcref) (ref.func $g)))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let (out, _) = rewrite(&bytes, false).unwrap().expect("rewritten");
        let text = wasmprinter_like(&out);
        assert!(text.contains("weft:internal"), "{text}");
        let mut config = wasmtime::Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let module = Module::new(&engine, &out).unwrap();
        assert_eq!(module.imports().len(), 5);
        let plain = wat::parse_str(
            r#"(module (memory 1 1 shared)
               (func (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))))"#,
        )
        .unwrap();
        assert_eq!(rewrite(&plain, false).unwrap(), None);
    }

    fn wasmprinter_like(bytes: &[u8]) -> String {
        let mut out = String::new();
        for p in Parser::new(0).parse_all(bytes) {
            if let Ok(Payload::ImportSection(r)) = p {
                for i in r.into_imports().flatten() {
                    out.push_str(&format!("{} {}\n", i.module, i.name));
                }
            }
        }
        out
    }
}
