//! `weft_wasi_config_t`: what a program's WASI context is made from.

use std::ffi::c_char;
use std::net::TcpListener;
use std::os::fd::{BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ffi::boundary::{bytes, utf8};
use crate::ffi::error::{guard, weft_error_t};
use crate::ffi::handle::{free_box, to_boxed, try_mut, Boxed, Handle};
use crate::runtime::{Error, ErrorKind};
use crate::wasi::{check_preopen, Stdio, WasiConfig};

/// Standard stream: the host process's own stream.
pub const WEFT_STDIO_INHERIT: u32 = 0;
/// Standard stream: reads see end of file; writes are discarded.
pub const WEFT_STDIO_NULL: u32 = 1;
/// Standard stream: a host file (output files are created or truncated).
pub const WEFT_STDIO_FILE: u32 = 2;
/// Standard stream (stdout/stderr only): kept in memory; read it with
/// `weft_instance_stdout`/`weft_instance_stderr`.
pub const WEFT_STDIO_CAPTURE: u32 = 3;

/// `weft_wasi_config_preopen_dir` flag: refuse every change below the directory.
pub const WEFT_DIR_READ_ONLY: u32 = 1;

/// Arguments, environment, preopened directories and standard streams.
/// Copied into each instance by `weft_instance_new`.
pub struct weft_wasi_config_t {
    pub(crate) config: WasiConfig,
}

impl Handle for weft_wasi_config_t {
    type Ownership = Boxed;
}

/// Creates an empty configuration: no arguments, no environment, no
/// preopens, standard streams inherited.
///
/// **Ownership**: the caller owns the result; free with `weft_wasi_config_delete`.
#[no_mangle]
pub extern "C" fn weft_wasi_config_new() -> *mut weft_wasi_config_t {
    to_boxed(weft_wasi_config_t {
        config: WasiConfig::default(),
    })
}

/// Frees a configuration. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `config`.
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_delete(config: *mut weft_wasi_config_t) {
    // SAFETY: NULL or from `weft_wasi_config_new`.
    unsafe { free_box(config) }
}

pub(crate) fn edit(
    config: *mut weft_wasi_config_t,
    f: impl FnOnce(&mut WasiConfig) -> Result<(), Error>,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live config; the caller serialises.
        let c = unsafe { try_mut(config, "config") }?;
        f(&mut c.config)
    })
}

/// Appends one argument to `argv` (the first one is `argv[0]`).
///
/// **Ownership**: `arg` is copied. **Errors**: `WEFT_ERROR_NULL_ARGUMENT`,
/// `WEFT_ERROR_INVALID_ARGUMENT` (invalid UTF-8).
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_push_arg(
    config: *mut weft_wasi_config_t,
    arg: *const c_char,
    arg_len: usize,
) -> *mut weft_error_t {
    edit(config, |c| {
        // SAFETY: (ptr, len) per the contract.
        c.args
            .push(unsafe { utf8(arg, arg_len, "arg") }?.to_string());
        Ok(())
    })
}

