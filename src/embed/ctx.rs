//! [`WasiThreadsCtx`]: one program run by an embedder's own `Linker<T>`, on
//! the runtime core's spawn context and outcome coordination.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::{Instance, Linker, Module, SharedMemory, Store};

use crate::embed::limits::Limits;
use crate::runtime::run::controls::RunControls;
use crate::runtime::run::outcome::with_exception_values;
use crate::runtime::run::{spawn, Run};
use crate::runtime::{
    Engine, Error, ErrorKind, Outcome, Program, RaceReport, Result, Stats, ThreadDump,
};
use crate::wasi::{GuestMemory, WasiCtx};

/// The wasi-threads context of one program: what `thread-spawn` needs to
/// start a thread (the module's `InstancePre` on the embedder's linker), the
/// program's TIDs, limits and statistics, and how the program ended.
///
/// Create one per program run, after [`add_to_linker`](crate::embed::add_to_linker),
/// from a clone of the finished linker, and put it in an `Arc` into the main
/// store's `T` so that `add_to_linker`'s `get_cx` finds it. Each spawned
/// thread runs in a new `Store<T>` whose data is a clone of the spawning
/// thread's `T`.
///
/// **Thread safety**: `Send + Sync`; every method takes `&self` and may be
/// called from any host thread, including while guest threads run.
///
/// **Ownership**: the context keeps the module, the linker and the program's
/// shared memory alive. Guest threads hold clones of `T` (and so of the
/// `Arc`) until they end; when the last reference goes, a program that has
/// not ended is interrupted.
pub struct WasiThreadsCtx<T> {
    run: RunControls<T>,
    linker: Arc<Linker<T>>,
    /// Always [`GuestMemory::Shared`], once known.
    memory: OnceLock<GuestMemory>,
}

