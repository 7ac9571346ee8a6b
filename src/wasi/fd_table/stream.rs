//! In-memory standard streams: what descriptors 0, 1 and 2 are when the
//! host chose no host descriptor for them (`Null`, `Capture`, `Bytes`).

use std::sync::{Arc, Mutex};

use crate::wasi::abi::filetype;
use crate::wasi::errno::Errno;

/// A standard stream that is not a host descriptor.
pub enum Stream {
    /// Reads see end of file; writes are discarded.
    Null,
    /// Writes are appended to a buffer the host can read.
    Capture(Arc<Mutex<Vec<u8>>>),
    /// Reads return these bytes, then end of file.
    Bytes {
        /// The input.
        data: Arc<[u8]>,
        /// How much has been read.
        pos: Mutex<usize>,
    },
}

impl Stream {
    /// Reads into `buf` (never blocks).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            Stream::Bytes { data, pos } => {
                let mut pos = pos.lock().unwrap_or_else(|e| e.into_inner());
                let rest = &data[(*pos).min(data.len())..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                Ok(n)
            }
            Stream::Null => Ok(0),
            _ => Err(Errno::BADF),
        }
    }

    /// Writes all of `bytes`.
    pub fn write(&self, bytes: &[u8]) -> Result<usize, Errno> {
        match self {
            Stream::Null => {}
            Stream::Capture(buf) => buf
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes),
            Stream::Bytes { .. } => return Err(Errno::BADF),
        }
        Ok(bytes.len())
    }

    /// Bytes readable without blocking (for `poll_oneoff`).
    pub fn readable(&self) -> u64 {
        match self {
            Stream::Bytes { data, pos } => {
                let pos = *pos.lock().unwrap_or_else(|e| e.into_inner());
                data.len().saturating_sub(pos) as u64
            }
            _ => 0,
        }
    }

    /// The preview 1 file type reported for the stream.
    pub fn filetype(&self) -> u8 {
        match self {
            Stream::Null => filetype::CHARACTER_DEVICE,
            _ => filetype::UNKNOWN,
        }
    }

    /// Nothing to flush: in-memory streams hold no host buffer.
    pub fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_stream_reads_then_eof() {
        let s = Stream::Bytes {
            data: Arc::from(&b"hello"[..]),
            pos: Mutex::new(0),
        };
        let mut b = [0; 3];
        assert_eq!(s.read(&mut b).unwrap(), 3);
        assert_eq!(&b, b"hel");
        assert_eq!(s.readable(), 2);
        assert_eq!(s.read(&mut b).unwrap(), 2);
        assert_eq!(s.read(&mut b).unwrap(), 0);
        assert_eq!(s.write(b"x"), Err(Errno::BADF));
    }
}
