//! The inline fast path of a plain access: the code that lets a thread's
//! repeated access of the same bytes in one epoch skip the detector's hook.
//!
//! The run's detector keeps a *tag* per block of the shared memory (4
//! bytes, or 8 when the memory may grow so large that a shadow of 4-byte
//! blocks would not fit a 32-bit memory: see [`Layout`]) in a second shared
//! memory the instrumented module imports
//! (`weft:internal` `race.shadow`, made by `runtime::races::fast`), and each
//! thread's current tag in a slot of it: a tag names one thread in one epoch
//! (it changes whenever the thread's epoch does), its lowest bit set when
//! the thread wrote the whole block in that epoch, clear when it read the
//! whole block (or read part and wrote the rest). A block's tag is the
//! thread's only while the detector's state of the block says so; any other
//! access of the block goes through the hook and changes it. A plain access
//! of `size` bytes at `ea` that lies in one block (two for an 8-byte access
//! with 4-byte blocks) with, for each of them,
//!
//! ```text
//! write: tag(block) == my tag | 1
//! read:  tag(block) | 1 == my tag | 1
//! ```
//!
//! would change nothing in the detector (FastTrack's same-epoch cases), so
//! it runs without a call. Everything else calls `race.access`, which
//! records the access, sets the block's tag and returns the address of the
//! thread's slot (kept in a global of the instance, which is the thread's
//! own in wasi-threads; it starts at slot 0, whose tag matches nothing).
//!
//! Layout of the shadow memory: [`SLOT_BYTES`] of slots (slot 0, then one
//! per detector index, a cache line each: a thread's new tag does not
//! evict its neighbours' from their caches; a slot holds its tag twice, to
//! be compared with two blocks' at once), then a 4-byte tag per block of
//! the guest memory's maximum.

use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// Bytes of thread slots at the start of the shadow memory (16 pages).
pub(crate) const SLOT_BYTES: u32 = 16 << 16;
/// Bytes between two slots.
const SLOT_STRIDE: u32 = 64;
/// How the shadow memory of a guest memory is laid out: its blocks' size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Guest bytes per tag: `1 << shift` (2 or 3).
    shift: u32,
    /// Pages of the guest memory's maximum.
    max_pages: u64,
}

impl Layout {
    /// The layout for a guest memory of at most `max_pages`: 4-byte blocks
    /// when their shadow fits a 32-bit memory, 8-byte ones otherwise.
    pub(crate) fn new(max_pages: u64) -> Layout {
        let max_pages = max_pages.min(1 << 16);
        let shift = if u64::from(SLOT_BYTES >> 16) + max_pages <= 1 << 16 {
            2
        } else {
            3
        };
        Layout { shift, max_pages }
    }

    /// Pages of the shadow memory.
    pub(crate) fn pages(&self) -> u64 {
        u64::from(SLOT_BYTES >> 16) + self.max_pages.div_ceil(1 << (self.shift - 2))
    }

    /// Guest bytes per block (blocks are aligned).
    pub(crate) fn block_bytes(&self) -> u64 {
        1 << self.shift
    }

    /// Where the tag of the block holding guest byte `addr` is.
    pub(crate) fn tag_offset(&self, addr: u64) -> u64 {
        u64::from(SLOT_BYTES) + ((addr >> self.shift) << 2)
    }
}

/// The slot of detector index `index` (slot 0 when out of slots).
pub(crate) fn slot_offset(index: u32) -> u32 {
    match index.checked_add(1) {
        Some(slot) if slot < SLOT_BYTES / SLOT_STRIDE => slot * SLOT_STRIDE,
        _ => 0,
    }
}

/// Locals the fast path uses in every instrumented function: the address,
/// the effective address, and a value of each type a store can hold.
pub(crate) const LOCALS: [ValType; 6] = [
    ValType::I32,
    ValType::I32,
    ValType::I32,
    ValType::I64,
    ValType::F32,
    ValType::F64,
];

/// Where an inline check reads and calls.
pub(crate) struct Target {
    pub(crate) layout: Layout,
    /// The index of the first of [`LOCALS`] in the function.
    pub(crate) locals: u32,
    /// The shadow memory's index.
    pub(crate) shadow: u32,
    /// The global that holds the thread's slot.
    pub(crate) slot: u32,
    /// The `race.access` hook.
    pub(crate) hook: u32,
}

impl Target {
    /// The local that holds an access's address.
    pub(crate) fn addr(&self) -> u32 {
        self.locals
    }

    /// The local that holds an access's effective address.
    pub(crate) fn ea(&self) -> u32 {
        self.locals + 1
    }

