//! A running program: the main thread and every spawned thread, the shared
//! memory and WASI context they use, and the coordination that decides how
//! the program ended and stops every thread when it does.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{
    InstancePre, MemoryType, SharedMemory, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline,
    Val,
};

use crate::runtime::config::Config;
use crate::runtime::error::{Error, ErrorKind, Result, TrapInfo};
use crate::runtime::host_func::HostFuncs;
use crate::runtime::linker;
use crate::runtime::outcome::{classify, Outcome, ThreadEnd};
use crate::runtime::program::{Program, ProgramInner};
use crate::runtime::threads;
use crate::runtime::tids::{TidPool, MAX_TID};
use crate::runtime::wait_rewrite::ParkingLot;
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

impl Run {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Records `outcome` if none is decided yet, then stops every thread.
    /// Returns whether this call decided it.
    pub(crate) fn decide(&self, outcome: Outcome) -> bool {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return false;
        }
        log::debug!("program ended: {outcome:?}");
        st.outcome = Some(outcome);
        st.ended_at = Some(Instant::now());
        self.ended.store(true, Ordering::SeqCst);
        drop(st);
        self.wasi.stop_signal().stop();
        self.parking.stop();
        // Running wasm checks `ended` at its next epoch tick.
        self.program.engine.wasmtime().increment_epoch();
        self.cond.notify_all();
        true
    }

    /// Ends the program according to the error a guest call returned.
    pub(crate) fn thread_failed(&self, tid: u32, err: &wasmtime::Error) {
        match classify(tid, err, self.is_ended()) {
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

    /// Takes a TID for a new thread, respecting the thread limit.
    pub(crate) fn reserve_tid(&self) -> Result<u32, String> {
        let mut st = self.lock();
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

    fn main_finished(&self) {
        self.lock().main_running = false;
        self.cond.notify_all();
    }

    /// Waits for the outcome (up to `timeout`), then up to [`STOP_GRACE`] for
    /// the threads to unwind.
    fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut st = self.lock();
        loop {
            let mut until = deadline;
            if let (Some(outcome), Some(at)) = (&st.outcome, st.ended_at) {
                let grace_end = at + STOP_GRACE;
                if (st.live == 0 && !st.main_running) || Instant::now() >= grace_end {
                    return Some(outcome.clone());
                }
                until = Some(until.map_or(grace_end, |d| d.max(grace_end)));
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

    fn outcome(&self) -> Option<Outcome> {
        self.lock().outcome.clone()
    }

    /// Ends the program as timed out after `timeout`, unless it ends first
    /// or, with `instantiation_only`, its instantiation finishes first.
    fn spawn_watchdog(self: &Arc<Self>, timeout: Duration, instantiation_only: bool) {
        let run = self.clone();
        let _ = std::thread::Builder::new()
            .name("weft-watchdog".into())
            .spawn(move || {
                let deadline = Instant::now() + timeout;
                let mut st = run.lock();
                while st.outcome.is_none() && (st.instantiating || !instantiation_only) {
                    let now = Instant::now();
                    if now >= deadline {
                        drop(st);
                        run.decide(Outcome::TimedOut);
                        return;
                    }
                    st = run
                        .cond
                        .wait_timeout(st, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            });
    }

    fn stats(&self) -> Stats {
        let st = self.lock();
        Stats {
            spawned: self.spawned.load(Ordering::Relaxed),
            peak_live: st.peak,
            live: st.live,
        }
    }
}

struct MainThread {
    store: Store<ThreadData>,
    instance: wasmtime::Instance,
}

/// One run of a program. Create it, then either `run`/`start`+`wait` a
/// command, or `initialize` and `call` a reactor.
pub struct Instance {
    run: Arc<Run>,
    main: Mutex<Option<MainThread>>,
}

impl Instance {
    /// Instantiates `program` for the main thread: creates the shared memory,
    /// the WASI context and the linker. Link and instantiation errors surface here.
    pub fn new(program: &Program, wasi: &WasiConfig, host: &HostFuncs) -> Result<Instance> {
        let inner = program.inner().clone();
        let config = inner.engine.config().clone();
        let wasi =
            WasiCtx::new(wasi).map_err(|e| Error::wrap(ErrorKind::Io, "cannot set up WASI", e))?;
        let memory = match &inner.memory_import {
            Some((module, name, ty)) => Some(create_memory(&inner, &config, module, name, ty)?),
            None => None,
        };
        let run = Arc::new(Run {
            program: inner,
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
        });
        let shared = run.memory.clone().map(GuestMemory::Shared);
        let mut store = run.new_store(MAIN_TID, shared);
        let linker = linker::build(&store, host)?;
        let pre = linker
            .instantiate_pre(&run.program.module)
            .map_err(|e| Error::wrap(ErrorKind::Link, "cannot link module", e))?;
        let _ = run.pre.set(pre);
        // The module's start function runs here, on the caller's thread,
        // before the host has an `Instance` to interrupt: the timeout covers it.
        if let Some(timeout) = run.config.timeout {
            run.lock().instantiating = true;
            run.spawn_watchdog(timeout, true);
        }
        let instantiated = run.instance_pre().instantiate(&mut store);
        run.lock().instantiating = false;
        run.cond.notify_all();
        match run.outcome() {
            None => {}
            Some(Outcome::Exit(code)) => return Err(Error::exited(code)),
            Some(other) => {
                return Err(other.into_result().err().unwrap_or_else(|| {
                    Error::new(
                        ErrorKind::Instantiate,
                        "the program ended while instantiating",
                    )
                }))
            }
        }
        let instance = instantiated.map_err(|e| match classify(MAIN_TID, &e, false) {
            ThreadEnd::Trap(info) => Error::new(
                ErrorKind::Instantiate,
                format!("the module's start function trapped: {info}"),
            ),
            _ => Error::wrap(ErrorKind::Instantiate, "cannot instantiate module", e),
        })?;
        if store.data().memory.is_none() {
            if let Some(m) = instance.get_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Plain(m));
            } else if let Some(m) = instance.get_shared_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Shared(m));
            }
        }
        Ok(Instance {
            run,
            main: Mutex::new(Some(MainThread { store, instance })),
        })
    }

    fn take_main(&self) -> Result<MainThread> {
        self.main
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| Error::new(ErrorKind::State, "the program has already been started"))
    }

    /// Starts `_start` on a new thread and returns at once.
    pub fn start(&self) -> Result<()> {
        let MainThread {
            mut store,
            instance,
        } = self.take_main()?;
        self.ended_error()?;
        let entry = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| {
                Error::wrap(ErrorKind::NotFound, "cannot run the module as a command", e)
            })?;
        self.run.lock().main_running = true;
        let run = self.run.clone();
        let spawned = threads::run_on_thread(
            "weft-main".into(),
            self.run.config.os_stack_size,
            Box::new(move || {
                match catch_unwind(AssertUnwindSafe(|| entry.call(&mut store, ()))) {
                    Ok(Ok(())) => {
                        run.decide(Outcome::Exit(0));
                    }
                    Ok(Err(e)) => run.thread_failed(MAIN_TID, &e),
                    Err(_) => {
                        run.decide(Outcome::Trap(TrapInfo {
                            tid: MAIN_TID,
                            message: "internal error: weft panicked in the main thread".into(),
                            backtrace: String::new(),
                        }));
                    }
                }
                drop(store);
                run.main_finished();
            }),
        );
        if let Err(e) = spawned {
            self.run.main_finished();
            return Err(Error::new(
                ErrorKind::Io,
                format!("cannot create the main thread: {e}"),
            ));
        }
        if let Some(timeout) = self.run.config.timeout {
            self.run.spawn_watchdog(timeout, false);
        }
        Ok(())
    }

    /// Waits up to `timeout` (`None`: forever) for the program to end.
    /// `None` means it is still running.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        self.run.wait(timeout)
    }

    /// Runs `_start` to the end and returns the outcome.
    pub fn run(&self) -> Result<Outcome> {
        self.start()?;
        Ok(self
            .wait(None)
            .expect("waiting without a timeout returns an outcome"))
    }

    /// Ends the program as [`Outcome::Interrupted`] (unless it already ended).
    /// Callable from any thread.
    pub fn interrupt(&self) {
        self.run.decide(Outcome::Interrupted);
    }

    /// The outcome, if the program has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.run.outcome()
    }

    /// Thread statistics.
    pub fn stats(&self) -> Stats {
        self.run.stats()
    }

    /// The program's WASI context (captured output lives here).
    pub fn wasi(&self) -> &WasiCtx {
        &self.run.wasi
    }

    /// Runs a reactor's `_initialize` (if it exports one) on the calling thread.
    pub fn initialize(&self) -> Result<()> {
        let has_init = self.run.program.module.get_export("_initialize").is_some();
        if has_init {
            self.call("_initialize", &[])?;
        }
        Ok(())
    }

    /// Calls export `name` on the calling thread, in the main thread's
    /// instance. Threads it spawns keep running after it returns.
    pub fn call(&self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        self.ended_error()?;
        let mut guard = self.main.lock().unwrap_or_else(|e| e.into_inner());
        let main = guard.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::State,
                "the program was started as a command; its exports cannot be called",
            )
        })?;
        let func = main
            .instance
            .get_func(&mut main.store, name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no exported function \"{name}\""),
                )
            })?;
        let ty = func.ty(&main.store);
        if ty.params().len() != args.len() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "\"{name}\" takes {} arguments, {} given",
                    ty.params().len(),
                    args.len()
                ),
            ));
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        match func.call(&mut main.store, args, &mut results) {
            Ok(()) => Ok(results),
            Err(e) => {
                let is_type_error = !self.run.is_ended()
                    && e.downcast_ref::<wasmtime::Trap>().is_none()
                    && e.downcast_ref::<ProcExit>().is_none()
                    && e.downcast_ref::<Stopped>().is_none();
                if is_type_error {
                    return Err(Error::wrap(ErrorKind::InvalidArgument, "bad arguments", e));
                }
                self.run.thread_failed(MAIN_TID, &e);
                Err(self.ended_error().expect_err("the program has ended"))
            }
        }
    }

    /// `Ok` while running; otherwise the error describing how it ended.
    fn ended_error(&self) -> Result<()> {
        match self.run.outcome() {
            None => Ok(()),
            Some(Outcome::Exit(code)) => Err(Error::exited(code)),
            Some(other) => other.into_result().map(drop),
        }
    }
}

impl Drop for Instance {
    /// Stops a program that is still running and waits (at most
    /// [`STOP_GRACE`]) for its threads to let go of it, so that host-function
    /// finalizers have run when this returns.
    fn drop(&mut self) {
        let deadline = Instant::now() + STOP_GRACE;
        let busy = {
            let st = self.run.lock();
            st.main_running || st.live > 0
        };
        if busy {
            self.run.decide(Outcome::Interrupted);
            self.run.wait(Some(STOP_GRACE));
        }
        drop(self.main.lock().unwrap_or_else(|e| e.into_inner()).take());
        // A finished thread signals before it drops its last reference.
        while Arc::strong_count(&self.run) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
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
