//! The threads Wasmtime compiles modules on.
//!
//! Wasmtime's parallel compilation runs on rayon. Rayon's global pool keeps
//! its threads forever, so a host could never unload the library safely.
//! weft compiles on its own rayon pool instead, whose threads are started
//! (and registered) by `thread_pool` as threads that belong to no program:
//! [`release_idle_threads`] drops the pool and joins them; the next
//! compilation builds a new one.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::runtime::thread_pool;

static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);

fn pool() -> MutexGuard<'static, Option<Arc<rayon::ThreadPool>>> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `compile` (which calls into Wasmtime) on weft's compilation pool, or
/// on the calling thread if no pool can be made.
pub(crate) fn install<R: Send>(compile: impl FnOnce() -> R + Send) -> R {
    let current = {
        let mut slot = pool();
        if slot.is_none() {
            let built = rayon::ThreadPoolBuilder::new()
                .spawn_handler(|worker| {
                    thread_pool::spawn_idle("weft-idle", Box::new(move || worker.run()))
                })
                .build();
            match built {
                Ok(p) => *slot = Some(Arc::new(p)),
                Err(e) => log::warn!("cannot start compilation threads: {e}"),
            }
        }
        slot.clone()
    };
    match current {
        Some(p) => p.install(compile),
        None => compile(),
    }
}

/// Makes every OS thread weft started that belongs to no running program
/// exit, and waits until they have: parked idle threads, threads between a
/// guest thread and the pool, finished helpers, and the compilation pool's
/// threads. Threads still running a guest thread are left alone. Returns how
/// many threads were joined.
///
/// After it returns (with no program running or compiling), no thread
/// executes code of the library, so a host can unload it.
pub fn release_idle_threads() -> usize {
    // Its workers exit once the last reference (and any running compilation)
    // is gone; `join_idle_threads` waits for them.
    drop(pool().take());
    thread_pool::join_idle_threads()
}
