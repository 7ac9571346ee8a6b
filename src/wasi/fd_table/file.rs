//! Open host descriptors: regular files, pipes, terminals and sockets.
//!
//! Position-dependent operations (read, write, seek, tell) on one regular
//! file hold that file's position lock, so they are atomic with respect to
//! each other; `pread`/`pwrite` need no lock. On a stream (pipe, terminal,
//! socket) reads and writes have separate locks, so a thread blocked reading
//! never holds up a writer.
//!
//! **The host's open file descriptions are never changed.** A descriptor
//! inherited from the host (stdio, `weft_wasi_config_set_stdio_fd`, a
//! preopened TCP listener) shares its open file description — and so its
//! `O_NONBLOCK`/`O_APPEND` flags — with the host. weft therefore keeps the
//! guest's `fdflags` here, per guest descriptor, and never calls
//! `fcntl(F_SETFL)` or `FIONBIO`:
//!
//! * every stream read, write and accept first waits in `poll(2)` — with the
//!   stop signal, so the end of the program wakes it — or, when the guest
//!   asked for non-blocking I/O, polls with a zero timeout and fails with
//!   `EAGAIN` if the descriptor is not ready; the host descriptor may be
//!   blocking or not, an `EAGAIN` from it is waited out the same way;
//! * a pipe or terminal is written at most [`STREAM_STEP`] bytes after each
//!   successful poll (a write of at most `PIPE_BUF` bytes to a pipe that
//!   polls writable never blocks), a socket with `MSG_DONTWAIT`;
//! * `O_APPEND` on a regular file is each write's `RWF_APPEND`
//!   (`pwritev2`), which appends atomically without the description's flag.
//!
//! What remains: a poll-then-read on a descriptor that *another process*
//! reads too (say the host also reads the same stdin) can find the data gone
//! and block in the read; weft's own threads take turns (the locks above).

use std::io::IoSlice;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::OFlags;
use rustix::io::ReadWriteFlags;
use rustix::net::{RecvFlags, SendFlags};

use crate::wasi::abi::{fdflags, filetype, rights, whence, Filestat};
use crate::wasi::errno::{Errno, Error, WasiResult};
use crate::wasi::filestat::{self, TimeSet};
use crate::wasi::iovec::IoVecs;
use crate::wasi::memory::MemView;
use crate::wasi::stop::StopSignal;

/// The most bytes written to a pipe or terminal after one successful poll:
/// `PIPE_BUF`, which a pipe that polls writable takes without blocking.
pub const STREAM_STEP: usize = 4096;

/// How a host descriptor behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Seekable, never blocks (regular file, block device).
    Regular,
    /// May block; waits poll the fd (pipe, terminal, character device).
    Stream,
    /// A connected socket.
    Socket,
    /// A listening socket (for `sock_accept`).
    Listener,
}

/// An open host descriptor.
pub struct OpenFile {
    file: std::fs::File,
    shape: Shape,
    filetype: u8,
    /// Guest-visible `fdflags`: what the guest set, never written to the
    /// host's open file description.
    flags: AtomicU16,
    /// The open file description has `O_APPEND` (set by the host).
    host_append: bool,
    /// Regular files: the position lock. Streams: the reader lock.
    read_lock: Mutex<()>,
    /// Streams: the writer lock.
    write_lock: Mutex<()>,
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `fdflags` a guest sees for a host description: append and the sync
/// flags. `O_NONBLOCK` is the host's business: the guest starts blocking.
fn host_flags_to_wasi(o: OFlags) -> u16 {
    let mut f = 0;
    if o.contains(OFlags::APPEND) {
        f |= fdflags::APPEND;
    }
    if o.contains(OFlags::SYNC) {
        f |= fdflags::SYNC | fdflags::RSYNC;
    } else if o.contains(OFlags::DSYNC) {
        f |= fdflags::DSYNC;
    }
    f
}

const SYNC_FLAGS: u16 = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;

impl OpenFile {
    /// Wraps a host file, pipe, terminal or socket the host handed over.
    /// The guest sees its append and sync flags, and blocking I/O.
    pub fn new(file: std::fs::File) -> std::io::Result<OpenFile> {
        let host = rustix::fs::fcntl_getfl(&file)?;
        Self::wrap(file, host_flags_to_wasi(host), host)
    }

