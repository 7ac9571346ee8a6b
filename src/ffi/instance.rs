//! `weft_instance_t`: one run of a program.

use std::ffi::c_char;
use std::time::Duration;

use crate::ffi::boundary::{
    check_out, free_bytes, guard_value, null, slice, utf8, write_bytes, write_out,
};
use crate::ffi::error::{guard, weft_error_t};
use crate::ffi::handle::{free_box, get, to_boxed, try_ref, Boxed, Handle};
use crate::ffi::host_funcs::weft_host_funcs_t;
use crate::ffi::module::weft_module_t;
use crate::ffi::thread_list::weft_thread_list_t;
use crate::ffi::val::weft_val_t;
use crate::ffi::wasi_config::weft_wasi_config_t;
use crate::runtime::{Error, ErrorKind, HostFuncs, Instance, Outcome};
use crate::wasi::WasiConfig;

/// `weft_instance_wait` timeout meaning "wait until the program ends".
pub const WEFT_WAIT_FOREVER: u64 = u64::MAX;

/// One run of a module: its shared memory, WASI context, main thread and
/// spawned threads.
///
/// Functions taking `const weft_instance_t *` (`interrupt`, `stats`,
/// `stdout`/`stderr`, `threads`, `dump`, `completion_fd`, `memory_data`/`size`)
/// may be called from any thread at any time, including
/// while another thread is inside `weft_instance_run` or `weft_instance_wait`.
pub struct weft_instance_t {
    instance: Instance,
}

impl Handle for weft_instance_t {
    type Ownership = Boxed;
}

/// Instantiates `module` for its main thread.
///
/// **Ownership**: `module`, `wasi` and `funcs` are borrowed and copied from;
/// they may be deleted right after the call. `wasi` and `funcs` may be NULL
/// (empty configuration, no host functions). On success `*instance_out` owns
/// the instance; free it with `weft_instance_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_LINK` (an import nobody
/// defines, wrong host function type, memory larger than the cap);
/// `WEFT_ERROR_INSTANTIATE`; `WEFT_ERROR_IO` (a preopen or stdio file cannot
/// be opened).
#[no_mangle]
pub unsafe extern "C" fn weft_instance_new(
    module: *const weft_module_t,
    wasi: *const weft_wasi_config_t,
    funcs: *const weft_host_funcs_t,
    instance_out: *mut *mut weft_instance_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY (all): NULL or live handles per the contract.
        let module = unsafe { try_ref(module, "module") }?;
        let default_wasi = WasiConfig::default();
        let wasi = unsafe { get(wasi) }.map_or(&default_wasi, |w| &w.config);
        let no_funcs = HostFuncs::new();
        let funcs = unsafe { get(funcs) }.map_or(&no_funcs, |f| &f.funcs);
        check_out(instance_out, "instance_out")?;
        let instance = Instance::new(&module.program, wasi, funcs)?;
        let raw = to_boxed(weft_instance_t { instance });
        // SAFETY: checked non-NULL above.
        unsafe { write_out(instance_out, raw, "instance_out") }
    })
}

/// Frees an instance. A program still running is interrupted first. This
/// waits (at most about 250 ms) for the program's threads to let go of it, so
/// when it returns the host functions' finalizers have run, unless a thread
/// is stuck inside a host callback. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `instance`.
/// **Thread safety**: no other call on `instance` may be in progress.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_delete(instance: *mut weft_instance_t) {
    // SAFETY: NULL or from `weft_instance_new`.
    unsafe { free_box(instance) }
}

fn finish(outcome: Outcome, exit_code: *mut i32) -> Result<(), Error> {
    let code = outcome.into_result()?;
    // SAFETY: the caller checked `exit_code` non-NULL.
    unsafe { write_out(exit_code, code, "exit_code") }
}

/// Writes whether there is an outcome to `*flag` (named `name`), then reports
/// the outcome as `finish` does.
///
/// # Safety
/// `flag` and `exit_code` are non-NULL and writable.
unsafe fn report(
    outcome: Option<Outcome>,
    flag: *mut bool,
    name: &str,
    exit_code: *mut i32,
) -> Result<(), Error> {
    // SAFETY: per this function's contract.
    unsafe { write_out(flag, outcome.is_some(), name) }?;
    outcome.map_or(Ok(()), |o| finish(o, exit_code))
}

