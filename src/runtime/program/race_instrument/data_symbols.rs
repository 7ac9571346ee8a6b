//! Names of the program's data, for the race detector's reports: the global
//! and function-static variables a module's DWARF places in linear memory.
//!
//! wasi-sdk's threaded modules initialise their data with passive segments
//! and carry no data symbols in the name section, so the only source of
//! these names is the DWARF a `-g` build leaves in custom sections
//! (`.debug_info`, `.debug_abbrev`, `.debug_str`, `.debug_line_str`,
//! `.debug_str_offsets`, `.debug_addr`). A variable counts when its
//! `DW_AT_location` is `DW_OP_addr` (or `DW_OP_addrx`, DWARF 5), optionally
//! plus a constant, and its type has a size (through typedefs, qualifiers
//! and arrays); a function-static one is named `function::variable`, a
//! variable in a namespace (C++, Rust) `namespace::variable`.
//!
//! Optimised code also splits variables: LLVM's GlobalOpt gives each
//! element of `static int data[4]` a global of its own, and shrinks one
//! that only ever holds 0 or a constant to a byte, which DWARF describes as
//! pieces (`DW_OP_piece`), each read from memory (`DW_OP_addr A,
//! DW_OP_deref_size 1, …, DW_OP_stack_value`). Each piece's memory then
//! counts as the bytes of the variable the piece stands for: the byte that
//! holds `data[2]` is `data+8`.
//!
//! Parsed lazily, on the first lookup: loading copies the sections (only
//! with race detection on, and a memcpy), the table is built when a race
//! is reported. Most runs under the detector report nothing, and the
//! DWARF of a large program (megabytes) would otherwise be walked at every
//! load. Malformed DWARF never fails anything: a unit that does not parse
//! adds nothing, and a panic in the parser leaves an empty table.

use std::collections::HashMap;
use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use gimli::{
    constants, AttributeValue, DebugAddrBase, DebugLocListsBase, DebugRngListsBase,
    DebugStrOffsetsBase, DebuggingInformationEntry, DwarfFileType, EndianSlice, LittleEndian,
    SectionId, Unit, UnitOffset, UnitRef,
};

use location::{places, type_of, type_size, Place, TYPE_STEPS};

mod location;

type R<'a> = EndianSlice<'a, LittleEndian>;

/// The sections read, by their custom section names.
const SECTIONS: [(&str, SectionId); 6] = [
    (".debug_info", SectionId::DebugInfo),
    (".debug_abbrev", SectionId::DebugAbbrev),
    (".debug_str", SectionId::DebugStr),
    (".debug_line_str", SectionId::DebugLineStr),
    (".debug_str_offsets", SectionId::DebugStrOffsets),
    (".debug_addr", SectionId::DebugAddr),
];

/// How many variables before an address a lookup looks at for one that
/// holds it (variables overlap only as aliases).
const LOOK_BACK: usize = 8;

/// The data symbols of one module.
#[derive(Debug, Default)]
pub(crate) struct DataSymbols {
    /// The module's DWARF sections, in [`SECTIONS`] order (empty: absent).
    sections: [Vec<u8>; 6],
    table: OnceLock<Vec<Symbol>>,
}

/// Bytes of linear memory that hold (a piece of) a variable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Symbol {
    /// Where in linear memory, and how many bytes.
    addr: u64,
    len: u64,
    name: Box<str>,
    /// The offset in the variable of the piece they hold, and its size.
    offset: u64,
    piece: u64,
    /// The variable's size.
    size: u64,
}

impl DataSymbols {
    /// Keeps custom section `name` if it is one the table is built from
    /// (the first of each name).
    pub(crate) fn add_section(&mut self, name: &str, data: &[u8]) {
        if let Some(i) = SECTIONS.iter().position(|(n, _)| *n == name) {
            if self.sections[i].is_empty() {
                self.sections[i] = data.to_vec();
            }
        }
    }

