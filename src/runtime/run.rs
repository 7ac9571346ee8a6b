//! The state of one run: what every thread of a program shares (the
//! program, its shared memory, WASI context and parking lot, the decided
//! outcome and the live-thread count) and what each thread's `Store` holds.
//!
//! Everything else in the runtime builds on this module: the spawn context
//! (`threads`), the linker and the `Instance` use it; it uses none of them.

use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{
    InstancePre, MemoryType, SharedMemory, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline,
};

use crate::runtime::config::Config;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::outcome::{classify, Outcome, ThreadEnd};
use crate::runtime::parking_lot::ParkingLot;
use crate::runtime::program::ProgramInner;
use crate::runtime::thread_pool;
use crate::runtime::tids::{TidPool, MAX_TID};
use crate::wasi::{GuestMemory, ProcExit, Stopped, WasiConfig, WasiCtx, WasiView};

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

/// The data of every thread's `Store`.
pub struct ThreadData {
    pub(crate) run: Arc<Run>,
    pub(crate) tid: u32,
    pub(crate) memory: Option<GuestMemory>,
    limits: StoreLimits,
}

impl WasiView for ThreadData {
    fn wasi(&self) -> &WasiCtx {
        &self.run.wasi
    }

    fn guest_memory(&self) -> Option<GuestMemory> {
        self.memory.clone()
    }

    fn proc_exit(&mut self, code: i32) -> wasmtime::Error {
        self.run.decide(Outcome::Exit(code));
        wasmtime::Error::new(ProcExit(code))
    }
}

