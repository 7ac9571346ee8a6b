//! The state of one run: what every thread of a program shares (the
//! program, its shared memory, WASI context and parking lot, the decided
//! outcome and the live-thread count). What each of the runner's stores
//! holds is in `thread_data`.
//!
//! Everything else in the runtime builds on this module: the spawn context
//! (`threads`), the linker and the `Instance` use it; it uses none of them.
//!
//! [`Run`] is generic over the data `T` of the threads' stores: the runner
//! (`Instance`, and the C API on top of it) runs `Run<ThreadData>`, and
//! [`crate::embed`] runs `Run<T>` with the embedder's own `T`. Outcome,
//! TIDs, limits, stopping and the main thread's bookkeeping are the same
//! code for both; only making a store differs.

pub(crate) mod linker;
pub(crate) mod outcome;
pub(crate) mod spawn;
pub(crate) mod thread_data;
pub(crate) mod tids;
pub(crate) mod waits;

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use wasmtime::{InstancePre, SharedMemory, Store, UpdateDeadline};

use crate::runtime::config::Config;
use crate::runtime::engine::Interruption;
use crate::runtime::error::{Error, ErrorKind, Result, TrapInfo};
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::observe::registry::{self, answer_dump, ThreadRegistry, DUMP_TIMEOUT};
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::program::stop_checks;
use crate::runtime::program::ProgramInner;
use crate::runtime::run::outcome::{classify, Outcome, ThreadEnd};
use crate::runtime::run::tids::{TidPool, MAX_TID};
use crate::runtime::run::waits::parking_lot::ParkingLot;
use crate::runtime::sigpipe::SigpipeBlocked;
use crate::runtime::thread_pool;
use crate::wasi::{Stopped, WasiCtx};

/// The main thread's TID as seen by host functions.
pub const MAIN_TID: u32 = 0;

/// How long, after the outcome is decided, `wait` gives the other threads to
/// unwind before it returns anyway. Every thread weft controls unwinds within
/// about a millisecond (wasm via epoch interruption, WASI calls via the stop
/// signal, `memory.atomic.wait` via the load-time rewrite); only a thread
/// inside an embedder's host function that does not return, or parked in an
/// untimed wait of a module that was not rewritten (see
/// [`Program::from_module`](crate::runtime::Program::from_module)), can
/// outlast it.
pub const STOP_GRACE: Duration = Duration::from_millis(250);

/// Thread statistics of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Threads spawned so far (not counting the main thread).
    pub spawned: u64,
    /// Most spawned threads alive at once.
    pub peak_live: u32,
    /// Spawned threads alive now.
    pub live: u32,
}

/// State shared by every thread of one run; `T` is the data of the
/// threads' stores.
pub(crate) struct Run<T> {
    pub(crate) program: Arc<ProgramInner>,
    pub(crate) config: Config,
    /// The WASI context whose blocking calls the end of the program wakes.
    pub(crate) wasi: OnceLock<Arc<WasiCtx>>,
    /// The shared memory, when the run created it (the runner does; an
    /// embedder's memory is defined on their linker).
    pub(crate) memory: Option<SharedMemory>,
    /// The memory of the program's stop checks (`stop_checks`), if it has them.
    pub(crate) stop_memory: Option<SharedMemory>,
    /// Threads parked in a (rewritten) `memory.atomic.wait`.
    pub(crate) parking: ParkingLot,
    /// The live threads' states, the deadlock census and thread dumps.
    pub(crate) threads: Arc<ThreadRegistry>,
    /// Readable once the outcome is decided (made on first request).
    completion: OnceLock<Completion>,
    pre: OnceLock<InstancePre<T>>,
    /// This run itself, for the helper threads it starts (`keep_stopping`)
    /// and for counting who still holds it (`stop_and_join`).
    me: Weak<Run<T>>,
    /// Starts `keep_stopping` for this run (made where `T` is known to be
    /// `'static`, so that stopping works for every `Run<T>`).
    stopper: Box<dyn Fn() + Send + Sync>,
    ended: AtomicBool,
    spawned: AtomicU64,
    state: Mutex<State>,
    cond: Condvar,
}

struct State {
    outcome: Option<Outcome>,
    ended_at: Option<Instant>,
    tids: TidPool,
    live: u32,
    peak: u32,
    main_running: bool,
    /// The main instance is being instantiated (its start function may run).
    instantiating: bool,
}

impl State {
    /// Threads that may still run guest code: spawned ones, the main thread
    /// (running `_start` or a reactor call), the instantiating one.
    fn busy(&self) -> u32 {
        self.live + u32::from(self.main_running) + u32::from(self.instantiating)
    }
}

