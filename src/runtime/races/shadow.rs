//! Shadow memory: what the detector remembers about each byte of the shared
//! memory, FastTrack's per-location state.
//!
//! The memory is cut into 4-byte granules. A granule's [`Cell`] holds one
//! state for all four bytes while every access covers the whole granule
//! (the common case: `i32`/`i64`/`f64` data, pointers) and splits into four
//! byte lanes at the first smaller or straddling access, so that two
//! threads writing neighbouring bytes never look like a race; a whole-granule
//! write joins the lanes again. A state is the last write's epoch and site,
//! and the reads since: one epoch while they are ordered, every unordered
//! reader's epoch otherwise (FastTrack's read vector, kept sparse).
//!
//! Cells are allocated 256 at a time (1 KiB of guest memory, one lock each)
//! when first touched, in a table of 64 KiB pages sized by the memory's
//! maximum: memory grown later is covered without any resizing.
//!
//! After an access, the accessor learns what it now holds of each block (4
//! or 8 bytes, `fast_path::Layout`) the access touched: a [`Tag`], the whole
//! block written or read in its current epoch, or neither. The inline fast
//! path (`program::race_instrument::fast_path`) reads it. Bytes an atomic
//! wrote are never held: plain accesses to them always reach the detector.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::runtime::races::clock::{index_of, Epoch, VClock};

const STRIPE_SHIFT: u32 = 10;
const PAGE_SHIFT: u32 = 16;
const GRANULES: usize = 1 << (STRIPE_SHIFT - 2);
const STRIPES: usize = 1 << (PAGE_SHIFT - STRIPE_SHIFT);

/// The earlier access a new one races with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prior {
    pub(crate) epoch: Epoch,
    pub(crate) site: u32,
    pub(crate) write: bool,
}

/// A race found by [`Shadow::access`]: the first byte and the earlier access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) addr: u64,
    pub(crate) prior: Prior,
}

/// What an accessor holds of a block in its current epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tag {
    None,
    /// Every byte read or written.
    Read,
    /// Every byte written.
    Written,
}

/// The accessing thread: its index, its current epoch and clock, the site.
pub(crate) struct Accessor<'a> {
    pub(crate) index: u32,
    pub(crate) now: Epoch,
    pub(crate) clock: &'a VClock,
    pub(crate) site: u32,
}

#[derive(Clone, Debug, Default)]
enum Read {
    #[default]
    None,
    One(Epoch, u32),
    // A thin pointer keeps every state small; read vectors are rare.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<(Epoch, u32)>>),
}

#[derive(Clone, Debug, Default)]
struct State {
    write: Epoch,
    write_site: u32,
    /// An atomic has written these bytes (see [`Shadow::mark_atomic`]).
    atomic: bool,
    read: Read,
}

impl State {
    /// What the thread at epoch `now` holds of these bytes.
    fn tag(&self, now: Epoch) -> Tag {
        match &self.read {
            _ if self.atomic => Tag::None,
            _ if self.write == now => Tag::Written,
            Read::One(e, _) if *e == now => Tag::Read,
            Read::Many(readers) if readers.iter().any(|&(e, _)| e == now) => Tag::Read,
            _ => Tag::None,
        }
    }

    fn read(&mut self, a: &Accessor<'_>) -> Option<Prior> {
        if matches!(self.read, Read::One(e, _) if e == a.now) {
            return None;
        }
        let hit = (!a.clock.knows(self.write)).then_some(Prior {
            epoch: self.write,
            site: self.write_site,
            write: true,
        });
        self.read = match std::mem::take(&mut self.read) {
            Read::None => Read::One(a.now, a.site),
            Read::One(e, s) if index_of(e) != a.index && !a.clock.knows(e) => {
                Read::Many(Box::new(vec![(e, s), (a.now, a.site)]))
            }
            Read::One(..) => Read::One(a.now, a.site),
            Read::Many(mut readers) => {
                // Reads ordered before this one are covered by it.
                readers.retain(|&(e, _)| index_of(e) != a.index && !a.clock.knows(e));
                readers.push((a.now, a.site));
                match readers.len() {
                    1 => Read::One(a.now, a.site),
                    _ => Read::Many(readers),
                }
            }
        };
        hit
    }

