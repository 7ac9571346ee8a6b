//! The `wasi_snapshot_preview1` import module: the 46 functions, each a thin
//! wrapper that checks the stop signal, snapshots the caller's memory, and
//! calls the implementation in the module for its concept.

use std::ffi::CStr;

use wasmtime::{Caller, Extern, Linker, Result};

use crate::wasi::errno::{Errno, Error, WasiResult};
use crate::wasi::memory::MemView;
use crate::wasi::stop::Stopped;
use crate::wasi::{args, clock, fd, path, poll, random, sock, GuestMemory, WasiCtx, WasiView};

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
    T::call_finished(caller);
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

/// Adds every WASI preview 1 function to `linker`.
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    let m = MODULE;
    // Process, scheduling, randomness, clocks, arguments.
    linker.func_wrap(
        m,
        "proc_exit",
        |mut caller: Caller<'_, T>, code: i32| -> Result<()> {
            caller.data().wasi().stop_signal().check()?;
            Err(caller.data_mut().proc_exit(code))
        },
    )?;
    linker.func_wrap(m, "proc_raise", |mut c: Caller<'_, T>, _sig: i32| {
        // Signals are not supported (the spec lets hosts say so).
        call(&mut c, c"proc_raise", |_, _| Err(Errno::NOSYS.into()))
    })?;
    linker.func_wrap(m, "sched_yield", |mut c: Caller<'_, T>| {
        call(&mut c, c"sched_yield", |_, _| {
            std::thread::yield_now();
            Ok(())
        })
    })?;
    linker.func_wrap(
        m,
        "random_get",
        |mut c: Caller<'_, T>, buf: i32, len: i32| {
            call(&mut c, c"random_get", |_, mem| {
                Ok(random::fill(mem, buf as u32, len as u32)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "clock_res_get",
        |mut c: Caller<'_, T>, id: i32, out: i32| {
            call(&mut c, c"clock_res_get", |_, mem| {
                Ok(mem.write_u64(out as u32, clock::resolution(id as u32)?)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "clock_time_get",
        |mut c: Caller<'_, T>, id: i32, _precision: i64, out: i32| {
            call(&mut c, c"clock_time_get", |_, mem| {
                Ok(mem.write_u64(out as u32, clock::now(id as u32)?)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "args_sizes_get",
        |mut c: Caller<'_, T>, n: i32, size: i32| {
            call(&mut c, c"args_sizes_get", |cx, mem| {
                Ok(args::sizes(mem, &cx.args, n as u32, size as u32)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "args_get",
        |mut c: Caller<'_, T>, ptrs: i32, buf: i32| {
            call(&mut c, c"args_get", |cx, mem| {
                Ok(args::get(mem, &cx.args, ptrs as u32, buf as u32)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "environ_sizes_get",
        |mut c: Caller<'_, T>, n: i32, size: i32| {
            call(&mut c, c"environ_sizes_get", |cx, mem| {
                Ok(args::sizes(
                    mem,
                    &args::environ(&cx.env),
                    n as u32,
                    size as u32,
                )?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "environ_get",
        |mut c: Caller<'_, T>, ptrs: i32, buf: i32| {
            call(&mut c, c"environ_get", |cx, mem| {
                Ok(args::get(
                    mem,
                    &args::environ(&cx.env),
                    ptrs as u32,
                    buf as u32,
                )?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "poll_oneoff",
        |mut c: Caller<'_, T>, subs: i32, events: i32, n: i32, out: i32| {
            call(&mut c, c"poll_oneoff", |cx, mem| {
                poll::poll_oneoff(cx, mem, subs as u32, events as u32, n as u32, out as u32)
            })
        },
    )?;

    // Descriptors.
    linker.func_wrap(
        m,
        "fd_read",
        |mut c: Caller<'_, T>, f: i32, iovs: i32, n: i32, out: i32| {
            call(&mut c, c"fd_read", |cx, mem| {
                fd::read(cx, mem, f as u32, iovs as u32, n as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_write",
        |mut c: Caller<'_, T>, f: i32, iovs: i32, n: i32, out: i32| {
            call(&mut c, c"fd_write", |cx, mem| {
                fd::write(cx, mem, f as u32, iovs as u32, n as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_pread",
        |mut c: Caller<'_, T>, f: i32, iovs: i32, n: i32, off: i64, out: i32| {
            call(&mut c, c"fd_pread", |cx, mem| {
                fd::pread(
                    cx,
                    mem,
                    f as u32,
                    iovs as u32,
                    n as u32,
                    off as u64,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_pwrite",
        |mut c: Caller<'_, T>, f: i32, iovs: i32, n: i32, off: i64, out: i32| {
            call(&mut c, c"fd_pwrite", |cx, mem| {
                fd::pwrite(
                    cx,
                    mem,
                    f as u32,
                    iovs as u32,
                    n as u32,
                    off as u64,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_seek",
        |mut c: Caller<'_, T>, f: i32, off: i64, whence: i32, out: i32| {
            call(&mut c, c"fd_seek", |cx, mem| {
                fd::seek(cx, mem, f as u32, off, u8_arg(whence)?, out as u32)
            })
        },
    )?;
    linker.func_wrap(m, "fd_tell", |mut c: Caller<'_, T>, f: i32, out: i32| {
        call(&mut c, c"fd_tell", |cx, mem| {
            fd::tell(cx, mem, f as u32, out as u32)
        })
    })?;
    linker.func_wrap(m, "fd_close", |mut c: Caller<'_, T>, f: i32| {
        call(&mut c, c"fd_close", |cx, _| fd::close(cx, f as u32))
    })?;
    linker.func_wrap(
        m,
        "fd_renumber",
        |mut c: Caller<'_, T>, from: i32, to: i32| {
            call(&mut c, c"fd_renumber", |cx, _| {
                fd::renumber(cx, from as u32, to as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_fdstat_get",
        |mut c: Caller<'_, T>, f: i32, out: i32| {
            call(&mut c, c"fd_fdstat_get", |cx, mem| {
                fd::fdstat_get(cx, mem, f as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_fdstat_set_flags",
        |mut c: Caller<'_, T>, f: i32, flags: i32| {
            call(&mut c, c"fd_fdstat_set_flags", |cx, _| {
                fd::fdstat_set_flags(cx, f as u32, u16_arg(flags)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_fdstat_set_rights",
        |mut c: Caller<'_, T>, f: i32, base: i64, inheriting: i64| {
            call(&mut c, c"fd_fdstat_set_rights", |cx, _| {
                fd::fdstat_set_rights(cx, f as u32, base as u64, inheriting as u64)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_filestat_get",
        |mut c: Caller<'_, T>, f: i32, out: i32| {
            call(&mut c, c"fd_filestat_get", |cx, mem| {
                fd::filestat_get(cx, mem, f as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_filestat_set_size",
        |mut c: Caller<'_, T>, f: i32, size: i64| {
            call(&mut c, c"fd_filestat_set_size", |cx, _| {
                fd::filestat_set_size(cx, f as u32, size as u64)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_filestat_set_times",
        |mut c: Caller<'_, T>, f: i32, atim: i64, mtim: i64, fst: i32| {
            call(&mut c, c"fd_filestat_set_times", |cx, _| {
                fd::filestat_set_times(cx, f as u32, atim as u64, mtim as u64, u16_arg(fst)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_advise",
        |mut c: Caller<'_, T>, f: i32, off: i64, len: i64, advice: i32| {
            call(&mut c, c"fd_advise", |cx, _| {
                fd::advise(cx, f as u32, off as u64, len as u64, u8_arg(advice)?)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_allocate",
        |mut c: Caller<'_, T>, f: i32, off: i64, len: i64| {
            call(&mut c, c"fd_allocate", |cx, _| {
                fd::allocate(cx, f as u32, off as u64, len as u64)
            })
        },
    )?;
    linker.func_wrap(m, "fd_sync", |mut c: Caller<'_, T>, f: i32| {
        call(&mut c, c"fd_sync", |cx, _| fd::sync(cx, f as u32, false))
    })?;
    linker.func_wrap(m, "fd_datasync", |mut c: Caller<'_, T>, f: i32| {
        call(&mut c, c"fd_datasync", |cx, _| fd::sync(cx, f as u32, true))
    })?;
    linker.func_wrap(
        m,
        "fd_readdir",
        |mut c: Caller<'_, T>, f: i32, buf: i32, len: i32, cookie: i64, out: i32| {
            call(&mut c, c"fd_readdir", |cx, mem| {
                fd::readdir(
                    cx,
                    mem,
                    f as u32,
                    buf as u32,
                    len as u32,
                    cookie as u64,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_prestat_get",
        |mut c: Caller<'_, T>, f: i32, out: i32| {
            call(&mut c, c"fd_prestat_get", |cx, mem| {
                fd::prestat_get(cx, mem, f as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "fd_prestat_dir_name",
        |mut c: Caller<'_, T>, f: i32, p: i32, len: i32| {
            call(&mut c, c"fd_prestat_dir_name", |cx, mem| {
                fd::prestat_dir_name(cx, mem, f as u32, p as u32, len as u32)
            })
        },
    )?;

    // Paths.
    linker.func_wrap(
        m,
        "path_open",
        |mut c: Caller<'_, T>,
         f: i32,
         dirflags: i32,
         p: i32,
         len: i32,
         oflags: i32,
         base: i64,
         inheriting: i64,
         fdflags: i32,
         out: i32| {
            call(&mut c, c"path_open", |cx, mem| {
                path::open(
                    cx,
                    mem,
                    f as u32,
                    dirflags as u32,
                    p as u32,
                    len as u32,
                    u16_arg(oflags)?,
                    base as u64,
                    inheriting as u64,
                    u16_arg(fdflags)?,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_create_directory",
        |mut c: Caller<'_, T>, f: i32, p: i32, len: i32| {
            call(&mut c, c"path_create_directory", |cx, mem| {
                path::create_directory(cx, mem, f as u32, p as u32, len as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_remove_directory",
        |mut c: Caller<'_, T>, f: i32, p: i32, len: i32| {
            call(&mut c, c"path_remove_directory", |cx, mem| {
                path::remove_directory(cx, mem, f as u32, p as u32, len as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_unlink_file",
        |mut c: Caller<'_, T>, f: i32, p: i32, len: i32| {
            call(&mut c, c"path_unlink_file", |cx, mem| {
                path::unlink_file(cx, mem, f as u32, p as u32, len as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_filestat_get",
        |mut c: Caller<'_, T>, f: i32, flags: i32, p: i32, len: i32, out: i32| {
            call(&mut c, c"path_filestat_get", |cx, mem| {
                path::filestat_get(
                    cx,
                    mem,
                    f as u32,
                    flags as u32,
                    p as u32,
                    len as u32,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_filestat_set_times",
        |mut c: Caller<'_, T>,
         f: i32,
         flags: i32,
         p: i32,
         len: i32,
         atim: i64,
         mtim: i64,
         fst: i32| {
            call(&mut c, c"path_filestat_set_times", |cx, mem| {
                path::filestat_set_times(
                    cx,
                    mem,
                    f as u32,
                    flags as u32,
                    p as u32,
                    len as u32,
                    atim as u64,
                    mtim as u64,
                    u16_arg(fst)?,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_link",
        |mut c: Caller<'_, T>,
         of: i32,
         oflags: i32,
         op: i32,
         ol: i32,
         nf: i32,
         np: i32,
         nl: i32| {
            call(&mut c, c"path_link", |cx, mem| {
                path::link(
                    cx,
                    mem,
                    of as u32,
                    oflags as u32,
                    op as u32,
                    ol as u32,
                    nf as u32,
                    np as u32,
                    nl as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_rename",
        |mut c: Caller<'_, T>, of: i32, op: i32, ol: i32, nf: i32, np: i32, nl: i32| {
            call(&mut c, c"path_rename", |cx, mem| {
                path::rename(
                    cx, mem, of as u32, op as u32, ol as u32, nf as u32, np as u32, nl as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_symlink",
        |mut c: Caller<'_, T>, op: i32, ol: i32, f: i32, np: i32, nl: i32| {
            call(&mut c, c"path_symlink", |cx, mem| {
                path::symlink(
                    cx, mem, op as u32, ol as u32, f as u32, np as u32, nl as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "path_readlink",
        |mut c: Caller<'_, T>, f: i32, p: i32, len: i32, buf: i32, buf_len: i32, out: i32| {
            call(&mut c, c"path_readlink", |cx, mem| {
                path::readlink(
                    cx,
                    mem,
                    f as u32,
                    p as u32,
                    len as u32,
                    buf as u32,
                    buf_len as u32,
                    out as u32,
                )
            })
        },
    )?;

    // Sockets.
    linker.func_wrap(
        m,
        "sock_accept",
        |mut c: Caller<'_, T>, f: i32, flags: i32, out: i32| {
            call(&mut c, c"sock_accept", |cx, mem| {
                sock::accept(cx, mem, f as u32, u16_arg(flags)?, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        "sock_recv",
        |mut c: Caller<'_, T>,
         f: i32,
         iovs: i32,
         n: i32,
         flags: i32,
         out_len: i32,
         out_flags: i32| {
            call(&mut c, c"sock_recv", |cx, mem| {
                sock::recv(
                    cx,
                    mem,
                    f as u32,
                    iovs as u32,
                    n as u32,
                    u16_arg(flags)?,
                    out_len as u32,
                    out_flags as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "sock_send",
        |mut c: Caller<'_, T>, f: i32, iovs: i32, n: i32, flags: i32, out: i32| {
            call(&mut c, c"sock_send", |cx, mem| {
                sock::send(
                    cx,
                    mem,
                    f as u32,
                    iovs as u32,
                    n as u32,
                    u16_arg(flags)?,
                    out as u32,
                )
            })
        },
    )?;
    linker.func_wrap(
        m,
        "sock_shutdown",
        |mut c: Caller<'_, T>, f: i32, how: i32| {
            call(&mut c, c"sock_shutdown", |cx, _| {
                sock::shutdown(cx, f as u32, u8_arg(how)?)
            })
        },
    )?;
    Ok(())
}

/// The names of every function [`add_to_linker`] defines.
pub const FUNCTIONS: [&str; 46] = [
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "random_get",
    "sched_yield",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];