    /// Whether the module has DWARF to build the table from.
    pub(crate) fn has_dwarf(&self) -> bool {
        !self.sections[0].is_empty()
    }

    /// The variable holding byte `addr` of linear memory: its name, the
    /// offset in it of the byte `addr` holds, and its size.
    pub(crate) fn lookup(&self, addr: u64) -> Option<(&str, u64, u64)> {
        if !self.has_dwarf() {
            return None;
        }
        let table = self.table.get_or_init(|| {
            catch_unwind(AssertUnwindSafe(|| self.parse())).unwrap_or_else(|_| {
                log::debug!("the module's DWARF could not be read: no data symbols");
                Vec::new()
            })
        });
        let end = table.partition_point(|s| s.addr <= addr);
        table[..end]
            .iter()
            .rev()
            .take(LOOK_BACK)
            .find(|s| addr - s.addr < s.len)
            .map(|s| {
                let within = (addr - s.addr).min(s.piece.saturating_sub(1));
                (&*s.name, s.offset + within, s.size)
            })
    }

    /// The variables (and pieces) with a linear-memory address and a size,
    /// sorted.
    fn parse(&self) -> Vec<Symbol> {
        let load = |id: SectionId| -> Result<R<'_>, Infallible> {
            let i = SECTIONS.iter().position(|(_, s)| *s == id);
            let data = i.map_or(&[][..], |i| &self.sections[i][..]);
            Ok(EndianSlice::new(data, LittleEndian))
        };
        let dwarf = match gimli::Dwarf::load(load) {
            Ok(dwarf) => dwarf,
            Err(never) => match never {},
        };
        let mut out = Vec::new();
        let mut headers = dwarf.units();
        // A unit header that does not parse ends the walk (the next one's
        // place is unknown); a unit whose entries do not parse ends there.
        while let Ok(Some(header)) = headers.next() {
            if let Ok(unit) = unit(&dwarf, header) {
                let _ = unit_symbols(unit.unit_ref(&dwarf), &mut out);
            }
        }
        out.sort();
        out.dedup_by(|a, b| a.addr == b.addr && a.name == b.name);
        log::debug!("{} data symbols from the module's DWARF", out.len());
        out
    }
}

/// A unit, with what its root entry says about where its strings and
/// addresses are. Not `Unit::new`, which also reads the line program
/// (`.debug_line`, not kept).
fn unit<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: gimli::UnitHeader<R<'a>>,
) -> gimli::Result<Unit<R<'a>>> {
    let abbreviations = dwarf.abbreviations(&header)?;
    let encoding = header.encoding();
    let main = DwarfFileType::Main;
    let mut unit = Unit {
        header,
        abbreviations,
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base: DebugStrOffsetsBase::default_for_encoding_and_file(encoding, main),
        addr_base: DebugAddrBase(0),
        loclists_base: DebugLocListsBase::default_for_encoding_and_file(encoding, main),
        rnglists_base: DebugRngListsBase::default_for_encoding_and_file(encoding, main),
        line_program: None,
        dwo_id: None,
    };
    let mut cursor = unit.header.entries(&unit.abbreviations);
    let root = cursor.next_dfs()?.ok_or(gimli::Error::MissingUnitDie)?;
    if let Some(AttributeValue::DebugStrOffsetsBase(base)) =
        root.attr_value(constants::DW_AT_str_offsets_base)
    {
        unit.str_offsets_base = base;
    }
    if let Some(AttributeValue::DebugAddrBase(base)) = root.attr_value(constants::DW_AT_addr_base) {
        unit.addr_base = base;
    }
    Ok(unit)
}

/// A variable whose name comes from its declaration (`DW_AT_specification`,
/// a C++ static member), resolved once the unit is read.
struct Pending {
    places: Vec<Place>,
    size: u64,
    declaration: UnitOffset,
}

