//! The `path_*` functions: operations on paths relative to a directory
//! descriptor, all resolved inside that directory by cap-std.
//!
//! A path that would leave the directory (`..` past its root, an absolute
//! path, a symlink pointing outside) fails with `EPERM`, a symlink loop with
//! `ELOOP`. A directory under a read-only preopen refuses every change with
//! `EROFS`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};

use crate::wasi::abi::{fdflags, lookupflags, oflags, rights};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::dir::OpenDir;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fd_table::{Descriptor, Kind};
use crate::wasi::file::OpenFile;
use crate::wasi::filestat;
use crate::wasi::memory::MemView;

/// Copies a path argument out of guest memory.
fn read_path(mem: &MemView, ptr: u32, len: u32) -> Result<PathBuf, Errno> {
    let bytes = mem.read(ptr, len)?;
    Ok(PathBuf::from(OsStr::from_bytes(&bytes)))
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
    let path = read_path(mem, path, path_len)?;
    if oflags & !oflags::ALL != 0 || fdflags & !fdflags::ALL != 0 {
        return Err(Errno::INVAL.into());
    }
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
    let follow = follow(dirflags);

    let new = if oflags & oflags::DIRECTORY != 0 {
        if oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
            return Err(Errno::INVAL.into());
        }
        let sub = if follow {
            dir.dir.open_dir(&path)?
        } else {
            dir.dir.open_dir_nofollow(&path)?
        };
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
        let file = dir.dir.open_with(&path, &opts)?;
        if file.metadata()?.is_dir() {
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
    let path = read_path(mem, path, len)?;
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
    let path = read_path(mem, path, len)?;
    dir.writable()?;
    Ok(dir.dir.remove_dir(path)?)
}

/// `path_unlink_file`.
pub fn unlink_file(cx: &WasiCtx, mem: &MemView, fd: u32, path: u32, len: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = target(&d, rights::PATH_UNLINK_FILE)?;
    let path = read_path(mem, path, len)?;
    dir.writable()?;
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
    let path = read_path(mem, path, len)?;
    let md = if follow(flags) {
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
    let path = read_path(mem, path, len)?;
    let (a, m) = filestat::decode_times(atim, mtim, fst)?;
    dir.writable()?;
    if follow(flags) {
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
    let old_path = read_path(mem, old_path, old_len)?;
    let new_path = read_path(mem, new_path, new_len)?;
    if follow(old_flags) {
        return Err(Errno::INVAL.into());
    }
    from.writable()?;
    to.writable()?;
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
    let old_path = read_path(mem, old_path, old_len)?;
    let new_path = read_path(mem, new_path, new_len)?;
    from.writable()?;
    to.writable()?;
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
    let new_path = read_path(mem, new_path, new_len)?;
    dir.writable()?;
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
    let path = read_path(mem, path, len)?;
    let link = dir.dir.read_link_contents(path)?;
    let bytes = link.as_os_str().as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(out, n as u32)?;
    Ok(())
}
