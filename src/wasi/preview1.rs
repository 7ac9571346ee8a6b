//! The `wasi_snapshot_preview1` import module: the 46 functions, each a thin
//! wrapper that checks the stop signal, snapshots the caller's memory, and
//! calls the implementation in the module for its concept.
//!
//! One table at the end of this file names each function once, with its
//! wasm parameters and the call it makes: [`add_to_linker`] and
//! [`FUNCTIONS`] are both generated from it.

use std::ffi::CStr;

use wasmtime::{Caller, Extern, Linker, Result};

use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, Error, WasiResult};
use crate::wasi::memory::{GuestMemory, MemView};
use crate::wasi::stop::Stopped;
use crate::wasi::view::WasiView;

mod args;
mod clock;
mod fd;
mod path;
mod poll;
mod random;
mod sock;

const MODULE: &str = "wasi_snapshot_preview1";

/// Runs one WASI call: fails at once (trapping the thread) if the program
/// has ended; maps the result to an errno, or to a trap if the program ended
/// while the call was blocked.
fn call<T: WasiView>(
    caller: &mut Caller<'_, T>,
    name: &'static CStr,
    f: impl FnOnce(&WasiCtx, &MemView) -> WasiResult<()>,
) -> Result<i32> {
    caller.data().wasi().stop_signal().check()?;
    // The thread's memory; during the module's start function a memory the
    // module defines is not known to the store data yet: use its export.
    let mem = match caller.data().guest_memory() {
        Some(m) => m.view(&*caller),
        None => match caller.get_export("memory") {
            Some(Extern::Memory(m)) => GuestMemory::Plain(m).view(&*caller),
            Some(Extern::SharedMemory(m)) => GuestMemory::Shared(m).view(&*caller),
            _ => MemView::empty(),
        },
    };
    // The view hears of the call's entry and exit (thread states).
    T::call_started(caller, name);
    let result = f(caller.data().wasi(), &mem);
    if matches!(result, Err(Error::Stopped)) {
        T::call_stopped(caller);
    } else {
        T::call_finished(caller);
    }
    match result {
        Ok(()) => Ok(0),
        Err(Error::Errno(e)) => Ok(i32::from(e.0)),
        Err(Error::Stopped) => Err(wasmtime::Error::new(Stopped)),
    }
}

/// A `u8` argument passed as `i32` (`EINVAL` if out of range).
fn u8_arg(x: i32) -> Result<u8, Errno> {
    u8::try_from(x).map_err(|_| Errno::INVAL)
}

/// A `u16` argument passed as `i32` (`EINVAL` if out of range).
fn u16_arg(x: i32) -> Result<u16, Errno> {
    u16::try_from(x).map_err(|_| Errno::INVAL)
}

/// Ends the program with `code` (`proc_exit`): fails at once if the program
/// has ended already, else unwinds the calling thread with the error the
/// store data chooses. No errno, and no `call_started`/`call_finished`: the
/// call never returns to the guest.
fn exit_program<T: WasiView>(caller: &mut Caller<'_, T>, code: i32) -> Result<()> {
    caller.data().wasi().stop_signal().check()?;
    Err(caller.data_mut().proc_exit(code))
}

/// A function's name as the C string `call` reports (a compile-time constant).
const fn c_name(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("a WASI function name is a C string"),
    }
}

/// Generates [`add_to_linker`] and [`FUNCTIONS`] from the table below. Each
/// entry is `name(wasm parameters) => how;`, where `how` is either
/// `|ctx, mem| body`, a call run through [`call`] (stop check, hooks, errno
/// result), or the name of a function that takes the caller and the
/// parameters and is the whole wrapper ([`exit_program`]).
macro_rules! preview1 {
    ($(
        $name:ident($($arg:ident: $ty:ty),*) =>
            $($wrapper:ident)? $(|$cx:pat_param, $mem:pat_param| $body:expr)?;
    )*) => {
        /// Adds every WASI preview 1 function to `linker`.
        pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
            $(wrap!(linker, $name, ($($arg: $ty),*), $($wrapper)? $(|$cx, $mem| $body)?);)*
            Ok(())
        }

        /// The names of every function [`add_to_linker`] defines.
        pub const FUNCTIONS: [&str; 46] = [$(stringify!($name)),*];
    };
}

