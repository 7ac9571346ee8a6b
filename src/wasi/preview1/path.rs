//! The `path_*` functions: operations on paths relative to a directory
//! descriptor, all resolved inside that directory by cap-std.
//!
//! A path that would leave the directory (`..` past its root, an absolute
//! path, a symlink pointing outside) fails with `EPERM`, a symlink loop with
//! `ELOOP`. A directory under a read-only preopen refuses every change with
//! `EROFS`.
//!
//! Trailing slashes follow POSIX (Linux): `"name/"` names `name`, which
//! must then be a directory (a final symlink is followed): `rmdir("d/")` and
//! `mkdir("d/")` work, `stat("file/")` and `open("file/")` are `ENOTDIR`,
//! `unlink("d/")` is `EISDIR`, creating a non-directory `"new/"` is `EISDIR`
//! (`open`) or `ENOENT` (`link`, `symlink`). Opening a directory for
//! writing (`fd_write` among the requested rights) is `EISDIR`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};

use crate::wasi::abi::{fdflags, lookupflags, oflags, rights};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fd_table::dir::OpenDir;
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::{Descriptor, Kind};
use crate::wasi::filestat;
use crate::wasi::memory::MemView;

/// Copies a path argument out of guest memory.
fn read_path(mem: &MemView, ptr: u32, len: u32) -> Result<PathBuf, Errno> {
    let bytes = mem.read(ptr, len)?;
    Ok(PathBuf::from(OsStr::from_bytes(&bytes)))
}

/// A path argument with its trailing slashes taken off, and whether it had
/// any (then it names a directory). `"/"` stays as it is.
fn read_dir_path(mem: &MemView, ptr: u32, len: u32) -> Result<(PathBuf, bool), Errno> {
    let bytes = mem.read(ptr, len)?;
    let mut end = bytes.len();
    while end > 1 && bytes[end - 1] == b'/' {
        end -= 1;
    }
    let slash = end < bytes.len();
    Ok((PathBuf::from(OsStr::from_bytes(&bytes[..end])), slash))
}

/// `ENOTDIR` unless `path` (a final symlink followed) is a directory.
fn require_dir(dir: &OpenDir, path: &Path) -> Result<(), Errno> {
    if dir.dir.metadata(path)?.is_dir() {
        Ok(())
    } else {
        Err(Errno::NOTDIR)
    }
}

/// For a new non-directory named with a trailing slash: `EEXIST` if
/// something is there, `missing` otherwise.
fn slash_on_new_file(dir: &OpenDir, path: &Path, missing: Errno) -> Errno {
    if dir.dir.symlink_metadata(path).is_ok() {
        Errno::EXIST
    } else {
        missing
    }
}

fn follow(flags: u32) -> bool {
    flags & lookupflags::SYMLINK_FOLLOW != 0
}

