//! Standard streams: how each [`Stdio`] choice becomes descriptor 0, 1 or 2.
//!
//! Host-backed choices (`Inherit`, `File`, `Fd`) become ordinary host
//! descriptors ([`OpenFile`]): `Inherit` duplicates the host's own fd 0, 1
//! or 2. So a guest's write reaches the host descriptor before `fd_write`
//! returns — there is no buffer in between (such as Rust's `std::io::stdout`,
//! which only a Rust `main` flushes) to lose a last line without a newline
//! or to reorder output with the host's own writes — and reads and writes
//! on terminals and pipes wait in `poll(2)` together with the stop signal.
//! The rest are in-memory [`Stream`]s.

use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use crate::wasi::abi::{filetype, rights};
use crate::wasi::ctx::Stdio;
use crate::wasi::errno::Errno;
use crate::wasi::fd_table::{Descriptor, Kind};
use crate::wasi::file::OpenFile;

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

/// Builds descriptor `fd` (0, 1 or 2) from its configuration. `capture` is
/// the buffer a `Capture` output appends to.
pub fn descriptor(
    fd: u32,
    how: &Stdio,
    capture: &Arc<Mutex<Vec<u8>>>,
) -> anyhow::Result<Descriptor> {
    let input = fd == 0;
    let stream = |s: Stream| Ok(Descriptor::new(Kind::Stream(s), rights::STREAM, 0));
    let host = |file: std::fs::File| -> anyhow::Result<Descriptor> {
        let f = OpenFile::new(file)?;
        let base = f.max_rights();
        Ok(Descriptor::new(Kind::File(f), base, 0))
    };
    match how {
        Stdio::Null => stream(Stream::Null),
        Stdio::Capture if input => stream(Stream::Null),
        Stdio::Capture => stream(Stream::Capture(capture.clone())),
        Stdio::Bytes(b) if input => stream(Stream::Bytes {
            data: b.clone().into(),
            pos: Mutex::new(0),
        }),
        Stdio::Bytes(_) => stream(Stream::Null),
        Stdio::Inherit => {
            // Only the descriptor is borrowed here, never Rust's buffers.
            let dup = |own| rustix::io::fcntl_dupfd_cloexec(own, 3);
            let own = match fd {
                0 => dup(std::io::stdin().as_fd()),
                1 => dup(std::io::stdout().as_fd()),
                _ => dup(std::io::stderr().as_fd()),
            };
            match own {
                Ok(dup) => host(std::fs::File::from(dup)),
                // The host has no such stream: behave as `Null`.
                Err(_) => stream(Stream::Null),
            }
        }
        Stdio::File(path) => {
            let file = if input {
                std::fs::File::open(path)
            } else {
                std::fs::File::create(path)
            }
            .map_err(|e| anyhow::anyhow!("cannot open {} for fd {fd}: {e}", path.display()))?;
            host(file)
        }
        Stdio::Fd(owned) => {
            let dup = rustix::io::fcntl_dupfd_cloexec(owned.as_fd(), 3)
                .map_err(|e| anyhow::anyhow!("cannot duplicate the host fd for fd {fd}: {e}"))?;
            host(std::fs::File::from(dup))
        }
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
