//! The spawn context: `thread-spawn` creates a child instance in its own store
//! and runs `wasi_thread_start(tid, start_arg)` on an OS thread of the
//! `thread_pool`. The `thread-spawn` import itself is defined here too, once
//! for the runner and `weft::embed` alike.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use wasmtime::{Caller, Linker, Store};

use crate::runtime::error::TrapInfo;
use crate::runtime::imports::{ENTRY_NAME, SPAWN_MODULE, SPAWN_NAME};
use crate::runtime::observe::registry;
use crate::runtime::observe::thread_state::ThreadSlot;
use crate::runtime::races;
use crate::runtime::run::outcome::{with_exception_values, Outcome};
use crate::runtime::run::state::Run;
use crate::runtime::thread_pool::{leave_program, run_on_thread, stop_batch};

/// What `thread-spawn` returns to the guest on any failure. wasi-libc turns
/// every negative result into `EAGAIN`.
pub const SPAWN_FAILED: i32 = -1;

impl<T> Run<T> {
    /// Takes a TID for a new thread, respecting the thread limit.
    pub(crate) fn reserve_tid(&self) -> Result<u32, String> {
        let mut st = self.lock();
        if self.decided.get().is_some() {
            return Err("the program has ended".into());
        }
        st.spawned.reserve(self.config.max_threads)
    }

    /// Gives back the TID of a thread that ended or failed to start.
    pub(crate) fn release_tid(&self, tid: u32) {
        let all_parked = self.threads.deregister(tid);
        let mut st = self.lock();
        st.spawned.release(tid);
        let none_left = st.busy() == 0;
        drop(st);
        // Waiters wait for no thread to be left (or for the outcome, which
        // `decide` signals): when hundreds of threads end at once, waking
        // them at every one would make the host's thread compete with the
        // threads still being stopped, for the lock and for the CPU.
        if none_left {
            self.cond.notify_all();
        }
        if all_parked {
            self.deadlocked(None);
        }
    }
}

/// Starts a guest thread of `run`: reserves a TID, makes the thread's store
/// with `new_store(tid)`, instantiates the module there and runs
/// `wasi_thread_start(tid, start_arg)` on a pooled OS thread. The one spawn
/// context of weft: the runner's `thread-spawn` import and
/// [`crate::embed::WasiThreadsCtx::spawn`] both call it, each with its own
/// store data `T`. Returns the TID, or why no thread was started (the TID is
/// given back). Never panics.
pub(crate) fn spawn<T: Send + 'static>(
    run: &Arc<Run<T>>,
    start_arg: i32,
    new_store: impl FnOnce(u32) -> Store<T>,
) -> Result<u32, String> {
    match catch_unwind(AssertUnwindSafe(|| try_spawn(run, start_arg, new_store))) {
        Ok(result) => result,
        Err(_) => Err("internal error: weft panicked".into()),
    }
}

/// Defines the `wasi` `thread-spawn` import on `linker`: the one import both
/// the runner and [`crate::embed::add_to_linker`] define. `spawn(caller,
/// start_arg)` starts the thread (through [`spawn`]) and returns its TID or
/// why it could not. Meanwhile the calling thread's state shows it in the
/// WASI call `thread-spawn`; afterwards it answers a pending thread dump.
/// The guest gets the TID, or [`SPAWN_FAILED`] with the reason logged.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    spawn: impl Fn(&mut Caller<'_, T>, i32) -> Result<u32, String> + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        SPAWN_MODULE,
        SPAWN_NAME,
        move |mut caller: Caller<'_, T>, start_arg: i32| -> i32 {
            registry::with_current(|s| s.enter_wasi(c"thread-spawn"));
            let spawned = spawn(&mut caller, start_arg);
            registry::with_current(ThreadSlot::running);
            registry::answer_dump(&caller);
            guest_result(spawned)
        },
    )?;
    Ok(())
}

/// What the `thread-spawn` import returns for `spawn`'s result: the TID, or
/// [`SPAWN_FAILED`] with the reason logged.
fn guest_result(spawned: Result<u32, String>) -> i32 {
    match spawned {
        Ok(tid) => tid as i32,
        Err(reason) => {
            log::warn!("thread-spawn failed: {reason}");
            SPAWN_FAILED
        }
    }
}

fn try_spawn<T: Send + 'static>(
    run: &Arc<Run<T>>,
    start_arg: i32,
    new_store: impl FnOnce(u32) -> Store<T>,
) -> Result<u32, String> {
    if run.is_ended() {
        return Err("the program has ended".into());
    }
    run.program.entry.clone()?;
    if run.program.memory_import.is_none() {
        return Err("the module imports no shared memory".into());
    }
    let tid = run.reserve_tid()?;
    // From here on every failure must give the TID back (which also
    // deregisters the thread's published state).
    let slot = run.threads.register_new(tid);
    let prepared = (|| {
        let mut store = new_store(tid);
        // The end may have been decided since the check above, before the
        // store's epoch deadline was set: then the end's epoch increment may
        // not reach this thread (see `Run::prepare_store`), so it must not start.
        if run.is_ended() {
            return Err("the program has ended".to_string());
        }
        let instance = run
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| format!("cannot instantiate thread {tid}: {e:#}"))?;
        let entry = instance
            .get_typed_func::<(i32, i32), ()>(&mut store, ENTRY_NAME)
            .map_err(|e| format!("{e:#}"))?;
        Ok::<_, String>((store, entry))
    })();
    let (mut store, entry) = match prepared {
        Ok(p) => p,
        Err(e) => {
            run.release_tid(tid);
            return Err(e);
        }
    };
    let child = run.clone();
    let name = format!("weft-thread-{tid}");
    // Everything the parent did so far happens before the child runs.
    let inherited = run.races.as_ref().and_then(|_| races::fork());
    let spawned = run_on_thread(
        name.clone(),
        run.config.os_stack_size,
        Box::new(move || {
            registry::bind(&child.threads, &slot, Some(&name));
            races::bind_child(inherited, tid);
            slot.running();
            let result = catch_unwind(AssertUnwindSafe(|| {
                entry
                    .call(&mut store, (tid as i32, start_arg))
                    .map_err(|e| with_exception_values(&mut store, e))
            }))
            .map(|r| r.map_err(|e| child.note_stop(&slot, e)));
            slot.ending();
            if child.is_ended() {
                stop_batch();
            }
            if child.races.is_some() {
                races::unbind();
            }
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => child.thread_failed(tid, &e),
                Err(_) => {
                    child.decide(Outcome::Trap(TrapInfo {
                        tid,
                        message: "internal error: weft panicked in this thread".into(),
                        backtrace: String::new(),
                    }));
                }
            }
            drop(store);
            registry::unbind();
            // Before the program can see this thread end.
            leave_program();
            child.release_tid(tid);
        }),
    );
    match spawned {
        Ok(_) => Ok(tid),
        Err(e) => {
            run.release_tid(tid);
            Err(format!("the OS refused a new thread: {e}"))
        }
    }
}