    /// Wraps a file the guest just opened with `fdflags` (`path_open`): the
    /// sync flags were given to `open(2)`, append and non-blocking are kept
    /// here.
    pub fn opened(file: std::fs::File, fdflags: u16) -> std::io::Result<OpenFile> {
        let host = rustix::fs::fcntl_getfl(&file)?;
        let sync = host_flags_to_wasi(host) & SYNC_FLAGS;
        Self::wrap(file, (fdflags & !SYNC_FLAGS) | sync, host)
    }

    fn wrap(file: std::fs::File, flags: u16, host: OFlags) -> std::io::Result<OpenFile> {
        let st = rustix::fs::fstat(&file)?;
        let ft = filestat::filetype_of_mode(st.st_mode as u32);
        let shape = match ft {
            filetype::REGULAR_FILE | filetype::BLOCK_DEVICE | filetype::DIRECTORY => Shape::Regular,
            filetype::SOCKET_STREAM => Shape::Socket,
            _ => Shape::Stream,
        };
        Ok(OpenFile {
            file,
            shape,
            filetype: ft,
            flags: AtomicU16::new(flags),
            host_append: host.contains(OFlags::APPEND),
            read_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
        })
    }

    /// Wraps a socket: a listener for `sock_accept`, or a connection. The
    /// guest starts blocking whatever the host description's flags are.
    pub fn socket(fd: OwnedFd, listener: bool) -> std::io::Result<OpenFile> {
        Ok(OpenFile {
            file: std::fs::File::from(fd),
            shape: if listener {
                Shape::Listener
            } else {
                Shape::Socket
            },
            filetype: filetype::SOCKET_STREAM,
            flags: AtomicU16::new(0),
            host_append: false,
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

    /// `fd_fdstat_set_flags`: `APPEND` and `NONBLOCK` can change (kept here,
    /// never on the host's description); the sync flags cannot be changed
    /// after opening (`ENOTSUP`), as in wasi-common, and neither can an
    /// `O_APPEND` the host set on the description.
    pub fn set_fdflags(&self, new: u16) -> Result<(), Errno> {
        if new & !fdflags::ALL != 0 {
            return Err(Errno::INVAL);
        }
        if (new ^ self.fdflags()) & SYNC_FLAGS != 0 {
            return Err(Errno::NOTSUP);
        }
        if self.host_append && new & fdflags::APPEND == 0 {
            return Err(Errno::NOTSUP);
        }
        if self.is_socket() && new & fdflags::APPEND != 0 {
            return Err(Errno::NOTSUP);
        }
        self.flags.store(new, Ordering::Relaxed);
        Ok(())
    }

    /// The lock of one direction: taken at once in non-blocking mode
    /// (`EAGAIN` while another thread of the program holds it).
    fn take<'a>(&self, m: &'a Mutex<()>) -> Result<MutexGuard<'a, ()>, Errno> {
        if !self.guest_nonblocking() || self.shape == Shape::Regular {
            return Ok(lock(m));
        }
        match m.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(e)) => Ok(e.into_inner()),
            Err(TryLockError::WouldBlock) => Err(Errno::AGAIN),
        }
    }