/// `path_open`.
#[allow(clippy::too_many_arguments)]
pub fn open(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u16,
    base: u64,
    inheriting: u64,
    fdflags: u16,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = d.dir_with(rights::PATH_OPEN)?;
    let (path, slash) = read_dir_path(mem, path, path_len)?;
    if oflags & !oflags::ALL != 0 || fdflags & !fdflags::ALL != 0 {
        return Err(Errno::INVAL.into());
    }
    // Write access to a directory is EISDIR, as open(2) reports it.
    let writes = base & rights::FD_WRITE != 0;
    if oflags & oflags::CREAT != 0 {
        d.require(rights::PATH_CREATE_FILE)?;
    }
    if oflags & oflags::TRUNC != 0 {
        d.require(rights::PATH_FILESTAT_SET_SIZE)?;
    }
    let wants_write = base & rights::FILE_WRITE != 0
        || fdflags & fdflags::APPEND != 0
        || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
    if wants_write {
        dir.writable()?;
    }
    mem.write_u32(out, 0)?;
    // Requested rights are narrowed to what the directory passes on (as
    // wasi-libc itself does), never refused.
    let (_, dir_inheriting) = d.rights();
    let base = base & dir_inheriting;
    let inheriting = inheriting & dir_inheriting;
    let mut follow = follow(dirflags);
    if slash {
        match dir.dir.metadata(&path) {
            Ok(m) if m.is_dir() => follow = true,
            Ok(_) => return Err(Errno::NOTDIR.into()),
            Err(_) if oflags & oflags::CREAT != 0 => return Err(Errno::ISDIR.into()),
            Err(e) => return Err(Errno::from(e).into()),
        }
    }

    let new = if oflags & oflags::DIRECTORY != 0 {
        if oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
            return Err(Errno::INVAL.into());
        }
        let sub = if follow {
            dir.dir.open_dir(&path)?
        } else {
            dir.dir.open_dir_nofollow(&path)?
        };
        if writes {
            return Err(Errno::ISDIR.into());
        }
        dir_descriptor(sub, dir.read_only, base, inheriting)
    } else {
        let write = base & rights::FILE_WRITE != 0 || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
        let read = base & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.maybe_dir(true);
        opts.follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        if oflags & oflags::CREAT != 0 && oflags & oflags::EXCL != 0 {
            opts.create_new(true);
        } else if oflags & oflags::CREAT != 0 {
            opts.create(true);
        }
        if oflags & oflags::TRUNC != 0 {
            opts.truncate(true);
        }
        opts.read(read);
        opts.write(write);
        // `APPEND` and `NONBLOCK` are kept per guest descriptor (see
        // `file.rs`); `O_NONBLOCK` still goes to open(2) for what it means
        // there (a FIFO opens without waiting for its other end).
        if fdflags & fdflags::NONBLOCK != 0 {
            opts.nonblock(true);
        }
        if fdflags & fdflags::SYNC != 0 {
            opts.sync(true);
        }
        if fdflags & fdflags::DSYNC != 0 {
            opts.dsync(true);
        }
        if fdflags & fdflags::RSYNC != 0 {
            opts.rsync(true);
        }
        // open(2) of a FIFO without O_NONBLOCK waits for the other end, where
        // the stop signal cannot reach. Such a FIFO is opened non-blocking
        // (the guest's own NONBLOCK stays per descriptor, see `file.rs`).
        let fifo = fdflags & fdflags::NONBLOCK == 0 && is_fifo(&dir.dir, &path, follow);
        if fifo {
            opts.nonblock(true);
        }
        let file = if fifo && write && !read {
            open_fifo_writer(cx, &dir.dir, &path, &opts)?
        } else {
            dir.dir.open_with(&path, &opts)?
        };
        if file.metadata()?.is_dir() {
            if write {
                return Err(Errno::ISDIR.into());
            }
            let sub = cap_std::fs::Dir::from_std_file(file.into_std());
            dir_descriptor(sub, dir.read_only, base, inheriting)
        } else {
            let f = OpenFile::opened(file.into_std(), fdflags)?;
            let mut base = base & f.max_rights();
            if !write {
                base &= !rights::FILE_WRITE;
            }
            if !read {
                base &= !rights::FD_READ;
            }
            if dir.read_only {
                base &= !(rights::FILE_WRITE | rights::FD_FILESTAT_SET_TIMES);
            }
            Descriptor::new(Kind::File(f), base, inheriting)
        }
    };
    let newfd = cx.table.insert(new)?;
    // `out` was checked above; a concurrent memory change cannot shrink it.
    mem.write_u32(out, newfd)?;
    Ok(())
}

fn dir_descriptor(
    dir: cap_std::fs::Dir,
    read_only: bool,
    base: u64,
    inheriting: u64,
) -> Descriptor {
    Descriptor::new(
        Kind::Dir(OpenDir::new(dir, None, read_only)),
        base & rights::DIRECTORY,
        inheriting & rights::DIRECTORY_INHERITING,
    )
}

fn target(d: &Descriptor, needed: u64) -> Result<&OpenDir, Errno> {
    d.dir_with(needed)
}

/// `path_create_directory`.
pub fn create_directory(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_CREATE_DIRECTORY)?;
    let (path, _) = read_dir_path(mem, path, len)?;
    dir.writable()?;
    Ok(dir.dir.create_dir(path)?)
}

/// `path_remove_directory`.
pub fn remove_directory(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_REMOVE_DIRECTORY)?;
    let (path, _) = read_dir_path(mem, path, len)?;
    dir.writable()?;
    Ok(dir.dir.remove_dir(path)?)
}

/// `path_unlink_file`.
pub fn unlink_file(cx: &WasiCtx, mem: &MemView, fd: u32, path: u32, len: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_UNLINK_FILE)?;
    let (path, slash) = read_dir_path(mem, path, len)?;
    dir.writable()?;
    if slash {
        require_dir(dir, &path)?;
        return Err(Errno::ISDIR.into());
    }
    Ok(dir.dir.remove_file(path)?)
}

/// `path_filestat_get`.
pub fn filestat_get(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_FILESTAT_GET)?;
    let (path, slash) = read_dir_path(mem, path, len)?;
    if slash {
        require_dir(dir, &path)?;
    }
    let md = if slash || follow(flags) {
        dir.dir.metadata(path)?
    } else {
        dir.dir.symlink_metadata(path)?
    };
    mem.write(out, &filestat::from_metadata(&md).to_bytes())?;
    Ok(())
}