    fn check_write(&self, a: &Accessor<'_>) -> Option<Prior> {
        if !a.clock.knows(self.write) {
            return Some(Prior {
                epoch: self.write,
                site: self.write_site,
                write: true,
            });
        }
        let unordered = |&(e, s): &(Epoch, u32)| {
            (!a.clock.knows(e)).then_some(Prior {
                epoch: e,
                site: s,
                write: false,
            })
        };
        match &self.read {
            Read::None => None,
            Read::One(e, s) => unordered(&(*e, *s)),
            Read::Many(readers) => readers.iter().find_map(unordered),
        }
    }

    fn written(a: &Accessor<'_>, atomic: bool) -> State {
        State {
            write: a.now,
            write_site: a.site,
            atomic,
            read: Read::None,
        }
    }

    fn write(&mut self, a: &Accessor<'_>) -> Option<Prior> {
        if self.write == a.now {
            return None;
        }
        let hit = self.check_write(a);
        *self = State::written(a, self.atomic);
        hit
    }

    fn access(&mut self, write: bool, a: &Accessor<'_>) -> Option<Prior> {
        match write {
            true => self.write(a),
            false => self.read(a),
        }
    }
}

/// One granule: a state for all four bytes, or one per byte.
#[derive(Debug)]
enum Cell {
    Whole(State),
    Split(Box<[State; 4]>),
}

impl Cell {
    /// What the thread at epoch `now` holds of the granule.
    fn tag(&self, now: Epoch) -> Tag {
        match self {
            Cell::Whole(state) => state.tag(now),
            Cell::Split(lanes) => lanes.iter().map(|l| l.tag(now)).min().unwrap_or(Tag::None),
        }
    }

    /// Whether an atomic wrote any of bytes `lo..hi`.
    fn atomic(&self, lo: usize, hi: usize) -> bool {
        match self {
            Cell::Whole(state) => state.atomic,
            Cell::Split(lanes) => lanes[lo..hi].iter().any(|l| l.atomic),
        }
    }

    /// An atomic writes the whole granule.
    fn mark_atomic(&mut self) {
        match self {
            Cell::Whole(state) => state.atomic = true,
            Cell::Split(lanes) => lanes.iter_mut().for_each(|l| l.atomic = true),
        }
    }

    /// Bytes `lo..hi` of the granule are accessed. A race comes back with
    /// the first racing byte's index in the granule.
    fn access(
        &mut self,
        lo: usize,
        hi: usize,
        write: bool,
        a: &Accessor<'_>,
    ) -> Option<(usize, Prior)> {
        let whole = lo == 0 && hi == 4;
        match self {
            Cell::Whole(state) if whole => state.access(write, a).map(|p| (lo, p)),
            Cell::Split(lanes) if whole && write => {
                let hit = lanes
                    .iter()
                    .enumerate()
                    .find_map(|(i, l)| l.check_write(a).map(|p| (i, p)));
                let atomic = lanes.iter().any(|l| l.atomic);
                *self = Cell::Whole(State::written(a, atomic));
                hit
            }
            _ => {
                if let Cell::Whole(state) = self {
                    let state = std::mem::take(state);
                    *self = Cell::Split(Box::new([
                        state.clone(),
                        state.clone(),
                        state.clone(),
                        state,
                    ]));
                }
                let Cell::Split(lanes) = self else {
                    unreachable!("split above")
                };
                let mut hit = None;
                for (i, lane) in lanes.iter_mut().enumerate().take(hi).skip(lo) {
                    let h = lane.access(write, a).map(|p| (i, p));
                    hit = hit.or(h);
                }
                hit
            }
        }
    }
}

struct Page {
    stripes: [Mutex<Option<Box<[Cell]>>>; STRIPES],
}

/// The shadow of one shared memory.
pub(crate) struct Shadow {
    pages: Box<[OnceLock<Box<Page>>]>,
    /// Guest bytes per block of the fast path (4 or 8).
    block_bytes: u64,
    /// Bytes of cells allocated so far.
    bytes: AtomicUsize,
}

impl Shadow {
    /// The shadow of a memory of at most `max_pages` 64 KiB pages, whose
    /// fast path has blocks of `block_bytes` (4 or 8).
    pub(crate) fn new(max_pages: u64, block_bytes: u64) -> Shadow {
        let pages = (0..max_pages.min(1 << 16))
            .map(|_| OnceLock::new())
            .collect();
        Shadow {
            pages,
            block_bytes,
            bytes: AtomicUsize::new(0),
        }
    }