impl<T: Clone + Send + 'static> WasiThreadsCtx<T> {
    /// A context for running `module` with `linker` and [`Limits::default`].
    ///
    /// `linker` must already hold every import of `module`, including what
    /// [`add_to_linker`](crate::embed::add_to_linker) defined: each thread is
    /// instantiated from it, so functions defined on the linker afterwards
    /// are not seen by the threads.
    ///
    /// **Errors**: [`ErrorKind::Link`] if an import is missing or has the
    /// wrong type, or a memory import is not a 32-bit shared memory.
    pub fn new(module: Module, linker: Arc<Linker<T>>) -> Result<Self> {
        Self::with_limits(module, linker, &Limits::default())
    }

    /// [`WasiThreadsCtx::new`] with `limits`.
    ///
    /// **Errors**: as [`WasiThreadsCtx::new`], and
    /// [`ErrorKind::InvalidArgument`] for `max_threads == 0`.
    pub fn with_limits(module: Module, linker: Arc<Linker<T>>, limits: &Limits) -> Result<Self> {
        let mut config = limits.to_config();
        // The core's rule and words (the OS stack is the embedder's
        // Wasmtime configuration's business, not checked here).
        config.set_max_threads(limits.max_threads)?;
        let engine = Engine::from_wasmtime(module.engine().clone(), config);
        let program = Program::from_module(&engine, module)?;
        let pre = linker
            .instantiate_pre(program.module())
            .map_err(|e| Error::wrap(ErrorKind::Link, "cannot link module", e))?;
        let run = Run::new_embedded(program.inner().clone());
        run.set_instance_pre(pre);
        Ok(WasiThreadsCtx {
            run: RunControls::new(run),
            linker,
            memory: OnceLock::new(),
        })
    }

    /// Has the end of the program stop `wasi`'s blocking calls (sleeps,
    /// `poll_oneoff`, reads of pipes, sockets and stdin) and fail every later
    /// WASI call. Give it the context the threads' `T` shares.
    pub fn with_wasi(self, wasi: &Arc<WasiCtx>) -> Self {
        self.run.stop_wasi(wasi.clone());
        self
    }

    /// Starts thread `wasi_thread_start(tid, start_arg)` of this program in
    /// a new store whose data is `host`, on an OS thread of weft's pool, and
    /// returns its TID (`1..=`[`MAX_TID`](crate::embed::MAX_TID)). This is
    /// what the `thread-spawn` import calls with a clone of the caller's `T`.
    ///
    /// When the thread ends its TID is free for the next spawn. A trap or
    /// `proc_exit` in the thread ends the program (see [`Outcome`]).
    ///
    /// **Errors** (the import returns [`SPAWN_FAILED`](crate::embed::SPAWN_FAILED)
    /// to the guest instead): [`ErrorKind::Instantiate`] with the reason:
    /// the module has no `wasi_thread_start (i32, i32)`, imports no shared
    /// memory, [`Limits::max_threads`] threads are alive, the OS refused a
    /// thread, or the program has ended.
    pub fn spawn(&self, host: T, start_arg: i32) -> Result<i32> {
        let spawned = self.start_thread(host, start_arg);
        spawned.map(|tid| tid as i32).map_err(|reason| {
            Error::new(
                ErrorKind::Instantiate,
                format!("thread-spawn failed: {reason}"),
            )
        })
    }

    /// [`WasiThreadsCtx::spawn`] as the `thread-spawn` import wants it: the
    /// TID, or why no thread was started.
    pub(crate) fn start_thread(&self, host: T, start_arg: i32) -> Result<u32, String> {
        let run = self.run.run();
        spawn::spawn(run, start_arg, move |_tid| {
            let mut store = Store::new(run.engine(), host);
            run.prepare_store(&mut store);
            store
        })
    }

    /// Instantiates the main thread's instance in `store` (the embedder's
    /// main store, whose `T` holds this context).
    ///
    /// Before instantiating, this prepares `store` for stopping: it sets the
    /// store's epoch deadline and installs an epoch callback (replacing any
    /// other) that traps once the program has ended. It also starts the
    /// [`Limits::timeout`] clock, so the module's start function is covered.
    ///
    /// **Errors**: [`ErrorKind::Instantiate`] (the start function trapped,
    /// or instantiation failed), [`ErrorKind::Exited`] (the start function
    /// called `proc_exit`), [`ErrorKind::Interrupted`]/[`ErrorKind::TimedOut`]
    /// (the program was stopped meanwhile). Call it once per context.
    pub fn instantiate(&self, store: &mut Store<T>) -> Result<Instance> {
        if let (Some((module, name, _)), None) =
            (&self.run.program.memory_import, self.memory.get())
        {
            let defined = self.linker.get(&mut *store, module, name).ok();
            if let Some(memory) = defined.and_then(|e| e.into_shared_memory()) {
                let _ = self.memory.set(GuestMemory::Shared(memory));
            }
        }
        self.run.run().prepare_store(store);
        self.run.run().instantiate_main(store, true)
    }

    /// Runs the command's `_start` on the calling thread (the program's main
    /// thread, TID 0) in `store` and `instance` (from
    /// [`WasiThreadsCtx::instantiate`]), then stops every other thread and
    /// returns the program's outcome. Never exits the process.
    ///
    /// **Errors**: [`ErrorKind::NotFound`] if `_start` is missing or
    /// ill-typed; [`ErrorKind::Ended`] if the program already ended (read
    /// [`WasiThreadsCtx::outcome`]).
    pub fn run_main(&self, store: &mut Store<T>, instance: &Instance) -> Result<Outcome> {
        let start = instance
            .get_typed_func::<(), ()>(&mut *store, "_start")
            .map_err(|e| {
                Error::wrap(ErrorKind::NotFound, "cannot run the module as a command", e)
            })?;
        // The calling thread is the main thread while `_start` runs: its
        // state shows in snapshots, and deadlock detection is armed.
        let Ok(started) = self.run.run().start_main(
            None,
            store,
            move |store| {
                start
                    .call(&mut **store, ())
                    .map_err(|e| with_exception_values(&mut **store, e))
            },
            // The store stays the embedder's.
            |_store| {},
            |life| {
                life();
                Ok::<(), Infallible>(())
            },
        );
        if !started {
            return Err(Error::new(
                ErrorKind::Ended,
                "the program has already ended",
            ));
        }
        Ok(self.run.wait_for_end())
    }

    /// Reports how the main thread's own call into the program ended, for
    /// embedders that call exports themselves instead of
    /// [`WasiThreadsCtx::run_main`]: `Ok` ends the program with exit code 0
    /// (as `_start` returning does), an error is classified (`proc_exit`,
    /// trap, or a stop because another thread ended the program). Then stops
    /// every other thread and returns the program's outcome.
    pub fn finish_main<R>(&self, result: wasmtime::Result<R>) -> Outcome {
        self.run.finish_main(Ok(result.map(drop)));
        self.run.wait_for_end()
    }

    /// Waits up to `timeout` (`None`: until it ends) for the program to end,
    /// then up to [`STOP_GRACE`](crate::runtime::STOP_GRACE) for its threads
    /// to stop. `None` means it is still running.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<Outcome> {
        self.run.wait(timeout)
    }

    /// Ends the program as [`Outcome::Interrupted`] unless it already ended,
    /// and stops every thread. Returns at once; [`WasiThreadsCtx::wait`] for
    /// the threads.
    pub fn interrupt(&self) {
        self.run.interrupt();
    }

    /// The outcome, once the program has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.run.outcome()
    }

    /// Thread statistics of this program.
    pub fn stats(&self) -> Stats {
        self.run.stats()
    }

    /// The data races found so far, in the order found, as
    /// [`Instance::races`](crate::runtime::Instance::races) reports them.
    /// Always empty here: weft's race detector needs a module that weft
    /// instrumented when it loaded it
    /// ([`Config::detect_races`](crate::runtime::Config::detect_races), for
    /// the runner and the C API), and [`compile`](crate::embed::compile)
    /// does not instrument. Callable from any host thread.
    pub fn races(&self) -> Vec<RaceReport> {
        self.run.races()
    }

    /// Bytes of the race detector's shadow state so far: 0, as
    /// [`WasiThreadsCtx::races`] explains.
    pub fn race_shadow_bytes(&self) -> usize {
        self.run.race_shadow_bytes()
    }

    /// Every live thread of the program as it is now (TID, OS thread, state,
    /// CPU time, time in the state), without backtraces. Cheap (no thread is
    /// disturbed); callable from any host thread at any time.
    ///
    /// The main thread shows its state while [`WasiThreadsCtx::run_main`]
    /// runs it (an embedder calling exports itself leaves it `Idle`). WASI
    /// calls show when `T`'s [`WasiView`](crate::wasi::WasiView) forwards
    /// them (see [`wasi_call_started`](crate::embed::wasi_call_started));
    /// the embedder's own host functions show as running wasm.
    pub fn threads(&self) -> ThreadDump {
        self.run.threads()
    }

    /// A thread dump: [`WasiThreadsCtx::threads`] plus each thread's wasm
    /// backtrace, waiting at most [`DUMP_TIMEOUT`](crate::embed::DUMP_TIMEOUT)
    /// for threads to answer (see [`WasiThreadsCtx::dump_with_timeout`]).
    /// Once the program has ended: every thread as the end stopped it, with
    /// the frames of its stop, waiting as long for the threads to stop
    /// ([`ThreadDump::at_end`]).
    pub fn dump(&self) -> ThreadDump {
        self.run.dump()
    }

    /// [`WasiThreadsCtx::dump`], waiting at most `timeout` for the answers.
    ///
    /// Threads parked in `memory.atomic.wait` answer at once (the module
    /// must come from [`compile`](crate::embed::compile)); running wasm
    /// answers at its next epoch check (the dump increments the engine's
    /// epoch, as [`WasiThreadsCtx::interrupt`] does); a thread in a WASI
    /// call answers as the call returns (at once with its call site for
    /// `poll_oneoff`, `sock_accept` and `sock_recv`, when WASI calls are
    /// forwarded); a thread inside one of the embedder's host functions
    /// answers at its next epoch check after the function returns. Threads
    /// that do not answer in time are listed without frames. Call it from a
    /// host thread, not from inside a host function of this program.
    pub fn dump_with_timeout(&self, timeout: Duration) -> ThreadDump {
        self.run.dump_with_timeout(timeout)
    }

    /// The program's shared memory (what [`add_to_linker`](crate::embed::add_to_linker)
    /// defined), once [`WasiThreadsCtx::instantiate`] has run; `None` for a
    /// module that imports no memory.
    pub fn memory(&self) -> Option<SharedMemory> {
        match self.memory.get()? {
            GuestMemory::Shared(m) => Some(m.clone()),
            GuestMemory::Plain(_) => None,
        }
    }

    /// The shared memory as weft's WASI wants it: return this from
    /// [`WasiView::guest_memory`](crate::wasi::WasiView::guest_memory).
    pub fn guest_memory(&self) -> Option<&GuestMemory> {
        self.memory.get()
    }

    pub(crate) fn run(&self) -> &Run<T> {
        &self.run
    }
}

impl<T> Drop for WasiThreadsCtx<T> {
    /// A program nobody can reach any more is interrupted, so its timeout
    /// clock and any thread that does not hold `T` let go of it.
    fn drop(&mut self) {
        self.run.interrupt();
    }
}
