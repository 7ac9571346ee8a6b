//! A running program as the host sees it: instantiation of the main thread,
//! `_start` on its own OS thread or reactor calls on the caller's, waiting
//! for the outcome, interrupting, and stopping every thread on drop. The
//! state the threads share lives in `run`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::{Store, Val};

use crate::runtime::dump::ThreadDump;
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::host_func::HostFuncs;
use crate::runtime::linker;
use crate::runtime::outcome::Outcome;
use crate::runtime::program::Program;
use crate::runtime::registry::{self, DUMP_TIMEOUT};
use crate::runtime::run::{Run, Stats, MAIN_TID, STOP_GRACE};
use crate::runtime::sigpipe::SigpipeBlocked;
use crate::runtime::thread_data::ThreadData;
use crate::runtime::thread_pool;
use crate::wasi::{GuestMemory, ProcExit, Stopped, WasiConfig, WasiCtx};

struct MainThread {
    store: Store<ThreadData>,
    instance: wasmtime::Instance,
}

/// One run of a program. Create it, then either `run`/`start`+`wait` a
/// command, or `initialize` and `call` a reactor.
pub struct Instance {
    run: Arc<Run<ThreadData>>,
    wasi: Arc<WasiCtx>,
    main: Mutex<Option<MainThread>>,
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
        let instance = run.instantiate_main(&mut store, false)?;
        if store.data().memory.is_none() {
            if let Some(m) = instance.get_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Plain(m));
            } else if let Some(m) = instance.get_shared_memory(&mut store, "memory") {
                store.data_mut().memory = Some(GuestMemory::Shared(m));
            }
        }
        Ok(Instance {
            wasi: run.wasi_ctx(),
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
        self.run.main_started();
        let run = self.run.clone();
        let spawned = thread_pool::run_on_thread(
            "weft-main".into(),
            self.run.config.os_stack_size,
            Box::new(move || {
                let slot = run.threads.main.clone();
                registry::bind(&run.threads, &slot, Some("weft-main"));
                slot.running();
                run.arm_deadlock_detection();
                let result = catch_unwind(AssertUnwindSafe(|| entry.call(&mut store, ())));
                slot.ending();
                run.finish_main(result);
                drop(store);
                registry::unbind();
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

    /// Every live thread as it is now: TID, OS thread, state, CPU time and
    /// time in the state; no backtraces. Cheap, callable from any thread.
    pub fn threads(&self) -> ThreadDump {
        ThreadDump {
            threads: self.run.threads.snapshot(),
            with_backtraces: false,
        }
    }

    /// A thread dump: [`threads`](Self::threads) plus each thread's wasm
    /// backtrace, waiting at most [`DUMP_TIMEOUT`] for threads to answer.
    /// Call it from a host thread, not from inside a host function (the
    /// calling guest thread could not answer until it returns).
    pub fn dump(&self) -> ThreadDump {
        self.dump_with_timeout(DUMP_TIMEOUT)
    }

    /// [`dump`](Self::dump), waiting at most `timeout` for the answers.
    pub fn dump_with_timeout(&self, timeout: Duration) -> ThreadDump {
        self.run.dump(None, timeout)
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
        let slot = self.run.threads.main.clone();
        registry::bind(&self.run.threads, &slot, None);
        slot.running();
        let called = {
            let _sigpipe = SigpipeBlocked::new();
            func.call(&mut main.store, args, &mut results)
        };
        slot.idle();
        registry::unbind();
        match called {
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
        if self.run.is_busy() {
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
