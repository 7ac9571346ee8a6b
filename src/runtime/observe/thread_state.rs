//! What one guest thread is doing, kept in a few atomics that the thread
//! itself updates at every WASI call, host call and wait (entry and exit)
//! and that any host thread can read at any time: the state word behind
//! [`ThreadState`], plus the thread's OS identity and CPU clock.
//!
//! Updating the state costs two relaxed stores and a read of the coarse
//! monotonic clock (a few nanoseconds); reading it takes no lock the
//! guest thread ever waits for.

use std::ffi::{c_char, CStr};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// What a guest thread is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadState {
    /// Spawned; its instance is being created or `wasi_thread_start` is
    /// about to run.
    Starting,
    /// Running wasm code.
    Running,
    /// Inside WASI function `name` (or `thread-spawn`).
    WasiCall(&'static str),
    /// Inside the embedder's host function `module.name`.
    HostCall(String),
    /// Parked in `memory.atomic.wait32/64` on `address`, with or without a timeout.
    Parked {
        /// The effective address waited on.
        address: u64,
        /// Whether the wait has a timeout.
        timed: bool,
    },
    /// Its wasm has returned; the thread is letting go of the program.
    Ending,
    /// The main thread of an instance that is not running wasm: not yet
    /// started, or a reactor between calls.
    Idle,
}

impl fmt::Display for ThreadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadState::Starting => f.write_str("starting"),
            ThreadState::Running => f.write_str("running wasm"),
            ThreadState::WasiCall(name) => write!(f, "in WASI call {name}"),
            ThreadState::HostCall(name) => write!(f, "in host function {name}"),
            ThreadState::Parked { address, timed } => write!(
                f,
                "parked in atomic.wait on {address:#x} ({})",
                if *timed { "with timeout" } else { "no timeout" }
            ),
            ThreadState::Ending => f.write_str("ending"),
            ThreadState::Idle => f.write_str("idle (not in a call)"),
        }
    }
}

/// One guest thread as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    /// The guest TID (0 for the main thread).
    pub tid: u32,
    /// The kernel thread id of the OS thread running it (`None` for an idle
    /// main thread, which has no OS thread of its own).
    pub os_tid: Option<i64>,
    /// The OS thread's name (`weft-main`, `weft-thread-<tid>`, or the host
    /// thread calling a reactor export); empty when idle.
    pub os_name: String,
    /// What it is doing.
    pub state: ThreadState,
    /// CPU time this guest thread has used (on every OS thread it ran on).
    pub cpu_time: Duration,
    /// How long it has been in `state` (coarse clock: a few ms resolution).
    pub in_state: Duration,
    /// Its wasm backtrace, one frame per line, in a thread dump; `None` in a
    /// plain snapshot, or when the thread did not answer in time.
    pub backtrace: Option<String>,
}

// The state word: kind in the low 8 bits, the "timed" flag in bit 8, and a
// payload (wait address or host function index) in the high 48 bits.
const STARTING: u64 = 0;
const RUNNING: u64 = 1;
const WASI: u64 = 2;
const HOST: u64 = 3;
const PARKED: u64 = 4;
const ENDING: u64 = 5;
const IDLE: u64 = 6;
const TIMED: u64 = 1 << 8;
const PAYLOAD_SHIFT: u32 = 16;

/// Where the OS side of a thread is recorded: set when a guest thread starts
/// on an OS thread (or a reactor call enters), cleared when it leaves.
#[derive(Default)]
struct Binding {
    os_tid: Option<i64>,
    os_name: String,
    /// The OS thread's CPU clock while bound.
    clock: Option<libc::clockid_t>,
    /// That clock's reading when it was bound.
    cpu_base: Duration,
    /// CPU time used on OS threads it has left.
    cpu_done: Duration,
}

/// The published state of one guest thread. Written only by the thread it
/// describes; read by anyone.
pub(crate) struct ThreadSlot {
    pub(crate) tid: u32,
    word: AtomicU64,
    /// The WASI function name while in [`WASI`] (a static C string).
    wasi_name: AtomicPtr<c_char>,
    /// Coarse monotonic time of the last state change, in nanoseconds.
    since: AtomicU64,
    binding: Mutex<Binding>,
    /// The last thread-dump request this thread answered (see `registry`).
    pub(crate) answered: AtomicU64,
    /// Backtrace taken on entry to a WASI call that may block for long
    /// (`poll_oneoff`, `sock_accept`, `sock_recv`), for dumps meanwhile.
    call_site: Mutex<Option<String>>,
    has_call_site: AtomicBool,
}

