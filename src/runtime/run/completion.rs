//! The descriptor that becomes readable once a run's outcome is decided
//! (`Instance::completion_fd`): an eventfd on Linux, a pipe elsewhere, made
//! on first request.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use crate::runtime::error::{Error, ErrorKind, Result};

/// A run's completion descriptor, made on first request.
#[derive(Default)]
pub(crate) struct Completion {
    fd: OnceLock<Fd>,
}

impl Completion {
    /// The descriptor, if it has been made.
    pub(crate) fn get(&self) -> Option<RawFd> {
        self.fd.get().map(|fd| fd.read.as_raw_fd())
    }

    /// The descriptor, made now if it has not been; readable at once if
    /// the outcome is `decided`. Call it under the lock under which the
    /// outcome is decided, so that [`Completion::signal`] either finds the
    /// descriptor or came before (and `decided` is true).
    pub(crate) fn get_or_make(&self, decided: bool) -> Result<RawFd> {
        if let Some(fd) = self.get() {
            return Ok(fd);
        }
        let fd = Fd::new()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create completion fd: {e}")))?;
        if decided {
            fd.signal();
        }
        let raw = fd.read.as_raw_fd();
        let _ = self.fd.set(fd);
        Ok(raw)
    }

    /// The outcome is decided: makes the descriptor readable, if it exists.
    pub(crate) fn signal(&self) {
        if let Some(fd) = self.fd.get() {
            fd.signal();
        }
    }
}

/// The descriptor behind [`Completion`]: an eventfd on Linux, a pipe
/// elsewhere (readable once a byte is written to its other end).
struct Fd {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Fd {
    fn new() -> std::io::Result<Fd> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::event::{eventfd, EventfdFlags};
            let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            Ok(Fd {
                read: fd,
                write: None,
            })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let (read, write) = rustix::pipe::pipe()?;
            Ok(Fd {
                read,
                write: Some(write),
            })
        }
    }

    /// Makes the descriptor readable, for good (nobody reads it back).
    fn signal(&self) {
        let fd = self.write.as_ref().unwrap_or(&self.read);
        let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
    }
}
