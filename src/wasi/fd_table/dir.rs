//! Open directories and `fd_readdir`.
//!
//! Each directory is a cap-std [`Dir`]: every path resolved through it stays
//! inside it (no `..`, absolute or symlink escapes).

use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex};

use cap_std::fs::{Dir, MetadataExt};
use rustix::fs::DirEntryExt;

use crate::wasi::abi::{dirent_header, filetype};
use crate::wasi::errno::Errno;
use crate::wasi::filestat;
use crate::wasi::memory::MemView;

/// One directory entry as `fd_readdir` reports it.
struct Entry {
    name: Vec<u8>,
    ino: u64,
    filetype: u8,
}

/// An open directory.
pub struct OpenDir {
    /// The sandboxed directory handle.
    pub dir: Dir,
    /// The guest path of a preopen (`fd_prestat_get`), `None` otherwise.
    pub preopen: Option<String>,
    /// Opened under a read-only preopen: every change is refused.
    pub read_only: bool,
    /// The listing `fd_readdir` pages through; refreshed at cookie 0.
    listing: Mutex<Option<Arc<Vec<Entry>>>>,
}

impl OpenDir {
    /// Wraps `dir`.
    pub fn new(dir: Dir, preopen: Option<String>, read_only: bool) -> OpenDir {
        OpenDir {
            dir,
            preopen,
            read_only,
            listing: Mutex::new(None),
        }
    }

    /// `EROFS` for a read-only directory.
    pub fn writable(&self) -> Result<(), Errno> {
        if self.read_only {
            Err(Errno::ROFS)
        } else {
            Ok(())
        }
    }

    fn list(&self) -> Result<Vec<Entry>, Errno> {
        let own_ino = self.dir.dir_metadata().map_or(0, |m| m.ino());
        let mut out = vec![
            Entry {
                name: b".".to_vec(),
                ino: own_ino,
                filetype: filetype::DIRECTORY,
            },
            Entry {
                name: b"..".to_vec(),
                ino: 0,
                filetype: filetype::DIRECTORY,
            },
        ];
        for e in self.dir.entries()? {
            let e = e?;
            let ft = e
                .file_type()
                .map_or(filetype::UNKNOWN, filestat::filetype_of);
            out.push(Entry {
                name: e.file_name().as_bytes().to_vec(),
                ino: e.ino(),
                filetype: ft,
            });
        }
        Ok(out)
    }

    /// `fd_readdir`: writes entries from `cookie` on into `buf..buf+len`,
    /// truncating the last one that does not fit; returns the bytes used.
    /// Cookie `n` means "after the `n`th entry"; a cookie of 0 re-reads the
    /// directory, later cookies page through the same listing.
    pub fn readdir(&self, mem: &MemView, buf: u32, len: u32, cookie: u64) -> Result<u32, Errno> {
        if buf as u64 + len as u64 > mem.len() as u64 {
            return Err(Errno::FAULT);
        }
        let listing = {
            let mut cached = self.listing.lock().unwrap_or_else(|e| e.into_inner());
            match &*cached {
                Some(l) if cookie != 0 => l.clone(),
                _ => {
                    let l = Arc::new(self.list()?);
                    *cached = Some(l.clone());
                    l
                }
            }
        };
        let mut used: u32 = 0;
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (i, e) in listing.iter().enumerate().skip(start) {
            if used >= len {
                break;
            }
            let mut bytes =
                dirent_header(i as u64 + 1, e.ino, e.name.len() as u32, e.filetype).to_vec();
            bytes.extend_from_slice(&e.name);
            let n = (bytes.len() as u32).min(len - used);
            mem.write(buf + used, &bytes[..n as usize])?;
            used += n;
        }
        Ok(used)
    }
}
