//! `weft_thread_list_t`: a snapshot or dump of a program's threads
//! (`weft_instance_threads`, `weft_instance_dump`).

use std::ffi::{c_char, CString};

use crate::ffi::boundary::c_string;
use crate::ffi::handle::{free_box, get, Boxed, Handle};
use crate::runtime::{ThreadDump, ThreadInfo, ThreadState};

/// Starting: spawned, its `wasi_thread_start` has not begun yet.
pub const WEFT_THREAD_STARTING: u32 = 0;
/// Running wasm code.
pub const WEFT_THREAD_RUNNING: u32 = 1;
/// Inside a WASI function (`weft_thread_list_call_name` names it).
pub const WEFT_THREAD_WASI_CALL: u32 = 2;
/// Inside an embedder host function (`weft_thread_list_call_name`: `module.name`).
pub const WEFT_THREAD_HOST_CALL: u32 = 3;
/// Parked in `memory.atomic.wait32/64` (`weft_thread_list_wait` tells where).
pub const WEFT_THREAD_PARKED: u32 = 4;
/// Its wasm returned; it is letting go of the program.
pub const WEFT_THREAD_ENDING: u32 = 5;
/// The main thread when not running wasm: not started yet, or a reactor between calls.
pub const WEFT_THREAD_IDLE: u32 = 6;

struct Entry {
    info: ThreadInfo,
    os_name: CString,
    call_name: CString,
    backtrace: Option<CString>,
}

/// The threads of a program at one moment, by TID, each with its state,
/// times and (in a dump) its wasm backtrace, plus a text rendering.
/// Immutable once made: every accessor is safe from any thread.
pub struct weft_thread_list_t {
    entries: Vec<Entry>,
    text: CString,
}

impl Handle for weft_thread_list_t {
    type Ownership = Boxed;
}

/// The `WEFT_THREAD_*` value of a runtime thread state: the one place the
/// C numbers are given to the states (a new state does not compile until it
/// has one).
fn state_code(state: &ThreadState) -> u32 {
    match state {
        ThreadState::Starting => WEFT_THREAD_STARTING,
        ThreadState::Running => WEFT_THREAD_RUNNING,
        ThreadState::WasiCall(_) => WEFT_THREAD_WASI_CALL,
        ThreadState::HostCall(_) => WEFT_THREAD_HOST_CALL,
        ThreadState::Parked { .. } => WEFT_THREAD_PARKED,
        ThreadState::Ending => WEFT_THREAD_ENDING,
        ThreadState::Idle => WEFT_THREAD_IDLE,
    }
}

impl weft_thread_list_t {
    pub(crate) fn new(dump: ThreadDump) -> weft_thread_list_t {
        let text = c_string(&dump.to_string());
        let entries = dump
            .threads
            .into_iter()
            .map(|info| Entry {
                os_name: c_string(&info.os_name),
                call_name: c_string(match &info.state {
                    ThreadState::WasiCall(n) => n,
                    ThreadState::HostCall(n) => n.as_str(),
                    _ => "",
                }),
                backtrace: info.backtrace.as_deref().map(c_string),
                info,
            })
            .collect();
        weft_thread_list_t { entries, text }
    }
}

fn entry<'a>(list: *const weft_thread_list_t, i: usize) -> Option<&'a Entry> {
    // SAFETY: `list` is NULL or a live list per the contract; the borrow
    // does not outlive the accessor call that made it.
    unsafe { get(list) }.and_then(|l| l.entries.get(i))
}

/// Frees a thread list. `NULL` is a no-op.
///
/// **Ownership**: takes ownership of `list`; every string borrowed from it
/// becomes invalid.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_delete(list: *mut weft_thread_list_t) {
    // SAFETY: NULL or from `weft_instance_threads`/`weft_instance_dump`.
    unsafe { free_box(list) }
}

/// How many threads the list holds (0 for NULL). Entries are indexed
/// `0..len`, ordered by TID; the main thread (TID 0) comes first.
///
/// **Thread safety**: read-only, like every accessor below.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_len(list: *const weft_thread_list_t) -> usize {
    // SAFETY: NULL or a live list.
    unsafe { get(list) }.map_or(0, |l| l.entries.len())
}

/// The TID of entry `i` (0 = the main thread). 0 if `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_tid(list: *const weft_thread_list_t, i: usize) -> u32 {
    entry(list, i).map_or(0, |e| e.info.tid)
}