    /// The local that holds a value of type `ty` (a number type).
    pub(crate) fn value(&self, ty: ValType) -> u32 {
        self.locals
            + match ty {
                ValType::I32 => 2,
                ValType::I64 => 3,
                ValType::F32 => 4,
                _ => 5,
            }
    }
}

/// One plain access to check inline.
pub(crate) struct Access {
    pub(crate) site: u32,
    pub(crate) size: u32,
    pub(crate) offset: u32,
    pub(crate) write: bool,
    /// The stored value's type (stores).
    pub(crate) value: Option<ValType>,
}

/// Emits the check of `access` in front of its instruction, whose operands
/// are on the stack, and leaves them there again. `mark` is called at the
/// offset of each instruction that may trap or call (the shadow load, the
/// hook call), for the frame map.
pub(crate) fn emit(f: &mut Function, t: &Target, access: &Access, mut mark: impl FnMut(u32)) {
    let (addr, ea) = (t.addr(), t.ea());
    let value = access.value.map(|ty| t.value(ty));
    let shadow = |offset| MemArg {
        offset: u64::from(offset),
        align: 2,
        memory_index: t.shadow,
    };
    if let Some(v) = value {
        f.instruction(&I::LocalSet(v));
    }
    f.instruction(&I::LocalTee(addr));
    if access.offset != 0 {
        // Wraps only for an access that traps anyway.
        f.instruction(&I::I32Const(access.offset as i32));
        f.instruction(&I::I32Add);
    }
    f.instruction(&I::LocalTee(ea));
    // An 8-byte access in 4-byte blocks checks two tags at once.
    let wide = t.layout.shift == 2 && access.size == 8;
    // Unaligned (may span more blocks): take the hook.
    let misaligned = match wide {
        true => 3,
        false => access.size as i32 - 1,
    };
    if misaligned != 0 {
        f.instruction(&I::I32Const(misaligned));
        f.instruction(&I::I32And);
        f.instruction(&I::LocalGet(ea));
    }
    if t.layout.shift > 2 {
        f.instruction(&I::I32Const((t.layout.shift - 2) as i32));
        f.instruction(&I::I32ShrU);
    }
    f.instruction(&I::I32Const(-4));
    f.instruction(&I::I32And);
    // Out of bounds only when the access itself is (the shadow covers the
    // guest memory's maximum): the trap is then the access's own.
    mark(f.byte_len() as u32);
    let (load, slot, or, ne) = match wide {
        true => (
            I::I64Load(shadow(SLOT_BYTES)),
            I::I64Load(shadow(0)),
            [I::I64Const(0x1_0000_0001), I::I64Or],
            I::I64Ne,
        ),
        false => (
            I::I32Load(shadow(SLOT_BYTES)),
            I::I32Load(shadow(0)),
            [I::I32Const(1), I::I32Or],
            I::I32Ne,
        ),
    };
    f.instruction(&load);
    if !access.write {
        or.iter().for_each(|i| {
            f.instruction(i);
        });
    }
    f.instruction(&I::GlobalGet(t.slot));
    f.instruction(&slot);
    f.instruction(&ne);
    if misaligned != 0 {
        f.instruction(&I::I32Or);
    }
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(addr));
    f.instruction(&I::I32Const(access.site as i32));
    mark(f.byte_len() as u32);
    f.instruction(&I::Call(t.hook));
    f.instruction(&I::GlobalSet(t.slot));
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(addr));
    if let Some(v) = value {
        f.instruction(&I::LocalGet(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shadow_covers_the_largest_memory_and_slots_run_out_into_slot_0() {
        let small = Layout::new(3);
        assert_eq!((small.pages(), small.block_bytes()), (16 + 3, 4));
        assert_eq!(small.tag_offset(13), u64::from(SLOT_BYTES) + 12);
        let edge = Layout::new((1 << 16) - 16);
        assert_eq!((edge.pages(), edge.block_bytes()), (1 << 16, 4));
        for max in [1 << 16, (1 << 16) - 15, 1 << 20] {
            let large = Layout::new(max);
            let pages = 16 + max.min(1 << 16).div_ceil(2);
            assert_eq!((large.pages(), large.block_bytes()), (pages, 8));
            let last = (max.min(1 << 16) << 16) - 1;
            assert!(large.tag_offset(last) + 4 <= large.pages() << 16);
        }
        assert_eq!(slot_offset(0), SLOT_STRIDE);
        let slots = SLOT_BYTES / SLOT_STRIDE;
        assert_eq!(slot_offset(slots - 2), SLOT_BYTES - SLOT_STRIDE);
        assert_eq!(slot_offset(slots - 1), 0);
        assert_eq!(slot_offset(u32::MAX), 0);
    }
}
