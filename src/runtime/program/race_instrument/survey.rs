//! The first pass of the race instrumentation: what it needs to know of a
//! module before rewriting it (its imports, globals, function types, the
//! shared memory, names and DWARF for reports).

use std::collections::HashMap;

use wasmparser::{CompositeInnerType, KnownCustom, Name, Parser, Payload, TypeRef};

use super::data_symbols::DataSymbols;
use super::{ops, Shape};
use crate::runtime::imports::is_internal_memory;

#[derive(Default)]
pub(super) struct Survey {
    pub(super) core_module: bool,
    pub(super) func_imports: u32,
    pub(super) memory_imports: u32,
    /// Which memories (imported, then defined) are 64-bit.
    pub(super) memory64: Vec<bool>,
    /// Globals, imported and defined.
    pub(super) globals: u32,
    pub(super) types: u32,
    pub(super) has_type_section: bool,
    /// The shared memory's index and maximum pages.
    pub(super) shared_memory: Option<(u32, u64)>,
    /// Parameters of each defined function.
    pub(super) params: Vec<u32>,
    pub(super) uses_v128: bool,
    pub(super) names: HashMap<u32, String>,
    pub(super) symbols: DataSymbols,
}

pub(super) fn survey(bytes: &[u8]) -> wasmparser::Result<Survey> {
    let mut s = Survey {
        core_module: true,
        ..Survey::default()
    };
    // Parameters of each function type (0 for other types).
    let mut type_params = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Ok(Survey::default());
            }
            Payload::TypeSection(reader) => {
                s.has_type_section = true;
                for group in reader {
                    for ty in group?.types() {
                        s.types += 1;
                        type_params.push(match &ty.composite_type.inner {
                            CompositeInnerType::Func(f) => f.params().len() as u32,
                            _ => 0,
                        });
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    s.params
                        .push(type_params.get(ty? as usize).copied().unwrap_or(0));
                }
            }
            Payload::GlobalSection(reader) => s.globals += reader.count(),
            Payload::MemorySection(reader) => {
                for ty in reader {
                    s.memory64.push(ty?.memory64);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    // The stop checks' memory is weft's, not the program's.
                    let internal = is_internal_memory(import.module, import.name);
                    match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => s.func_imports += 1,
                        TypeRef::Global(_) => s.globals += 1,
                        TypeRef::Memory(ty) => {
                            if ty.shared && !ty.memory64 && !internal && s.shared_memory.is_none() {
                                let max = ty.maximum.unwrap_or(1 << 16);
                                s.shared_memory = Some((s.memory_imports, max));
                            }
                            s.memory_imports += 1;
                            s.memory64.push(ty.memory64);
                        }
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) if !s.uses_v128 => {
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    if let Some((_, _, _, Shape::V128, _)) = ops::classify(&ops.read()?) {
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