impl<T> Run<T> {
    /// The shared state of a run of `program` in an embedder's stores: no
    /// WASI context (see [`Run::stop_wasi`]) and no memory of its own.
    pub(crate) fn new_embedded(program: Arc<ProgramInner>) -> Arc<Self>
    where
        T: Send + 'static,
    {
        let config = program.engine.config().clone();
        Run::with_parts(program, config, None, None)
    }

    pub(crate) fn with_parts(
        program: Arc<ProgramInner>,
        config: Config,
        memory: Option<SharedMemory>,
        stop_memory: Option<SharedMemory>,
    ) -> Arc<Self>
    where
        T: Send + 'static,
    {
        let threads = Arc::new(ThreadRegistry::new(Some(program.clone())));
        Arc::new_cyclic(|me: &Weak<Run<T>>| Run {
            me: me.clone(),
            stopper: {
                let me = me.clone();
                Box::new(move || keep_stopping(me.clone()))
            },
            program,
            config,
            wasi: OnceLock::new(),
            memory,
            stop_memory,
            parking: ParkingLot::default(),
            threads,
            completion: OnceLock::new(),
            pre: OnceLock::new(),
            ended: AtomicBool::new(false),
            spawned: AtomicU64::new(0),
            state: Mutex::new(State {
                outcome: None,
                ended_at: None,
                tids: TidPool::new(MAX_TID),
                live: 0,
                peak: 0,
                main_running: false,
                instantiating: false,
            }),
            cond: Condvar::new(),
        })
    }

    /// The end of the program wakes `wasi`'s blocking calls and fails every
    /// later call (once; the first context given stays).
    pub(crate) fn stop_wasi(&self, wasi: Arc<WasiCtx>) {
        let _ = self.wasi.set(wasi);
        if self.is_ended() {
            self.stop_wasi_now();
        }
    }

    fn stop_wasi_now(&self) {
        if let Some(wasi) = self.wasi.get() {
            wasi.stop_signal().stop();
        }
    }

    /// The Wasmtime engine every thread's store belongs to.
    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        self.program.engine.wasmtime()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets what every thread instantiates from (once, before any thread runs).
    pub(crate) fn set_instance_pre(&self, pre: InstancePre<T>) {
        let _ = self.pre.set(pre);
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<T> {
        self.pre
            .get()
            .expect("instance_pre is set before any thread runs")
    }

    /// Whether the outcome is decided.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Fails once the program has ended, so every host call made afterwards traps.
    pub(crate) fn check_running(&self) -> wasmtime::Result<()> {
        if self.is_ended() {
            Err(wasmtime::Error::new(Stopped))
        } else {
            Ok(())
        }
    }

    /// Records `outcome`, decided by one of this run's own threads (the
    /// caller), if none is decided yet, then stops every other thread.
    /// Returns whether this call decided it.
    pub(crate) fn decide(&self, outcome: Outcome) -> bool {
        self.decide_by(outcome, 1)
    }

    /// [`Run::decide`] for a caller that is none of this run's threads (the
    /// host interrupting, the watchdog, a failed instantiation, the
    /// deadlock detector, which may run on a thread that already left).
    pub(crate) fn decide_from_outside(&self, outcome: Outcome) -> bool {
        self.decide_by(outcome, 0)
    }

    /// `callers`: how many of the busy threads counted in `State` the caller is.
    fn decide_by(&self, outcome: Outcome, callers: u32) -> bool {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return false;
        }
        log::debug!("program ended: {outcome:?}");
        st.outcome = Some(outcome);
        st.ended_at = Some(Instant::now());
        self.ended.store(true, Ordering::SeqCst);
        if let Some(c) = self.completion.get() {
            c.signal();
        }
        // Pairs with the fence in `prepare_store`: a thread whose store gets
        // its epoch deadline after this either sees `ended` or is reached by
        // the increment below.
        fence(Ordering::SeqCst);
        // Threads other than the caller, which must be stopped. None can be
        // added now: `reserve_tid` and `enter_main` refuse once ended.
        let others = st.busy().saturating_sub(callers);
        drop(st);
        self.stop_threads();
        self.cond.notify_all();
        if others > 0 {
            (self.stopper)();
        }
        true
    }

    /// Wakes every thread: blocked WASI calls, parked waits, and running
    /// wasm, which traps at its next stop check or sees `ended` in its epoch
    /// callback.
    fn stop_threads(&self) {
        self.stop_wasi_now();
        self.parking.stop();
        if let Some(stop) = &self.stop_memory {
            stop_checks::raise(stop);
        }
        self.program.engine.wasmtime().increment_epoch();
    }

