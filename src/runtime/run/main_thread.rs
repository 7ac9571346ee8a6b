//! The main thread's life: instantiating the main instance (the module's
//! start function runs then), running `_start` or a reactor call on an OS
//! thread bound to the main thread's published state, and ending the
//! program as the main thread's call ended.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;

use crate::runtime::error::{Error, ErrorKind, Result, TrapInfo};
use crate::runtime::observe::registry;
use crate::runtime::races;
use crate::runtime::run::outcome::{classify, Outcome, ThreadEnd};
use crate::runtime::run::state::Run;
use crate::runtime::run::stopping::STOP_GRACE;
use crate::runtime::sigpipe::SigpipeBlocked;

/// The main thread's TID as seen by host functions.
pub const MAIN_TID: u32 = 0;

impl<T> Run<T> {
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

    /// The main thread starts running wasm: `_start`, or a reactor call on
    /// the host's thread. Fails once the program has ended.
    pub(crate) fn enter_main(&self) -> bool {
        let mut st = self.lock();
        if self.decided.get().is_some() {
            return false;
        }
        st.main_running = true;
        true
    }

    /// The main thread's life around a command's `_start`: the one bracket
    /// of the runner (`Instance::start`, on a thread of weft's pool) and of
    /// [`crate::embed`] (`WasiThreadsCtx::run_main`, on the embedder's
    /// thread).
    ///
    /// Enters the main thread ([`Run::enter_main`]): if the program has
    /// already ended, nothing runs and this returns `Ok(false)`. Otherwise
    /// `place` runs the main thread's life, on the calling OS thread or on
    /// one it starts: `start(&mut main)` as the main thread named `name`
    /// ([`Run::run_start`]), then `release(main)` (what the main thread lets
    /// go of before the host may see it end: the runner's store), then
    /// [`Run::main_finished`]. If `place` fails, the life has not run (and
    /// is dropped): the main thread is finished at once and `place`'s error
    /// returned.
    pub(crate) fn start_main<'a, S, E>(
        self: &Arc<Self>,
        name: Option<&'static str>,
        main: S,
        start: impl FnOnce(&mut S) -> wasmtime::Result<()> + Send + 'a,
        release: impl FnOnce(S) + Send + 'a,
        place: impl FnOnce(Box<dyn FnOnce() + Send + 'a>) -> std::result::Result<(), E>,
    ) -> std::result::Result<bool, E>
    where
        S: Send + 'a,
        T: Send + 'static,
    {
        if !self.enter_main() {
            return Ok(false);
        }
        let run = self.clone();
        let life = Box::new(move || {
            let mut main = main;
            run.run_start(name, || start(&mut main));
            release(main);
            run.main_finished();
        });
        match place(life) {
            Ok(()) => Ok(true),
            Err(e) => {
                self.main_finished();
                Err(e)
            }
        }
    }

    /// Runs a command's `_start` (`start`) as the main thread on the calling
    /// OS thread (named `name`, or by its own name), after [`Run::enter_main`]:
    /// while it runs, the main thread's state shows it running and deadlock
    /// detection is armed (if configured); then the program ends as `start`
    /// ended ([`Run::finish_main`]). Part of [`Run::start_main`], which
    /// then releases the main store and calls [`Run::main_finished`].
    fn run_start(&self, name: Option<&str>, start: impl FnOnce() -> wasmtime::Result<()>) {
        let slot = &self.threads.main;
        registry::bind(&self.threads, slot, name);
        races::bind_main(self.races.as_ref());
        slot.running();
        self.arm_deadlock_detection();
        let result =
            catch_unwind(AssertUnwindSafe(start)).map(|r| r.map_err(|e| self.note_stop(slot, e)));
        slot.ending();
        if self.races.is_some() {
            races::unbind();
        }
        self.finish_main(result);
        registry::unbind();
    }

    /// Runs `call` (a reactor's export) as the main thread on the calling
    /// OS thread, after [`Run::enter_main`]: the main thread's state shows it
    /// running, then idle again (it stays registered). The caller ends the
    /// program if the call failed and then calls [`Run::leave_main`].
    pub(crate) fn call_main<R>(
        &self,
        call: impl FnOnce() -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let slot = &self.threads.main;
        registry::bind(&self.threads, slot, None);
        races::bind_main(self.races.as_ref());
        slot.running();
        let result = call().map_err(|e| self.note_stop(slot, e));
        slot.idle();
        if self.races.is_some() {
            races::unbind();
        }
        registry::unbind();
        result
    }

    /// The main thread has stopped running wasm: a reactor call returned
    /// (the main thread stays registered, idle), or `_start` finished.
    pub(crate) fn leave_main(&self) {
        self.lock().main_running = false;
        self.cond.notify_all();
    }

    /// The main thread has finished `_start` and dropped its store.
    fn main_finished(&self) {
        let all_parked = self.threads.deregister(MAIN_TID);
        self.leave_main();
        if all_parked {
            self.deadlocked(None);
        }
    }

    /// Whether the main instance is being instantiated (its start function
    /// may run); a watchdog started for instantiation only stops after it.
    pub(crate) fn set_instantiating(&self, instantiating: bool) {
        self.lock().instantiating = instantiating;
        self.cond.notify_all();
    }
}
