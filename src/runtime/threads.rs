//! The spawn context: `thread-spawn` creates a child instance in its own store
//! and runs `wasi_thread_start(tid, start_arg)` on an OS thread of the
//! `thread_pool`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::runtime::error::TrapInfo;
use crate::runtime::outcome::Outcome;
use crate::runtime::program::ENTRY_NAME;
use crate::runtime::run::Run;
use crate::runtime::thread_pool::{leave_program, run_on_thread};
use crate::wasi::GuestMemory;

/// What `thread-spawn` returns to the guest on any failure. wasi-libc turns
/// every negative result into `EAGAIN`.
pub const SPAWN_FAILED: i32 = -1;

/// The `thread-spawn` import: a new TID, or [`SPAWN_FAILED`]. Never panics.
pub(crate) fn spawn(run: &Arc<Run>, start_arg: i32) -> i32 {
    match catch_unwind(AssertUnwindSafe(|| try_spawn(run, start_arg))) {
        Ok(Ok(tid)) => tid as i32,
        Ok(Err(reason)) => {
            log::warn!("thread-spawn failed: {reason}");
            SPAWN_FAILED
        }
        Err(_) => {
            log::error!("thread-spawn panicked");
            SPAWN_FAILED
        }
    }
}

fn try_spawn(run: &Arc<Run>, start_arg: i32) -> Result<u32, String> {
    if run.is_ended() {
        return Err("the program has ended".into());
    }
    run.program.entry.clone()?;
    let Some(memory) = &run.memory else {
        return Err("the module imports no shared memory".into());
    };
    let tid = run.reserve_tid()?;
    // From here on every failure must give the TID back.
    let prepared = (|| {
        let mut store = run.new_store(tid, Some(GuestMemory::Shared(memory.clone())));
        // The end may have been decided since the check above, before the
        // store's epoch deadline was set: then the end's epoch increment may
        // not reach this thread (see `Run::new_store`), so it must not start.
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
    let spawned = run_on_thread(
        format!("weft-thread-{tid}"),
        run.config.os_stack_size,
        Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                entry.call(&mut store, (tid as i32, start_arg))
            }));
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