/// Runs the program (`_start`) to its end and writes its exit code.
///
/// A guest calling `proc_exit(n)` in any thread, or `_start` returning (0), is
/// success: `*exit_code` receives the code. Every other thread is stopped
/// before this returns.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_TRAP` (any thread
/// trapped: see `weft_error_trap_tid`, `weft_error_backtrace`);
/// `WEFT_ERROR_INTERRUPTED`; `WEFT_ERROR_TIMED_OUT`; `WEFT_ERROR_DEADLOCK`
/// (every thread was parked in an untimed `atomic.wait`: the message holds
/// the thread dump); `WEFT_ERROR_NOT_FOUND` (no `_start`); `WEFT_ERROR_STATE`
/// (already started).
/// **Thread safety**: blocks the calling thread; use `weft_instance_interrupt`
/// from another thread to stop it.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_run(
    instance: *mut weft_instance_t,
    exit_code: *mut i32,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(exit_code, "exit_code")?;
        finish(inst.instance.run()?, exit_code)
    })
}

/// Starts the program (`_start` on a new thread) and returns at once; collect
/// the result with `weft_instance_wait`. The timeout, if configured, counts from here.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_NOT_FOUND` (no `_start`);
/// `WEFT_ERROR_STATE` (already started).
#[no_mangle]
pub unsafe extern "C" fn weft_instance_start(instance: *mut weft_instance_t) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        unsafe { try_ref(instance, "instance") }?.instance.start()
    })
}

/// Waits up to `timeout_ms` milliseconds (`WEFT_WAIT_FOREVER`: no limit) for
/// the program to end and its threads to stop. Never blocks longer than
/// `timeout_ms`. If the program is still running, or its other threads are
/// still being stopped, writes `*finished = false` and returns NULL. Once it
/// ended and every other thread stopped (or 250 ms passed since the end, see
/// docs/termination.md), writes `*finished = true` and reports the outcome as
/// `weft_instance_run` does (`*exit_code` on exit, an error otherwise).
/// Can be called again after it ended; it reports the same outcome.
///
/// **Errors**: as `weft_instance_run`.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_wait(
    instance: *mut weft_instance_t,
    timeout_ms: u64,
    finished: *mut bool,
    exit_code: *mut i32,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(finished, "finished")?;
        check_out(exit_code, "exit_code")?;
        let timeout = (timeout_ms != WEFT_WAIT_FOREVER).then(|| Duration::from_millis(timeout_ms));
        // SAFETY: both checked non-NULL above.
        unsafe { report(inst.instance.wait(timeout), finished, "finished", exit_code) }
    })
}

/// The outcome as soon as it is decided, without waiting for the other
/// threads to stop; never blocks. While the program runs, writes
/// `*decided = false` and returns NULL. Once it is decided (`proc_exit`, `_start`
/// returning, a trap, an interrupt, the timeout, a deadlock), writes
/// `*decided = true` and reports it as `weft_instance_run` does (`*exit_code`
/// on exit, an error otherwise), while the other threads may still be
/// running guest code on their way to their next stop check.
///
/// For a host that ends its process with the program, as a native process
/// ends with `exit`: once `weft_instance_completion_fd` is readable, this
/// gives the outcome at once, and `_exit` then ends every thread in the
/// kernel instead of unwinding each (weft-run does this). A host that goes on
/// running must still call `weft_instance_wait` (or `weft_instance_delete`)
/// before it relies on the guest threads having stopped.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; the outcome's errors as
/// `weft_instance_run`'s.
/// **Thread safety**: callable from any thread, concurrently with run/wait.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_outcome(
    instance: *const weft_instance_t,
    decided: *mut bool,
    exit_code: *mut i32,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(decided, "decided")?;
        check_out(exit_code, "exit_code")?;
        // SAFETY: both checked non-NULL above.
        unsafe { report(inst.instance.outcome(), decided, "decided", exit_code) }
    })
}

