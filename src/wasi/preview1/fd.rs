//! The `fd_*` functions: operations on an open descriptor.

use crate::wasi::abi::{fdstat, rights};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::Kind;
use crate::wasi::filestat;
use crate::wasi::iovec::IoVecs;
use crate::wasi::memory::MemView;

/// `fd_read`.
pub fn read(cx: &WasiCtx, mem: &MemView, fd: u32, iovs: u32, n: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let iovs = IoVecs::parse(mem, iovs, n)?;
    mem.write_u32(out, 0)?;
    let done = match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_READ)?;
            f.read(cx.stop_signal(), mem, &iovs)?
        }
        Kind::Stream(s) => {
            d.require(rights::FD_READ)?;
            iovs.fill(mem, true, |buf| s.read(buf))?
        }
        Kind::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u32(out, done as u32)?;
    Ok(())
}

/// `fd_write`.
pub fn write(cx: &WasiCtx, mem: &MemView, fd: u32, iovs: u32, n: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let iovs = IoVecs::parse(mem, iovs, n)?;
    mem.write_u32(out, 0)?;
    let done = match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_WRITE)?;
            f.write(cx.stop_signal(), mem, &iovs)?
        }
        Kind::Stream(s) => {
            d.require(rights::FD_WRITE)?;
            // One host write per chunk (up to 1 MiB, whole iovec lists
            // gathered) keeps concurrent lines whole.
            iovs.gather(mem, |chunk| s.write(chunk))?
        }
        Kind::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u32(out, done as u32)?;
    Ok(())
}

/// `fd_pread`.
pub fn pread(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    positioned(cx, mem, fd, iovs, n, out, rights::FD_READ, |f, iovs| {
        f.pread(mem, iovs, offset)
    })
}

/// `fd_pwrite`.
pub fn pwrite(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    positioned(cx, mem, fd, iovs, n, out, rights::FD_WRITE, |f, iovs| {
        f.pwrite(mem, iovs, offset)
    })
}

/// The shared shape of `fd_pread`/`fd_pwrite`: files only (`ESPIPE` for
/// streams), `right` plus `fd_seek` required, byte count written to `out`.
#[allow(clippy::too_many_arguments)]
fn positioned(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
    right: u64,
    op: impl FnOnce(&OpenFile, &IoVecs) -> WasiResult<usize>,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let iovs = IoVecs::parse(mem, iovs, n)?;
    mem.write_u32(out, 0)?;
    let done = match &d.kind {
        Kind::File(f) => {
            d.require(right)?;
            d.require(rights::FD_SEEK)?;
            op(f, &iovs)?
        }
        Kind::Stream(_) => return Err(Errno::SPIPE.into()),
        Kind::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u32(out, done as u32)?;
    Ok(())
}

/// `fd_seek`.
pub fn seek(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    offset: i64,
    whence: u8,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let needed = if offset == 0 && whence == crate::wasi::abi::whence::CUR {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let pos = match &d.kind {
        Kind::File(f) => {
            d.require(needed)?;
            f.seek(offset, whence)?
        }
        Kind::Stream(_) => return Err(Errno::SPIPE.into()),
        Kind::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u64(out, pos)?;
    Ok(())
}

/// `fd_tell`.
pub fn tell(cx: &WasiCtx, mem: &MemView, fd: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let pos = match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_TELL)?;
            f.seek(0, crate::wasi::abi::whence::CUR)?
        }
        Kind::Stream(_) => return Err(Errno::SPIPE.into()),
        Kind::Dir(_) => return Err(Errno::BADF.into()),
    };
    mem.write_u64(out, pos)?;
    Ok(())
}

/// `fd_close`.
pub fn close(cx: &WasiCtx, fd: u32) -> WasiResult<()> {
    cx.table.remove(fd)?;
    Ok(())
}

/// `fd_renumber`.
pub fn renumber(cx: &WasiCtx, from: u32, to: u32) -> WasiResult<()> {
    Ok(cx.table.renumber(from, to)?)
}

/// `fd_fdstat_get`.
pub fn fdstat_get(cx: &WasiCtx, mem: &MemView, fd: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let (ft, flags) = match &d.kind {
        Kind::File(f) => (f.filetype(), f.fdflags()),
        Kind::Dir(_) => (crate::wasi::abi::filetype::DIRECTORY, 0),
        Kind::Stream(s) => (s.filetype(), 0),
    };
    let (base, inheriting) = d.rights();
    let mut b = [0u8; fdstat::SIZE as usize];
    b[fdstat::FILETYPE as usize] = ft;
    b[fdstat::FLAGS as usize..][..2].copy_from_slice(&flags.to_le_bytes());
    b[fdstat::RIGHTS_BASE as usize..][..8].copy_from_slice(&base.to_le_bytes());
    b[fdstat::RIGHTS_INHERITING as usize..][..8].copy_from_slice(&inheriting.to_le_bytes());
    mem.write(out, &b)?;
    Ok(())
}

