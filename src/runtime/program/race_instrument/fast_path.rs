//! The inline fast path of a plain access: the code that lets a thread's
//! repeated access of the same bytes in one epoch skip the detector's hook.
//!
//! The run's detector keeps a *tag* per 8-byte block of the shared memory
//! in a second shared memory the instrumented module imports
//! (`weft:internal` `race.shadow`, made by `runtime::races::fast`), and each
//! thread's current tag in a slot of it: a tag names one thread in one epoch
//! (it changes whenever the thread's epoch does), its lowest bit set when
//! the thread wrote the whole block in that epoch, clear when it read the
//! whole block (or read part and wrote the rest). A block's tag is the
//! thread's only while the detector's state of the block says so; any other
//! access of the block goes through the hook and changes it. A plain access
//! of `size` bytes at `ea`, naturally aligned, with
//!
//! ```text
//! write: tag(block(ea)) == my tag | 1
//! read:  tag(block(ea)) | 1 == my tag | 1
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
//! evict its neighbours' from their caches), then 4 bytes per 8-byte block
//! of the guest memory's maximum.

use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// Bytes of thread slots at the start of the shadow memory (16 pages).
pub(crate) const SLOT_BYTES: u32 = 16 << 16;
/// Bytes between two slots.
const SLOT_STRIDE: u32 = 64;
/// Guest bytes per tag: `1 << BLOCK_SHIFT`.
const BLOCK_SHIFT: u32 = 3;
/// Guest bytes per tag (a block; blocks are aligned).
pub(crate) const BLOCK_BYTES: u64 = 1 << BLOCK_SHIFT;

/// Pages of the shadow memory for a guest memory of at most `max_pages`.
pub(crate) fn shadow_pages(max_pages: u64) -> u64 {
    u64::from(SLOT_BYTES >> 16) + max_pages.min(1 << 16).div_ceil(1 << (BLOCK_SHIFT - 2))
}

/// Where the tag of the block holding guest byte `addr` is.
pub(crate) fn tag_offset(addr: u64) -> u64 {
    u64::from(SLOT_BYTES) + ((addr >> BLOCK_SHIFT) << 2)
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
    /// The index of the first of [`LOCALS`] in the function.
    pub(crate) locals: u32,
    /// The shadow memory's index.
    pub(crate) shadow: u32,
    /// The global that holds the thread's slot.
    pub(crate) slot: u32,
    /// The `race.access` hook.
    pub(crate) hook: u32,
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
    let (addr, ea) = (t.locals, t.locals + 1);
    let value = access.value.map(|ty| {
        t.locals
            + match ty {
                ValType::I32 => 2,
                ValType::I64 => 3,
                ValType::F32 => 4,
                _ => 5,
            }
    });
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
    if access.size > 1 {
        // Unaligned: may span two blocks, take the hook.
        f.instruction(&I::I32Const(access.size as i32 - 1));
        f.instruction(&I::I32And);
        f.instruction(&I::LocalGet(ea));
    }
    f.instruction(&I::I32Const((BLOCK_SHIFT - 2) as i32));
    f.instruction(&I::I32ShrU);
    f.instruction(&I::I32Const(-4));
    f.instruction(&I::I32And);
    // Out of bounds only when the access itself is (the shadow covers the
    // guest memory's maximum): the trap is then the access's own.
    mark(f.byte_len() as u32);
    f.instruction(&I::I32Load(shadow(SLOT_BYTES)));
    if !access.write {
        f.instruction(&I::I32Const(1));
        f.instruction(&I::I32Or);
    }
    f.instruction(&I::GlobalGet(t.slot));
    f.instruction(&I::I32Load(shadow(0)));
    f.instruction(&I::I32Ne);
    if access.size > 1 {
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
        assert_eq!(shadow_pages(1 << 16), 16 + (1 << 15));
        assert_eq!(shadow_pages(3), 16 + 2);
        let last = (1u64 << 32) - 1;
        assert!(tag_offset(last) + 4 <= shadow_pages(1 << 16) << 16);
        assert_eq!(slot_offset(0), SLOT_STRIDE);
        let slots = SLOT_BYTES / SLOT_STRIDE;
        assert_eq!(slot_offset(slots - 2), SLOT_BYTES - SLOT_STRIDE);
        assert_eq!(slot_offset(slots - 1), 0);
        assert_eq!(slot_offset(u32::MAX), 0);
    }
}
