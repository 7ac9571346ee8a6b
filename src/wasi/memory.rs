//! The only place that touches guest memory. Every access is bounds-checked
//! and copies bytes in or out; no Rust reference into guest memory is ever
//! created, because other guest threads may write shared memory at any time.
//!
//! A shared memory is read and written with relaxed atomic accesses, as
//! Wasmtime requires of `SharedMemory::data` and as a wasm engine's own
//! accesses behave: two WASI calls of different threads touching the same
//! guest bytes (a guest's race, or one ordered by guest atomics the host
//! cannot see) are then no data race in the host, whatever the guest does.
//! A plain memory belongs to the one thread inside the call: plain copies.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

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
    /// Other threads may access the bytes meanwhile: copy atomically.
    shared: bool,
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
                    shared: true,
                }
            }
            GuestMemory::Plain(m) => MemView {
                base: m.data_ptr(&store),
                len: m.data_size(&store),
                shared: false,
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
            shared: false,
        }
    }

    /// A view of `bytes` as if other threads shared them (unit tests).
    #[cfg(test)]
    fn of_shared_slice(bytes: &[AtomicU8]) -> MemView {
        MemView {
            base: bytes.as_ptr() as *mut u8,
            len: bytes.len(),
            shared: true,
        }
    }

    /// A view of no memory at all (for a thread without a memory): every
    /// access except an empty one faults.
    pub fn empty() -> MemView {
        MemView {
            base: std::ptr::null_mut(),
            len: 0,
            shared: false,
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

    /// Tells the access hook (if one is set) about a checked access.
    fn seen(&self, offset: u32, len: usize, write: bool) {
        if self.shared && len > 0 {
            if let Some(hook) = ACCESS_HOOK.get() {
                hook(offset, len, write);
            }
        }
    }

    /// Copies `out.len()` bytes from guest address `offset`.
    pub fn read_into(&self, offset: u32, out: &mut [u8]) -> Result<(), Fault> {
        // SAFETY: `read_into_uninit` only writes initialised bytes, so `out`
        // stays a valid `[u8]` through the cast.
        let out = unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.read_into_uninit(offset, out).map(|_| ())
    }

    /// [`read_into`](Self::read_into) for a buffer that is not initialised
    /// yet; returns it initialised.
    pub fn read_into_uninit<'a>(
        &self,
        offset: u32,
        out: &'a mut [MaybeUninit<u8>],
    ) -> Result<&'a mut [u8], Fault> {
        let start = self.check(offset, out.len())?;
        self.seen(offset, out.len(), false);
        if out.is_empty() {
            return Ok(&mut []);
        }
        // SAFETY: `start..start+len` is inside the memory (checked above) and
        // `out` is a host buffer, never guest memory. A shared memory is only
        // read atomically; a plain one has no other user during the call.
        // Afterwards all `out.len()` bytes are initialised.
        unsafe {
            let (src, dst) = (self.base.add(start), out.as_mut_ptr().cast::<u8>());
            if self.shared {
                load_relaxed(src, dst, out.len());
            } else {
                std::ptr::copy(src, dst, out.len());
            }
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
        self.seen(offset, bytes.len(), true);
        if bytes.is_empty() {
            return Ok(());
        }
        // SAFETY: bounds checked above; see `read_into`.
        unsafe {
            let dst = self.base.add(start);
            if self.shared {
                store_relaxed(bytes, dst);
            } else {
                std::ptr::copy(bytes.as_ptr(), dst, bytes.len());
            }
        }
        Ok(())
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

/// Who hears of the guest memory WASI calls read and write: the race
/// detector (`runtime::races`), set when the first program runs under it.
/// Called with the guest address, the length and whether it is a write, on
/// the thread making the WASI call, for shared memories only.
static ACCESS_HOOK: OnceLock<fn(u32, usize, bool)> = OnceLock::new();

/// Sets the access hook (the first setting wins; later ones are ignored).
pub(crate) fn set_access_hook(hook: fn(u32, usize, bool)) {
    let _ = ACCESS_HOOK.set(hook);
}

/// Copies `len` bytes from shared memory at `src` to the host buffer `dst`
/// with relaxed atomic loads: bytes up to an 8-byte boundary, then whole
/// words, then bytes.
///
/// # Safety
/// `src..src + len` is valid memory that is only accessed atomically (or by
/// wasm) meanwhile; `dst..dst + len` is valid for writes and overlaps neither.
unsafe fn load_relaxed(src: *const u8, dst: *mut u8, len: usize) {
    let head = src.align_offset(8).min(len);
    let words = (len - head) / 8;
    let byte = |i: usize| {
        // SAFETY: `i < len` (callers below); any address is aligned for
        // `AtomicU8`.
        unsafe {
            let v = AtomicU8::from_ptr(src.add(i).cast_mut()).load(Ordering::Relaxed);
            dst.add(i).write(v);
        }
    };
    (0..head).for_each(byte);
    for w in 0..words {
        let i = head + 8 * w;
        // SAFETY: `i + 8 <= len`; `src + i` is 8-aligned after the head.
        unsafe {
            let v =
                AtomicU64::from_ptr(src.add(i).cast::<u64>().cast_mut()).load(Ordering::Relaxed);
            dst.add(i)
                .cast::<[u8; 8]>()
                .write_unaligned(v.to_ne_bytes());
        }
    }
    (head + 8 * words..len).for_each(byte);
}

/// Copies `bytes` to shared memory at `dst` with relaxed atomic stores (see
/// [`load_relaxed`]).
///
/// # Safety
/// `dst..dst + bytes.len()` is valid memory that is only accessed atomically
/// (or by wasm) meanwhile, and does not overlap `bytes`.
unsafe fn store_relaxed(bytes: &[u8], dst: *mut u8) {
    let head = dst.align_offset(8).min(bytes.len());
    let (first, rest) = bytes.split_at(head);
    for (i, &b) in first.iter().enumerate() {
        // SAFETY: in bounds (caller); any address is aligned for `AtomicU8`.
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(b, Ordering::Relaxed);
    }
    // SAFETY: `head` is within the range (caller).
    let dst = unsafe { dst.add(head) };
    let words = rest.chunks_exact(8);
    let tail = words.remainder();
    for (i, w) in words.enumerate() {
        let word = u64::from_ne_bytes(w.try_into().expect("8 bytes"));
        // SAFETY: in bounds; `dst` is 8-aligned after the head.
        unsafe { AtomicU64::from_ptr(dst.add(8 * i).cast::<u64>()) }.store(word, Ordering::Relaxed);
    }
    // SAFETY: the tail follows the last whole word, within the range.
    let dst = unsafe { dst.add(rest.len() - tail.len()) };
    for (i, &b) in tail.iter().enumerate() {
        // SAFETY: as for the head.
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(b, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(len: usize) -> Vec<AtomicU8> {
        (0..len).map(|i| AtomicU8::new(i as u8)).collect()
    }

    #[test]
    fn shared_copies_match_plain_copies_at_every_alignment_and_length() {
        let cells = shared(64);
        let view = MemView::of_shared_slice(&cells);
        let mut plain: Vec<u8> = (0..64).collect();
        let plain_view = MemView::of_slice(&mut plain);
        for offset in 0..20u32 {
            for len in 0..40usize {
                let (mut a, mut b) = (vec![0; len], vec![0; len]);
                view.read_into(offset, &mut a).unwrap();
                plain_view.read_into(offset, &mut b).unwrap();
                assert_eq!(a, b, "read at {offset}, {len} bytes");
                let mut c = vec![MaybeUninit::uninit(); len];
                assert_eq!(view.read_into_uninit(offset, &mut c).unwrap(), &b[..]);
                let data: Vec<u8> = (0..len as u8).map(|x| x ^ 0xa5).collect();
                view.write(offset, &data).unwrap();
                plain_view.write(offset, &data).unwrap();
                let now: Vec<u8> = cells.iter().map(|c| c.load(Ordering::Relaxed)).collect();
                assert_eq!(now, plain, "write at {offset}, {len} bytes");
            }
        }
        assert_eq!(view.read(60, 5), Err(Fault));
        assert_eq!(view.write(64, &[1]), Err(Fault));
    }

    /// Two WASI calls of different threads writing and reading the same
    /// guest bytes at once (a racy guest) are no data race in the host:
    /// ThreadSanitizer reported this on plain copies.
    #[test]
    fn threads_copying_the_same_shared_bytes_do_not_race() {
        let cells = shared(4096);
        std::thread::scope(|s| {
            for t in 0..3u8 {
                let cells = &cells;
                s.spawn(move || {
                    let view = MemView::of_shared_slice(cells);
                    let mut buf = [0u8; 1000];
                    for i in 0..200u32 {
                        view.write(i % 7, &[t; 1000]).unwrap();
                        view.read_into(3 + i % 5, &mut buf).unwrap();
                        view.write_u32(2048, i).unwrap();
                    }
                });
            }
        });
        let mut last = [0; 4];
        MemView::of_shared_slice(&cells)
            .read_into(2048, &mut last)
            .unwrap();
        assert!(u32::from_le_bytes(last) < 200);
    }
}
