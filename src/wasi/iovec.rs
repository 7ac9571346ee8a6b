//! Scatter/gather lists (`iovec`/`ciovec` arrays) in guest memory.
//!
//! Every buffer of a list is bounds-checked before any I/O, so a bad list is
//! `EFAULT` with nothing read or written. Data moves in bounded chunks so a
//! huge list never makes the host allocate more than [`CHUNK`] at once.

use crate::wasi::abi::IOVEC_SIZE;
use crate::wasi::errno::Errno;
use crate::wasi::memory::MemView;

/// The largest host buffer used for one step of an I/O call.
pub const CHUNK: usize = 1 << 20;

/// A checked list of guest buffers.
pub struct IoVecs {
    bufs: Vec<(u32, u32)>,
    total: usize,
}

impl IoVecs {
    /// Reads and checks the list of `len` entries at `ptr`.
    pub fn parse(mem: &MemView, ptr: u32, len: u32) -> Result<IoVecs, Errno> {
        let bytes = (len as u64) * (IOVEC_SIZE as u64);
        if bytes > u32::MAX as u64 {
            return Err(Errno::FAULT);
        }
        let raw = mem.read(ptr, bytes as u32)?;
        let mut bufs = Vec::with_capacity(len as usize);
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
        for &(base, len) in &self.bufs {
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
        for &(base, len) in &self.bufs {
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
