//! Open host descriptors: regular files, pipes, terminals and sockets.
//!
//! Position-dependent operations (read, write, seek, tell) on one regular
//! file hold that file's position lock, so they are atomic with respect to
//! each other; `pread`/`pwrite` need no lock. On a stream (pipe, terminal,
//! socket) reads and writes have separate locks, so a thread blocked reading
//! never holds up a writer, and blocking waits go through
//! [`StopSignal::poll`], which wakes when the program ends.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, MutexGuard};

use rustix::event::PollFlags;
use rustix::fs::OFlags;

use crate::wasi::abi::{fdflags, filetype, rights, whence, Filestat};
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::filestat::{self, TimeSet};
use crate::wasi::iovec::IoVecs;
use crate::wasi::memory::MemView;
use crate::wasi::stop::StopSignal;

/// How a host descriptor behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Seekable, never blocks (regular file, block device).
    Regular,
    /// May block; waits poll the fd (pipe, terminal, character device).
    Stream,
    /// A connected socket. The host fd is always non-blocking; a blocking
    /// guest call waits in `poll(2)`.
    Socket,
    /// A listening socket (for `sock_accept`); host fd non-blocking.
    Listener,
}

/// An open host descriptor.
pub struct OpenFile {
    file: std::fs::File,
    shape: Shape,
    filetype: u8,
    /// Guest-visible `fdflags`.
    flags: AtomicU16,
    /// Regular files: the position lock. Streams: the reader lock.
    read_lock: Mutex<()>,
    /// Streams: the writer lock.
    write_lock: Mutex<()>,
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn host_flags_to_wasi(o: OFlags) -> u16 {
    let mut f = 0;
    if o.contains(OFlags::APPEND) {
        f |= fdflags::APPEND;
    }
    if o.contains(OFlags::NONBLOCK) {
        f |= fdflags::NONBLOCK;
    }
    if o.contains(OFlags::SYNC) {
        f |= fdflags::SYNC | fdflags::RSYNC;
    } else if o.contains(OFlags::DSYNC) {
        f |= fdflags::DSYNC;
    }
    f
}

impl OpenFile {
    /// Wraps a host file, pipe or terminal.
    pub fn new(file: std::fs::File) -> std::io::Result<OpenFile> {
        let st = rustix::fs::fstat(&file)?;
        let ft = filestat::filetype_of_mode(st.st_mode as u32);
        let shape = match ft {
            filetype::REGULAR_FILE | filetype::BLOCK_DEVICE | filetype::DIRECTORY => Shape::Regular,
            filetype::SOCKET_STREAM => Shape::Socket,
            _ => Shape::Stream,
        };
        let mut flags = host_flags_to_wasi(rustix::fs::fcntl_getfl(&file)?);
        if shape == Shape::Socket {
            // Guest-level blocking is emulated with `poll(2)`.
            rustix::io::ioctl_fionbio(&file, true)?;
            flags &= !fdflags::NONBLOCK;
        }
        Ok(OpenFile {
            file,
            shape,
            filetype: ft,
            flags: AtomicU16::new(flags),
            read_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
        })
    }

    /// Wraps a socket: a listener for `sock_accept`, or a connection.
    pub fn socket(fd: OwnedFd, listener: bool) -> std::io::Result<OpenFile> {
        rustix::io::ioctl_fionbio(&fd, true)?;
        Ok(OpenFile {
            file: std::fs::File::from(fd),
            shape: if listener {
                Shape::Listener
            } else {
                Shape::Socket
            },
            filetype: filetype::SOCKET_STREAM,
            flags: AtomicU16::new(0),
            read_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
        })
    }

    /// The rights this kind of descriptor can have at most.
    pub fn max_rights(&self) -> u64 {
        match self.shape {
            Shape::Regular => rights::REGULAR_FILE,
            Shape::Stream => rights::STREAM,
            Shape::Socket => rights::SOCKET,
            Shape::Listener => rights::LISTENER,
        }
    }

    /// The preview 1 file type.
    pub fn filetype(&self) -> u8 {
        self.filetype
    }

    /// Guest-visible `fdflags`.
    pub fn fdflags(&self) -> u16 {
        self.flags.load(Ordering::Relaxed)
    }

    fn guest_nonblocking(&self) -> bool {
        self.fdflags() & fdflags::NONBLOCK != 0
    }

    /// Whether this is a socket (connected or listening).
    pub fn is_socket(&self) -> bool {
        matches!(self.shape, Shape::Socket | Shape::Listener)
    }

    /// The host descriptor to `poll(2)`, or `None` if it is always ready
    /// (regular files).
    pub fn pollable(&self) -> Option<BorrowedFd<'_>> {
        match self.shape {
            Shape::Regular => None,
            _ => Some(self.file.as_fd()),
        }
    }

