//! Where a variable is in linear memory (its DWARF location expression)
//! and how big it is (its type), for the data symbol table.

use gimli::{constants, AttributeValue, DebuggingInformationEntry, Operation, UnitOffset, UnitRef};

use super::R;

/// Type chains longer than this (qualifiers, typedefs, nested arrays) are
/// taken as malformed: the variable gets no size.
pub(super) const TYPE_STEPS: u32 = 64;

/// The type entry `e` refers to (`DW_AT_type`, within its unit).
pub(super) fn type_of(e: &DebuggingInformationEntry<R<'_>>) -> Option<UnitOffset> {
    match e.attr_value(constants::DW_AT_type)? {
        AttributeValue::UnitRef(o) => Some(o),
        _ => None,
    }
}

/// Linear memory that holds (a piece of) a variable.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    pub(super) addr: u64,
    pub(super) len: u64,
    /// The piece of the variable it holds: offset and size.
    pub(super) offset: u64,
    pub(super) piece: u64,
}

/// One piece of a location expression, as read so far.
#[derive(Default)]
struct Piece {
    /// `DW_OP_addr`/`addrx`, then any `DW_OP_plus_uconst`, first.
    addr: Option<u64>,
    /// Bytes read from there (`DW_OP_deref_size`, `DW_OP_deref`).
    deref: Option<u64>,
    /// Any other operation, or an address not first.
    other: bool,
    /// `DW_OP_stack_value`: the piece is a value, not a place.
    value: bool,
}

impl Piece {
    /// The memory this piece is at (a place: `len` bytes from its address)
    /// or computed from (a value read from memory).
    fn memory(&self, len: u64) -> Option<(u64, u64)> {
        let addr = self.addr?;
        match (self.value, self.deref) {
            (false, None) if !self.other => Some((addr, len)),
            (true, Some(read)) => Some((addr, read)),
            _ => None,
        }
    }
}

/// Where the variable of `size` bytes with location `location` is in
/// linear memory: its pieces that are at a fixed address, or are computed
/// from one. Anything else (a wasm local or global, a constant, a location
/// list) has no place.
pub(super) fn places(
    unit: UnitRef<'_, R<'_>>,
    location: AttributeValue<R<'_>>,
    size: u64,
) -> Vec<Place> {
    let mut out = Vec::new();
    let Some(expr) = location.exprloc_value() else {
        return out;
    };
    let mut ops = expr.operations(unit.encoding());
    let mut piece = Piece::default();
    let mut bits = 0u64;
    let mut pieced = false;
    let mut push = |piece: &Piece, offset: u64, len: u64| {
        if let Some((addr, read)) = piece.memory(len) {
            if in_memory(unit, addr, read) && offset < size {
                out.push(Place {
                    addr,
                    len: read,
                    offset,
                    piece: len.min(size - offset),
                });
            }
        }
    };
    loop {
        let op = match ops.next() {
            Ok(Some(op)) => op,
            Ok(None) => break,
            Err(_) => return Vec::new(),
        };
        let first = piece.addr.is_none() && !piece.other && piece.deref.is_none();
        match op {
            Operation::Address { address } if first => piece.addr = Some(address),
            Operation::AddressIndex { index } if first => match unit.address(index) {
                Ok(address) => piece.addr = Some(address),
                Err(_) => return Vec::new(),
            },
            Operation::PlusConstant { value } if piece.addr.is_some() && piece.deref.is_none() => {
                piece.addr = piece.addr.and_then(|a| a.checked_add(value));
            }
            Operation::Deref {
                size, space: false, ..
            } if piece.deref.is_none() && !piece.other => {
                piece.deref = Some(u64::from(size));
            }
            Operation::StackValue => piece.value = true,
            Operation::Piece {
                size_in_bits,
                bit_offset,
            } => {
                pieced = true;
                if bit_offset.is_none() && bits % 8 == 0 && size_in_bits % 8 == 0 {
                    push(&piece, bits / 8, size_in_bits / 8);
                }
                bits = bits.saturating_add(size_in_bits);
                piece = Piece::default();
            }
            _ => piece.other = true,
        }
    }
    if !pieced {
        push(&piece, 0, size);
    }
    out
}

/// Whether `len` bytes at `addr` can be linear memory: not address 0
/// (where a linker resolves a discarded variable) and within the address
/// space (not a tombstone such as `0xffffffff`).
fn in_memory(unit: UnitRef<'_, R<'_>>, addr: u64, len: u64) -> bool {
    let limit = match unit.encoding().address_size {
        4 => 1u64 << 32,
        _ => u64::MAX,
    };
    len > 0 && addr != 0 && addr.checked_add(len).is_some_and(|end| end <= limit)
}

/// The size of the type at `offset`: its `DW_AT_byte_size`, through
/// typedefs and qualifiers, pointers the address size, arrays their
/// element's size times their counts. `None` when unknown (an incomplete
/// type, a variable-length array) or the chain is longer than `steps`.
pub(super) fn type_size(
    unit: UnitRef<'_, R<'_>>,
    mut offset: UnitOffset,
    steps: u32,
) -> Option<u64> {
    for left in (0..steps).rev() {
        let e = unit.entry(offset).ok()?;
        if let Some(size) = e.attr_value(constants::DW_AT_byte_size) {
            return size.udata_value();
        }
        match e.tag() {
            constants::DW_TAG_typedef
            | constants::DW_TAG_const_type
            | constants::DW_TAG_volatile_type
            | constants::DW_TAG_restrict_type
            | constants::DW_TAG_atomic_type => offset = type_of(&e)?,
            constants::DW_TAG_pointer_type
            | constants::DW_TAG_reference_type
            | constants::DW_TAG_rvalue_reference_type => {
                return Some(u64::from(unit.encoding().address_size))
            }
            constants::DW_TAG_array_type => {
                let element = type_size(unit, type_of(&e)?, left)?;
                return element.checked_mul(array_count(unit, offset)?);
            }
            _ => return None,
        }
    }
    None
}

/// The number of elements of the array type at `offset`: the product of
/// its subranges' counts.
fn array_count(unit: UnitRef<'_, R<'_>>, offset: UnitOffset) -> Option<u64> {
    let mut cursor = unit.entries_at_offset(offset).ok()?;
    cursor.next_dfs().ok()??;
    let mut count = 1u64;
    while let Some(e) = cursor.next_dfs().ok()? {
        if e.depth() <= 0 {
            break;
        }
        if e.depth() > 1 || e.tag() != constants::DW_TAG_subrange_type {
            continue;
        }
        let n = match e.attr_value(constants::DW_AT_count) {
            Some(n) => n.udata_value()?,
            None => {
                let upper = e.attr_value(constants::DW_AT_upper_bound)?.udata_value()?;
                let lower = match e.attr_value(constants::DW_AT_lower_bound) {
                    Some(l) => l.udata_value()?,
                    None => 0,
                };
                upper.checked_sub(lower)?.checked_add(1)?
            }
        };
        count = count.checked_mul(n)?;
    }
    Some(count)
}
