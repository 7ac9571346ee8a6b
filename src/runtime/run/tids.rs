//! Thread IDs and counts: `1..=MAX_TID`, unique among live threads, lowest
//! free reused; how many spawned threads live now, lived at most at once,
//! and were spawned in all.

use std::collections::BTreeSet;

/// Largest TID wasi-threads allows (TIDs are positive and below 2^29).
pub const MAX_TID: u32 = 0x1FFF_FFFF;

/// Thread statistics of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Threads spawned so far (not counting the main thread).
    pub spawned: u64,
    /// Most spawned threads alive at once.
    pub peak_live: u32,
    /// Spawned threads alive now.
    pub live: u32,
}

/// The spawned threads of one run: their TIDs and counts.
#[derive(Debug)]
pub(crate) struct ThreadCounts {
    tids: TidPool,
    live: u32,
    peak: u32,
    spawned: u64,
}

impl ThreadCounts {
    pub(crate) fn new() -> ThreadCounts {
        ThreadCounts {
            tids: TidPool::new(MAX_TID),
            live: 0,
            peak: 0,
            spawned: 0,
        }
    }

    /// Takes a TID for a new thread, unless `max_live` threads are alive.
    pub(crate) fn reserve(&mut self, max_live: u32) -> Result<u32, String> {
        if self.live >= max_live {
            return Err(format!("thread limit reached ({} live threads)", self.live));
        }
        let tid = self.tids.alloc().ok_or("no free thread id")?;
        self.live += 1;
        self.peak = self.peak.max(self.live);
        self.spawned += 1;
        Ok(tid)
    }

    /// Gives back the TID of a thread that ended or failed to start.
    pub(crate) fn release(&mut self, tid: u32) {
        self.tids.release(tid);
        self.live -= 1;
    }

    /// Spawned threads alive now.
    pub(crate) fn live(&self) -> u32 {
        self.live
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            spawned: self.spawned,
            peak_live: self.peak,
            live: self.live,
        }
    }
}

/// Allocates TIDs. Memory is bounded by the peak number of live threads.
#[derive(Debug)]
pub(crate) struct TidPool {
    next: u32,
    max: u32,
    free: BTreeSet<u32>,
}

impl TidPool {
    pub(crate) fn new(max: u32) -> TidPool {
        TidPool {
            next: 1,
            max,
            free: BTreeSet::new(),
        }
    }

    /// The lowest free TID, or `None` if all are in use.
    pub(crate) fn alloc(&mut self) -> Option<u32> {
        if let Some(tid) = self.free.pop_first() {
            return Some(tid);
        }
        if self.next > self.max {
            return None;
        }
        let tid = self.next;
        self.next += 1;
        Some(tid)
    }

    /// Returns `tid` to the pool.
    pub(crate) fn release(&mut self, tid: u32) {
        debug_assert!(tid >= 1 && tid < self.next);
        if tid + 1 == self.next {
            self.next -= 1;
            // Shrink past any free TIDs now at the top.
            while self.next > 1 && self.free.remove(&(self.next - 1)) {
                self.next -= 1;
            }
        } else {
            self.free.insert(tid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_lowest_and_never_exceeds_max() {
        let mut pool = TidPool::new(3);
        assert_eq!(pool.alloc(), Some(1));
        assert_eq!(pool.alloc(), Some(2));
        assert_eq!(pool.alloc(), Some(3));
        assert_eq!(pool.alloc(), None);
        pool.release(2);
        assert_eq!(pool.alloc(), Some(2));
        pool.release(1);
        pool.release(3);
        pool.release(2);
        for _ in 0..1_000_000 {
            let t = pool.alloc().unwrap();
            assert_eq!(t, 1);
            pool.release(t);
        }
        assert!(pool.free.is_empty());
    }

    #[test]
    fn full_range_is_usable() {
        let mut pool = TidPool::new(MAX_TID);
        pool.next = MAX_TID;
        assert_eq!(pool.alloc(), Some(MAX_TID));
        assert_eq!(pool.alloc(), None);
        pool.release(MAX_TID);
        assert_eq!(pool.alloc(), Some(MAX_TID));
    }
}