impl ThreadSlot {
    /// A slot for thread `tid`, starting in `Starting` (or `Idle` for a main thread).
    pub(crate) fn new(tid: u32, idle: bool) -> ThreadSlot {
        ThreadSlot {
            tid,
            word: AtomicU64::new(if idle { IDLE } else { STARTING }),
            wasi_name: AtomicPtr::new(std::ptr::null_mut()),
            since: AtomicU64::new(coarse_now()),
            binding: Mutex::new(Binding::default()),
            answered: AtomicU64::new(0),
            call_site: Mutex::new(None),
            has_call_site: AtomicBool::new(false),
        }
    }

    fn set(&self, word: u64) {
        self.word.store(word, Ordering::Release);
        self.since.store(coarse_now(), Ordering::Relaxed);
    }

    /// Back to running wasm (after a call or wait returned, or at start).
    pub(crate) fn running(&self) {
        self.set(RUNNING);
    }

    /// Entering WASI function `name`.
    pub(crate) fn enter_wasi(&self, name: &'static CStr) {
        self.wasi_name
            .store(name.as_ptr().cast_mut(), Ordering::Relaxed);
        self.set(WASI);
    }

    /// Entering the embedder's host function number `index` (of the run's list).
    pub(crate) fn enter_host(&self, index: usize) {
        self.set(HOST | (index as u64) << PAYLOAD_SHIFT);
    }

    /// Parking on `address` (below 2^48: wasm32 addresses plus offsets are).
    pub(crate) fn enter_park(&self, address: u64, timed: bool) {
        let timed = if timed { TIMED } else { 0 };
        self.set(PARKED | timed | address << PAYLOAD_SHIFT);
    }

    /// Records (or, with `None`, clears) the frames of the blocking call
    /// the thread is in.
    pub(crate) fn set_call_site(&self, frames: Option<String>) {
        self.has_call_site
            .store(frames.is_some(), Ordering::Relaxed);
        *self.call_site.lock().unwrap_or_else(|e| e.into_inner()) = frames;
    }

    /// Clears the recorded call site, if any (one relaxed load otherwise).
    pub(crate) fn clear_call_site(&self) {
        if self.has_call_site.load(Ordering::Relaxed) {
            self.set_call_site(None);
        }
    }

    /// The frames recorded by [`set_call_site`](Self::set_call_site).
    pub(crate) fn call_site(&self) -> Option<String> {
        self.call_site
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The thread's wasm has returned.
    pub(crate) fn ending(&self) {
        self.set(ENDING);
    }

    /// The main thread left its call (reactor) or has not started.
    pub(crate) fn idle(&self) {
        self.set(IDLE);
    }

    /// Records that the calling OS thread, named `name`, now runs this guest thread.
    pub(crate) fn bind_current(&self, name: Option<&str>) {
        let clock = current_cpu_clock();
        let mut b = self.binding.lock().unwrap_or_else(|e| e.into_inner());
        b.os_tid = Some(current_os_tid());
        b.os_name = name.map_or_else(current_os_name, str::to_string);
        b.cpu_base = clock.map_or(Duration::ZERO, read_clock);
        b.clock = clock;
    }

    /// The calling OS thread stops running this guest thread.
    pub(crate) fn unbind(&self) {
        let mut b = self.binding.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(clock) = b.clock.take() {
            let used = read_clock(clock).saturating_sub(b.cpu_base);
            b.cpu_done += used;
        }
        b.os_tid = None;
        b.os_name.clear();
    }

    /// The thread as it is now; `host_names` resolves host function indices.
    pub(crate) fn snapshot(&self, host_names: &[String]) -> ThreadInfo {
        let word = self.word.load(Ordering::Acquire);
        let since = self.since.load(Ordering::Relaxed);
        let payload = word >> PAYLOAD_SHIFT;
        let state = match word & 0xff {
            STARTING => ThreadState::Starting,
            RUNNING => ThreadState::Running,
            WASI => {
                let p = self.wasi_name.load(Ordering::Relaxed);
                let name = if p.is_null() {
                    "?"
                } else {
                    // SAFETY: only pointers of `&'static CStr`s are stored.
                    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
                };
                ThreadState::WasiCall(name)
            }
            HOST => ThreadState::HostCall(
                host_names
                    .get(payload as usize)
                    .cloned()
                    .unwrap_or_else(|| "?".into()),
            ),
            PARKED => ThreadState::Parked {
                address: payload,
                timed: word & TIMED != 0,
            },
            ENDING => ThreadState::Ending,
            _ => ThreadState::Idle,
        };
        let b = self.binding.lock().unwrap_or_else(|e| e.into_inner());
        let live_cpu = b
            .clock
            .map_or(Duration::ZERO, |c| read_clock(c).saturating_sub(b.cpu_base));
        ThreadInfo {
            tid: self.tid,
            os_tid: b.os_tid,
            os_name: b.os_name.clone(),
            state,
            cpu_time: b.cpu_done + live_cpu,
            in_state: Duration::from_nanos(coarse_now().saturating_sub(since)),
            backtrace: None,
        }
    }
}

/// The coarse monotonic clock in nanoseconds (a read of the vDSO page on
/// Linux; resolution of a few milliseconds).
fn coarse_now() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
    let d = read_clock(CLOCK);
    d.as_nanos() as u64
}

