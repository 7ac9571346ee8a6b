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

use crate::wasi::abi::rights;
use crate::wasi::config::Stdio;
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::stream::Stream;
use crate::wasi::fd_table::{Descriptor, Kind};

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