/// The kernel thread id (Linux `gettid`) of the OS thread running entry `i`,
/// or -1 when it has none (an idle main thread) or `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_os_tid(list: *const weft_thread_list_t, i: usize) -> i64 {
    entry(list, i).and_then(|e| e.info.os_tid).unwrap_or(-1)
}

/// The OS thread's name (`weft-main`, `weft-thread-<tid>`, or the host
/// thread calling a reactor export); `""` when idle or out of range.
///
/// **Ownership**: borrowed from `list`; valid until `weft_thread_list_delete`.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_os_name(
    list: *const weft_thread_list_t,
    i: usize,
) -> *const c_char {
    entry(list, i).map_or(c"".as_ptr(), |e| e.os_name.as_ptr())
}

/// The state of entry `i`, one of `WEFT_THREAD_*`; `WEFT_THREAD_IDLE` if
/// `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_state(list: *const weft_thread_list_t, i: usize) -> u32 {
    entry(list, i).map_or(WEFT_THREAD_IDLE, |e| state_code(&e.info.state))
}

/// For `WEFT_THREAD_WASI_CALL` the WASI function's name (e.g. `poll_oneoff`),
/// for `WEFT_THREAD_HOST_CALL` the host function's `module.name`; `""` otherwise.
///
/// **Ownership**: borrowed from `list`; valid until `weft_thread_list_delete`.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_call_name(
    list: *const weft_thread_list_t,
    i: usize,
) -> *const c_char {
    entry(list, i).map_or(c"".as_ptr(), |e| e.call_name.as_ptr())
}

/// For `WEFT_THREAD_PARKED`: writes the address waited on and whether the
/// wait has a timeout, and returns true. Otherwise returns false and writes
/// nothing. Either out-pointer may be NULL to skip it.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_wait(
    list: *const weft_thread_list_t,
    i: usize,
    address_out: *mut u64,
    timed_out: *mut bool,
) -> bool {
    let Some(ThreadState::Parked { address, timed }) = entry(list, i).map(|e| &e.info.state) else {
        return false;
    };
    // SAFETY: each pointer is NULL (skipped) or writable per the contract.
    unsafe {
        if let Some(p) = address_out.as_mut() {
            *p = *address;
        }
        if let Some(p) = timed_out.as_mut() {
            *p = *timed;
        }
    }
    true
}

/// CPU time entry `i`'s guest thread has used, in nanoseconds (0 if out of range).
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_cpu_time_ns(
    list: *const weft_thread_list_t,
    i: usize,
) -> u64 {
    entry(list, i).map_or(0, |e| e.info.cpu_time.as_nanos() as u64)
}

/// How long entry `i` had been in its state when the list was made, in
/// nanoseconds (coarse clock: a few milliseconds resolution).
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_state_time_ns(
    list: *const weft_thread_list_t,
    i: usize,
) -> u64 {
    entry(list, i).map_or(0, |e| e.info.in_state.as_nanos() as u64)
}

/// Entry `i`'s wasm backtrace, one frame per line as in trap messages
/// (`index: offset - module!function`), or NULL: in a plain snapshot
/// (`weft_instance_threads`), for an idle or ending thread, for a thread
/// that did not answer the dump (or, in a dump taken after the end, did not
/// stop) in time, or if `i` is out of range. An empty string means the
/// thread answered with no wasm frames.
///
/// **Ownership**: borrowed from `list`; valid until `weft_thread_list_delete`.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_backtrace(
    list: *const weft_thread_list_t,
    i: usize,
) -> *const c_char {
    entry(list, i)
        .and_then(|e| e.backtrace.as_ref())
        .map_or(std::ptr::null(), |b| b.as_ptr())
}

/// The whole list as text, like a JVM thread dump: one paragraph per thread
/// with its name, TID, OS thread id, CPU time, state and time in it, and
/// its backtrace. `""` for NULL.
///
/// **Ownership**: borrowed from `list`; valid until `weft_thread_list_delete`.
#[no_mangle]
pub unsafe extern "C" fn weft_thread_list_text(list: *const weft_thread_list_t) -> *const c_char {
    // SAFETY: NULL or a live list.
    unsafe { get(list) }.map_or(c"".as_ptr(), |l| l.text.as_ptr())
}
