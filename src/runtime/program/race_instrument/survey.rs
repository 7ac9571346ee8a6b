//! The first pass of the race instrumentation: what it needs to know of a
//! module before rewriting it besides its shape (`module_shape`): globals,
//! function parameters, which memories are 64-bit, names and DWARF for
//! reports.

use std::collections::HashMap;

use wasmparser::{CompositeInnerType, KnownCustom, Name, Parser, Payload, TypeRef};

use super::data_symbols::DataSymbols;
use super::{ops, Shape};
use crate::runtime::program::module_shape::{self, ModuleShape};

#[derive(Default)]
pub(super) struct Survey {
    pub(super) shape: ModuleShape,
    /// Which memories (imported, then defined) are 64-bit.
    pub(super) memory64: Vec<bool>,
    /// Globals, imported and defined.
    pub(super) globals: u32,
    /// Parameters of each defined function.
    pub(super) params: Vec<u32>,
    pub(super) uses_v128: bool,
    pub(super) names: HashMap<u32, String>,
    pub(super) symbols: DataSymbols,
}

pub(super) fn survey(bytes: &[u8]) -> wasmparser::Result<Survey> {
    let mut s = Survey {
        shape: module_shape::read(bytes)?,
        ..Survey::default()
    };
    if !s.shape.core_module {
        return Ok(s);
    }
    // Parameters of each function type (0 for other types).
    let mut type_params = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for ty in group?.types() {
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
                    match import?.ty {
                        TypeRef::Global(_) => s.globals += 1,
                        TypeRef::Memory(ty) => s.memory64.push(ty.memory64),
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