/// `fd_fdstat_set_flags`.
pub fn fdstat_set_flags(cx: &WasiCtx, fd: u32, flags: u16) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    d.require(rights::FD_FDSTAT_SET_FLAGS)?;
    match &d.kind {
        Kind::File(f) => Ok(f.set_fdflags(flags)?),
        // Directories and in-memory streams have no flags that matter.
        _ if flags & !crate::wasi::abi::fdflags::ALL != 0 => Err(Errno::INVAL.into()),
        _ => Ok(()),
    }
}

/// `fd_fdstat_set_rights`: rights can only shrink.
pub fn fdstat_set_rights(cx: &WasiCtx, fd: u32, base: u64, inheriting: u64) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    Ok(d.set_rights(base, inheriting)?)
}

/// `fd_filestat_get`.
pub fn filestat_get(cx: &WasiCtx, mem: &MemView, fd: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    d.require(rights::FD_FILESTAT_GET)?;
    let st = match &d.kind {
        Kind::File(f) => f.filestat()?,
        Kind::Dir(dir) => filestat::from_metadata(&dir.dir.dir_metadata()?),
        Kind::Stream(s) => crate::wasi::abi::Filestat {
            filetype: s.filetype(),
            nlink: 1,
            ..Default::default()
        },
    };
    mem.write(out, &st.to_bytes())?;
    Ok(())
}

/// `fd_filestat_set_size`.
pub fn filestat_set_size(cx: &WasiCtx, fd: u32, size: u64) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_FILESTAT_SET_SIZE)?;
            Ok(f.set_size(size)?)
        }
        Kind::Dir(_) => Err(Errno::ISDIR.into()),
        Kind::Stream(_) => Err(Errno::INVAL.into()),
    }
}

/// `fd_filestat_set_times`.
pub fn filestat_set_times(
    cx: &WasiCtx,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u16,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let (a, m) = filestat::decode_times(atim, mtim, flags)?;
    d.require(rights::FD_FILESTAT_SET_TIMES)?;
    match &d.kind {
        Kind::File(f) => Ok(f.set_times(a, m)?),
        Kind::Dir(dir) => {
            dir.writable()?;
            Ok(rustix::fs::futimens(&dir.dir, &filestat::timestamps(a, m))?)
        }
        Kind::Stream(_) => Err(Errno::BADF.into()),
    }
}

/// `fd_advise`.
pub fn advise(cx: &WasiCtx, fd: u32, offset: u64, len: u64, advice: u8) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_ADVISE)?;
            Ok(f.advise(offset, len, advice)?)
        }
        Kind::Dir(_) => Err(Errno::BADF.into()),
        Kind::Stream(_) => Err(Errno::SPIPE.into()),
    }
}

/// `fd_allocate`.
pub fn allocate(cx: &WasiCtx, fd: u32, offset: u64, len: u64) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    match &d.kind {
        Kind::File(f) => {
            d.require(rights::FD_ALLOCATE)?;
            Ok(f.allocate(offset, len)?)
        }
        Kind::Dir(_) => Err(Errno::BADF.into()),
        Kind::Stream(_) => Err(Errno::SPIPE.into()),
    }
}

/// `fd_sync` / `fd_datasync`.
pub fn sync(cx: &WasiCtx, fd: u32, data_only: bool) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    d.require(if data_only {
        rights::FD_DATASYNC
    } else {
        rights::FD_SYNC
    })?;
    match &d.kind {
        Kind::File(f) => Ok(f.sync(data_only)?),
        Kind::Dir(dir) => Ok(rustix::fs::fsync(&dir.dir)?),
        Kind::Stream(s) => Ok(s.sync()?),
    }
}

/// `fd_readdir`.
pub fn readdir(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let dir = d.dir_with(rights::FD_READDIR)?;
    let used = dir.readdir(mem, buf, len, cookie)?;
    mem.write_u32(out, used)?;
    Ok(())
}

/// `fd_prestat_get`: `EBADF` for anything but a preopened directory (which
/// is how wasi-libc finds the end of the preopens).
pub fn prestat_get(cx: &WasiCtx, mem: &MemView, fd: u32, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let name = match &d.kind {
        Kind::Dir(dir) => dir.preopen.as_ref().ok_or(Errno::BADF)?,
        _ => return Err(Errno::BADF.into()),
    };
    let mut b = [0u8; 8];
    b[4..].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write(out, &b)?;
    Ok(())
}

/// `fd_prestat_dir_name`.
pub fn prestat_dir_name(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let name = match &d.kind {
        Kind::Dir(dir) => dir.preopen.as_ref().ok_or(Errno::BADF)?,
        _ => return Err(Errno::BADF.into()),
    };
    if (len as usize) < name.len() {
        return Err(Errno::NAMETOOLONG.into());
    }
    mem.write(path, name.as_bytes())?;
    Ok(())
}