/// Ends the program as interrupted (unless it already ended): running wasm
/// stops at its next stop check, blocked WASI calls wake, later host calls trap.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: callable from any thread, concurrently with run/wait.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_interrupt(
    instance: *const weft_instance_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        unsafe { try_ref(instance, "instance") }?
            .instance
            .interrupt();
        Ok(())
    })
}

/// Thread statistics: threads spawned so far, most alive at once, alive now
/// (the main thread is not counted). Any out-pointer may be NULL to skip it.
///
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT` (`instance`).
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_stats(
    instance: *const weft_instance_t,
    spawned: *mut u64,
    peak_live: *mut u32,
    live: *mut u32,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let s = unsafe { try_ref(instance, "instance") }?.instance.stats();
        // SAFETY: each pointer is NULL (skipped) or writable.
        unsafe {
            if let Some(p) = spawned.as_mut() {
                *p = s.spawned;
            }
            if let Some(p) = peak_live.as_mut() {
                *p = s.peak_live;
            }
            if let Some(p) = live.as_mut() {
                *p = s.live;
            }
        }
        Ok(())
    })
}

/// Initializes a reactor: calls its `_initialize` export if it has one.
///
/// **Errors**: as `weft_instance_call`.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_initialize(
    instance: *mut weft_instance_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        unsafe { try_ref(instance, "instance") }?
            .instance
            .initialize()
    })
}

/// Calls exported function `name` on the calling thread, in the main
/// thread's instance (for reactors; not after `weft_instance_start`).
/// Threads it spawns keep running after it returns. A host function that
/// fails during the call ends the program as a trap of the main thread
/// (thread id 0), as a trap in the guest would.
///
/// **Ownership**: `name` and `args` are borrowed for the call; `nresults`
/// values are written to `results`, which must hold exactly as many values as
/// the function returns.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_NOT_FOUND`;
/// `WEFT_ERROR_INVALID_ARGUMENT` (wrong count or kinds); `WEFT_ERROR_TRAP`;
/// `WEFT_ERROR_EXITED` (the guest called `proc_exit`; see
/// `weft_error_exit_code`); `WEFT_ERROR_INTERRUPTED`/`WEFT_ERROR_TIMED_OUT`;
/// after the program ended, every call fails with the error that ended it;
/// `WEFT_ERROR_STATE` when called from a host function of this same
/// instance on the thread that is inside `weft_instance_call` (re-entering
/// the instance from its own callback), and after `weft_instance_start`.
/// **Thread safety**: calls from several threads are serialised; do not call
/// `weft_instance_wait`/`weft_instance_run` on this instance from inside
/// its own host functions (they would wait for themselves).
#[no_mangle]
pub unsafe extern "C" fn weft_instance_call(
    instance: *mut weft_instance_t,
    name: *const c_char,
    name_len: usize,
    args: *const weft_val_t,
    nargs: usize,
    results: *mut weft_val_t,
    nresults: usize,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY (all): pointers per the documented contract.
        let inst = unsafe { try_ref(instance, "instance") }?;
        let name = unsafe { utf8(name, name_len, "name") }?;
        let args = unsafe { slice(args, nargs, "args") }?
            .iter()
            .map(|v| v.to_val())
            .collect::<Result<Vec<_>, _>>()?;
        if nresults > 0 && results.is_null() {
            return Err(null("results"));
        }
        let out = inst.instance.call(name, &args)?;
        if out.len() != nresults {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "\"{name}\" returned {} values, but `nresults` is {nresults}",
                    out.len()
                ),
            ));
        }
        for (i, v) in out.iter().enumerate() {
            // SAFETY: `results` holds `nresults` writable values (checked above).
            unsafe { results.add(i).write(weft_val_t::from_val(v)?) };
        }
        Ok(())
    })
}

fn captured(
    instance: *const weft_instance_t,
    data: *mut *mut u8,
    len: *mut usize,
    read: impl FnOnce(&Instance) -> Vec<u8>,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(data, "data")?;
        check_out(len, "len")?;
        // SAFETY: both checked non-NULL above.
        unsafe { write_bytes(data, len, read(&inst.instance)) };
        Ok(())
    })
}