/// State shared by every thread of one run.
pub(crate) struct Run {
    pub(crate) program: Arc<ProgramInner>,
    pub(crate) config: Config,
    pub(crate) wasi: WasiCtx,
    pub(crate) memory: Option<SharedMemory>,
    /// Threads parked in a (rewritten) `memory.atomic.wait`.
    pub(crate) parking: ParkingLot,
    pre: OnceLock<InstancePre<ThreadData>>,
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

impl Run {
    /// The shared state of a new run of `program`: its WASI context and,
    /// if the module imports one, its shared memory.
    pub(crate) fn new(program: Arc<ProgramInner>, wasi: &WasiConfig) -> Result<Arc<Run>> {
        let config = program.engine.config().clone();
        let wasi =
            WasiCtx::new(wasi).map_err(|e| Error::wrap(ErrorKind::Io, "cannot set up WASI", e))?;
        let memory = match &program.memory_import {
            Some((module, name, ty)) => Some(create_memory(&program, &config, module, name, ty)?),
            None => None,
        };
        Ok(Arc::new(Run {
            program,
            config,
            wasi,
            memory,
            parking: ParkingLot::default(),
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
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets what every thread instantiates from (once, before any thread runs).
    pub(crate) fn set_instance_pre(&self, pre: InstancePre<ThreadData>) {
        let _ = self.pre.set(pre);
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<ThreadData> {
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
    pub(crate) fn decide(self: &Arc<Self>, outcome: Outcome) -> bool {
        self.decide_by(outcome, 1)
    }

    /// [`Run::decide`] for a caller that is none of this run's threads (the
    /// host interrupting, the watchdog, a failed instantiation).
    pub(crate) fn decide_from_outside(self: &Arc<Self>, outcome: Outcome) -> bool {
        self.decide_by(outcome, 0)
    }

    /// `callers`: how many of the busy threads counted in `State` the caller is.
    fn decide_by(self: &Arc<Self>, outcome: Outcome, callers: u32) -> bool {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return false;
        }
        log::debug!("program ended: {outcome:?}");
        st.outcome = Some(outcome);
        st.ended_at = Some(Instant::now());
        self.ended.store(true, Ordering::SeqCst);
        // Pairs with the fence in `new_store`: a thread whose store gets its
        // epoch deadline after this either sees `ended` or is reached by the
        // increment below.
        fence(Ordering::SeqCst);
        // Threads other than the caller, which must be stopped. None can be
        // added now: `reserve_tid` and `enter_main` refuse once ended.
        let others = st.busy().saturating_sub(callers);
        drop(st);
        self.stop_threads();
        self.cond.notify_all();
        if others > 0 {
            self.keep_stopping();
        }
        true
    }

    /// Wakes every thread: blocked WASI calls, parked waits, and (through the
    /// epoch) running wasm, which then sees `ended` in its epoch callback.
    fn stop_threads(&self) {
        self.wasi.stop_signal().stop();
        self.parking.stop();
        self.program.engine.wasmtime().increment_epoch();
    }

    /// Keeps stopping, on a pool thread, until no thread of the run is left.
    ///
    /// One epoch increment is not always enough: a thread whose epoch
    /// callback read `ended` just before the end moves its deadline one tick
    /// past that increment (Wasmtime reads the epoch after the callback
    /// returns). Repeating the increment until the threads are gone closes
    /// that window whatever the timing. The interval grows from 200 µs to
    /// 50 ms, so a thread that never returns from a host function costs next
    /// to nothing.
    fn keep_stopping(self: &Arc<Self>) {
        // Weak: the stopper must not keep the run alive, nor make
        // `stop_and_join` wait for it.
        let run = Arc::downgrade(self);
        let job = Box::new(move || {
            // Holding no program, this thread is the host's to release.
            thread_pool::leave_program();
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
        if let Err(e) = thread_pool::spawn_helper("weft-stopper", job) {
            log::warn!("cannot start the thread that stops the program's threads: {e}");
        }
    }

    /// Ends the program according to the error a guest call on the calling
    /// thread returned.
    pub(crate) fn thread_failed(self: &Arc<Self>, tid: u32, err: &wasmtime::Error) {
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

    /// A store for thread `tid` with the run's limits and interruption set up.
    pub(crate) fn new_store(
        self: &Arc<Self>,
        tid: u32,
        memory: Option<GuestMemory>,
    ) -> Store<ThreadData> {
        let mut limits = StoreLimitsBuilder::new();
        if let Some(max) = self.config.max_memory {
            limits = limits.memory_size(usize::try_from(max).unwrap_or(usize::MAX));
        }
        let data = ThreadData {
            run: self.clone(),
            tid,
            memory,
            limits: limits.build(),
        };
        let mut store = Store::new(self.program.engine.wasmtime(), data);
        store.limiter(|d| &mut d.limits);
        store.epoch_deadline_callback(|ctx| {
            if ctx.data().run.is_ended() {
                Err(wasmtime::Error::new(Stopped))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        store.set_epoch_deadline(1);
        // Pairs with `decide`: either this thread sees `ended`, or the epoch
        // increment that follows it comes after the deadline just set.
        fence(Ordering::SeqCst);
        store
    }

    /// Takes a TID for a new thread, respecting the thread limit. Fails once
    /// the program has ended.
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
        let mut st = self.lock();
        st.tids.release(tid);
        st.live -= 1;
        drop(st);
        self.cond.notify_all();
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

    /// The main thread has stopped running wasm (after `_start`, it has
    /// dropped its store).
    pub(crate) fn main_finished(&self) {
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
    /// it and waits, at most [`STOP_GRACE`], until every thread has stopped
    /// and let go of the run (`extra_refs`: references the caller holds).
    pub(crate) fn stop_and_join(self: &Arc<Self>, outcome: Outcome, extra_refs: usize) {
        let deadline = Instant::now() + STOP_GRACE;
        if self.is_busy() {
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
        // A finished thread signals before it drops its last reference.
        while Arc::strong_count(self) > 1 + extra_refs && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Waits for the outcome, then for the threads to stop (up to
    /// [`STOP_GRACE`] after the end), but never past `timeout`. `None` if
    /// the program is still running or its threads are still stopping when
    /// `timeout` passes.
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
    pub(crate) fn spawn_watchdog(self: &Arc<Self>, timeout: Duration, instantiation_only: bool) {
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

fn create_memory(
    program: &ProgramInner,
    config: &Config,
    module: &str,
    name: &str,
    ty: &MemoryType,
) -> Result<SharedMemory> {
    let page = ty.page_size();
    let min = ty.minimum();
    let declared_max = ty.maximum().unwrap_or(u64::from(u32::MAX) + 1);
    let cap_pages = config.max_memory.map_or(u64::MAX, |bytes| bytes / page);
    if min > cap_pages {
        return Err(Error::new(
            ErrorKind::Link,
            format!(
                "memory \"{module}\" \"{name}\" needs at least {} bytes, above the {} byte cap",
                min * page,
                config.max_memory.unwrap_or(0)
            ),
        ));
    }
    let max = declared_max.min(cap_pages);
    let (min, max) = (
        u32::try_from(min).map_err(|_| Error::new(ErrorKind::Link, "memory too large"))?,
        u32::try_from(max).unwrap_or(u32::MAX),
    );
    SharedMemory::new(program.engine.wasmtime(), MemoryType::shared(min, max)).map_err(|e| {
        Error::wrap(
            ErrorKind::Link,
            &format!("cannot create shared memory \"{module}\" \"{name}\""),
            e,
        )
    })
}