    /// Ends the program according to the error a guest call returned.
    pub(crate) fn thread_failed(&self, tid: u32, err: &wasmtime::Error) {
        match classify(tid, err, self.is_ended(), self.program.frame_map.as_ref()) {
            ThreadEnd::Stopped => {}
            ThreadEnd::Exit(code) => {
                self.decide(Outcome::Exit(code));
            }
            ThreadEnd::Trap(info) => {
                log::debug!("{info}");
                self.decide(Outcome::Trap(info));
            }
        }
    }

    /// Sets `store` up to stop when the program ends: an epoch deadline of
    /// one tick and a callback (replacing any other) that traps once the
    /// outcome is decided and otherwise keeps running.
    pub(crate) fn prepare_store(self: &Arc<Self>, store: &mut Store<T>)
    where
        T: 'static,
    {
        let run = self.clone();
        store.epoch_deadline_callback(move |ctx| {
            if run.is_ended() {
                return Err(wasmtime::Error::new(Stopped));
            }
            // A thread dump ticks the epoch: running wasm answers here.
            answer_dump(&ctx);
            Ok(UpdateDeadline::Continue(1))
        });
        store.set_epoch_deadline(1);
        // Pairs with `decide`: either this thread sees `ended`, or the epoch
        // increment that follows it comes after the deadline just set.
        fence(Ordering::SeqCst);
    }

