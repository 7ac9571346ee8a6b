//! The fast shadow: the tags that let the instrumented code skip the hook
//! of a plain access that would change nothing (layout and rules in
//! `program::race_instrument::fast_path`).
//!
//! A tag names one thread in one epoch: every time a thread's epoch
//! changes it takes a new one, so the tags it left on blocks in earlier
//! epochs stop matching. Tags are even and count up from 2 for the run; 0
//! is "nobody's". After 2^31 epochs they run out and threads get [`NONE`],
//! which is never stored on a block: every access then takes the hook
//! (slower, never wrong).

use std::sync::atomic::{AtomicU32, Ordering};

use wasmtime::{Engine, MemoryType, SharedMemory};

use crate::runtime::program::race_instrument::fast_path::{shadow_pages, slot_offset, tag_offset};

/// The tag of a thread that has none: matches no block.
const NONE: u32 = u32::MAX - 1;

/// The run's fast shadow memory.
pub(crate) struct FastShadow {
    memory: SharedMemory,
    next: AtomicU32,
}

impl FastShadow {
    /// The fast shadow of a guest memory of at most `max_pages`.
    pub(crate) fn new(engine: &Engine, max_pages: u64) -> wasmtime::Result<FastShadow> {
        let pages = u32::try_from(shadow_pages(max_pages))?;
        let fast = FastShadow {
            memory: SharedMemory::new(engine, MemoryType::shared(pages, pages))?,
            next: AtomicU32::new(2),
        };
        // Slot 0 is where threads start: its tag matches no block.
        if let Some(w) = fast.word(0) {
            w.store(NONE | 1, Ordering::Relaxed);
        }
        Ok(fast)
    }

    /// The memory the instrumented module imports.
    pub(crate) fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    fn word(&self, offset: u64) -> Option<&AtomicU32> {
        let data = self.memory.data();
        let end = offset.checked_add(4)?;
        if end > data.len() as u64 {
            return None;
        }
        // SAFETY: in bounds (checked above) and 4-aligned (every offset
        // here is), in a memory that lives as long as `self` and never
        // shrinks; wasm reads these words concurrently, and every write to
        // them is this atomic one.
        Some(unsafe { &*(data.as_ptr().add(offset as usize) as *const AtomicU32) })
    }

    /// A fresh tag.
    pub(crate) fn new_tag(&self) -> u32 {
        let tag = self.next.fetch_add(2, Ordering::Relaxed);
        if tag >= NONE {
            self.next.store(NONE, Ordering::Relaxed);
            return NONE;
        }
        tag
    }

    /// Thread `index` has tag `tag` from now on.
    pub(crate) fn set_thread(&self, index: u32, tag: u32) {
        if let Some(w) = self
            .word(u64::from(slot_offset(index)))
            .filter(|_| index_has_slot(index))
        {
            w.store(tag | 1, Ordering::Relaxed);
        }
    }

    /// The block holding guest byte `addr` now has tag `tag` (0: nobody's).
    /// Called under the lock of the block's detector state.
    pub(crate) fn set_block(&self, addr: u64, tag: u32) {
        let tag = if tag & !1 == NONE { 0 } else { tag };
        if let Some(w) = self.word(tag_offset(addr)) {
            w.store(tag, Ordering::Relaxed);
        }
    }
}

/// Whether `index` has a slot of its own (the rest share slot 0).
fn index_has_slot(index: u32) -> bool {
    slot_offset(index) != 0
}
