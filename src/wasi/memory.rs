//! The only place that touches guest memory. Every access is bounds-checked
//! and copies bytes in or out; no Rust reference into guest memory is ever
//! created, because other guest threads may write shared memory at any time.

use std::mem::MaybeUninit;

use wasmtime::{AsContext, Memory, SharedMemory};

/// A thread's linear memory: the program's shared memory, or an ordinary
/// memory exported by a module that does not use threads.
#[derive(Clone)]
pub enum GuestMemory {
    /// A shared memory (every thread sees the same bytes).
    Shared(SharedMemory),
    /// An ordinary, store-local memory.
    Plain(Memory),
}

/// Out-of-bounds guest address (maps to `EFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault;

/// Base and length of a guest memory, valid for the duration of one host call:
/// shared memories never move and only grow; a plain memory cannot change
/// while its only thread is inside a host call.
#[derive(Clone, Copy)]
pub struct MemView {
    base: *mut u8,
    len: usize,
}

impl GuestMemory {
    /// Snapshots base and length for one host call.
    pub fn view(&self, store: impl AsContext) -> MemView {
        match self {
            GuestMemory::Shared(m) => {
                let data = m.data();
                MemView {
                    base: data.as_ptr() as *mut u8,
                    len: data.len(),
                }
            }
            GuestMemory::Plain(m) => MemView {
                base: m.data_ptr(&store),
                len: m.data_size(&store),
            },
        }
    }
}

impl MemView {
    /// A view of `bytes` (unit tests of code that takes a `MemView`).
    #[cfg(test)]
    pub(crate) fn of_slice(bytes: &mut [u8]) -> MemView {
        MemView {
            base: bytes.as_mut_ptr(),
            len: bytes.len(),
        }
    }

    /// A view of no memory at all (for a thread without a memory): every
    /// access except an empty one faults.
    pub fn empty() -> MemView {
        MemView {
            base: std::ptr::null_mut(),
            len: 0,
        }
    }

    /// Current size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the memory has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, offset: u32, len: usize) -> Result<usize, Fault> {
        let start = offset as usize;
        match start.checked_add(len) {
            Some(end) if end <= self.len => Ok(start),
            _ => Err(Fault),
        }
    }

    /// Copies `out.len()` bytes from guest address `offset`.
    pub fn read_into(&self, offset: u32, out: &mut [u8]) -> Result<(), Fault> {
        let start = self.check(offset, out.len())?;
        if out.is_empty() {
            return Ok(());
        }
        // SAFETY: `start..start+len` is inside the memory (checked above); the
        // bytes are copied, never borrowed, so concurrent guest writes are races
        // on plain bytes as in any shared wasm memory.
        unsafe { std::ptr::copy(self.base.add(start), out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// [`read_into`](Self::read_into) for a buffer that is not initialised
    /// yet; returns it initialised.
    pub fn read_into_uninit<'a>(
        &self,
        offset: u32,
        out: &'a mut [MaybeUninit<u8>],
    ) -> Result<&'a mut [u8], Fault> {
        let start = self.check(offset, out.len())?;
        if out.is_empty() {
            return Ok(&mut []);
        }
        // SAFETY: as in `read_into`; afterwards all `out.len()` bytes are
        // initialised, so the cast slice is valid.
        unsafe {
            std::ptr::copy(self.base.add(start), out.as_mut_ptr().cast(), out.len());
            Ok(std::slice::from_raw_parts_mut(
                out.as_mut_ptr().cast(),
                out.len(),
            ))
        }
    }

    /// Copies `len` bytes from guest address `offset` into a new vector.
    pub fn read(&self, offset: u32, len: u32) -> Result<Vec<u8>, Fault> {
        self.check(offset, len as usize)?;
        let mut out = vec![0; len as usize];
        self.read_into(offset, &mut out)?;
        Ok(out)
    }

    /// Copies `bytes` to guest address `offset`.
    pub fn write(&self, offset: u32, bytes: &[u8]) -> Result<(), Fault> {
        let start = self.check(offset, bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        // SAFETY: bounds checked above; see `read_into`.
        unsafe { std::ptr::copy(bytes.as_ptr(), self.base.add(start), bytes.len()) };
        Ok(())
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32(&self, offset: u32) -> Result<u32, Fault> {
        let mut b = [0; 4];
        self.read_into(offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian `u64`.
    pub fn read_u64(&self, offset: u32) -> Result<u64, Fault> {
        let mut b = [0; 8];
        self.read_into(offset, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a byte.
    pub fn read_u8(&self, offset: u32) -> Result<u8, Fault> {
        let mut b = [0; 1];
        self.read_into(offset, &mut b)?;
        Ok(b[0])
    }

    /// Reads a little-endian `u16`.
    pub fn read_u16(&self, offset: u32) -> Result<u16, Fault> {
        let mut b = [0; 2];
        self.read_into(offset, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Writes a little-endian `u16`.
    pub fn write_u16(&self, offset: u32, v: u16) -> Result<(), Fault> {
        self.write(offset, &v.to_le_bytes())
    }

    /// Writes a little-endian `u32`.
    pub fn write_u32(&self, offset: u32, v: u32) -> Result<(), Fault> {
        self.write(offset, &v.to_le_bytes())
    }

    /// Writes a little-endian `u64`.
    pub fn write_u64(&self, offset: u32, v: u64) -> Result<(), Fault> {
        self.write(offset, &v.to_le_bytes())
    }
}

impl GuestMemory {
    /// Base address and current size, for handing to embedder callbacks that
    /// document the pointer's lifetime themselves.
    pub fn raw_parts(&self, store: impl AsContext) -> (*mut u8, usize) {
        let view = self.view(store);
        (view.base, view.len)
    }
}