    /// Instantiates the main thread's instance in `store` (prepared with
    /// [`Run::prepare_store`]). The module's start function runs here, on the
    /// caller's thread, so the timeout clock starts first: for the
    /// instantiation only (`whole_run == false`; the runner starts it again
    /// with `_start`) or for the whole run. An exit, trap or stop during
    /// instantiation is an error.
    pub(crate) fn instantiate_main(
        self: &Arc<Self>,
        store: &mut Store<T>,
        whole_run: bool,
    ) -> Result<wasmtime::Instance>
    where
        T: Send + 'static,
    {
        self.set_instantiating(true);
        if let Some(timeout) = self.config.timeout {
            self.spawn_watchdog(timeout, !whole_run);
        }
        let instantiated = {
            // The start function runs on the embedder's thread.
            let _sigpipe = SigpipeBlocked::new();
            self.instance_pre().instantiate(&mut *store)
        };
        self.set_instantiating(false);
        let failure = match (&instantiated, self.outcome()) {
            (Ok(_), None) => None,
            (_, Some(Outcome::Exit(code))) => Some(Error::exited(code)),
            (_, Some(other)) => Some(other.into_result().err().unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Instantiate,
                    "the program ended while instantiating",
                )
            })),
            (Err(e), None) => Some(
                match classify(MAIN_TID, e, false, self.program.frame_map.as_ref()) {
                    ThreadEnd::Trap(info) => Error::new(
                        ErrorKind::Instantiate,
                        format!("the module's start function trapped: {info}"),
                    ),
                    _ => Error::new(
                        ErrorKind::Instantiate,
                        format!("cannot instantiate module: {e:#}"),
                    ),
                },
            ),
        };
        match (failure, instantiated) {
            (None, Ok(instance)) => Ok(instance),
            (failure, _) => {
                // Threads the start function spawned end with it, exactly as
                // when `_start` fails: stopped and gone before this returns.
                self.stop_threads_and_wait(Outcome::Interrupted, Instant::now() + STOP_GRACE);
                Err(failure
                    .unwrap_or_else(|| Error::new(ErrorKind::Internal, "instantiation failed")))
            }
        }
    }

    /// Ends the program according to how the main thread's call (`_start`,
    /// or an export the embedder called) ended: returning is exit code 0, an
    /// error is classified, a panic is weft's internal error.
    pub(crate) fn finish_main(&self, result: std::thread::Result<wasmtime::Result<()>>) {
        match result {
            Ok(Ok(())) => {
                self.decide(Outcome::Exit(0));
            }
            Ok(Err(e)) => self.thread_failed(MAIN_TID, &e),
            Err(_) => {
                self.decide(Outcome::Trap(TrapInfo {
                    tid: MAIN_TID,
                    message: "internal error: weft panicked in the main thread".into(),
                    backtrace: String::new(),
                }));
            }
        }
    }

    /// Takes a TID for a new thread, respecting the thread limit.
    pub(crate) fn reserve_tid(&self) -> Result<u32, String> {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return Err("the program has ended".into());
        }
        if st.live >= self.config.max_threads {
            return Err(format!("thread limit reached ({} live threads)", st.live));
        }
        let tid = st.tids.alloc().ok_or("no free thread id")?;
        st.live += 1;
        st.peak = st.peak.max(st.live);
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(tid)
    }

    /// Gives back the TID of a thread that ended or failed to start.
    pub(crate) fn release_tid(&self, tid: u32) {
        let all_parked = self.threads.deregister(tid);
        let mut st = self.lock();
        st.tids.release(tid);
        st.live -= 1;
        drop(st);
        self.cond.notify_all();
        if all_parked {
            self.deadlocked(None);
        }
    }

    /// Every live thread is parked for good: ends the program as a
    /// deadlock with a dump (`own` is the detecting thread's own backtrace).
    pub(crate) fn deadlocked(&self, own: Option<(&ThreadSlot, String)>) {
        if self.is_ended() {
            return;
        }
        let dump = self.dump(own, DUMP_TIMEOUT);
        log::debug!("deadlock detected\n{dump}");
        self.decide_from_outside(Outcome::Deadlock(dump));
    }

    /// The calling OS thread (named `name`, or by its own name) runs the
    /// command's `_start` as the main thread from now on: its state shows
    /// it running, and deadlock detection is armed (if configured). Undo
    /// with [`Run::unbind_main`] on the same thread.
    pub(crate) fn bind_main(&self, name: Option<&str>) {
        let slot = &self.threads.main;
        registry::bind(&self.threads, slot, name);
        slot.running();
        self.arm_deadlock_detection();
    }

    /// The main thread's `_start` has returned on the calling OS thread.
    pub(crate) fn unbind_main(&self) {
        self.threads.main.ending();
        registry::unbind();
    }

    /// Starts deadlock detection (a command's `_start` begins), if configured.
    pub(crate) fn arm_deadlock_detection(&self) {
        if self.config.deadlock_detection && self.threads.census.arm() {
            self.deadlocked(None);
        }
    }

    /// Every live thread's state now, without backtraces (disturbs no one).
    pub(crate) fn snapshot(&self) -> ThreadDump {
        ThreadDump {
            threads: self.threads.snapshot(),
            with_backtraces: false,
            running_frames: false,
        }
    }

    /// A thread dump (see `registry`): nudges parked threads and ticks the
    /// epoch so every thread answers with its backtrace.
    pub(crate) fn dump(&self, own: Option<(&ThreadSlot, String)>, timeout: Duration) -> ThreadDump {
        let threads = self.threads.dump(
            || {
                self.parking.nudge();
                self.program.engine.wasmtime().increment_epoch();
            },
            self.program.engine.interruption() == Interruption::Epochs,
            own,
            timeout,
        );
        ThreadDump {
            threads,
            with_backtraces: true,
            running_frames: self.program.engine.interruption() == Interruption::Epochs,
        }
    }

    /// The descriptor that becomes readable once the outcome is decided.
    pub(crate) fn completion_fd(&self) -> Result<RawFd> {
        if let Some(c) = self.completion.get() {
            return Ok(c.read.as_raw_fd());
        }
        // Under the state lock, so `decide` either sees it or has decided.
        let st = self.lock();
        if let Some(c) = self.completion.get() {
            return Ok(c.read.as_raw_fd());
        }
        let c = Completion::new()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create completion fd: {e}")))?;
        if st.outcome.is_some() {
            c.signal();
        }
        let raw = c.read.as_raw_fd();
        let _ = self.completion.set(c);
        Ok(raw)
    }

    /// The main thread starts running wasm: `_start`, or a reactor call on
    /// the host's thread. Fails once the program has ended.
    pub(crate) fn enter_main(&self) -> bool {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return false;
        }
        st.main_running = true;
        true
    }

    /// The main thread has finished `_start` and dropped its store.
    pub(crate) fn main_finished(&self) {
        let all_parked = self.threads.deregister(MAIN_TID);
        self.leave_main();
        if all_parked {
            self.deadlocked(None);
        }
    }

    /// The main thread has stopped running wasm: a reactor call returned
    /// (the main thread stays registered, idle), or `_start` finished.
    pub(crate) fn leave_main(&self) {
        self.lock().main_running = false;
        self.cond.notify_all();
    }

    /// Whether the main instance is being instantiated (its start function
    /// may run); a watchdog started for instantiation only stops after it.
    pub(crate) fn set_instantiating(&self, instantiating: bool) {
        self.lock().instantiating = instantiating;
        self.cond.notify_all();
    }

    /// Whether the main thread or any spawned thread is still running.
    pub(crate) fn is_busy(&self) -> bool {
        self.lock().busy() > 0
    }

    /// Ends the program (as `outcome`, unless it already ended) from outside
    /// it and waits, until `deadline` at most, until no thread runs guest
    /// code any more.
    fn stop_threads_and_wait(&self, outcome: Outcome, deadline: Instant) {
        if !self.is_busy() {
            return;
        }
        self.decide_from_outside(outcome);
        let mut st = self.lock();
        while st.busy() > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .cond
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Ends the program (as `outcome`, unless it already ended) from outside
    /// it and waits, at most [`STOP_GRACE`], until every thread has stopped
    /// and let go of the run (`extra_refs`: references the caller holds).
    pub(crate) fn stop_and_join(&self, outcome: Outcome, extra_refs: usize) {
        let deadline = Instant::now() + STOP_GRACE;
        self.stop_threads_and_wait(outcome, deadline);
        // A finished thread signals before it drops its last reference.
        while self.me.strong_count() > 1 + extra_refs && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Waits for the outcome (up to `timeout`), then up to [`STOP_GRACE`] for
    /// the threads to unwind.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut st = self.lock();
        loop {
            let mut until = deadline;
            if let (Some(outcome), Some(at)) = (&st.outcome, st.ended_at) {
                let grace_end = at + STOP_GRACE;
                let now = Instant::now();
                if st.busy() == 0 || now >= grace_end {
                    return Some(outcome.clone());
                }
                if deadline.is_some_and(|d| now >= d) {
                    return None;
                }
                until = Some(until.map_or(grace_end, |d| d.min(grace_end)));
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            st = match until {
                Some(u) => {
                    let left = u.saturating_duration_since(Instant::now());
                    self.cond
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.cond.wait(st).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.lock().outcome.clone()
    }

    /// Ends the program as timed out after `timeout`, unless it ends first
    /// or, with `instantiation_only`, its instantiation finishes first.
    pub(crate) fn spawn_watchdog(self: &Arc<Self>, timeout: Duration, instantiation_only: bool)
    where
        T: Send + 'static,
    {
        let run = self.clone();
        let deadline = Instant::now() + timeout;
        let job = Box::new(move || {
            let mut st = run.lock();
            while st.outcome.is_none() && (st.instantiating || !instantiation_only) {
                let now = Instant::now();
                if now >= deadline {
                    drop(st);
                    run.decide_from_outside(Outcome::TimedOut);
                    thread_pool::leave_program();
                    return;
                }
                st = run
                    .cond
                    .wait_timeout(st, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            drop(st);
            thread_pool::leave_program();
        });
        if let Err(e) = thread_pool::spawn_helper("weft-watchdog", job) {
            log::warn!("cannot start the timeout watchdog: {e}");
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let st = self.lock();
        Stats {
            spawned: self.spawned.load(Ordering::Relaxed),
            peak_live: st.peak,
            live: st.live,
        }
    }
}

/// Keeps stopping, on a helper thread, until no thread of the run is left.
///
/// One epoch increment is not always enough: a thread whose epoch
/// callback read `ended` just before the end moves its deadline one tick
/// past that increment (Wasmtime reads the epoch after the callback
/// returns). Repeating the increment until the threads are gone closes
/// that window whatever the timing. The interval grows from 200 µs to
/// 50 ms, so a thread that never returns from a host function costs next
/// to nothing.
fn keep_stopping<T: Send + 'static>(run: Weak<Run<T>>) {
    // Weak: the stopper must not keep the run alive, nor make
    // `stop_and_join` wait for it.
    let job = Box::new(move || {
        let mut interval = Duration::from_micros(200);
        loop {
            std::thread::sleep(interval);
            if thread_pool::draining() {
                break;
            }
            let Some(run) = run.upgrade() else { break };
            if run.lock().busy() == 0 {
                break;
            }
            run.stop_threads();
            interval = (interval * 2).min(Duration::from_millis(50));
        }
    });
    // Holding no program, this thread is the host's to release from the
    // moment it exists (`release_idle_threads` joins it even before it runs).
    if let Err(e) = thread_pool::spawn_idle("weft-stopper", job) {
        log::warn!("cannot start the thread that stops the program's threads: {e}");
    }
}

/// The descriptor behind [`Run::completion_fd`]: an eventfd on Linux, a
/// pipe elsewhere (readable once a byte is written to its other end).
struct Completion {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Completion {
    fn new() -> std::io::Result<Completion> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::event::{eventfd, EventfdFlags};
            let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            Ok(Completion {
                read: fd,
                write: None,
            })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let (read, write) = rustix::pipe::pipe()?;
            Ok(Completion {
                read,
                write: Some(write),
            })
        }
    }

    /// Makes the descriptor readable, for good (nobody reads it back).
    fn signal(&self) {
        let fd = self.write.as_ref().unwrap_or(&self.read);
        let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
    }
}
