//! A running program as the host sees it: instantiation of the main thread,
//! `_start` on its own OS thread or reactor calls on the caller's, waiting
//! for the outcome, interrupting, and stopping every thread on drop. The
//! state the threads share and the controls over it live in `run`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::{Store, Val, ValType};

use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::host_func::HostFuncs;
use crate::runtime::observe::dump::ThreadDump;
use crate::runtime::program::Program;
use crate::runtime::races::RaceReport;
use crate::runtime::run::controls::RunControls;
use crate::runtime::run::linker;
use crate::runtime::run::main_thread::MAIN_TID;
use crate::runtime::run::outcome::{with_exception_values, Outcome};
use crate::runtime::run::thread_data::ThreadData;
use crate::runtime::run::tids::Stats;
use crate::runtime::run::Run;
use crate::runtime::sigpipe::SigpipeBlocked;
use crate::runtime::thread_pool;
use crate::wasi::{GuestMemory, WasiConfig, WasiCtx};

struct MainThread {
    store: Store<ThreadData>,
    instance: wasmtime::Instance,
}

/// One run of a program. Create it, then either `run`/`start`+`wait` a
/// command, or `initialize` and `call` a reactor.
pub struct Instance {
    run: RunControls<ThreadData>,
    wasi: Arc<WasiCtx>,
    main: Mutex<Option<MainThread>>,
    /// The [`thread_token`] of the thread inside `call`, or 0.
    caller: AtomicU64,
}

/// A number unique to the calling OS thread (never 0).
fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TOKEN.with(|t| *t)
}

/// Clears [`Instance::caller`] when a call returns.
struct CallerReset<'a>(&'a AtomicU64);

impl Drop for CallerReset<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

