//! `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown` on preopened
//! TCP listeners and the connections they accept.

use crate::wasi::abi::{fdflags, rights, sock};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::{Descriptor, Kind};
use crate::wasi::iovec::IoVecs;
use crate::wasi::memory::MemView;

fn socket(d: &Descriptor) -> Result<&OpenFile, Errno> {
    match &d.kind {
        Kind::File(f) if f.is_socket() => Ok(f),
        _ => Err(Errno::NOTSOCK),
    }
}

/// `sock_accept`.
pub fn accept(cx: &WasiCtx, mem: &MemView, fd: u32, flags: u16, out: u32) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let listener = socket(&d)?;
    d.require(rights::SOCK_ACCEPT)?;
    if flags & !fdflags::NONBLOCK != 0 {
        return Err(Errno::INVAL.into());
    }
    mem.write_u32(out, 0)?;
    let conn = listener.accept(cx.stop_signal())?;
    if flags & fdflags::NONBLOCK != 0 {
        conn.set_fdflags(fdflags::NONBLOCK)?;
    }
    let (_, inheriting) = d.rights();
    let base = rights::SOCKET & inheriting;
    let newfd = cx
        .table
        .insert(Descriptor::new(Kind::File(conn), base, 0))?;
    mem.write_u32(out, newfd)?;
    Ok(())
}

/// `sock_recv`.
#[allow(clippy::too_many_arguments)]
pub fn recv(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    iovs: u32,
    n: u32,
    flags: u16,
    out_len: u32,
    out_flags: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let s = socket(&d)?;
    d.require(rights::FD_READ)?;
    let iovs = IoVecs::parse(mem, iovs, n)?;
    if flags & !(sock::RECV_PEEK | sock::RECV_WAITALL) != 0 {
        return Err(Errno::INVAL.into());
    }
    mem.write_u32(out_len, 0)?;
    mem.write_u16(out_flags, 0)?;
    let mut rf = rustix::net::RecvFlags::empty();
    if flags & sock::RECV_PEEK != 0 {
        rf |= rustix::net::RecvFlags::PEEK;
    }
    if flags & sock::RECV_WAITALL != 0 {
        rf |= rustix::net::RecvFlags::WAITALL;
    }
    let got = s.read_stream(cx.stop_signal(), mem, &iovs, rf)?;
    mem.write_u32(out_len, got as u32)?;
    Ok(())
}

/// `sock_send`.
pub fn send(
    cx: &WasiCtx,
    mem: &MemView,
    fd: u32,
    iovs: u32,
    n: u32,
    flags: u16,
    out: u32,
) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let s = socket(&d)?;
    d.require(rights::FD_WRITE)?;
    let iovs = IoVecs::parse(mem, iovs, n)?;
    if flags != 0 {
        return Err(Errno::INVAL.into());
    }
    mem.write_u32(out, 0)?;
    let sent = s.write(cx.stop_signal(), mem, &iovs)?;
    mem.write_u32(out, sent as u32)?;
    Ok(())
}

/// `sock_shutdown`.
pub fn shutdown(cx: &WasiCtx, fd: u32, how: u8) -> WasiResult<()> {
    let d = cx.table.get(fd)?;
    let s = socket(&d)?;
    d.require(rights::SOCK_SHUTDOWN)?;
    let how = match how {
        sock::SHUT_RD => rustix::net::Shutdown::Read,
        sock::SHUT_WR => rustix::net::Shutdown::Write,
        x if x == sock::SHUT_RD | sock::SHUT_WR => rustix::net::Shutdown::Both,
        _ => return Err(Errno::INVAL.into()),
    };
    Ok(s.shutdown(how)?)
}