/// Registers one entry of the table (see [`preview1!`]).
macro_rules! wrap {
    ($linker:ident, $name:ident, ($($arg:ident: $ty:ty),*), $wrapper:ident) => {
        $linker.func_wrap(
            MODULE,
            stringify!($name),
            |mut caller: Caller<'_, T>, $($arg: $ty),*| $wrapper(&mut caller, $($arg),*),
        )?
    };
    (
        $linker:ident, $name:ident, ($($arg:ident: $ty:ty),*),
        |$cx:pat_param, $mem:pat_param| $body:expr
    ) => {
        $linker.func_wrap(
            MODULE,
            stringify!($name),
            |mut caller: Caller<'_, T>, $($arg: $ty),*| {
                const NAME: &CStr = c_name(concat!(stringify!($name), "\0"));
                call(&mut caller, NAME, |$cx, $mem| $body)
            },
        )?
    };
}

preview1! {
    // Arguments and environment.
    args_get(ptrs: i32, buf: i32) => |cx, mem| {
        Ok(args::get(mem, &cx.args, ptrs as u32, buf as u32)?)
    };
    args_sizes_get(n: i32, size: i32) => |cx, mem| {
        Ok(args::sizes(mem, &cx.args, n as u32, size as u32)?)
    };
    environ_get(ptrs: i32, buf: i32) => |cx, mem| {
        Ok(args::get(mem, &args::environ(&cx.env), ptrs as u32, buf as u32)?)
    };
    environ_sizes_get(n: i32, size: i32) => |cx, mem| {
        Ok(args::sizes(mem, &args::environ(&cx.env), n as u32, size as u32)?)
    };

    // Clocks.
    clock_res_get(id: i32, out: i32) => |_, mem| {
        Ok(mem.write_u64(out as u32, clock::resolution(id as u32)?)?)
    };
    clock_time_get(id: i32, _precision: i64, out: i32) => |_, mem| {
        Ok(mem.write_u64(out as u32, clock::now(id as u32)?)?)
    };

    // Descriptors.
    fd_advise(f: i32, off: i64, len: i64, advice: i32) => |cx, _| {
        fd::advise(cx, f as u32, off as u64, len as u64, u8_arg(advice)?)
    };
    fd_allocate(f: i32, off: i64, len: i64) => |cx, _| {
        fd::allocate(cx, f as u32, off as u64, len as u64)
    };
    fd_close(f: i32) => |cx, _| fd::close(cx, f as u32);
    fd_datasync(f: i32) => |cx, _| fd::sync(cx, f as u32, true);
    fd_fdstat_get(f: i32, out: i32) => |cx, mem| fd::fdstat_get(cx, mem, f as u32, out as u32);
    fd_fdstat_set_flags(f: i32, flags: i32) => |cx, _| {
        fd::fdstat_set_flags(cx, f as u32, u16_arg(flags)?)
    };
    fd_fdstat_set_rights(f: i32, base: i64, inheriting: i64) => |cx, _| {
        fd::fdstat_set_rights(cx, f as u32, base as u64, inheriting as u64)
    };
    fd_filestat_get(f: i32, out: i32) => |cx, mem| {
        fd::filestat_get(cx, mem, f as u32, out as u32)
    };
    fd_filestat_set_size(f: i32, size: i64) => |cx, _| {
        fd::filestat_set_size(cx, f as u32, size as u64)
    };
    fd_filestat_set_times(f: i32, atim: i64, mtim: i64, fst: i32) => |cx, _| {
        fd::filestat_set_times(cx, f as u32, atim as u64, mtim as u64, u16_arg(fst)?)
    };
    fd_pread(f: i32, iovs: i32, n: i32, off: i64, out: i32) => |cx, mem| {
        fd::pread(cx, mem, f as u32, iovs as u32, n as u32, off as u64, out as u32)
    };
    fd_prestat_get(f: i32, out: i32) => |cx, mem| {
        fd::prestat_get(cx, mem, f as u32, out as u32)
    };
    fd_prestat_dir_name(f: i32, p: i32, len: i32) => |cx, mem| {
        fd::prestat_dir_name(cx, mem, f as u32, p as u32, len as u32)
    };
    fd_pwrite(f: i32, iovs: i32, n: i32, off: i64, out: i32) => |cx, mem| {
        fd::pwrite(cx, mem, f as u32, iovs as u32, n as u32, off as u64, out as u32)
    };
    fd_read(f: i32, iovs: i32, n: i32, out: i32) => |cx, mem| {
        fd::read(cx, mem, f as u32, iovs as u32, n as u32, out as u32)
    };
    fd_readdir(f: i32, buf: i32, len: i32, cookie: i64, out: i32) => |cx, mem| {
        fd::readdir(cx, mem, f as u32, buf as u32, len as u32, cookie as u64, out as u32)
    };
    fd_renumber(from: i32, to: i32) => |cx, _| fd::renumber(cx, from as u32, to as u32);
    fd_seek(f: i32, off: i64, whence: i32, out: i32) => |cx, mem| {
        fd::seek(cx, mem, f as u32, off, u8_arg(whence)?, out as u32)
    };
    fd_sync(f: i32) => |cx, _| fd::sync(cx, f as u32, false);
    fd_tell(f: i32, out: i32) => |cx, mem| fd::tell(cx, mem, f as u32, out as u32);
    fd_write(f: i32, iovs: i32, n: i32, out: i32) => |cx, mem| {
        fd::write(cx, mem, f as u32, iovs as u32, n as u32, out as u32)
    };

    // Paths.
    path_create_directory(f: i32, p: i32, len: i32) => |cx, mem| {
        path::create_directory(cx, mem, f as u32, p as u32, len as u32)
    };
    path_filestat_get(f: i32, flags: i32, p: i32, len: i32, out: i32) => |cx, mem| {
        path::filestat_get(cx, mem, f as u32, flags as u32, p as u32, len as u32, out as u32)
    };
    path_filestat_set_times(
        f: i32, flags: i32, p: i32, len: i32, atim: i64, mtim: i64, fst: i32
    ) => |cx, mem| {
        path::filestat_set_times(
            cx, mem, f as u32, flags as u32, p as u32, len as u32,
            atim as u64, mtim as u64, u16_arg(fst)?,
        )
    };
    path_link(of: i32, oflags: i32, op: i32, ol: i32, nf: i32, np: i32, nl: i32) => |cx, mem| {
        path::link(
            cx, mem, of as u32, oflags as u32, op as u32, ol as u32,
            nf as u32, np as u32, nl as u32,
        )
    };
    path_open(
        f: i32, dirflags: i32, p: i32, len: i32, oflags: i32,
        base: i64, inheriting: i64, fdflags: i32, out: i32
    ) => |cx, mem| {
        path::open(
            cx, mem, f as u32, dirflags as u32, p as u32, len as u32, u16_arg(oflags)?,
            base as u64, inheriting as u64, u16_arg(fdflags)?, out as u32,
        )
    };
    path_readlink(f: i32, p: i32, len: i32, buf: i32, buf_len: i32, out: i32) => |cx, mem| {
        path::readlink(
            cx, mem, f as u32, p as u32, len as u32, buf as u32, buf_len as u32, out as u32,
        )
    };
    path_remove_directory(f: i32, p: i32, len: i32) => |cx, mem| {
        path::remove_directory(cx, mem, f as u32, p as u32, len as u32)
    };
    path_rename(of: i32, op: i32, ol: i32, nf: i32, np: i32, nl: i32) => |cx, mem| {
        path::rename(cx, mem, of as u32, op as u32, ol as u32, nf as u32, np as u32, nl as u32)
    };
    path_symlink(op: i32, ol: i32, f: i32, np: i32, nl: i32) => |cx, mem| {
        path::symlink(cx, mem, op as u32, ol as u32, f as u32, np as u32, nl as u32)
    };
    path_unlink_file(f: i32, p: i32, len: i32) => |cx, mem| {
        path::unlink_file(cx, mem, f as u32, p as u32, len as u32)
    };

    // Polling, the process, scheduling, randomness.
    poll_oneoff(subs: i32, events: i32, n: i32, out: i32) => |cx, mem| {
        poll::poll_oneoff(cx, mem, subs as u32, events as u32, n as u32, out as u32)
    };
    proc_exit(code: i32) => exit_program;
    // Signals are not supported (the spec lets hosts say so).
    proc_raise(_sig: i32) => |_, _| Err(Errno::NOSYS.into());
    random_get(buf: i32, len: i32) => |_, mem| Ok(random::fill(mem, buf as u32, len as u32)?);
    sched_yield() => |_, _| {
        std::thread::yield_now();
        Ok(())
    };

    // Sockets.
    sock_accept(f: i32, flags: i32, out: i32) => |cx, mem| {
        sock::accept(cx, mem, f as u32, u16_arg(flags)?, out as u32)
    };
    sock_recv(f: i32, iovs: i32, n: i32, flags: i32, out_len: i32, out_flags: i32) => |cx, mem| {
        sock::recv(
            cx, mem, f as u32, iovs as u32, n as u32, u16_arg(flags)?,
            out_len as u32, out_flags as u32,
        )
    };
    sock_send(f: i32, iovs: i32, n: i32, flags: i32, out: i32) => |cx, mem| {
        sock::send(cx, mem, f as u32, iovs as u32, n as u32, u16_arg(flags)?, out as u32)
    };
    sock_shutdown(f: i32, how: i32) => |cx, _| sock::shutdown(cx, f as u32, u8_arg(how)?);
}
