//! The process-wide pool of OS threads that guest threads run on.
//!
//! OS threads are reused: when a guest thread ends, its OS thread drops every
//! reference to the program (store, instance, TID) and then parks in a small
//! process-wide pool, outside any program, named `weft-idle`. The next spawn
//! with the same stack size takes it and renames it `weft-thread-<tid>`.
//! Idle threads exit after [`IDLE_TIMEOUT`]; at most [`MAX_IDLE_THREADS`] park.
//! They run as `SCHED_BATCH` on Linux: a guest thread that wakes does not
//! preempt a running one (see `run_as_batch`).
//!
//! Besides the pool, weft starts short-lived helper threads (a program's
//! timeout watchdog, the stopper that keeps stopping an ended program's
//! threads). Every OS thread weft starts, pooled or not, is registered here,
//! so that `release_idle_threads` can *join* every one that no longer
//! belongs to a running program: after it returns, no such thread runs code
//! of the library, and a host can unload it.
//!
//! This module knows nothing of programs: it runs jobs.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
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
    /// Exit now (see `release_idle_threads`).
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
    /// The thread's [`Entry::idle`].
    idle: Arc<AtomicBool>,
}

/// Every OS thread weft started that has not exited yet.
struct Registry {
    /// Idle OS threads, most recently parked last (reusing those keeps their
    /// stacks warm). Bounded by [`MAX_IDLE_THREADS`].
    parked: Vec<Parked>,
    threads: BTreeMap<u64, Entry>,
    next_id: u64,
    /// How many `release_idle_threads` calls are in progress: while any
    /// is, a thread that leaves its program exits instead of parking.
    draining: usize,
}