/// Copies everything the guest wrote to stdout so far (with
/// `WEFT_STDIO_CAPTURE`; empty otherwise).
///
/// **Ownership**: `*data` (`*len` bytes, not NUL-terminated) is owned by the
/// caller; free it with `weft_bytes_free(*data, *len)`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: callable from any thread, also while the program runs.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_stdout(
    instance: *const weft_instance_t,
    data: *mut *mut u8,
    len: *mut usize,
) -> *mut weft_error_t {
    captured(instance, data, len, |i| i.wasi().captured_stdout())
}

/// Like `weft_instance_stdout`, for stderr.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_stderr(
    instance: *const weft_instance_t,
    data: *mut *mut u8,
    len: *mut usize,
) -> *mut weft_error_t {
    captured(instance, data, len, |i| i.wasi().captured_stderr())
}

/// How many data races the detector has found in this run so far (0 when
/// the engine's configuration did not turn `weft_config_set_detect_races`
/// on, or for NULL). Each pair of code places is reported once.
///
/// **Thread safety**: callable from any thread, also while the program runs.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_race_count(instance: *const weft_instance_t) -> usize {
    guard_value(0, || {
        // SAFETY: NULL or a live instance.
        unsafe { get(instance) }.map_or(0, |i| i.instance.races().len())
    })
}

/// Bytes of the race detector's shadow state so far: its memory overhead,
/// besides the guest memory itself (0 without detection, or for NULL).
///
/// **Thread safety**: callable from any thread, also while the program runs.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_race_shadow_bytes(
    instance: *const weft_instance_t,
) -> usize {
    guard_value(0, || {
        // SAFETY: NULL or a live instance.
        unsafe { get(instance) }.map_or(0, |i| i.instance.race_shadow_bytes())
    })
}

/// The text of data race `index` (from 0, in the order found): the
/// address and size (and the variable there, when the module's DWARF names
/// one), both accesses (read or write, thread, function and code offset in
/// the module as given) and the current access's wasm backtrace, as
/// weft-run prints it.
///
/// **Ownership**: `*data` (`*len` bytes of UTF-8, not NUL-terminated) is
/// owned by the caller; free it with `weft_bytes_free(*data, *len)`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_INVALID_ARGUMENT`
/// when `index` is not below `weft_instance_race_count`.
/// **Thread safety**: callable from any thread, also while the program runs.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_race_report(
    instance: *const weft_instance_t,
    index: usize,
    data: *mut *mut u8,
    len: *mut usize,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(data, "data")?;
        check_out(len, "len")?;
        let races = inst.instance.races();
        let report = races.get(index).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("no race {index}: {} found", races.len()),
            )
        })?;
        // SAFETY: both checked non-NULL above.
        unsafe { write_bytes(data, len, report.to_string().into_bytes()) };
        Ok(())
    })
}

/// Frees bytes returned by `weft_instance_stdout`/`weft_instance_stderr`
/// or `weft_module_serialize`.
/// `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `data`; `len` must be the length returned with it.
#[no_mangle]
pub unsafe extern "C" fn weft_bytes_free(data: *mut u8, len: usize) {
    // SAFETY: NULL, or bytes weft handed out with this length.
    unsafe { free_bytes(data, len) }
}

/// A snapshot of every live guest thread: TID, OS thread id and name,
/// state (running wasm, in a WASI call, parked in `atomic.wait`, in a host
/// function, starting, ending, idle), CPU time and time in the state. No
/// backtraces (see `weft_instance_dump`). Cheap (no thread is disturbed;
/// about a microsecond per thread) and callable while the program runs.
///
/// **Ownership**: on success `*list_out` is owned by the caller; free it
/// with `weft_thread_list_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: callable from any thread at any time, also from a
/// host callback.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_threads(
    instance: *const weft_instance_t,
    list_out: *mut *mut weft_thread_list_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(list_out, "list_out")?;
        let list = to_boxed(weft_thread_list_t::new(inst.instance.threads()));
        // SAFETY: checked non-NULL above.
        unsafe { write_out(list_out, list, "list_out") }
    })
}

