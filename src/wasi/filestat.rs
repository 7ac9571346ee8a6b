//! Host file metadata as preview 1 `filestat`, and preview 1 timestamps
//! (`fstflags`) as host time updates.

use std::time::{Duration, SystemTime};

use cap_fs_ext::FileTypeExt;
use cap_std::fs::MetadataExt;
use rustix::fs::{FileType, Timestamps, UTIME_NOW, UTIME_OMIT};
use rustix::time::Timespec;

use crate::wasi::abi::{filetype, fstflags, Filestat};
use crate::wasi::errno::Errno;

fn nanos(sec: i64, nsec: i64) -> u64 {
    (sec as i128 * 1_000_000_000 + nsec as i128).clamp(0, u64::MAX as i128) as u64
}

/// The preview 1 file type of a host `st_mode`.
pub fn filetype_of_mode(mode: u32) -> u8 {
    match FileType::from_raw_mode(mode as _) {
        FileType::RegularFile => filetype::REGULAR_FILE,
        FileType::Directory => filetype::DIRECTORY,
        FileType::Symlink => filetype::SYMBOLIC_LINK,
        FileType::CharacterDevice => filetype::CHARACTER_DEVICE,
        FileType::BlockDevice => filetype::BLOCK_DEVICE,
        FileType::Socket => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// `filestat` of an open host descriptor.
// `struct stat` field types differ between targets: keep the casts.
#[allow(clippy::unnecessary_cast)]
pub fn from_stat(st: &rustix::fs::Stat) -> Filestat {
    Filestat {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        filetype: filetype_of_mode(st.st_mode as u32),
        nlink: st.st_nlink as u64,
        size: st.st_size as u64,
        atim: nanos(st.st_atime as i64, st.st_atime_nsec as i64),
        mtim: nanos(st.st_mtime as i64, st.st_mtime_nsec as i64),
        ctim: nanos(st.st_ctime as i64, st.st_ctime_nsec as i64),
    }
}

/// The preview 1 file type of cap-std metadata.
pub fn filetype_of(ft: cap_std::fs::FileType) -> u8 {
    if ft.is_dir() {
        filetype::DIRECTORY
    } else if ft.is_file() {
        filetype::REGULAR_FILE
    } else if ft.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if FileTypeExt::is_char_device(&ft) {
        filetype::CHARACTER_DEVICE
    } else if FileTypeExt::is_block_device(&ft) {
        filetype::BLOCK_DEVICE
    } else if FileTypeExt::is_socket(&ft) {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

/// `filestat` of a path's metadata (from cap-std).
pub fn from_metadata(m: &cap_std::fs::Metadata) -> Filestat {
    Filestat {
        dev: m.dev(),
        ino: m.ino(),
        filetype: filetype_of(m.file_type()),
        nlink: m.nlink(),
        size: m.size(),
        atim: nanos(m.atime(), m.atime_nsec()),
        mtim: nanos(m.mtime(), m.mtime_nsec()),
        ctim: nanos(m.ctime(), m.ctime_nsec()),
    }
}

/// One timestamp update: leave alone, set to now, or set to a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSet {
    /// Unchanged.
    Omit,
    /// The current time.
    Now,
    /// Nanoseconds since the Unix epoch.
    At(u64),
}

/// Decodes `fstflags` with the `atim`/`mtim` arguments into
/// `(access, modification)` updates (`EINVAL` for contradictory flags).
pub fn decode_times(atim: u64, mtim: u64, flags: u16) -> Result<(TimeSet, TimeSet), Errno> {
    if flags & !fstflags::ALL != 0 {
        return Err(Errno::INVAL);
    }
    let one = |t: u64, set: u16, now: u16| match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(TimeSet::At(t)),
        (false, true) => Ok(TimeSet::Now),
        (false, false) => Ok(TimeSet::Omit),
    };
    Ok((
        one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

impl TimeSet {
    /// As a `futimens` timestamp.
    pub fn timespec(self) -> Timespec {
        match self {
            TimeSet::Omit => Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_OMIT,
            },
            TimeSet::Now => Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_NOW,
            },
            TimeSet::At(ns) => Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as _,
            },
        }
    }

    /// As a cap-std time update.
    pub fn spec(self) -> Option<cap_fs_ext::SystemTimeSpec> {
        match self {
            TimeSet::Omit => None,
            TimeSet::Now => Some(cap_fs_ext::SystemTimeSpec::SymbolicNow),
            TimeSet::At(ns) => Some(cap_fs_ext::SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(
                    SystemTime::UNIX_EPOCH + Duration::from_nanos(ns),
                ),
            )),
        }
    }
}

/// `futimens` arguments for an `(access, modification)` pair.
pub fn timestamps(a: TimeSet, m: TimeSet) -> Timestamps {
    Timestamps {
        last_access: a.timespec(),
        last_modification: m.timespec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictory_time_flags_are_einval() {
        assert_eq!(
            decode_times(0, 0, fstflags::ATIM | fstflags::ATIM_NOW),
            Err(Errno::INVAL)
        );
        assert_eq!(
            decode_times(5, 0, fstflags::ATIM | fstflags::MTIM_NOW),
            Ok((TimeSet::At(5), TimeSet::Now))
        );
        assert_eq!(decode_times(0, 0, 1 << 9), Err(Errno::INVAL));
    }
}