    /// Bytes of shadow state allocated (the lane splits not counted), and
    /// of the fast path's tags of the same memory (at most: a page of tags
    /// no access has set is never touched).
    pub(crate) fn bytes(&self) -> usize {
        let cells = self.bytes.load(Ordering::Relaxed);
        let stripes = cells / (GRANULES * size_of::<Cell>());
        let tags = stripes * (4 << STRIPE_SHIFT) / self.block_bytes as usize;
        cells + tags + self.pages.len() * size_of::<OnceLock<Box<Page>>>()
    }

    /// Records an access of `len` bytes at `addr` by `a` and returns the
    /// first race it makes, if any, and whether an atomic wrote any of the
    /// bytes before. Calls `held(block, tag)` with what `a` holds of each
    /// block the access touched, under the lock of its state. Bytes
    /// beyond the memory's maximum are not shadowed (the access traps in
    /// wasm anyway).
    pub(crate) fn access(
        &self,
        addr: u64,
        len: u64,
        write: bool,
        a: &Accessor<'_>,
        mut held: impl FnMut(u64, Tag),
    ) -> (Option<Hit>, bool) {
        let mut hit = None;
        let mut atomic = false;
        self.each_granule(
            addr,
            len,
            |at, cell, lo, hi| {
                // A synchronisation variable: not checked (see `races`).
                if cell.atomic(lo, hi) {
                    atomic = true;
                } else if let Some((byte, prior)) = cell.access(lo, hi, write, a) {
                    // `at` is byte `lo` of its granule.
                    let addr = at - lo as u64 + byte as u64;
                    hit = hit.or(Some(Hit { addr, prior }));
                }
            },
            |block, cells| {
                let tag = cells.iter().map(|c| c.tag(a.now)).min();
                held(block, tag.unwrap_or(Tag::None))
            },
        );
        (hit, atomic)
    }

    /// Remembers that an atomic wrote the granules of `len` bytes at
    /// `addr`; `held(block)` is called for each block touched (no
    /// thread holds it any more).
    pub(crate) fn mark_atomic(&self, addr: u64, len: u64, mut held: impl FnMut(u64)) {
        self.each_granule(
            addr,
            len,
            |_, cell, _, _| cell.mark_atomic(),
            |block, _| held(block),
        );
    }

