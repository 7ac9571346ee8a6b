//! The process-wide pool of OS threads that guest threads run on.
//!
//! OS threads are reused: when a guest thread ends, its OS thread drops every
//! reference to the program (store, instance, TID) and then parks in a small
//! process-wide pool, outside any program, named `weft-idle`. The next spawn
//! with the same stack size takes it and renames it `weft-thread-<tid>`.
//! Idle threads exit after [`IDLE_TIMEOUT`]; at most [`MAX_IDLE_THREADS`] park.
//!
//! This module knows nothing of programs: it runs jobs.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Most idle OS threads kept parked for reuse, across all programs.
pub const MAX_IDLE_THREADS: usize = 64;
/// How long an idle OS thread waits for a new guest thread before it exits.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// The name an idle pooled OS thread carries between guest threads.
const IDLE_NAME: &str = "weft-idle";

type Job = Box<dyn FnOnce() + Send + 'static>;

/// What a parked OS thread is handed.
enum Handoff {
    /// Run this guest thread under this OS thread name.
    Run(String, Job),
    /// Exit now (see [`release_idle_threads`]).
    Exit,
}

/// Where a parked OS thread receives its next guest thread.
struct Slot {
    job: Mutex<Option<Handoff>>,
    cond: Condvar,
}

/// A parked OS thread: belongs to no program and holds no program state.
struct Parked {
    stack_size: usize,
    slot: Arc<Slot>,
}

/// Idle OS threads, most recently parked last (reusing those keeps their
/// stacks warm). Bounded by [`MAX_IDLE_THREADS`].
static POOL: Mutex<Vec<Parked>> = Mutex::new(Vec::new());

fn pool() -> MutexGuard<'static, Vec<Parked>> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `job` on an OS thread named `name` with a `stack_size` stack: a parked
/// one if any has that stack size, otherwise a new one.
pub(crate) fn run_on_thread(name: String, stack_size: usize, job: Job) -> std::io::Result<()> {
    let parked = {
        let mut idle = pool();
        let found = idle.iter().rposition(|p| p.stack_size == stack_size);
        found.map(|i| idle.swap_remove(i))
    };
    if let Some(parked) = parked {
        // Out of the pool, the thread is ours: a worker that timed out and no
        // longer finds itself in the pool waits for this hand-off.
        *parked.slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(Handoff::Run(name, job));
        parked.slot.cond.notify_one();
        return Ok(());
    }
    std::thread::Builder::new()
        .name(name)
        .stack_size(stack_size)
        .spawn(move || worker(stack_size, job))
        .map(drop)
}

/// An OS thread's life: run a guest thread, park, run the next one handed
/// over, until it has been idle for [`IDLE_TIMEOUT`] or the pool is full.
fn worker(stack_size: usize, first: Job) {
    block_sigpipe();
    let slot = Arc::new(Slot {
        job: Mutex::new(None),
        cond: Condvar::new(),
    });
    let mut job = first;
    loop {
        // The job catches the guest's panics; this one is weft's own bug and
        // must not take a reusable thread's bookkeeping down with it.
        let _ = catch_unwind(AssertUnwindSafe(job));
        set_os_thread_name(IDLE_NAME);
        {
            let mut idle = pool();
            if idle.len() >= MAX_IDLE_THREADS {
                return;
            }
            idle.push(Parked {
                stack_size,
                slot: slot.clone(),
            });
        }
        job = match wait_for_job(&slot) {
            Some(next) => next,
            None => return,
        };
    }
}

/// Waits for a job, renames the thread for it and returns it; `None` once
/// idle for [`IDLE_TIMEOUT`] (having left the pool) or when told to exit.
fn wait_for_job(slot: &Arc<Slot>) -> Option<Job> {
    let deadline = Instant::now() + IDLE_TIMEOUT;
    let mut may_leave = true;
    let mut guard = slot.job.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match guard.take() {
            Some(Handoff::Run(name, job)) => {
                drop(guard);
                set_os_thread_name(&name);
                return Some(job);
            }
            Some(Handoff::Exit) => return None,
            None => {}
        }
        let now = Instant::now();
        if !may_leave {
            guard = slot.cond.wait(guard).unwrap_or_else(|e| e.into_inner());
        } else if now < deadline {
            guard = slot
                .cond
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        } else {
            drop(guard);
            let mut idle = pool();
            if let Some(i) = idle.iter().position(|p| Arc::ptr_eq(&p.slot, slot)) {
                idle.swap_remove(i);
                return None;
            }
            drop(idle);
            // A spawn took this thread out of the pool: its hand-off is on
            // the way (it never gives up on a thread it took).
            may_leave = false;
            guard = slot.job.lock().unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Tells every parked OS thread to exit now instead of after [`IDLE_TIMEOUT`]
/// (for hosts about to unload weft or counting their threads). Returns how
/// many were told; they exit asynchronously, within microseconds.
pub fn release_idle_threads() -> usize {
    let parked = std::mem::take(&mut *pool());
    for p in &parked {
        *p.slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(Handoff::Exit);
        p.slot.cond.notify_one();
    }
    parked.len()
}

/// Blocks `SIGPIPE` on the calling thread, so a guest writing to a pipe or
/// socket whose reader has gone gets `EPIPE` instead of killing the host
/// process (the signal is thread-directed and discarded when the thread exits).
fn block_sigpipe() {
    // SAFETY: builds a signal set on the stack and changes only this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Renames the calling OS thread (as seen in `top -H`, `/proc/*/task/*/comm`
/// and debuggers); Linux keeps the first 15 bytes.
fn set_os_thread_name(name: &str) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut buf = [0u8; 16];
        let n = name.len().min(15);
        buf[..n].copy_from_slice(&name.as_bytes()[..n]);
        // SAFETY: `buf` is NUL-terminated and outlives the call; PR_SET_NAME
        // only reads it and renames the calling thread.
        unsafe {
            libc::prctl(libc::PR_SET_NAME, buf.as_ptr() as libc::c_ulong, 0, 0, 0);
        }
    }
    #[cfg(target_os = "macos")]
    {
        if let Ok(c) = std::ffi::CString::new(name) {
            // SAFETY: `c` is a valid C string; macOS renames the calling thread.
            unsafe {
                libc::pthread_setname_np(c.as_ptr());
            }
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
    let _ = name;
}