    /// Waits until the stream is ready for `events` (woken by the end of the
    /// program), or, in non-blocking mode, checks it is ready now (`EAGAIN`).
    fn ready(&self, stop: &StopSignal, events: PollFlags) -> WasiResult<()> {
        if !self.guest_nonblocking() {
            stop.wait_fd(self.file.as_fd(), events)?;
            return Ok(());
        }
        let mut fds = [PollFd::from_borrowed_fd(self.file.as_fd(), events)];
        let zero = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        loop {
            match rustix::event::poll(&mut fds, Some(&zero)) {
                Ok(0) => return Err(Errno::AGAIN.into()),
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                // Let the I/O call itself report what is wrong.
                Err(_) => return Ok(()),
            }
        }
    }

    /// Runs one non-blocking step of stream I/O after [`OpenFile::ready`]:
    /// `EINTR` is retried, and so is `EAGAIN` in blocking mode (the host
    /// description may be non-blocking, or the data may have gone).
    fn step(
        &self,
        stop: &StopSignal,
        events: PollFlags,
        mut io: impl FnMut() -> Result<usize, Errno>,
    ) -> WasiResult<usize> {
        loop {
            self.ready(stop, events)?;
            match io() {
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) if !self.guest_nonblocking() => {}
                r => return Ok(r?),
            }
        }
    }

    /// `fd_read`: a regular file fills every buffer up to end of file; a
    /// stream returns what one read gives, blocking until data or EOF.
    pub fn read(&self, stop: &StopSignal, mem: &MemView, iovs: &IoVecs) -> WasiResult<usize> {
        if self.shape == Shape::Listener {
            return Err(Errno::NOTCONN.into());
        }
        if self.shape == Shape::Regular {
            let _g = lock(&self.read_lock);
            return Ok(iovs.fill(mem, false, |buf| Ok(rustix::io::read(&self.file, buf)?))?);
        }
        self.read_stream(stop, mem, iovs, RecvFlags::empty())
    }

    /// `sock_recv` (and `fd_read` on a stream). `WAITALL` in blocking mode
    /// waits until every buffer is full or the peer closes.
    pub fn read_stream(
        &self,
        stop: &StopSignal,
        mem: &MemView,
        iovs: &IoVecs,
        flags: RecvFlags,
    ) -> WasiResult<usize> {
        if iovs.total() == 0 {
            return Ok(0);
        }
        let _g = self.take(&self.read_lock)?;
        let socket = self.shape == Shape::Socket;
        let once = !(socket && flags.contains(RecvFlags::WAITALL) && !self.guest_nonblocking());
        let flags = (flags - RecvFlags::WAITALL) | RecvFlags::DONTWAIT;
        let mut stopped = false;
        let r = iovs.fill(mem, once, |buf| {
            let r = self.step(stop, PollFlags::IN, || {
                if socket {
                    Ok(rustix::net::recv(&self.file, &mut *buf, flags)?.0)
                } else {
                    Ok(rustix::io::read(&self.file, &mut *buf)?)
                }
            });
            match r {
                Ok(n) => Ok(n),
                Err(Error::Errno(e)) => Err(e),
                Err(Error::Stopped) => {
                    stopped = true;
                    Err(Errno::CANCELED)
                }
            }
        });
        if stopped {
            return Err(Error::Stopped);
        }
        Ok(r?)
    }

    /// `fd_write`: writes every byte of every buffer (a stream in
    /// non-blocking mode may write fewer, and fails with `EAGAIN` if it can
    /// take none).
    pub fn write(&self, stop: &StopSignal, mem: &MemView, iovs: &IoVecs) -> WasiResult<usize> {
        if self.shape == Shape::Listener {
            return Err(Errno::NOTCONN.into());
        }
        let _g = match self.shape {
            // The position lock keeps a write of several chunks together,
            // and it queues threads writing one descriptor here rather than
            // in the kernel: 8 threads appending to one file keep 0.95× of
            // one thread's throughput with it, 0.74× without (the kernel's
            // position and inode locks contended; docs/performance.md).
            Shape::Regular => Some(lock(&self.read_lock)),
            _ => Some(self.take(&self.write_lock)?),
        };
        let append = self.fdflags() & fdflags::APPEND != 0 && !self.host_append;
        let mut stopped = false;
        let n = iovs.gather(mem, |chunk| {
            let mut off = 0;
            while off < chunk.len() {
                let rest = &chunk[off..];
                let r = match self.shape {
                    Shape::Regular => self.write_regular(rest, append),
                    Shape::Socket => self.step(stop, PollFlags::OUT, || {
                        let how = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
                        Ok(rustix::net::send(&self.file, rest, how)?)
                    }),
                    _ => self.step(stop, PollFlags::OUT, || {
                        let step = &rest[..rest.len().min(STREAM_STEP)];
                        Ok(rustix::io::write(&self.file, step)?)
                    }),
                };
                match r {
                    Ok(0) => return Err(Errno::IO),
                    Ok(n) => off += n,
                    Err(Error::Stopped) => {
                        stopped = true;
                        return Err(Errno::CANCELED);
                    }
                    Err(Error::Errno(e)) if off == 0 => return Err(e),
                    Err(Error::Errno(_)) => break,
                }
            }
            Ok(off)
        });
        if stopped {
            return Err(Error::Stopped);
        }
        Ok(n?)
    }

    /// One write to a regular file, at its position or (`append`) at its end.
    fn write_regular(&self, bytes: &[u8], append: bool) -> WasiResult<usize> {
        loop {
            let r = if append {
                // Offset `u64::MAX`: the file position, updated as by write(2).
                rustix::io::pwritev2(
                    &self.file,
                    &[IoSlice::new(bytes)],
                    u64::MAX,
                    ReadWriteFlags::APPEND,
                )
                .map_err(Errno::from)
            } else {
                rustix::io::write(&self.file, bytes).map_err(Errno::from)
            };
            match r {
                Err(Errno::INTR) => {}
                r => return Ok(r?),
            }
        }
    }

    /// `fd_pread`.
    pub fn pread(&self, mem: &MemView, iovs: &IoVecs, offset: u64) -> WasiResult<usize> {
        if self.shape != Shape::Regular {
            return Err(Errno::SPIPE.into());
        }
        let mut at = offset;
        Ok(iovs.fill(mem, false, |buf| {
            let n = rustix::io::pread(&self.file, buf, at)?;
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
        Ok(iovs.gather(mem, |mut chunk| {
            let len = chunk.len();
            while !chunk.is_empty() {
                match rustix::io::pwrite(&self.file, chunk, at) {
                    Ok(0) => return Err(Errno::IO),
                    Ok(n) => {
                        chunk = &chunk[n..];
                        at += n as u64;
                    }
                    Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(len)
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
    /// for non-blocking I/O on the listener. The program's threads accept
    /// one at a time, each after a poll, so none blocks in `accept(2)`.
    pub fn accept(&self, stop: &StopSignal) -> WasiResult<OpenFile> {
        if self.shape != Shape::Listener {
            return Err(Errno::NOTSOCK.into());
        }
        let _g = self.take(&self.read_lock)?;
        let mut conn = None;
        self.step(stop, PollFlags::IN, || {
            match rustix::net::accept_with(&self.file, rustix::net::SocketFlags::CLOEXEC) {
                Ok(fd) => {
                    conn = Some(fd);
                    Ok(1)
                }
                // The peer gave up before we took it: wait for the next one.
                Err(rustix::io::Errno::CONNABORTED) => Err(Errno::INTR),
                Err(e) => Err(e.into()),
            }
        })?;
        let fd = conn.ok_or(Errno::IO)?;
        Ok(OpenFile::socket(fd, false)?)
    }

    /// `sock_shutdown`.
    pub fn shutdown(&self, how: rustix::net::Shutdown) -> Result<(), Errno> {
        if self.shape != Shape::Socket {
            return Err(Errno::NOTSOCK);
        }
        Ok(rustix::net::shutdown(&self.file, how)?)
    }
}