    /// Bytes readable without blocking, as far as cheaply known.
    pub fn readable(&self) -> u64 {
        match self.shape {
            Shape::Regular => {
                let size = rustix::fs::fstat(&self.file).map_or(0, |s| s.st_size as u64);
                let pos =
                    rustix::fs::seek(&self.file, rustix::fs::SeekFrom::Current(0)).unwrap_or(0);
                size.saturating_sub(pos)
            }
            _ => rustix::io::ioctl_fionread(&self.file).unwrap_or(0),
        }
    }

    /// `fd_fdstat_set_flags`: `APPEND` and `NONBLOCK` can change; the sync
    /// flags cannot be changed after opening (`ENOTSUP`), as in wasi-common.
    pub fn set_fdflags(&self, new: u16) -> Result<(), Errno> {
        if new & !fdflags::ALL != 0 {
            return Err(Errno::INVAL);
        }
        let sync = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
        if (new ^ self.fdflags()) & sync != 0 {
            return Err(Errno::NOTSUP);
        }
        if matches!(self.shape, Shape::Regular | Shape::Stream) {
            let mut o = rustix::fs::fcntl_getfl(&self.file)?;
            o.set(OFlags::APPEND, new & fdflags::APPEND != 0);
            o.set(OFlags::NONBLOCK, new & fdflags::NONBLOCK != 0);
            rustix::fs::fcntl_setfl(&self.file, o)?;
        } else if new & fdflags::APPEND != 0 {
            return Err(Errno::NOTSUP);
        }
        self.flags.store(new, Ordering::Relaxed);
        Ok(())
    }

    /// Waits (unless the guest asked for non-blocking I/O) until the fd is
    /// ready for `events`.
    fn wait(&self, stop: &StopSignal, events: PollFlags) -> WasiResult<()> {
        if self.shape != Shape::Regular && !self.guest_nonblocking() {
            stop.wait_fd(self.file.as_fd(), events)?;
        }
        Ok(())
    }

    /// `fd_read`: a regular file fills every buffer up to end of file; a
    /// stream returns what one read gives, blocking until data or EOF.
    pub fn read(&self, stop: &StopSignal, mem: &MemView, iovs: &IoVecs) -> WasiResult<usize> {
        if self.shape == Shape::Listener {
            return Err(Errno::NOTCONN.into());
        }
        let _g = lock(&self.read_lock);
        if self.shape == Shape::Regular {
            return Ok(iovs.fill(mem, false, |buf| Ok((&self.file).read(buf)?))?);
        }
        self.read_stream(stop, mem, iovs, rustix::net::RecvFlags::empty())
    }

    /// `sock_recv` (and `fd_read` on a stream).
    pub fn read_stream(
        &self,
        stop: &StopSignal,
        mem: &MemView,
        iovs: &IoVecs,
        flags: rustix::net::RecvFlags,
    ) -> WasiResult<usize> {
        if iovs.total() == 0 {
            return Ok(0);
        }
        loop {
            self.wait(stop, PollFlags::IN)?;
            let r = iovs.fill(mem, true, |buf| {
                if self.shape == Shape::Socket {
                    Ok(rustix::net::recv(&self.file, buf, flags)?.0)
                } else {
                    Ok((&self.file).read(buf)?)
                }
            });
            match r {
                Err(Errno::AGAIN) if !self.guest_nonblocking() => continue,
                Err(Errno::INTR) => continue,
                r => return Ok(r?),
            }
        }
    }

    /// `fd_write`: writes every byte of every buffer (a stream in
    /// non-blocking mode may write fewer).
    pub fn write(&self, stop: &StopSignal, mem: &MemView, iovs: &IoVecs) -> WasiResult<usize> {
        if self.shape == Shape::Listener {
            return Err(Errno::NOTCONN.into());
        }
        let _g = match self.shape {
            Shape::Regular => lock(&self.read_lock),
            _ => lock(&self.write_lock),
        };
        let mut stopped = false;
        let n = iovs.gather(mem, |chunk| {
            let mut off = 0;
            while off < chunk.len() {
                let r = if self.shape == Shape::Socket {
                    rustix::net::send(&self.file, &chunk[off..], rustix::net::SendFlags::NOSIGNAL)
                        .map_err(Errno::from)
                } else {
                    (&self.file).write(&chunk[off..]).map_err(Errno::from)
                };
                match r {
                    Ok(0) => return Err(Errno::IO),
                    Ok(n) => off += n,
                    Err(Errno::INTR) => {}
                    Err(Errno::AGAIN)
                        if !self.guest_nonblocking() && self.shape != Shape::Regular =>
                    {
                        if stop.wait_fd(self.file.as_fd(), PollFlags::OUT).is_err() {
                            stopped = true;
                            return Err(Errno::CANCELED);
                        }
                    }
                    Err(e) if off == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            Ok(off)
        });
        if stopped {
            return Err(crate::wasi::errno::Error::Stopped);
        }
        Ok(n?)
    }

    /// `fd_pread`.
    pub fn pread(&self, mem: &MemView, iovs: &IoVecs, offset: u64) -> WasiResult<usize> {
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE.into());
        }
        let mut at = offset;
        Ok(iovs.fill(mem, false, |buf| {
            let n = self.file.read_at(buf, at)?;
            at += n as u64;
            Ok(n)
        })?)
    }

