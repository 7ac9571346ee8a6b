//! The fast shadow: the tags that let the instrumented code skip the hook
//! of a plain access that would change nothing (layout and rules in
//! `program::race_instrument::fast_path`).
//!
//! A tag names one thread in one epoch: every time a thread's epoch
//! changes it takes a new one, so the tags it left on blocks in earlier
//! epochs stop matching. Tags are even and unique in the run (a thread
//! takes them [`BATCH`] at a time); 0 is "nobody's". After 2^31 of them
//! (sooner with millions of threads, each taking a batch) they run out and
//! threads get [`NONE`], which is never stored on a block: every access
//! then takes the hook (slower, never wrong).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use wasmtime::{Engine, MemoryType, SharedMemory};

use crate::runtime::program::race_instrument::fast_path::{slot_offset, Layout};
use crate::runtime::races::shadow::Tag;

/// The tag of a thread that has none: matches no block.
const NONE: u32 = u32::MAX - 1;
/// Tags a thread takes at a time (so that threads ticking at once do not
/// all write one counter).
const BATCH: u32 = 1024;

/// The run's fast shadow memory.
pub(crate) struct FastShadow {
    memory: SharedMemory,
    layout: Layout,
    /// The memory's bytes (it never moves: its minimum is its maximum).
    base: *const u8,
    len: u64,
    /// The first tag no thread has taken.
    next: AtomicU64,
}

// SAFETY: `base` points into `memory`, which is shared memory owned by
// `self`; every access through it is atomic.
unsafe impl Send for FastShadow {}
unsafe impl Sync for FastShadow {}

/// A thread's tags not used yet: `next..end`, by twos.
#[derive(Debug, Default)]
pub(crate) struct Tags {
    next: u32,
    end: u32,
}

impl FastShadow {
    /// A fast shadow laid out as `layout` says.
    pub(crate) fn new(engine: &Engine, layout: Layout) -> wasmtime::Result<FastShadow> {
        let pages = u32::try_from(layout.pages())?;
        let memory = SharedMemory::new(engine, MemoryType::shared(pages, pages))?;
        let data = memory.data();
        let fast = FastShadow {
            base: data.as_ptr() as *const u8,
            len: data.len() as u64,
            memory,
            layout,
            next: AtomicU64::new(2),
        };
        // Slot 0 is where threads start: its tag matches no block.
        fast.set_slot(0, NONE);
        Ok(fast)
    }

    /// The memory the instrumented module imports.
    pub(crate) fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    fn word(&self, offset: u64) -> Option<&AtomicU32> {
        if offset.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: in bounds (checked above) and 4-aligned (every offset
        // here is), in a memory that lives as long as `self` and never
        // moves; wasm reads these words concurrently, and every write to
        // them is this atomic one.
        Some(unsafe { &*(self.base.add(offset as usize) as *const AtomicU32) })
    }

    /// A fresh tag, from `tags` or a new batch of them.
    pub(crate) fn new_tag(&self, tags: &mut Tags) -> u32 {
        if tags.next == tags.end {
            let first = self.next.fetch_add(u64::from(BATCH) * 2, Ordering::Relaxed);
            match u32::try_from(first + u64::from(BATCH) * 2) {
                Ok(end) if end <= NONE => {
                    *tags = Tags {
                        next: first as u32,
                        end,
                    }
                }
                _ => return NONE,
            }
        }
        let tag = tags.next;
        tags.next += 2;
        tag
    }

    /// Thread `index` has tag `tag` from now on.
    pub(crate) fn set_thread(&self, index: u32, tag: u32) {
        let slot = slot_offset(index);
        if slot != 0 {
            self.set_slot(slot, tag);
        }
    }

    /// The slot at `slot` holds `tag` (twice: see `fast_path`).
    fn set_slot(&self, slot: u32, tag: u32) {
        for half in [0, 4] {
            if let Some(w) = self.word(u64::from(slot + half)) {
                w.store(tag | 1, Ordering::Relaxed);
            }
        }
    }

    /// The thread whose tag is `tag` holds the block with guest byte `addr`
    /// as `held` says. Called under the lock of the block's detector state.
    pub(crate) fn set_block(&self, addr: u64, tag: u32, held: Tag) {
        let tag = match held {
            _ if tag == NONE => 0,
            Tag::Written => tag | 1,
            Tag::Read => tag,
            Tag::None => 0,
        };
        // Stored only when it changes: a block's cache line stays shared
        // between the threads that read it.
        if let Some(w) = self.word(self.layout.tag_offset(addr)) {
            if w.load(Ordering::Relaxed) != tag {
                w.store(tag, Ordering::Relaxed);
            }
        }
    }
}