/// Appends an environment variable `name=value`.
///
/// **Ownership**: both strings are copied. **Errors**: `WEFT_ERROR_NULL_ARGUMENT`,
/// `WEFT_ERROR_INVALID_ARGUMENT` (invalid UTF-8, empty name, or `=` in the name).
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_push_env(
    config: *mut weft_wasi_config_t,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> *mut weft_error_t {
    edit(config, |c| {
        // SAFETY: (ptr, len) pairs per the contract.
        let name = unsafe { utf8(name, name_len, "name") }?;
        let value = unsafe { utf8(value, value_len, "value") }?;
        c.try_env(name, value)?;
        Ok(())
    })
}

/// Makes the guest see the host process's environment (before any
/// variables pushed with `weft_wasi_config_push_env`).
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_inherit_env(
    config: *mut weft_wasi_config_t,
) -> *mut weft_error_t {
    edit(config, |c| {
        c.inherit_env = true;
        Ok(())
    })
}

/// Sets where standard stream `fd` (0, 1 or 2) goes: `WEFT_STDIO_INHERIT`,
/// `WEFT_STDIO_NULL`, `WEFT_STDIO_FILE` (with `path`), or `WEFT_STDIO_CAPTURE`
/// (fd 1 and 2 only). `path` is ignored (and may be NULL) except for files.
///
/// **Ownership**: `path` is copied. **Errors**: `WEFT_ERROR_NULL_ARGUMENT`,
/// `WEFT_ERROR_INVALID_ARGUMENT` (bad fd, kind or UTF-8).
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_set_stdio(
    config: *mut weft_wasi_config_t,
    fd: u32,
    kind: u32,
    path: *const c_char,
    path_len: usize,
) -> *mut weft_error_t {
    edit(config, |c| {
        let invalid = |m: String| Err(Error::new(ErrorKind::InvalidArgument, m));
        let stdio = match kind {
            WEFT_STDIO_INHERIT => Stdio::Inherit,
            WEFT_STDIO_NULL => Stdio::Null,
            WEFT_STDIO_FILE => {
                // SAFETY: (ptr, len) per the contract.
                let p = unsafe { utf8(path, path_len, "path") }?;
                if p.is_empty() {
                    return invalid("WEFT_STDIO_FILE needs a path".into());
                }
                Stdio::File(PathBuf::from(p))
            }
            WEFT_STDIO_CAPTURE => Stdio::Capture,
            other => return invalid(format!("unknown stdio kind {other}")),
        };
        c.set_stdio(fd, stdio)?;
        Ok(())
    })
}

/// Makes host directory `host_path` visible to the guest as `guest_path`
/// (e.g. `"/data"` or `"."`). Preopens get descriptors 3, 4, … in the order
/// they are added (after them come TCP listeners). Paths never escape it.
/// `flags` is 0 or `WEFT_DIR_READ_ONLY`. The directory is opened when the
/// instance is created (`weft_instance_new` fails with `WEFT_ERROR_IO` if it
/// cannot be).
///
/// **Ownership**: both strings are copied. **Errors**: `WEFT_ERROR_NULL_ARGUMENT`,
/// `WEFT_ERROR_INVALID_ARGUMENT` (invalid UTF-8, empty path, unknown flag).
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_preopen_dir(
    config: *mut weft_wasi_config_t,
    host_path: *const c_char,
    host_path_len: usize,
    guest_path: *const c_char,
    guest_path_len: usize,
    flags: u32,
) -> *mut weft_error_t {
    edit(config, |c| {
        // SAFETY: (ptr, len) pairs per the contract.
        let host = unsafe { utf8(host_path, host_path_len, "host_path") }?;
        let guest = unsafe { utf8(guest_path, guest_path_len, "guest_path") }?;
        let read_only = match flags {
            0 => false,
            WEFT_DIR_READ_ONLY => true,
            other => {
                // Empty paths are the first thing refused, with any flags.
                check_preopen(Path::new(host), guest)?;
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown preopen flags {other:#x}"),
                ));
            }
        };
        c.try_preopen_dir(host, guest, read_only)?;
        Ok(())
    })
}

/// Binds a listening TCP socket on `address` (e.g. `"127.0.0.1:8080"`; port
/// 0 picks a free port) and preopens it for the guest's `sock_accept`.
///
/// **Ownership**: `address` is copied; the socket belongs to the config (and
/// is shared by instances created from it). **Errors**:
/// `WEFT_ERROR_NULL_ARGUMENT`, `WEFT_ERROR_INVALID_ARGUMENT` (not an
/// address), `WEFT_ERROR_IO` (cannot bind).
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_preopen_tcp_listener(
    config: *mut weft_wasi_config_t,
    address: *const c_char,
    address_len: usize,
) -> *mut weft_error_t {
    edit(config, |c| {
        // SAFETY: (ptr, len) per the contract.
        let address = unsafe { utf8(address, address_len, "address") }?;
        let addr: std::net::SocketAddr = address.parse().map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("bad TCP address {address:?}: {e}"),
            )
        })?;
        let listener = TcpListener::bind(addr)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot listen on {addr}: {e}")))?;
        c.preopen_tcp_listener(Arc::new(listener));
        Ok(())
    })
}

/// Makes the guest's stdin read `data` (`len` bytes), then end of file.
///
/// **Ownership**: `data` is copied. **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_set_stdin_bytes(
    config: *mut weft_wasi_config_t,
    data: *const u8,
    len: usize,
) -> *mut weft_error_t {
    edit(config, |c| {
        // SAFETY: (ptr, len) per the contract.
        c.stdin = Stdio::Bytes(unsafe { bytes(data, len, "data") }?.to_vec());
        Ok(())
    })
}