/// A thread dump: the snapshot of `weft_instance_threads` plus each
/// thread's wasm backtrace (`weft_thread_list_backtrace`) and a text
/// rendering like the JVM's (`weft_thread_list_text`). Parked threads and
/// threads in WASI or host calls give the frames at their call site.
/// While the program runs, threads running wasm code are listed with their
/// state and no backtrace, unless the engine was made with
/// `weft_config_set_precise_dumps`: then they answer at their next epoch
/// check and continue untouched. The call waits at most 100 ms for answers:
/// a thread that has not answered by then (e.g. blocked in a long host
/// function or a WASI sleep) is listed with its state and no backtrace.
///
/// Once the program has ended (after `weft_instance_interrupt`, a timeout,
/// an exit or a trap), the dump lists every thread as the end stopped it,
/// with the frames of the trap that stopped it: threads that were running
/// wasm code too, whatever the engine's checks. It waits at most 100 ms for
/// the threads to stop; one that has not (inside a host function that has
/// not returned) is listed with its state and no backtrace.
///
/// **Ownership**: on success `*list_out` is owned by the caller; free it
/// with `weft_thread_list_delete`.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`.
/// **Thread safety**: callable from any host thread at any time (not from
/// a host callback: the calling guest thread could not answer).
#[no_mangle]
pub unsafe extern "C" fn weft_instance_dump(
    instance: *const weft_instance_t,
    list_out: *mut *mut weft_thread_list_t,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(list_out, "list_out")?;
        let list = to_boxed(weft_thread_list_t::new(inst.instance.dump()));
        // SAFETY: checked non-NULL above.
        unsafe { write_out(list_out, list, "list_out") }
    })
}

/// Writes a file descriptor that becomes readable (`POLLIN`) once the
/// program's outcome is decided (it exited, trapped, deadlocked, was
/// interrupted or timed out), for waiting in `poll`/`epoll`/libuv/asyncio
/// instead of a thread blocked in `weft_instance_wait`. Once readable it
/// stays readable; then `weft_instance_wait` returns the outcome after the
/// other threads unwind (typically well under a millisecond, at most about
/// 250 ms). The same descriptor is returned on every call.
///
/// **Ownership**: the descriptor belongs to the instance and stays valid
/// until `weft_instance_delete`; do not read from, write to or close it.
/// **Errors**: `WEFT_ERROR_NULL_ARGUMENT`; `WEFT_ERROR_IO` if the kernel
/// refuses a new descriptor.
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_completion_fd(
    instance: *const weft_instance_t,
    fd_out: *mut std::ffi::c_int,
) -> *mut weft_error_t {
    guard(|| {
        // SAFETY: NULL or a live instance.
        let inst = unsafe { try_ref(instance, "instance") }?;
        check_out(fd_out, "fd_out")?;
        let fd = inst.instance.completion_fd()?;
        // SAFETY: checked non-NULL above.
        unsafe { write_out(fd_out, fd, "fd_out") }
    })
}

/// The base address of the program's linear memory (the shared memory for
/// threaded programs), for a host that fills in or reads guest data outside
/// callbacks, e.g. before calling a reactor export with pointer arguments.
/// NULL if the program has no memory, or (non-shared memory only) while a
/// call into the instance is running. A shared memory never moves, so the
/// pointer stays valid until `weft_instance_delete`; a non-shared memory may
/// move when it grows, so fetch it again after every call.
///
/// **Caveat**: other guest threads may read and write the memory
/// concurrently; synchronise with them as the guest's own protocol says
/// (e.g. atomics on a flag), and treat every byte as untrusted.
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_memory_data(instance: *const weft_instance_t) -> *mut u8 {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live instance.
        unsafe { get(instance) }.map_or(std::ptr::null_mut(), |i| i.instance.memory().0)
    })
}

/// The current size in bytes of the memory `weft_instance_memory_data`
/// points at (0 if none). A shared memory only grows: bytes below a size
/// once returned stay valid.
///
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_instance_memory_size(instance: *const weft_instance_t) -> usize {
    guard_value(0, || {
        // SAFETY: NULL or a live instance.
        unsafe { get(instance) }.map_or(0, |i| i.instance.memory().1)
    })
}