/// Adds the variables of `unit` to `out`.
fn unit_symbols(unit: UnitRef<'_, R<'_>>, out: &mut Vec<Symbol>) -> gimli::Result<()> {
    // The enclosing named scopes: (depth, qualified name).
    let mut scopes: Vec<(isize, Option<String>)> = Vec::new();
    // Qualified names of scopes and declarations, for references to them.
    let mut qualified: HashMap<UnitOffset, String> = HashMap::new();
    let mut pending = Vec::new();
    let mut cursor = unit.entries();
    while let Some(e) = cursor.next_dfs()? {
        let depth = e.depth();
        while scopes.last().is_some_and(|(d, _)| *d >= depth) {
            scopes.pop();
        }
        let outer = scopes.last().and_then(|(_, q)| q.as_deref());
        match e.tag() {
            constants::DW_TAG_namespace
            | constants::DW_TAG_subprogram
            | constants::DW_TAG_structure_type
            | constants::DW_TAG_class_type
            | constants::DW_TAG_union_type => {
                let own = name(unit, e).map(|n| qualify(outer, &n)).or_else(|| {
                    // An out-of-line definition, or a concrete instance of
                    // an inlined function: named by what it refers to.
                    [
                        constants::DW_AT_specification,
                        constants::DW_AT_abstract_origin,
                    ]
                    .into_iter()
                    .find_map(|at| match e.attr_value(at) {
                        Some(AttributeValue::UnitRef(o)) => qualified.get(&o).cloned(),
                        _ => None,
                    })
                });
                if let Some(q) = &own {
                    qualified.insert(e.offset(), q.clone());
                }
                if e.has_children() {
                    scopes.push((depth, own.or_else(|| outer.map(str::to_string))));
                }
            }
            constants::DW_TAG_variable | constants::DW_TAG_member => {
                let declared = matches!(
                    e.attr_value(constants::DW_AT_declaration),
                    Some(AttributeValue::Flag(true))
                );
                if declared {
                    if let Some(n) = name(unit, e) {
                        qualified.insert(e.offset(), qualify(outer, &n));
                    }
                    continue;
                }
                let Some(location) = e.attr_value(constants::DW_AT_location) else {
                    continue;
                };
                let declaration = match e.attr_value(constants::DW_AT_specification) {
                    Some(AttributeValue::UnitRef(o)) => Some(o),
                    _ => None,
                };
                let size = type_of(e)
                    .or_else(|| declaration.and_then(|o| type_of(&unit.entry(o).ok()?)))
                    .and_then(|t| type_size(unit, t, TYPE_STEPS))
                    .filter(|&s| s > 0);
                let Some(size) = size else { continue };
                let places = places(unit, location, size);
                if places.is_empty() {
                    continue;
                }
                match (name(unit, e), declaration) {
                    (Some(n), _) => add(out, &places, size, &qualify(outer, &n)),
                    (None, Some(declaration)) => pending.push(Pending {
                        places,
                        size,
                        declaration,
                    }),
                    // A string literal or another unnamed object.
                    (None, None) => {}
                }
            }
            _ => {}
        }
    }
    for p in pending {
        if let Some(n) = qualified.get(&p.declaration) {
            add(out, &p.places, p.size, n);
        }
    }
    Ok(())
}

fn add(out: &mut Vec<Symbol>, places: &[Place], size: u64, name: &str) {
    let name: Box<str> = name.into();
    out.extend(places.iter().map(|p| Symbol {
        addr: p.addr,
        len: p.len,
        name: name.clone(),
        offset: p.offset,
        piece: p.piece,
        size,
    }));
}

fn qualify(outer: Option<&str>, name: &str) -> String {
    match outer {
        Some(o) => format!("{o}::{name}"),
        None => name.to_string(),
    }
}

fn name<'a>(unit: UnitRef<'_, R<'a>>, e: &DebuggingInformationEntry<R<'a>>) -> Option<String> {
    let value = e.attr_value(constants::DW_AT_name)?;
    let s = unit.attr_string(value).ok()?;
    Some(s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests;