/// Connects standard stream `fd` (0, 1 or 2) to a duplicate of host file
/// descriptor `host_fd` (a file, pipe, terminal or socket). Reads from a pipe
/// block until data arrives, the pipe closes, or the program ends.
///
/// **Ownership**: `host_fd` stays the caller's; weft duplicates it now.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`, `WEFT_ERROR_INVALID_ARGUMENT` (bad
/// `fd`), `WEFT_ERROR_IO` (`host_fd` cannot be duplicated).
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_set_stdio_fd(
    config: *mut weft_wasi_config_t,
    fd: u32,
    host_fd: i32,
) -> *mut weft_error_t {
    edit(config, |c| {
        if host_fd < 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("bad host fd {host_fd}"),
            ));
        }
        // SAFETY: the caller guarantees `host_fd` is open for the call; we only duplicate it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(host_fd as RawFd) };
        let owned = borrowed.try_clone_to_owned().map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot duplicate fd {host_fd}: {e}"))
        })?;
        c.set_stdio(fd, Stdio::Fd(Arc::new(owned)))?;
        Ok(())
    })
}

/// `weft_wasi_config_set_parallelism` mode: set no variable (the default).
pub const WEFT_PARALLELISM_NONE: u32 = 0;
/// `weft_wasi_config_set_parallelism` mode: the number of CPUs this process
/// may use (`weft_host_parallelism()`), read when the instance is created.
pub const WEFT_PARALLELISM_HOST: u32 = 1;
/// `weft_wasi_config_set_parallelism` mode: `threads` threads.
pub const WEFT_PARALLELISM_FIXED: u32 = 2;

/// Sets the parallelism hint: tells the guest's thread pools how many
/// threads to start, through the environment variables they read —
/// `RAYON_NUM_THREADS` (rayon's global pool) and `OMP_NUM_THREADS` (OpenMP,
/// and what C programs should read before `sysconf(_SC_NPROCESSORS_ONLN)`,
/// which is 1 on wasm). Each is added only when the configured environment
/// (`weft_wasi_config_push_env`, `weft_wasi_config_inherit_env`) lacks it,
/// so the embedder's own value wins. `mode` is `WEFT_PARALLELISM_NONE`
/// (nothing added: the default), `WEFT_PARALLELISM_HOST` (the number of
/// CPUs this process may use: its CPU affinity and cgroup CPU quota, read
/// when the instance is created) or `WEFT_PARALLELISM_FIXED` (`threads`,
/// at least 1; pass 0 with the other modes). The number is capped at the
/// engine's thread limit (`weft_config_set_max_threads`): a pool of N
/// workers spawns N threads.
///
/// **Ownership**: borrows `config`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`, `WEFT_ERROR_INVALID_ARGUMENT`
/// (unknown mode, `threads` 0 with `WEFT_PARALLELISM_FIXED`, or not 0 with
/// the other modes).
/// **Thread safety**: mutates `config`; the caller serialises.
#[no_mangle]
pub unsafe extern "C" fn weft_wasi_config_set_parallelism(
    config: *mut weft_wasi_config_t,
    mode: u32,
    threads: u32,
) -> *mut weft_error_t {
    use crate::wasi::Parallelism;
    edit(config, |c| {
        let invalid = |m: String| Error::new(ErrorKind::InvalidArgument, m);
        c.parallelism = match (mode, threads) {
            (WEFT_PARALLELISM_FIXED, n) => {
                Parallelism::fixed(n).map_err(|e| invalid(e.to_string()))?
            }
            (WEFT_PARALLELISM_NONE | WEFT_PARALLELISM_HOST, n) if n != 0 => {
                return Err(invalid(format!(
                    "threads ({n}) is only for WEFT_PARALLELISM_FIXED; pass 0"
                )))
            }
            (WEFT_PARALLELISM_NONE, _) => Parallelism::None,
            (WEFT_PARALLELISM_HOST, _) => Parallelism::Host,
            (other, _) => return Err(invalid(format!("unknown parallelism mode {other}"))),
        };
        Ok(())
    })
}

/// The number of CPUs this process may use: the calling thread's CPU
/// affinity, capped by the CPU quota of the process's cgroups when one is
/// set (v2 `cpu.max`, v1 `cpu.cfs_quota_us`, rounded up); at least 1. What
/// `WEFT_PARALLELISM_HOST` gives a guest, before the thread limit.
///
/// **Errors**: none. **Thread safety**: safe from any thread (reads a few
/// small files under `/proc` and `/sys/fs/cgroup` at every call).
#[no_mangle]
pub extern "C" fn weft_host_parallelism() -> u32 {
    crate::ffi::boundary::guard_value(1, crate::wasi::host_parallelism)
}
