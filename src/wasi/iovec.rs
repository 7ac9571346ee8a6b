//! Scatter/gather lists (`iovec`/`ciovec` arrays) in guest memory.
//!
//! Every buffer of a list is bounds-checked before any I/O, so a bad list is
//! `EFAULT` with nothing read or written. Data moves in bounded chunks so a
//! huge list never makes the host allocate more than [`CHUNK`] at once.

use std::mem::MaybeUninit;

use crate::wasi::abi::IOVEC_SIZE;
use crate::wasi::errno::Errno;
use crate::wasi::memory::MemView;

/// The largest host buffer used for one step of an I/O call.
pub const CHUNK: usize = 1 << 20;

/// Lists up to this long are parsed without allocating (the common case:
/// wasi-libc passes one or two buffers).
const INLINE_IOVECS: usize = 4;

/// Writes up to this many bytes are gathered into a stack buffer.
const INLINE_GATHER: usize = 4096;

/// A checked list of guest buffers.
pub struct IoVecs {
    bufs: Bufs,
    total: usize,
}

/// The non-empty buffers, inline when there are few.
enum Bufs {
    Inline([(u32, u32); INLINE_IOVECS], usize),
    Heap(Vec<(u32, u32)>),
}

impl Bufs {
    fn push(&mut self, buf: (u32, u32)) {
        match self {
            Bufs::Inline(a, n) if *n < INLINE_IOVECS => {
                a[*n] = buf;
                *n += 1;
            }
            Bufs::Inline(a, n) => {
                let mut v = a[..*n].to_vec();
                v.push(buf);
                *self = Bufs::Heap(v);
            }
            Bufs::Heap(v) => v.push(buf),
        }
    }
}

impl std::ops::Deref for Bufs {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        match self {
            Bufs::Inline(a, n) => &a[..*n],
            Bufs::Heap(v) => v,
        }
    }
}

impl IoVecs {
    /// Reads and checks the list of `len` entries at `ptr`.
    pub fn parse(mem: &MemView, ptr: u32, len: u32) -> Result<IoVecs, Errno> {
        let bytes = (len as u64) * (IOVEC_SIZE as u64);
        if bytes > u32::MAX as u64 {
            return Err(Errno::FAULT);
        }
        let mut small = [0u8; INLINE_IOVECS * IOVEC_SIZE as usize];
        let heap;
        let raw: &[u8] = if bytes as usize <= small.len() {
            let raw = &mut small[..bytes as usize];
            mem.read_into(ptr, raw)?;
            raw
        } else {
            heap = mem.read(ptr, bytes as u32)?;
            &heap
        };
        let mut bufs = if len as usize <= INLINE_IOVECS {
            Bufs::Inline([(0, 0); INLINE_IOVECS], 0)
        } else {
            Bufs::Heap(Vec::with_capacity(len as usize))
        };
        let mut total: u64 = 0;
        for e in raw.chunks_exact(IOVEC_SIZE as usize) {
            let base = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            let n = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            if base as u64 + n as u64 > mem.len() as u64 {
                return Err(Errno::FAULT);
            }
            total += n as u64;
            if n > 0 {
                bufs.push((base, n));
            }
        }
        // The count written back is a u32 (`size`).
        if total > u32::MAX as u64 {
            return Err(Errno::INVAL);
        }
        Ok(IoVecs {
            bufs,
            total: total as usize,
        })
    }

    /// Total bytes over all buffers.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Copies the list's bytes out of guest memory, `CHUNK` at a time, and
    /// hands each chunk to `sink`, which returns how many bytes it took;
    /// stops at the first short take. Returns the total taken.
    pub fn gather(
        &self,
        mem: &MemView,
        mut sink: impl FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if self.total <= INLINE_GATHER {
            // Small writes: one copy into a stack buffer, one call of `sink`.
            // Not zeroed first: every byte passed on is copied in.
            let mut small = [MaybeUninit::<u8>::uninit(); INLINE_GATHER];
            let mut at = 0;
            for &(base, len) in self.bufs.iter() {
                let len = len as usize;
                mem.read_into_uninit(base, &mut small[at..at + len])?;
                at += len;
            }
            if at == 0 {
                return Ok(0);
            }
            // SAFETY: the first `at` bytes were copied in above.
            let bytes = unsafe { std::slice::from_raw_parts(small.as_ptr().cast::<u8>(), at) };
            return sink(bytes);
        }
        let mut chunk = Vec::with_capacity(self.total.min(CHUNK));
        let mut done = 0usize;
        let mut flush = |chunk: &mut Vec<u8>, done: &mut usize| -> Result<bool, Errno> {
            if chunk.is_empty() {
                return Ok(true);
            }
            let r = sink(chunk);
            let n = match r {
                Ok(n) => n,
                Err(e) if *done == 0 => return Err(e),
                Err(_) => 0,
            };
            *done += n;
            let full = n == chunk.len();
            chunk.clear();
            Ok(full)
        };
        for &(base, len) in self.bufs.iter() {
            let mut off = 0u32;
            while off < len {
                let room = CHUNK - chunk.len();
                let take = room.min((len - off) as usize);
                let at = chunk.len();
                chunk.resize(at + take, 0);
                mem.read_into(base + off, &mut chunk[at..])?;
                off += take as u32;
                if chunk.len() == CHUNK && !flush(&mut chunk, &mut done)? {
                    return Ok(done);
                }
            }
        }
        flush(&mut chunk, &mut done)?;
        Ok(done)
    }