struct Entry {
    /// Taken by `release_idle_threads` to join the thread; `None` too while
    /// `starting`.
    handle: Option<JoinHandle<()>>,
    /// The thread is being created: its handle is not stored yet.
    starting: bool,
    /// Whether the thread is done with its program (parked, between two
    /// jobs, or a helper that holds no program): then releasing joins it.
    /// The thread sets it itself without the registry's lock (see
    /// [`leave_program`]); it is cleared under the lock.
    idle: Arc<AtomicBool>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    parked: Vec::new(),
    threads: BTreeMap::new(),
    next_id: 1,
    draining: 0,
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The calling thread's id in the registry (0: not started by weft).
    static THREAD_ID: Cell<u64> = const { Cell::new(0) };
    /// The calling thread's [`Entry::idle`] (none: not started by weft).
    static IDLE: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Starts a registered OS thread running `body`; `idle`: whether it
/// belongs to no program from the start.
///
/// The registry is not locked while the OS creates the thread (`mmap` of
/// its stack, `clone`). Every spawn and every guest thread that ends needs
/// the registry: a thread preempted there while holding the lock would make
/// them all wait until the scheduler gets back to it, which, with many
/// threads running wasm, takes a round of all of them (issue 21: a program
/// whose threads spawn spinning threads took up to 40 s to reach its
/// `proc_exit`). The entry exists before the thread does, so the thread
/// always finds it; its handle is stored right after.
fn start_thread(
    name: String,
    stack_size: Option<usize>,
    idle: bool,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    let idle = Arc::new(AtomicBool::new(idle));
    let id = {
        let mut reg = registry();
        let id = reg.next_id;
        reg.next_id += 1;
        reg.threads.insert(
            id,
            Entry {
                handle: None,
                starting: true,
                idle: idle.clone(),
            },
        );
        id
    };
    let mut builder = std::thread::Builder::new().name(name);
    if let Some(size) = stack_size {
        builder = builder.stack_size(size);
    }
    let spawned = builder.spawn(move || {
        THREAD_ID.with(|t| t.set(id));
        IDLE.with(|i| *i.borrow_mut() = Some(idle));
        body();
        unregister(id);
    });
    let mut reg = registry();
    match spawned {
        Ok(handle) => {
            // The thread cannot have removed its entry: it waits for
            // `starting` to clear (see `unregister`).
            if let Some(entry) = reg.threads.get_mut(&id) {
                entry.handle = Some(handle);
                entry.starting = false;
            }
            Ok(())
        }
        Err(e) => {
            reg.threads.remove(&id);
            Err(e)
        }
    }
}

/// The last registry access of an exiting thread: it detaches itself,
/// unless a `release_idle_threads` took its handle to join it. A thread that
/// ends before its creator stored its handle waits for that first (rare: a
/// helper or a worker with a very short job), so that a release in progress
/// joins it instead of missing it.
fn unregister(id: u64) {
    loop {
        let mut reg = registry();
        match reg.threads.get(&id) {
            Some(entry) if entry.starting => {}
            _ => {
                // Dropping our own handle detaches this thread.
                let entry = reg.threads.remove(&id);
                drop(reg);
                drop(entry);
                return;
            }
        }
        drop(reg);
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Marks the calling thread as done with its program: a guest thread calls
/// this right before it tells its program that it has ended, so that from
/// the moment the host can see the end, `release_idle_threads` waits for
/// this thread too.
///
/// Without the registry's lock: when a program ends, all its threads pass
/// here at once, while those not stopped yet may still be running wasm.
pub(crate) fn leave_program() {
    IDLE.with(|i| {
        if let Some(idle) = i.borrow().as_ref() {
            idle.store(true, Ordering::SeqCst);
        }
    });
}

/// Whether a `release_idle_threads` is in progress: helper threads that
/// wait in a loop check this and exit early.
pub(crate) fn draining() -> bool {
    registry().draining > 0
}

/// Runs `job` on a new, unpooled OS thread named `name` that belongs to no
/// program (a compilation worker, a program's stopper).
pub(crate) fn spawn_idle(name: &str, job: Job) -> std::io::Result<()> {
    start_thread(name.to_string(), None, true, job)
}

/// Runs `job` on a new, unpooled OS thread named `name` (a program's
/// helper). Like a guest thread, it calls [`leave_program`] before it lets go
/// of its program.
pub(crate) fn spawn_helper(name: &str, job: Job) -> std::io::Result<()> {
    start_thread(name.to_string(), None, false, job)
}

/// Runs `job` on an OS thread named `name` with a `stack_size` stack: a parked
/// one if any has that stack size, otherwise a new one.
pub(crate) fn run_on_thread(name: String, stack_size: usize, job: Job) -> std::io::Result<()> {
    let parked = {
        let mut reg = registry();
        let found = reg.parked.iter().rposition(|p| p.stack_size == stack_size);
        let parked = found.map(|i| reg.parked.swap_remove(i));
        if let Some(p) = &parked {
            // Busy from the hand-off on: releasing must not wait for it.
            p.idle.store(false, Ordering::SeqCst);
        }
        parked
    };
    if let Some(parked) = parked {
        // Out of the pool, the thread is ours: a worker that timed out and no
        // longer finds itself in the pool waits for this hand-off.
        *parked.slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(Handoff::Run(name, job));
        parked.slot.cond.notify_one();
        return Ok(());
    }
    start_thread(name, Some(stack_size), false, move || {
        worker(stack_size, job)
    })
}

/// An OS thread's life: run a guest thread, park, run the next one handed
/// over, until it has been idle for [`IDLE_TIMEOUT`], the pool is full, or
/// idle threads are being released.
fn worker(stack_size: usize, first: Job) {
    block_sigpipe();
    // Set by `start_thread`, which runs every worker.
    let idle = IDLE
        .with(|i| i.borrow().clone())
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
    let slot = Arc::new(Slot {
        job: Mutex::new(None),
        cond: Condvar::new(),
    });
    let mut job = first;
    loop {
        run_as_batch();
        // The job catches the guest's panics; this one is weft's own bug and
        // must not take a reusable thread's bookkeeping down with it.
        let _ = catch_unwind(AssertUnwindSafe(job));
        set_os_thread_name(IDLE_NAME);
        idle.store(true, Ordering::SeqCst);
        {
            let mut reg = registry();
            if reg.draining > 0 || reg.parked.len() >= MAX_IDLE_THREADS {
                return;
            }
            reg.parked.push(Parked {
                stack_size,
                slot: slot.clone(),
                idle: idle.clone(),
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
            let mut reg = registry();
            if let Some(i) = reg.parked.iter().position(|p| Arc::ptr_eq(&p.slot, slot)) {
                reg.parked.swap_remove(i);
                return None;
            }
            drop(reg);
            // A spawn took this thread out of the pool: its hand-off is on
            // the way (it never gives up on a thread it took).
            may_leave = false;
            guard = slot.job.lock().unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Makes every registered thread that belongs to no running program exit
/// (parked ones are told to, those between a job and the pool exit instead
/// of parking), and joins them. Called from a thread weft started (a host
/// function), it joins every other such thread but that one. Returns how
/// many threads were joined. See `compile_pool::release_idle_threads`.
pub(crate) fn join_idle_threads() -> usize {
    let me = THREAD_ID.with(Cell::get);
    let mut reg = registry();
    reg.draining += 1;
    for p in std::mem::take(&mut reg.parked) {
        *p.slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(Handoff::Exit);
        p.slot.cond.notify_one();
    }
    let mut joined = 0;
    loop {
        // The handles are taken under the lock that told the parked threads
        // to exit: one that exits unregisters itself, which drops a handle
        // still in the registry, and it would not be joined.
        let idle = |id: &u64, e: &Entry| e.idle.load(Ordering::SeqCst) && *id != me;
        let starting = reg.threads.iter().any(|(id, e)| idle(id, e) && e.starting);
        let handles: Vec<JoinHandle<()>> = reg
            .threads
            .iter_mut()
            .filter(|(id, e)| idle(id, e))
            .filter_map(|(_, e)| e.handle.take())
            .collect();
        drop(reg);
        let none = handles.is_empty();
        joined += handles.len();
        for h in handles {
            let _ = h.join();
        }
        if !starting {
            break;
        }
        if none {
            // An idle thread whose creator has not stored its handle yet
            // (it does so as soon as the OS has created the thread).
            std::thread::sleep(Duration::from_micros(50));
        }
        reg = registry();
    }
    registry().draining -= 1;
    joined
}

/// Makes the calling thread, which runs guest threads from now on,
/// `SCHED_BATCH` if it is `SCHED_OTHER` (it keeps its nice value; a thread
/// started under another policy keeps that policy).
///
/// Linux lets a woken `SCHED_OTHER` thread preempt the one running on its
/// CPU. Guest threads wake each other all the time: a spawn hands the new
/// guest thread to a parked OS thread, wasi-libc's locks are `atomic.wait`
/// and `notify`. With more runnable threads than CPUs, the woken thread then
/// takes the CPU of the thread that woke it, often inside a lock the guest
/// holds across the call (wasi-libc's `pthread_create` holds its thread list
/// lock across `thread-spawn`), and that thread gets it back only after a
/// round of all runnable threads. A main thread that spawned two threads
/// whose children spawned spinning threads took up to minutes to reach its
/// `proc_exit` (issue 21). `SCHED_BATCH` threads get the same share of CPU
/// but never preempt on wake-up: like a new thread, a woken guest thread
/// runs on an idle CPU at once, or when the running one's time slice ends.
/// The host's threads, and weft's own (the stopper, the watchdog), are not
/// guest threads and still preempt guest threads when they wake.
fn run_as_batch() {
    if BATCH.with(Cell::get) {
        return;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: reads, then sets, the calling thread's (pid 0) policy;
    // `param` is valid for the call.
    unsafe {
        if libc::sched_getscheduler(0) == libc::SCHED_OTHER {
            let param = libc::sched_param { sched_priority: 0 };
            if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) == 0 {
                BATCH.with(|b| b.set(true));
            }
        }
    }
}

thread_local! {
    /// Whether `run_as_batch` made this thread `SCHED_BATCH`.
    static BATCH: Cell<bool> = const { Cell::new(false) };
}

/// Makes the calling guest thread, whose program has ended, `SCHED_OTHER`
/// again until its next job (a no-op on other threads).
///
/// A stopped thread's way out (its store, the run's and the pool's locks)
/// must not wait behind threads still spinning in wasm: a `SCHED_BATCH`
/// thread woken when a lock it waits for is released does not preempt the
/// spinner on its CPU, and waits for the scheduler's next tick (4 ms here)
/// for every such hand-off; with 1,000 spinning threads the end took
/// 100-200 ms instead of about 10 (issue 21).
pub(crate) fn stop_batch() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if BATCH.with(|b| b.replace(false)) {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets the calling thread's (pid 0) policy; `param` is valid
        // for the call.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
    }
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
