//! What a rewrite that adds imports and types to a module must know first:
//! whether it is a core module, how many functions and memories it imports,
//! how many types it has, and which shared memory it imports. Read by
//! `wait_rewrite` and `race_instrument` before they rewrite.

use wasmparser::{Parser, Payload, TypeRef};

use crate::runtime::imports::is_internal_memory;

/// The shape of one module.
#[derive(Debug, Default)]
pub(crate) struct ModuleShape {
    /// Whether the bytes are a core module (not a component).
    pub(crate) core_module: bool,
    pub(crate) func_imports: u32,
    pub(crate) memory_imports: u32,
    pub(crate) types: u32,
    pub(crate) has_type_section: bool,
    /// The first imported 32-bit shared memory that is not weft's own: its
    /// index and maximum pages.
    pub(crate) shared_memory: Option<(u32, u64)>,
}

/// Reads the shape of `bytes` (a binary module or component).
pub(crate) fn read(bytes: &[u8]) -> wasmparser::Result<ModuleShape> {
    let mut s = ModuleShape {
        core_module: true,
        ..ModuleShape::default()
    };
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Ok(ModuleShape::default());
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
                    match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => s.func_imports += 1,
                        TypeRef::Memory(ty) => {
                            let program = !is_internal_memory(import.module, import.name);
                            if ty.shared && !ty.memory64 && program && s.shared_memory.is_none() {
                                let max = ty.maximum.unwrap_or(1 << 16);
                                s.shared_memory = Some((s.memory_imports, max));
                            }
                            s.memory_imports += 1;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(s)
}