    /// Fills the buffers from `source`, which reads into a host buffer and
    /// returns how many bytes it produced (0: end of data). With `once`, one
    /// call of `source` fills what it can (stream semantics: return what is
    /// available); otherwise `source` is called until the list is full or it
    /// reports end of data (regular-file semantics: no short reads).
    pub fn fill(
        &self,
        mem: &MemView,
        once: bool,
        mut source: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if self.total == 0 {
            return Ok(0);
        }
        let mut buf = vec![0u8; self.total.min(CHUNK)];
        let mut done = 0usize;
        while done < self.total {
            let want = (self.total - done).min(buf.len());
            let n = match source(&mut buf[..want]) {
                Ok(n) => n.min(want),
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            self.scatter_at(mem, done, &buf[..n])?;
            done += n;
            if n == 0 || once {
                break;
            }
        }
        Ok(done)
    }

    /// Like `scatter`, starting `skip` bytes into the list.
    fn scatter_at(&self, mem: &MemView, mut skip: usize, mut data: &[u8]) -> Result<(), Errno> {
        for &(base, len) in self.bufs.iter() {
            if data.is_empty() {
                break;
            }
            let len = len as usize;
            if skip >= len {
                skip -= len;
                continue;
            }
            let n = (len - skip).min(data.len());
            mem.write(base + skip as u32, &data[..n])?;
            data = &data[n..];
            skip = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guest memory holding `n` iovecs at 0 that point at buffers of the
    /// given lengths (filled with their index) from 1024 on.
    fn memory(lens: &[u32]) -> Vec<u8> {
        let mut mem = vec![0u8; 1024 + lens.iter().sum::<u32>() as usize + 16];
        let mut at = 1024u32;
        for (i, &n) in lens.iter().enumerate() {
            mem[i * 8..i * 8 + 4].copy_from_slice(&at.to_le_bytes());
            mem[i * 8 + 4..i * 8 + 8].copy_from_slice(&n.to_le_bytes());
            mem[at as usize..(at + n) as usize].fill(i as u8 + 1);
            at += n;
        }
        mem
    }

    #[test]
    fn gather_small_inline_heap_and_large_lists() {
        for lens in [
            &[64][..],
            &[0, 3, 0, 5],
            &[1, 2, 3, 4, 5, 6, 7],
            &[4096],
            &[4000, 200],
            &[3 << 20, 5],
        ] {
            let mut bytes = memory(lens);
            let mem = MemView::of_slice(&mut bytes);
            let iovs = IoVecs::parse(&mem, 0, lens.len() as u32).unwrap();
            assert_eq!(iovs.total(), lens.iter().sum::<u32>() as usize);
            let mut got = Vec::new();
            let mut calls = 0;
            let n = iovs
                .gather(&mem, |chunk| {
                    calls += 1;
                    assert!(chunk.len() <= CHUNK);
                    got.extend_from_slice(chunk);
                    Ok(chunk.len())
                })
                .unwrap();
            let want: Vec<u8> = lens
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| std::iter::repeat_n(i as u8 + 1, n as usize))
                .collect();
            assert_eq!((n, &got), (want.len(), &want), "{lens:?}");
            assert_eq!(calls, want.len().div_ceil(CHUNK), "{lens:?}");
        }
    }

    #[test]
    fn gather_short_takes_and_faults() {
        let mut bytes = memory(&[10, 10]);
        let mem = MemView::of_slice(&mut bytes);
        let iovs = IoVecs::parse(&mem, 0, 2).unwrap();
        assert_eq!(iovs.gather(&mem, |_| Ok(7)), Ok(7));
        assert_eq!(iovs.gather(&mem, |_| Err(Errno::IO)), Err(Errno::IO));
        let len = bytes.len() as u32;
        bytes[4..8].copy_from_slice(&len.to_le_bytes());
        let mem = MemView::of_slice(&mut bytes);
        assert_eq!(IoVecs::parse(&mem, 0, 2).err(), Some(Errno::FAULT));
        assert_eq!(IoVecs::parse(&mem, len - 4, 1).err(), Some(Errno::FAULT));
    }
}