fn read_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; an invalid clock only fails.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The calling OS thread's CPU-time clock, readable from any thread while it lives.
fn current_cpu_clock() -> Option<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self()` is the calling thread; `clock` is a valid out-pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    (rc == 0).then_some(clock)
}

fn current_os_tid() -> i64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: gettid has no preconditions.
        i64::from(unsafe { libc::gettid() })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() as i64 }
    }
}

fn current_os_name() -> String {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut buf = [0u8; 16];
        // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL-terminated, into `buf`.
        let rc = unsafe {
            libc::prctl(
                libc::PR_GET_NAME,
                buf.as_mut_ptr() as libc::c_ulong,
                0,
                0,
                0,
            )
        };
        if rc == 0 {
            let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
    }
    std::thread::current().name().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_the_word() {
        let slot = ThreadSlot::new(7, false);
        let names = vec!["env.f".to_string(), "env.g".to_string()];
        assert_eq!(slot.snapshot(&names).state, ThreadState::Starting);
        slot.running();
        assert_eq!(slot.snapshot(&names).state, ThreadState::Running);
        slot.enter_wasi(c"fd_read");
        assert_eq!(
            slot.snapshot(&names).state,
            ThreadState::WasiCall("fd_read")
        );
        slot.enter_host(1);
        assert_eq!(
            slot.snapshot(&names).state,
            ThreadState::HostCall("env.g".into())
        );
        slot.enter_park(0x1_0000_0008, true);
        assert_eq!(
            slot.snapshot(&names).state,
            ThreadState::Parked {
                address: 0x1_0000_0008,
                timed: true
            }
        );
        slot.enter_park(16, false);
        assert_eq!(
            slot.snapshot(&names).state,
            ThreadState::Parked {
                address: 16,
                timed: false
            }
        );
        slot.ending();
        assert_eq!(slot.snapshot(&names).state, ThreadState::Ending);
    }

    #[test]
    fn cpu_time_accumulates_across_bindings() {
        let slot = ThreadSlot::new(1, false);
        slot.bind_current(Some("t"));
        // Spin until the slot has seen 5 ms of CPU (bounded: a loaded
        // machine may give this thread little of it).
        let start = std::time::Instant::now();
        while slot.snapshot(&[]).cpu_time < Duration::from_millis(5)
            && start.elapsed() < Duration::from_secs(20)
        {
            std::hint::black_box(0u64);
        }
        let info = slot.snapshot(&[]);
        assert_eq!(info.os_name, "t");
        assert!(info.os_tid.is_some());
        assert!(info.cpu_time >= Duration::from_millis(5), "{info:?}");
        slot.unbind();
        let after = slot.snapshot(&[]);
        assert!(after.os_tid.is_none());
        assert!(after.cpu_time >= info.cpu_time);
    }
}