    /// `fd_pwrite`.
    pub fn pwrite(&self, mem: &MemView, iovs: &IoVecs, offset: u64) -> WasiResult<usize> {
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE.into());
        }
        let mut at = offset;
        Ok(iovs.gather(mem, |chunk| {
            self.file.write_all_at(chunk, at)?;
            at += chunk.len() as u64;
            Ok(chunk.len())
        })?)
    }

    /// `fd_seek`; returns the new offset.
    pub fn seek(&self, offset: i64, how: u8) -> Result<u64, Errno> {
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE);
        }
        let pos = match how {
            whence::SET if offset >= 0 => rustix::fs::SeekFrom::Start(offset as u64),
            whence::SET => return Err(Errno::INVAL),
            whence::CUR => rustix::fs::SeekFrom::Current(offset),
            whence::END => rustix::fs::SeekFrom::End(offset),
            _ => return Err(Errno::INVAL),
        };
        let _g = lock(&self.read_lock);
        Ok(rustix::fs::seek(&self.file, pos)?)
    }

    /// `fd_filestat_get`.
    pub fn filestat(&self) -> Result<Filestat, Errno> {
        let mut st = filestat::from_stat(&rustix::fs::fstat(&self.file)?);
        if self.is_socket() {
            st.filetype = filetype::SOCKET_STREAM;
        }
        Ok(st)
    }

    /// `fd_filestat_set_size`.
    pub fn set_size(&self, size: u64) -> Result<(), Errno> {
        if self.shape != Shape::Regular {
            return Err(Errno::INVAL);
        }
        Ok(self.file.set_len(size)?)
    }

    /// `fd_filestat_set_times`.
    pub fn set_times(&self, a: TimeSet, m: TimeSet) -> Result<(), Errno> {
        Ok(rustix::fs::futimens(
            &self.file,
            &filestat::timestamps(a, m),
        )?)
    }

    /// `fd_allocate`: makes sure `offset..offset+len` is allocated.
    pub fn allocate(&self, offset: u64, len: u64) -> Result<(), Errno> {
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE);
        }
        if len == 0 || offset.checked_add(len).is_none_or(|e| e > i64::MAX as u64) {
            return Err(Errno::INVAL);
        }
        match rustix::fs::fallocate(&self.file, rustix::fs::FallocateFlags::empty(), offset, len) {
            Ok(()) => Ok(()),
            // Filesystems without fallocate: extend the file instead.
            Err(rustix::io::Errno::OPNOTSUPP) => {
                let size = self.file.metadata()?.len();
                if offset + len > size {
                    self.file.set_len(offset + len)?;
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `fd_advise`.
    pub fn advise(&self, offset: u64, len: u64, advice: u8) -> Result<(), Errno> {
        use rustix::fs::Advice;
        let advice = match advice {
            0 => Advice::Normal,
            1 => Advice::Sequential,
            2 => Advice::Random,
            3 => Advice::WillNeed,
            4 => Advice::DontNeed,
            5 => Advice::NoReuse,
            _ => return Err(Errno::INVAL),
        };
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE);
        }
        Ok(rustix::fs::fadvise(
            &self.file,
            offset,
            std::num::NonZeroU64::new(len),
            advice,
        )?)
    }

    /// `fd_sync` (`data_only`: `fd_datasync`).
    pub fn sync(&self, data_only: bool) -> Result<(), Errno> {
        if self.shape != Shape::Regular {
            return Err(Errno::INVAL);
        }
        if data_only {
            Ok(rustix::fs::fdatasync(&self.file)?)
        } else {
            Ok(rustix::fs::fsync(&self.file)?)
        }
    }

    /// `sock_accept`: a new connection, blocking unless the guest asked
    /// for non-blocking I/O on the listener.
    pub fn accept(&self, stop: &StopSignal) -> WasiResult<OpenFile> {
        if self.shape != Shape::Listener {
            return Err(Errno::NOTSOCK.into());
        }
        loop {
            self.wait(stop, PollFlags::IN)?;
            match rustix::net::accept_with(&self.file, rustix::net::SocketFlags::CLOEXEC) {
                Ok(fd) => return Ok(OpenFile::socket(fd, false)?),
                Err(rustix::io::Errno::AGAIN) if !self.guest_nonblocking() => {}
                Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::CONNABORTED) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `sock_shutdown`.
    pub fn shutdown(&self, how: rustix::net::Shutdown) -> Result<(), Errno> {
        if self.shape != Shape::Socket {
            return Err(Errno::NOTSOCK);
        }
        Ok(rustix::net::shutdown(&self.file, how)?)
    }
}