    /// Calls `f(address, cell, lo, hi)` for each granule of `len` bytes at
    /// `addr` (bytes `lo..hi` of it), then `block(address, cells)` for each
    /// block they are in, holding its stripe's lock.
    fn each_granule(
        &self,
        addr: u64,
        len: u64,
        mut f: impl FnMut(u64, &mut Cell, usize, usize),
        mut block: impl FnMut(u64, &[Cell]),
    ) {
        let end = addr
            .saturating_add(len)
            .min((self.pages.len() as u64) << PAGE_SHIFT);
        let mut at = addr;
        while at < end {
            let page = self.pages[(at >> PAGE_SHIFT) as usize].get_or_init(|| {
                Box::new(Page {
                    stripes: std::array::from_fn(|_| Mutex::new(None)),
                })
            });
            let stripe = &page.stripes[((at >> STRIPE_SHIFT) as usize) % STRIPES];
            let stripe_end = end.min(((at >> STRIPE_SHIFT) + 1) << STRIPE_SHIFT);
            let mut cells = stripe.lock().unwrap_or_else(|e| e.into_inner());
            let cells = cells.get_or_insert_with(|| {
                self.bytes
                    .fetch_add(GRANULES * size_of::<Cell>(), Ordering::Relaxed);
                (0..GRANULES)
                    .map(|_| Cell::Whole(State::default()))
                    .collect()
            });
            let first = at;
            while at < stripe_end {
                let granule_end = stripe_end.min(((at >> 2) + 1) << 2);
                let lo = (at & 3) as usize;
                let hi = lo + (granule_end - at) as usize;
                f(at, &mut cells[((at >> 2) as usize) % GRANULES], lo, hi);
                at = granule_end;
            }
            // Blocks never straddle a stripe.
            let mut b = first & !(self.block_bytes - 1);
            while b < stripe_end {
                let g = ((b >> 2) as usize) % GRANULES;
                block(b, &cells[g..g + (self.block_bytes >> 2) as usize]);
                b += self.block_bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::races::clock::epoch;

    fn thread(index: u32, clock: u32) -> VClock {
        let mut c = VClock::default();
        c.set(index, clock);
        c
    }

    #[test]
    fn unordered_accesses_race_and_ordered_ones_do_not() {
        let shadow = Shadow::new(2, 8);
        let (c1, c2) = (thread(1, 1), thread(2, 1));
        let a1 = |site| Accessor {
            index: 1,
            now: epoch(1, 1),
            clock: &c1,
            site,
        };
        let a2 = |site| Accessor {
            index: 2,
            now: epoch(2, 1),
            clock: &c2,
            site,
        };
        assert_eq!(shadow.access(100, 4, true, &a1(7), |_, _| {}).0, None);
        let hit = shadow
            .access(100, 4, false, &a2(8), |_, _| {})
            .0
            .expect("write-read race");
        assert_eq!((hit.addr, hit.prior.site, hit.prior.write), (100, 7, true));
        // Neighbouring bytes by different threads: no race.
        assert_eq!(shadow.access(200, 1, true, &a1(1), |_, _| {}).0, None);
        assert_eq!(shadow.access(201, 1, true, &a2(2), |_, _| {}).0, None);
        // A read-write race through a split granule, on a grown page.
        assert_eq!(shadow.access(70_000, 2, false, &a1(3), |_, _| {}).0, None);
        let hit = shadow
            .access(70_000, 8, true, &a2(4), |_, _| {})
            .0
            .expect("read-write race");
        assert!(!hit.prior.write);
        // Ordered: thread 2 knows thread 1's epoch.
        let mut c3 = thread(2, 2);
        c3.join(&c1);
        let a3 = Accessor {
            index: 2,
            now: epoch(2, 2),
            clock: &c3,
            site: 5,
        };
        assert_eq!(shadow.access(300, 4, true, &a1(6), |_, _| {}).0, None);
        assert_eq!(shadow.access(300, 4, true, &a3, |_, _| {}).0, None);
        // Bytes an atomic wrote are flagged for plain accesses.
        assert!(!shadow.access(400, 4, false, &a1(6), |_, _| {}).1);
        shadow.mark_atomic(400, 4, |_| {});
        assert!(shadow.access(402, 1, false, &a1(6), |_, _| {}).1);
        // Beyond the maximum: not shadowed.
        assert_eq!(shadow.access(2 << 16, 4, true, &a1(6), |_, _| {}).0, None);
        // A wide write over a split granule names the racing byte, not the
        // granule (a fill of 280..344 after another thread's store of 301).
        assert_eq!(shadow.access(501, 1, true, &a1(9), |_, _| {}).0, None);
        let hit = shadow
            .access(480, 64, true, &a2(10), |_, _| {})
            .0
            .expect("write-write race");
        assert_eq!((hit.addr, hit.prior.site), (501, 9));
        // What the accessor holds of each 4-byte block touched.
        let fours = Shadow::new(2, 4);
        let held = |addr, len, write, a: &Accessor<'_>| {
            let mut tags = Vec::new();
            fours.access(addr, len, write, a, |b, t| tags.push((b, t)));
            tags
        };
        assert_eq!(held(800, 4, true, &a1(1)), [(800, Tag::Written)]);
        assert_eq!(held(800, 4, false, &a1(1)), [(800, Tag::Written)]);
        assert_eq!(
            held(804, 8, false, &a1(1)),
            [(804, Tag::Read), (808, Tag::Read)]
        );
        // Thread 2's read takes the block; half a block written is not held.
        assert_eq!(held(808, 4, false, &a2(2)), [(808, Tag::Read)]);
        assert_eq!(held(812, 2, true, &a2(2)), [(812, Tag::None)]);
        // An atomic's bytes are nobody's.
        fours.mark_atomic(800, 4, |_| {});
        assert_eq!(held(800, 4, false, &a1(1)), [(800, Tag::None)]);
        // The same the other way round: the narrow access second.
        assert_eq!(shadow.access(600, 64, true, &a1(11), |_, _| {}).0, None);
        let hit = shadow
            .access(613, 1, true, &a2(12), |_, _| {})
            .0
            .expect("write-write race");
        assert_eq!((hit.addr, hit.prior.site), (613, 11));
    }
}
