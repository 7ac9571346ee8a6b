//! Vector clocks and epochs (FastTrack: Flanagan & Freund, PLDI 2009).
//!
//! Each thread of a run has a detector index (`u32`, reused after the thread
//! ends, see `races::Detector`) and a vector clock: entry `i` is the latest
//! event of thread `i` this thread knows happened before its own present.
//! An epoch `(i, c)`, packed into a `u64`, is event `c` of thread `i`; it
//! happened before a thread whose clock `C` has `c <= C[i]`. Clocks start at
//! 1, so the epoch 0 means "never". Synchronisation variables have clocks
//! too ([`SyncClocks`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// An epoch `(thread index, clock)` packed as `index << 32 | clock`; 0: none.
pub(crate) type Epoch = u64;

pub(crate) fn epoch(index: u32, clock: u32) -> Epoch {
    u64::from(index) << 32 | u64::from(clock)
}

pub(crate) fn index_of(e: Epoch) -> u32 {
    (e >> 32) as u32
}

pub(crate) fn clock_of(e: Epoch) -> u32 {
    e as u32
}

/// A vector clock: missing entries are 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VClock(Vec<u32>);

impl VClock {
    pub(crate) fn get(&self, index: u32) -> u32 {
        self.0.get(index as usize).copied().unwrap_or(0)
    }

    pub(crate) fn set(&mut self, index: u32, clock: u32) {
        let i = index as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = clock;
    }

    /// Advances entry `index` by one.
    pub(crate) fn tick(&mut self, index: u32) {
        self.set(index, self.get(index).wrapping_add(1));
    }

    /// Whether epoch `e` happened before this clock's present (or is none).
    pub(crate) fn knows(&self, e: Epoch) -> bool {
        e == 0 || clock_of(e) <= self.get(index_of(e))
    }

    /// `self := self ⊔ other`.
    pub(crate) fn join(&mut self, other: &VClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }
}

/// The sync clocks of one shard, by address. Keys are addresses the
/// detector picks (8-byte aligned), so a multiply hashes them well enough;
/// SipHash was a tenth of the detector's time on lock-heavy programs.
pub(crate) type SyncClocks = HashMap<u64, VClock, BuildHasherDefault<AddrHasher>>;

/// Hashes one `u64` address by a multiply.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // The table indexes by the low bits: fold the product's high ones
        // in (an aligned address has its low bits clear).
        let x = n.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        self.0 = x ^ (x >> 32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_epochs() {
        let mut a = VClock::default();
        a.set(0, 3);
        let mut b = VClock::default();
        b.set(2, 5);
        assert!(!a.knows(epoch(2, 1)));
        a.join(&b);
        assert!(a.knows(epoch(2, 5)) && !a.knows(epoch(2, 6)));
        assert!(a.knows(0) && a.knows(epoch(0, 3)));
        a.tick(1);
        assert_eq!(a.get(1), 1);
        assert_eq!((index_of(epoch(7, 9)), clock_of(epoch(7, 9))), (7, 9));
    }
}
