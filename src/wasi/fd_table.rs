//! The program's file-descriptor table, shared by every thread.
//!
//! The table lock is held only to look up, insert or remove an entry, never
//! during I/O: each open descriptor lives behind its own `Arc`, so a thread
//! keeps using a descriptor another thread has just closed, and the host
//! resource is released when the last user lets go.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::wasi::abi::rights;
use crate::wasi::errno::Errno;
use crate::wasi::fd_table::dir::OpenDir;
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::stream::Stream;

pub(super) mod dir;
pub(super) mod file;
pub(super) mod stdio;
pub(super) mod stream;

/// The most descriptors one program may hold open.
const MAX_FDS: usize = 1 << 16;

/// What an open descriptor refers to.
pub enum Kind {
    /// A host file descriptor: regular file, pipe, terminal, socket.
    File(OpenFile),
    /// A directory (preopened or opened by the guest).
    Dir(OpenDir),
    /// An in-memory standard stream (null, captured, fed bytes, host stdio).
    Stream(Stream),
}

/// One open descriptor: what it is, and its preview 1 rights.
pub struct Descriptor {
    /// What the descriptor refers to.
    pub kind: Kind,
    /// `(base, inheriting)` rights.
    rights: Mutex<(u64, u64)>,
    /// The base rights again, read without the lock by [`require`]
    /// (every I/O call checks them; they only ever shrink).
    ///
    /// [`require`]: Descriptor::require
    base: AtomicU64,
}

impl Descriptor {
    /// A descriptor with the given rights.
    pub fn new(kind: Kind, base: u64, inheriting: u64) -> Descriptor {
        Descriptor {
            kind,
            rights: Mutex::new((base, inheriting)),
            base: AtomicU64::new(base),
        }
    }

    /// `(base, inheriting)` rights.
    pub fn rights(&self) -> (u64, u64) {
        *self.rights.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Narrows the rights; widening them is `ENOTCAPABLE`.
    pub fn set_rights(&self, base: u64, inheriting: u64) -> Result<(), Errno> {
        let mut r = self.rights.lock().unwrap_or_else(|e| e.into_inner());
        if base & !r.0 != 0 || inheriting & !r.1 != 0 {
            return Err(Errno::NOTCAPABLE);
        }
        *r = (base, inheriting);
        self.base.store(base, Ordering::Relaxed);
        Ok(())
    }

    /// Checks the descriptor holds every right in `needed`. A missing
    /// `fd_read`/`fd_write` right is `EBADF` (as POSIX and Wasmtime's
    /// wasi-common report reading a write-only file); any other missing
    /// right is `ENOTCAPABLE`.
    pub fn require(&self, needed: u64) -> Result<(), Errno> {
        let missing = needed & !self.base.load(Ordering::Relaxed);
        if missing == 0 {
            Ok(())
        } else if missing & (rights::FD_READ | rights::FD_WRITE) != 0 {
            Err(Errno::BADF)
        } else {
            Err(Errno::NOTCAPABLE)
        }
    }

    /// The directory behind this descriptor (`ENOTDIR` otherwise).
    pub fn dir(&self) -> Result<&OpenDir, Errno> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::NOTDIR),
        }
    }

    /// The directory, after checking `needed` rights.
    pub fn dir_with(&self, needed: u64) -> Result<&OpenDir, Errno> {
        let d = self.dir()?;
        self.require(needed)?;
        Ok(d)
    }
}

/// The shared descriptor table.
#[derive(Default)]
pub struct FdTable {
    slots: RwLock<Vec<Option<Arc<Descriptor>>>>,
}

impl FdTable {
    /// The descriptor `fd` (`EBADF` if not open).
    pub fn get(&self, fd: u32) -> Result<Arc<Descriptor>, Errno> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots
            .get(fd as usize)
            .and_then(|s| s.clone())
            .ok_or(Errno::BADF)
    }

    /// Stores `d` at the lowest free number.
    pub fn insert(&self, d: Descriptor) -> Result<u32, Errno> {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let d = Some(Arc::new(d));
        if let Some(i) = slots.iter().position(|s| s.is_none()) {
            slots[i] = d;
            return Ok(i as u32);
        }
        if slots.len() >= MAX_FDS {
            return Err(Errno::MFILE);
        }
        slots.push(d);
        Ok((slots.len() - 1) as u32)
    }

    /// Removes `fd`; the descriptor closes when its last user lets go.
    pub fn remove(&self, fd: u32) -> Result<Arc<Descriptor>, Errno> {
        let removed = {
            let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
            let slot = slots.get_mut(fd as usize).ok_or(Errno::BADF)?;
            let d = slot.take().ok_or(Errno::BADF)?;
            while slots.last().is_some_and(|s| s.is_none()) {
                slots.pop();
            }
            d
        };
        Ok(removed)
    }

    /// Moves `from` onto `to` (which must be open), closing what `to` held.
    pub fn renumber(&self, from: u32, to: u32) -> Result<(), Errno> {
        let old = {
            let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
            let valid = |i: u32| slots.get(i as usize).is_some_and(|s| s.is_some());
            if !valid(from) || !valid(to) {
                return Err(Errno::BADF);
            }
            if from == to {
                return Ok(());
            }
            let d = slots[from as usize].take();
            let old = std::mem::replace(&mut slots[to as usize], d);
            while slots.last().is_some_and(|s| s.is_none()) {
                slots.pop();
            }
            old
        };
        // Dropped outside the table lock: closing may take a while.
        drop(old);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null() -> Descriptor {
        Descriptor::new(Kind::Stream(Stream::Null), rights::STREAM, 0)
    }

    #[test]
    fn lowest_free_fd_is_reused() {
        let t = FdTable::default();
        for want in 0..5 {
            assert_eq!(t.insert(null()).unwrap(), want);
        }
        t.remove(1).unwrap();
        t.remove(3).unwrap();
        assert_eq!(t.insert(null()).unwrap(), 1);
        assert_eq!(t.insert(null()).unwrap(), 3);
        assert_eq!(t.insert(null()).unwrap(), 5);
        assert_eq!(t.remove(9).err(), Some(Errno::BADF));
        assert_eq!(t.get(u32::MAX).err(), Some(Errno::BADF));
    }

    #[test]
    fn renumber_needs_both_open() {
        let t = FdTable::default();
        t.insert(null()).unwrap();
        t.insert(null()).unwrap();
        assert_eq!(t.renumber(0, 7), Err(Errno::BADF));
        t.renumber(1, 0).unwrap();
        assert!(t.get(1).is_err());
        assert!(t.get(0).is_ok());
    }

    #[test]
    fn rights_only_narrow() {
        let d = null();
        d.set_rights(rights::FD_READ, 0).unwrap();
        assert_eq!(d.require(rights::FD_WRITE), Err(Errno::BADF));
        assert_eq!(d.require(rights::FD_SEEK), Err(Errno::NOTCAPABLE));
        assert_eq!(d.set_rights(rights::STREAM, 0), Err(Errno::NOTCAPABLE));
    }
}