/// `path_filestat_set_times`.
#[allow(clippy::too_many_arguments)]
pub fn filestat_set_times(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u16,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_FILESTAT_SET_TIMES)?;
    let (path, slash) = read_dir_path(mem, path, len)?;
    let (a, m) = filestat::decode_times(atim, mtim, fst)?;
    dir.writable()?;
    if slash {
        require_dir(dir, &path)?;
    }
    if slash || follow(flags) {
        dir.dir.set_times(path, a.spec(), m.spec())?;
    } else {
        dir.dir.set_symlink_times(path, a.spec(), m.spec())?;
    }
    Ok(())
}

/// `path_link`. Following a symlink source is not supported (`EINVAL`), as
/// in wasi-common.
#[allow(clippy::too_many_arguments)]
pub fn link(
    cx: &WasiCtx,
    mem: &MemView,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult<()> {
    let od = cx.table.get(old_fd)?;
    let nd = cx.table.get(new_fd)?;
    let from = target(&od, rights::PATH_LINK_SOURCE)?;
    let to = target(&nd, rights::PATH_LINK_TARGET)?;
    let (old_path, old_slash) = read_dir_path(mem, old_path, old_len)?;
    let (new_path, new_slash) = read_dir_path(mem, new_path, new_len)?;
    if follow(old_flags) {
        return Err(Errno::INVAL.into());
    }
    from.writable()?;
    to.writable()?;
    if old_slash {
        // A directory cannot be hard-linked.
        require_dir(from, &old_path)?;
        return Err(Errno::PERM.into());
    }
    if new_slash {
        return Err(slash_on_new_file(to, &new_path, Errno::NOENT).into());
    }
    Ok(from.dir.hard_link(old_path, &to.dir, new_path)?)
}

/// `path_rename`.
#[allow(clippy::too_many_arguments)]
pub fn rename(
    cx: &WasiCtx,
    mem: &MemView,
    old_fd: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult<()> {
    let od = cx.table.get(old_fd)?;
    let nd = cx.table.get(new_fd)?;
    let from = target(&od, rights::PATH_RENAME_SOURCE)?;
    let to = target(&nd, rights::PATH_RENAME_TARGET)?;
    let (old_path, old_slash) = read_dir_path(mem, old_path, old_len)?;
    let (new_path, new_slash) = read_dir_path(mem, new_path, new_len)?;
    from.writable()?;
    to.writable()?;
    if old_slash || new_slash {
        // Only a directory may be named with a trailing slash.
        let old_is_dir = from.dir.symlink_metadata(&old_path)?.is_dir();
        if !old_is_dir {
            return Err(Errno::NOTDIR.into());
        }
    }
    Ok(from.dir.rename(old_path, &to.dir, new_path)?)
}

/// `path_symlink`: absolute targets are refused (`EPERM`), as in
/// wasi-common; relative targets are checked when followed.
pub fn symlink(
    cx: &WasiCtx,
    mem: &MemView,
    old_path: u32,
    old_len: u32,
    fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_SYMLINK)?;
    let old_path = read_path(mem, old_path, old_len)?;
    let (new_path, new_slash) = read_dir_path(mem, new_path, new_len)?;
    dir.writable()?;
    if new_slash {
        return Err(slash_on_new_file(dir, &new_path, Errno::NOENT).into());
    }
    Ok(dir.dir.symlink(old_path, new_path)?)
}

#[allow(clippy::too_many_arguments)]
/// `path_readlink`: the target is truncated to the buffer, as POSIX
/// `readlink` does.
pub fn readlink(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    path: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_READLINK)?;
    let (path, slash) = read_dir_path(mem, path, len)?;
    if slash {
        // "link/" resolves the link: what is left is a directory, not a link.
        require_dir(dir, &path)?;
        return Err(Errno::INVAL.into());
    }
    let link = dir.dir.read_link_contents(path)?;
    let bytes = link.as_os_str().as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(out, n as u32)?;
    Ok(())
}

/// Whether `path` names a FIFO (following a final symlink if `follow`).
fn is_fifo(dir: &cap_std::fs::Dir, path: &Path, follow: bool) -> bool {
    use cap_std::fs::FileTypeExt;
    let meta = if follow {
        dir.metadata(path)
    } else {
        dir.symlink_metadata(path)
    };
    meta.is_ok_and(|m| m.file_type().is_fifo())
}

/// Opens a FIFO for writing as a blocking open(2) would, waiting for a
/// reader, but stoppable: a non-blocking open fails with `ENXIO` while no
/// reader is there, so it is retried (every 1 ms, backing off to 20 ms) until
/// one is, or the program ends.
fn open_fifo_writer(
    cx: &WasiCtx,
    dir: &cap_std::fs::Dir,
    path: &Path,
    opts: &cap_std::fs::OpenOptions,
) -> WasiResult<cap_std::fs::File> {
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match dir.open_with(path, opts) {
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                cx.stop_signal().sleep(pause)?;
                pause = (pause * 2).min(std::time::Duration::from_millis(20));
            }
            r => return Ok(r?),
        }
    }
}