impl Instance {
    /// Instantiates `program` for the main thread: creates the shared memory,
    /// the WASI context and the linker. Link and instantiation errors surface here.
    pub fn new(program: &Program, wasi: &WasiConfig, host: &HostFuncs) -> Result<Instance> {
        let run = Run::new(program.inner().clone(), wasi)?;
        let shared = run.memory.clone().map(GuestMemory::Shared);
        let mut store = run.new_store(MAIN_TID, shared);
        let linker = linker::build(&store, host)?;
        let pre = linker
            .instantiate_pre(&run.program.module)
            .map_err(|e| Error::wrap(ErrorKind::Link, "cannot link module", e))?;
        run.set_instance_pre(pre);
        let instance = match run.instantiate_main(&mut store, false) {
            Ok(instance) => instance,
            Err(e) => {
                // The threads the start function spawned are stopped; wait
                // until they have let go of the run too.
                drop(store);
                run.stop_and_join(Outcome::Interrupted, 0);
                return Err(e);
            }
        };
        if store.data().memory.is_none() {
            if let Some(m) = instance.get_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Plain(m));
            } else if let Some(m) = instance.get_shared_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Shared(m));
            }
        }
        Ok(Instance {
            wasi: run.wasi_ctx(),
            run: RunControls::new(run),
            main: Mutex::new(Some(MainThread { store, instance })),
            caller: AtomicU64::new(0),
        })
    }

    /// Fails if the calling thread is inside a call of this instance (a host
    /// callback re-entering it), which would otherwise deadlock.
    fn check_not_reentered(&self) -> Result<()> {
        if self.caller.load(Ordering::SeqCst) == thread_token() {
            return Err(Error::new(
                ErrorKind::State,
                "the instance was re-entered from one of its own host functions",
            ));
        }
        Ok(())
    }

    fn take_main(&self) -> Result<MainThread> {
        self.check_not_reentered()?;
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
        self.run.ended_error()?;
        let entry = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| {
                Error::wrap(ErrorKind::NotFound, "cannot run the module as a command", e)
            })?;
        let stack_size = self.run.config.os_stack_size;
        let started = self.run.run().start_main(
            Some("weft-main"),
            store,
            move |store| {
                entry
                    .call(&mut *store, ())
                    .map_err(|e| with_exception_values(store, e))
            },
            |store| {
                // The program has ended: see `stop_batch`.
                thread_pool::stop_batch();
                drop(store);
                // Before the host can see the main thread end.
                thread_pool::leave_program();
            },
            |life| thread_pool::run_on_thread("weft-main".into(), stack_size, life),
        );
        match started {
            Ok(true) => {}
            Ok(false) => return self.run.ended_error(),
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("cannot create the main thread: {e}"),
                ))
            }
        }
        if let Some(timeout) = self.run.config.timeout {
            self.run.run().spawn_watchdog(timeout, false);
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
        Ok(self.run.wait_for_end())
    }

    /// Ends the program as [`Outcome::Interrupted`] (unless it already ended).
    /// Callable from any thread.
    pub fn interrupt(&self) {
        self.run.interrupt();
    }

    /// The outcome, if the program has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.run.outcome()
    }

    /// Thread statistics.
    pub fn stats(&self) -> Stats {
        self.run.stats()
    }

    /// The data races found so far, in the order found (empty unless the
    /// engine's [`Config::detect_races`](crate::runtime::Config::detect_races)
    /// is on). Each pair of code places is reported once.
    pub fn races(&self) -> Vec<RaceReport> {
        self.run.races()
    }

    /// Bytes of the race detector's shadow state so far (0 without it).
    pub fn race_shadow_bytes(&self) -> usize {
        self.run.race_shadow_bytes()
    }

    /// Every live thread as it is now: TID, OS thread, state, CPU time and
    /// time in the state; no backtraces. Cheap, callable from any thread.
    pub fn threads(&self) -> ThreadDump {
        self.run.threads()
    }

    /// A thread dump: [`threads`](Self::threads) plus each thread's wasm
    /// backtrace, waiting at most [`DUMP_TIMEOUT`](crate::runtime::DUMP_TIMEOUT)
    /// for threads to answer. Once the program has ended (after
    /// [`interrupt`](Self::interrupt), a timeout, an exit or a trap): every
    /// thread as the end stopped it, with the frames of the trap that
    /// stopped it (threads running wasm code too, without precise dumps),
    /// waiting as long for the threads to stop ([`ThreadDump::at_end`]).
    /// Call it from a host thread, not from inside a host function (the
    /// calling guest thread could not answer until it returns).
    pub fn dump(&self) -> ThreadDump {
        self.run.dump()
    }

    /// [`dump`](Self::dump), waiting at most `timeout` for the answers.
    pub fn dump_with_timeout(&self, timeout: Duration) -> ThreadDump {
        self.run.dump_with_timeout(timeout)
    }

    /// A descriptor that becomes readable (and stays so) once the outcome
    /// is decided; owned by the instance, valid until it is dropped. Do not
    /// read or close it.
    pub fn completion_fd(&self) -> Result<std::os::fd::RawFd> {
        self.run.completion_fd()
    }

    /// The program's linear memory as (base, size in bytes), for a host
    /// that fills in or reads guest data outside callbacks; (null, 0) if it
    /// has none, or for a non-shared memory while a call runs on it. A
    /// shared memory never moves; other guest threads may access it
    /// concurrently. A non-shared memory may move when it grows.
    pub fn memory(&self) -> (*mut u8, usize) {
        if let Some(m) = &self.run.memory {
            let data = m.data();
            return (data.as_ptr() as *mut u8, data.len());
        }
        let Ok(guard) = self.main.try_lock() else {
            return (std::ptr::null_mut(), 0);
        };
        match guard.as_ref() {
            Some(main) => match &main.store.data().memory {
                Some(GuestMemory::Shared(m)) => {
                    let data = m.data();
                    (data.as_ptr() as *mut u8, data.len())
                }
                Some(GuestMemory::Plain(m)) => (m.data_ptr(&main.store), m.data_size(&main.store)),
                None => (std::ptr::null_mut(), 0),
            },
            None => (std::ptr::null_mut(), 0),
        }
    }

    /// The program's WASI context (captured output lives here).
    pub fn wasi(&self) -> &WasiCtx {
        &self.wasi
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
        self.check_not_reentered()?;
        self.caller.store(thread_token(), Ordering::SeqCst);
        let _reset = CallerReset(&self.caller);
        self.run.ended_error()?;
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
        // Checked here, so that every error of the call itself is the
        // guest's (a trap, `proc_exit`, a failing host function).
        for (i, (arg, param)) in args.iter().zip(ty.params()).enumerate() {
            let matches = arg
                .ty(&main.store)
                .is_ok_and(|t| ValType::matches(&t, &param));
            if !matches {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("argument {i} of \"{name}\" must be of type {param}"),
                ));
            }
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        if !self.run.enter_main() {
            self.run.ended_error()?;
        }
        let called = self.run.call_main(|| {
            let _sigpipe = SigpipeBlocked::new();
            func.call(&mut main.store, args, &mut results)
                .map_err(|e| with_exception_values(&mut main.store, e))
        });
        if let Err(e) = &called {
            // Before `leave_main`: the caller still counts as running.
            self.run.thread_failed(MAIN_TID, e);
        }
        self.run.leave_main();
        match called {
            Ok(()) => Ok(results),
            Err(e) => Err(self
                .run
                .ended_error()
                .err()
                .unwrap_or_else(|| Error::wrap(ErrorKind::Internal, "the call failed", e))),
        }
    }
}

impl Drop for Instance {
    /// Stops a program that is still running and waits (at most
    /// [`STOP_GRACE`](crate::runtime::STOP_GRACE)) for its threads to let go
    /// of it, so that host-function finalizers have run when this returns.
    fn drop(&mut self) {
        // The main store (a reactor's, or one never started) holds the run too.
        drop(self.main.lock().unwrap_or_else(|e| e.into_inner()).take());
        self.run.stop_and_join(Outcome::Interrupted, 0);
    }
}
